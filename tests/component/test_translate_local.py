"""The local backend on tiny models built here with a fixed seed (no download, no real weights).

Tests that load a model are marked slow: importing torch and transformers alone takes
about 6 s on a 2-core machine (the models themselves load in milliseconds).

The Marian model has a sentencepiece vocabulary trained on a few sentences and random
weights: its output is nonsense, but it is deterministic and goes through exactly the
code a real opus-mt model does (tokenizer, batching, generate, decode).
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures import serve_directory

from imtrans.errors import ModelMissingError
from imtrans.translate import models
from imtrans.translate.local import DecodeOptions, LocalTranslator
from imtrans.translate.models import LOCKFILE, ModelFile, ModelSpec, verify_model

CORPUS = [
    "안녕하세요 세계",
    "출구는 왼쪽입니다",
    "비상구 계단",
    "열림 닫힘",
    "hello world",
    "the exit is on the left",
    "emergency stairs",
    "open closed",
]
TEXTS = ["출구는 왼쪽입니다", "", "비상구", "hello", "열림 닫힘 비상구 계단 출구"]


def build_tiny_marian(root: Path) -> Path:
    """A MarianMT model with a 60-piece sentencepiece vocabulary and 16-wide layers, seed 0."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    root.mkdir(parents=True, exist_ok=True)
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(CORPUS * 5), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(root / "sp"), vocab_size=60, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, num_threads=1, minloglevel=2,
        bos_id=-1, eos_id=1, unk_id=2, pad_id=-1,
    )  # fmt: skip
    sp = spm.SentencePieceProcessor(model_file=str(root / "sp.model"))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    vocab["<pad>"] = len(vocab)
    out = root / "marian"
    out.mkdir()
    shutil.copy(root / "sp.model", out / "source.spm")
    shutil.copy(root / "sp.model", out / "target.spm")
    (out / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses."
        tokenizer = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"), str(out / "vocab.json"))
    tokenizer.save_pretrained(out)
    torch.manual_seed(0)
    config = MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_position_embeddings=64, pad_token_id=vocab["<pad>"], eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=vocab["</s>"],
    )  # fmt: skip
    MarianMTModel(config).save_pretrained(out)
    return out


def build_tiny_m2m100(root: Path, spm_model: Path) -> Path:
    """An M2M100 model (language tokens, forced BOS) reusing a sentencepiece model, seed 0."""
    import sentencepiece as spm
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    sp = spm.SentencePieceProcessor(model_file=str(spm_model))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    out = root / "m2m100"
    out.mkdir()
    (out / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    shutil.copy(spm_model, out / "sentencepiece.bpe.model")
    tokenizer = M2M100Tokenizer(str(out / "vocab.json"), str(out / "sentencepiece.bpe.model"))
    tokenizer.save_pretrained(out)
    torch.manual_seed(0)
    config = M2M100Config(
        vocab_size=len(vocab) + 110,  # room for the 100 language tokens after the pieces
        d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
    )  # fmt: skip
    M2M100ForConditionalGeneration(config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny")
    marian = build_tiny_marian(root)
    return {"marian": marian, "m2m100": build_tiny_m2m100(root, root / "sp.model"), "root": root}


FAST = DecodeOptions(num_beams=2, max_new_tokens=12, batch_size=2)


@pytest.mark.slow
def test_marian_n_segments_in_n_strings_out_deterministically(tiny: dict[str, Path]) -> None:
    first = LocalTranslator(model_dir=tiny["marian"], options=FAST).translate(TEXTS, "ko", "en").texts
    again = LocalTranslator(model_dir=tiny["marian"], options=FAST).translate(TEXTS, "ko", "en").texts
    assert len(first) == len(TEXTS)
    assert all(isinstance(t, str) for t in first)
    assert first == again
    assert first[1] == ""  # a blank segment stays blank
    assert all(t for i, t in enumerate(first) if i != 1)


@pytest.mark.slow
def test_batching_does_not_change_results(tiny: dict[str, Path]) -> None:
    one_by_one = LocalTranslator(model_dir=tiny["marian"], options=DecodeOptions(2, 1, 12))
    all_at_once = LocalTranslator(model_dir=tiny["marian"], options=DecodeOptions(2, 16, 12))
    texts = [t for t in TEXTS if t]
    assert one_by_one.translate(texts, "ko", "en").texts == all_at_once.translate(texts, "ko", "en").texts


@pytest.mark.slow
def test_the_model_loads_once_and_stays_loaded(tiny: dict[str, Path]) -> None:
    t = LocalTranslator(model_dir=tiny["marian"], options=FAST)
    assert t._engines == {}  # lazy: nothing before the first call
    t.translate(["출구"], "ko", "en")
    engine = t._engines[tiny["marian"]]
    t.translate(["비상구"], "ko", "en")
    assert t._engines == {tiny["marian"]: engine}


@pytest.mark.slow
def test_m2m100_forces_the_target_language_token_and_drops_it(tiny: dict[str, Path]) -> None:
    t = LocalTranslator(model_dir=tiny["m2m100"], options=FAST)
    t.translate(["출구"], "ko", "en")
    engine = t._engines[tiny["m2m100"]]
    generated: list[Any] = []
    real_generate = engine.model.generate  # type: ignore[attr-defined]

    def spy(**kwargs: Any) -> Any:
        generated.append((kwargs, real_generate(**kwargs)))
        return generated[-1][1]

    engine.model.generate = spy  # type: ignore[attr-defined]
    out = t.translate(["출구는 왼쪽입니다", ""], "ko", "ja").texts
    [(kwargs, rows)] = generated
    ja = engine.tokenizer.convert_tokens_to_ids("__ja__")  # type: ignore[attr-defined]
    assert kwargs["forced_bos_token_id"] == ja
    assert rows[0, 1].item() == ja  # after the decoder start token
    assert kwargs["input_ids"][0, 0].item() == engine.tokenizer.convert_tokens_to_ids("__ko__")  # type: ignore[attr-defined]
    assert out[1] == "" and "__ja__" not in out[0]


@pytest.mark.slow
def test_ctranslate2_conversion_gives_the_same_translations(tiny: dict[str, Path]) -> None:
    from ctranslate2.converters import TransformersConverter

    ct2 = tiny["root"] / "marian-ct2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses."
        TransformersConverter(
            str(tiny["marian"]),
            copy_files=["source.spm", "target.spm", "vocab.json", "tokenizer_config.json"],
        ).convert(str(ct2), force=True)
    assert (ct2 / "model.bin").is_file()
    texts = [t for t in TEXTS if t]
    via_ct2 = LocalTranslator(model_dir=ct2, options=FAST).translate(texts, "ko", "en").texts
    via_torch = LocalTranslator(model_dir=tiny["marian"], options=FAST).translate(texts, "ko", "en").texts
    # The random model never ends a sentence, so both stop at the length limit, which
    # transformers counts with the forced end token and CTranslate2 without: compare prefixes.
    assert all(c.startswith(t) and t for c, t in zip(via_ct2, via_torch, strict=True))


def test_a_directory_without_a_model_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="holds no translation model"):
        LocalTranslator(model_dir=tmp_path).translate(["a"], "ko", "en")
    with pytest.raises(ModelMissingError, match="does not exist"):
        LocalTranslator(model_dir=tmp_path / "nope").translate(["a"], "ko", "en")


def test_no_model_and_no_network_names_the_three_ways_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IMTRANS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("IMTRANS_HUB_URL", "http://127.0.0.1:1")  # nothing listens there
    with pytest.raises(ModelMissingError) as info:
        LocalTranslator(progress=False).translate(["출구"], "ko", "en")
    message = str(info.value)
    assert "\n" not in message
    assert "imtrans models pull opus-mt-ko-en" in message and "--model-dir" in message
    assert "--translator papago|deepl|google|openai" in message
    assert "--glossary FILE" in message
    assert not (tmp_path / "models" / "opus-mt-ko-en").exists()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static file server standing in for the hub: files under {repo}/resolve/{revision}/."""
    root = tmp_path / "hub"
    root.mkdir()
    with serve_directory(root) as url:
        yield url, root


@pytest.mark.slow
def test_first_use_downloads_the_model_then_translates(
    tiny: dict[str, Path], hub: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, root = hub
    served = root / "test" / "tiny-marian" / "resolve" / ("0" * 40)
    shutil.copytree(tiny["marian"], served)
    files = (*(ModelFile(p.name) for p in sorted(served.iterdir())), ModelFile("absent.json", optional=True))
    spec = ModelSpec("tiny-marian", "test/tiny-marian", "0" * 40, files, pairs=(("ko", "en"),))
    monkeypatch.setitem(models.REGISTRY, spec.name, spec)
    monkeypatch.setenv("IMTRANS_HUB_URL", url)
    monkeypatch.setenv("IMTRANS_CACHE_DIR", str(tmp_path / "cache"))

    out = LocalTranslator("tiny-marian", options=FAST, progress=False).translate(TEXTS, "ko", "en").texts

    installed = tmp_path / "cache" / "models" / "tiny-marian"
    assert out == LocalTranslator(model_dir=tiny["marian"], options=FAST).translate(TEXTS, "ko", "en").texts
    lock = json.loads((installed / LOCKFILE).read_text())
    assert set(lock["files"]) == {f.name for f in files if not f.optional}
    verify_model(installed, full=True)
