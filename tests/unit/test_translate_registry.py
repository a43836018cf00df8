"""The model registry: pinned revisions, well-formed digests, and the default model per pair."""

from __future__ import annotations

import re

import pytest

from imtrans.errors import TranslatorError
from imtrans.languages import SOURCE_LANGUAGES, TARGET_LANGUAGES
from imtrans.translate.models import REGISTRY, default_model_for, file_url, get_model, model_dir


@pytest.mark.parametrize("spec", REGISTRY.values(), ids=list(REGISTRY))
def test_every_model_is_pinned_and_digests_are_sha256(spec) -> None:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"[0-9a-f]{40}", spec.revision)
    assert any(f.name in ("pytorch_model.bin", "model.safetensors") for f in spec.files)
    for f in spec.files:
        assert f.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", f.sha256)
    assert spec.pairs or spec.languages


@pytest.mark.parametrize(
    ("pair", "model"),
    [
        (("ko", "en"), "opus-mt-ko-en"),
        (("ja", "en"), "opus-mt-ja-en"),
        (("zh", "en"), "opus-mt-zh-en"),
        (("en", "zh"), "opus-mt-en-zh"),
        (("en", "ko"), "m2m100_418M"),
        (("ko", "ja"), "m2m100_418M"),
        (("ja", "fr"), "m2m100_418M"),
    ],
)
def test_default_model_golden_table(pair: tuple[str, str], model: str) -> None:
    assert default_model_for(*pair) == model


def test_every_readable_language_has_a_default_model_to_every_drawable_one() -> None:
    for source in SOURCE_LANGUAGES:
        for target in TARGET_LANGUAGES:
            if source != target:
                assert get_model(default_model_for(source, target)).translates(source, target)


def test_same_language_pair_has_no_model() -> None:
    with pytest.raises(TranslatorError, match="no known translation model for ko->ko"):
        default_model_for("ko", "ko")


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(TranslatorError, match="unknown model 'nope'; known: opus-mt-ko-en"):
        get_model("nope")


def test_urls_and_directories_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IMTRANS_HUB_URL", "http://127.0.0.1:9/hub/")
    monkeypatch.setenv("IMTRANS_CACHE_DIR", str(tmp_path))
    spec = get_model("opus-mt-ko-en")
    assert (
        file_url(spec, spec.files[0])
        == f"http://127.0.0.1:9/hub/Helsinki-NLP/opus-mt-ko-en/resolve/{spec.revision}/config.json"
    )
    assert model_dir("opus-mt-ko-en") == tmp_path / "models" / "opus-mt-ko-en"
