"""The stage function the pipeline calls: blocks in, translations and diagnostics out."""

from __future__ import annotations

from collections.abc import Sequence

from imtrans.translate.base import Translator, check_aligned, notes_to_diagnostics
from imtrans.types import Block, Diagnostic, TranslateCode, Translation


def translate_blocks(
    translator: Translator, blocks: Sequence[Block], source: str, target: str
) -> tuple[dict[str, Translation], list[Diagnostic]]:
    """Translate the text of each block in one call, and report what the translator noted.

    Args:
        translator: From `make_translator`.
        blocks: Blocks of one source language, in reading order.
        source: Their language (ISO 639-1).
        target: The language wanted.

    Returns:
        A `Translation` per block id (a glossary miss keeps the source text; a block noted
        ``no_translator``, which a glossary in front of a missing model leaves, has none), and one
        `Diagnostic` per note (glossary misses as warnings, fuzzy matches as info).

    Raises:
        TranslatorError: The backend failed; ModelMissingError: no model to translate with.
    """
    if not blocks:
        return {}, []
    texts = [b.text for b in blocks]
    answer = translator.translate(texts, source, target)
    out = check_aligned(texts, answer.texts, translator.name)
    untranslated = {n.index for n in answer.notes if n.code == TranslateCode.NO_TRANSLATOR}
    translations = {
        b.id: Translation(b.id, text, source, target, translator.name, translator.model)
        for i, (b, text) in enumerate(zip(blocks, out, strict=True))
        if i not in untranslated
    }
    return translations, notes_to_diagnostics(answer.notes, [b.id for b in blocks])
