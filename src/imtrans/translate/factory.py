"""Build the translator the settings ask for: one backend, optionally behind a cache and a glossary.

The stack, outermost first::

    GlossaryFront(glossary, CachedTranslator(backend))   # --glossary given, cache on
    CachedTranslator(backend)                            # no glossary
    GlossaryTranslator(glossary)                         # translator "glossary": never cached

The glossary sits in front of the cache so that editing the glossary takes effect at
once, and glossary answers (or glossary misses) are never stored as translations.
"""

from __future__ import annotations

from imtrans.registry import TRANSLATORS
from imtrans.settings import TranslateSettings
from imtrans.translate.base import Backend, Translator
from imtrans.translate.glossary import Glossary, GlossaryFront


def make_translator(settings: TranslateSettings, source: str) -> Translator:
    """The translator for these settings, checked against the language pair when the source is known.

    Backends come from `registry.TRANSLATORS`, imported only when named, so a service user
    never imports torch.

    Args:
        settings: The translate section of the settings.
        source: The source language, or ``auto`` when it is decided per block.

    Returns:
        A `Translator`; its answers carry the glossary's notes (`base.Translated`).

    Raises:
        ConfigError: The glossary file is missing or malformed, or translator "glossary" has no file.
        TranslatorError: Missing key, unknown model, or a pair the backend cannot translate.
    """
    kind = settings.resolved_translator
    backend: Backend = TRANSLATORS.build(settings)
    if kind == "glossary":
        return backend
    if source != "auto":
        backend.check_pair(source, settings.target)
    translator: Translator = backend
    if settings.cache:
        from imtrans.translate.cache import CachedTranslator

        translator = CachedTranslator(translator, settings.cache_path)
    if settings.glossary is not None:
        translator = GlossaryFront(Glossary.load(settings.glossary, settings.fuzzy_threshold), translator)
    return translator


def check_ready(settings: TranslateSettings, source: str) -> None:
    """Fail before any image is read when no block could be translated.

    Only the local translator without a glossary can be found wanting this early: a
    service's key is checked when it is built, and a glossary translates what it holds.

    Args:
        settings: The translate section of the settings.
        source: The source language, or ``auto``: then a model for any source will do.

    Raises:
        ModelMissingError: No model for the pair (or for any pair into the target).
    """
    if settings.resolved_translator != "local" or settings.glossary is not None:
        return
    from imtrans.languages import SOURCE_LANGUAGES
    from imtrans.translate.local import LocalTranslator

    backend = TRANSLATORS.build(settings)
    if isinstance(backend, LocalTranslator):
        sources = [source] if source != "auto" else [s for s in SOURCE_LANGUAGES if s != settings.target]
        backend.check_ready(sources, settings.target)
