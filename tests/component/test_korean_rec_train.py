"""The Korean recogniser's training: rendered lines, the network built from PP-OCRv6, and one
training step that exports a model onnxruntime agrees with (the CI smoke test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def test_line_maker_draws_texts_of_the_charset_with_fonts_that_cover_them() -> None:
    from imtrans.nets.recdata import HELD_OUT_FONTS, LineMaker, TextSource, covers
    from imtrans.recognize.korean import korean_charset

    texts = TextSource.load()
    train = LineMaker("train", texts=texts)
    test = LineMaker("test", texts=texts, photos=train.photos)
    assert not {f.name for f in train.fonts} & {f.name for f in test.fonts}
    assert all(f.name in HELD_OUT_FONTS for f in test.fonts)
    assert not set(train.photo_ids) & set(test.photo_ids)
    chars = set(korean_charset())
    rng = np.random.default_rng(3)
    for _ in range(12):
        crop, text = train.sample(rng)
        assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3
        assert crop.shape[0] >= 8 and crop.shape[1] >= 8
        assert text and set(text) <= chars
    # batches are a function of the generator: a resumed run repeats them
    a = train.sample(np.random.default_rng([0, 5]))
    b = train.sample(np.random.default_rng([0, 5]))
    assert a[1] == b[1] and np.array_equal(a[0], b[0])
    assert all(covers(f, "가") for f in train.fonts)


def test_training_script_runs_one_step_and_exports_a_model_onnxruntime_agrees_with(tmp_path: Path) -> None:
    out = tmp_path / "run"
    onnx_path = tmp_path / "rec.onnx"
    cmd = [sys.executable, str(ROOT / "training" / "train_recognizer.py"), "--smoke", "--out", str(out),
           "--export", str(onnx_path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events] == ["start", "val", "train", "val"]
    assert np.isfinite(events[2]["loss"])
    assert (out / "last.pt").is_file() and (out / "best.pt").is_file()
    assert "max |ort - torch|" in proc.stdout

    import onnxruntime as ort

    from imtrans.recognize.korean import KoreanRecognizer, korean_charset

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map["character"].split("\n") == korean_charset()
    probs = session.run(None, {"x": np.zeros((2, 3, 48, 96), np.float32)})[0]
    assert probs.shape == (2, 12, len(korean_charset()) + 1)
    assert np.allclose(probs.sum(axis=2), 1.0, atol=1e-4)
    # the backend reads with it
    readings = KoreanRecognizer(onnx_path).read_crops([np.full((40, 120, 3), 255, np.uint8)])
    assert len(readings) == 1 and isinstance(readings[0][0], str)

    # resume: continues from step 1 to 2 with the saved config
    proc = subprocess.run([*cmd[:-2], "--resume", "--steps", "2"], capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "train"] == [1, 2]


def test_round_two_plans_are_training_only_and_never_label_their_pictograms() -> None:
    from imtrans.nets.recdata import PICTOGRAMS, LineMaker, TextSource
    from imtrans.recognize.korean import korean_charset

    texts = TextSource.load()
    train = LineMaker("train", texts=texts)
    assert train.plan_share == 0.6
    assert LineMaker("test", texts=texts, photos=train.photos).plan_share == 0.0
    assert LineMaker("faces", texts=texts, photos=train.photos).plan_share == 0.0
    rng = np.random.default_rng(11)
    plans = [train.plan(rng) for _ in range(60)]
    assert any(not r.read for p in plans for r in p.runs)  # some pictograms drawn
    assert any(len({r.scale for r in p.runs}) > 1 for p in plans)  # some lines of two sizes
    assert any(p.neighbours for p in plans)
    for p in plans:
        assert p.text and not set(p.text) & set(PICTOGRAMS)
        assert p.text == p.text.strip() and "  " not in p.text
    always = LineMaker("train", texts=texts, photos=train.photos, plan_share=1.0)
    for i in range(6):
        crop, text = always.sample(np.random.default_rng([1, i]))
        assert crop.dtype == np.uint8 and crop.shape[0] >= 8 and crop.shape[1] >= 8
        assert text and set(text.replace("☎", "")) <= set(korean_charset())
