"""make_translator: which stack the settings give, and the errors before any work is done."""

from __future__ import annotations

from pathlib import Path

import pytest

from imtrans.errors import ConfigError, TranslatorError
from imtrans.settings import stage_settings
from imtrans.translate.cache import CachedTranslator
from imtrans.translate.deepl import DeepLTranslator
from imtrans.translate.factory import make_translator
from imtrans.translate.glossary import GlossaryFront, GlossaryTranslator
from imtrans.translate.local import LocalTranslator


@pytest.fixture
def glossary(tmp_path: Path) -> Path:
    path = tmp_path / "g.csv"
    path.write_text("source,target\n출구,Exit\n", encoding="utf-8")
    return path


def test_glossary_alone_is_never_cached(glossary: Path) -> None:
    t = make_translator(stage_settings("translate", glossary=glossary), "ko")
    assert isinstance(t, GlossaryTranslator)


def test_glossary_in_front_of_a_cached_service(
    glossary: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEEPL_AUTH_KEY", "k:fx")
    t = make_translator(
        stage_settings("translate", translator="deepl", glossary=glossary, cache_path=tmp_path / "c.sqlite3"), "ko"
    )
    assert isinstance(t, GlossaryFront)
    assert isinstance(t.inner, CachedTranslator)
    assert isinstance(t.inner.inner, DeepLTranslator)
    assert t.inner.inner.url == "https://api-free.deepl.com/v2/translate"


def test_no_cache_no_glossary_gives_the_bare_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPL_AUTH_KEY", "k")
    t = make_translator(stage_settings("translate", translator="deepl", cache=False), "ko")
    assert isinstance(t, DeepLTranslator)
    assert t.url == "https://api.deepl.com/v2/translate"


def test_default_is_the_local_backend_and_nothing_loads_yet() -> None:
    t = make_translator(stage_settings("translate", cache=False), "ko")
    assert isinstance(t, LocalTranslator)
    assert t._engines == {}


def test_glossary_translator_without_a_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs a glossary file"):
        make_translator(stage_settings("translate", translator="glossary"), "ko")


def test_missing_key_fails_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_TRANSLATE_API_KEY", raising=False)
    with pytest.raises(TranslatorError, match="GOOGLE_TRANSLATE_API_KEY"):
        make_translator(stage_settings("translate", translator="google"), "ko")


def test_unsupported_pair_fails_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMTRANS_PAPAGO_CLIENT_ID", "id")
    monkeypatch.setenv("IMTRANS_PAPAGO_CLIENT_SECRET", "secret")
    with pytest.raises(TranslatorError, match="papago does not translate zh->fr"):
        make_translator(stage_settings("translate", translator="papago", target="fr"), "zh")
    with pytest.raises(TranslatorError, match="papago cannot translate 'nl'"):
        make_translator(stage_settings("translate", translator="papago", target="nl"), "ko")
    make_translator(stage_settings("translate", translator="papago", target="nl"), "auto")  # checked per call later


def test_a_named_model_must_serve_the_pair() -> None:
    with pytest.raises(TranslatorError, match="model opus-mt-ko-en translates ko->en, not ja->en"):
        make_translator(stage_settings("translate", model="opus-mt-ko-en"), "ja")


def test_translate_blocks_attaches_translations_and_glossary_diagnostics(glossary: Path) -> None:
    from imtrans.translate import translate_blocks
    from imtrans.types import Block, Line, Quad, Severity

    def block(i: int, text: str) -> Block:
        quad = Quad.from_rect(0, 0, 10, 10)
        return Block(f"b{i}", quad, (Line(f"l{i}", quad, text=text, language="ko"),), language="ko")

    t = make_translator(stage_settings("translate", glossary=glossary), "ko")
    translations, diagnostics = translate_blocks(t, [block(0, "출구"), block(1, "입구")], "ko", "en")
    assert {k: v.text for k, v in translations.items()} == {"b0": "Exit", "b1": "입구"}
    assert translations["b0"].translator == "glossary" and translations["b0"].source_lang == "ko"
    assert [(d.block_id, d.code, d.severity) for d in diagnostics] == [
        ("b1", "glossary_miss", Severity.WARNING)
    ]
    assert translate_blocks(t, [], "ko", "en") == ({}, [])
