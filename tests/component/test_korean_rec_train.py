"""The Korean recogniser's training: rendered lines, the network built from PP-OCRv6, and one
training step that exports a model onnxruntime agrees with (the CI smoke test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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
           "--export", str(onnx_path), "--device", "cpu"]  # fmt: skip
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

    # a new round: the learning rate warms up again from the saved step (2 of 3 at 1 / 2)
    proc = subprocess.run([*cmd[:-2], "--resume", "--new-round", "--steps", "4", "--warmup", "2"],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((out / "config.json").read_text())["round_start"] == 2
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    lrs = [e["lr"] for e in events if e["event"] == "train"][2:]
    assert lrs == pytest.approx([5e-4 * 0.5, 5e-4 * 1.0])
    proc = subprocess.run(
        [*cmd[:-2], "--new-round"], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode != 0 and "--resume" in proc.stderr


def test_packed_faces_stand_in_for_fontconfig(tmp_path: Path) -> None:
    # A lent GPU machine has no Debian fonts: training/pack_fonts.py's subset faces stand in.
    sys.path.insert(0, str(ROOT / "training"))
    from pack_fonts import subset_face

    from imtrans.nets.recdata import PICTOGRAMS, LineMaker, covers, korean_fonts
    from imtrans.recognize.korean import korean_charset

    text = "".join(korean_charset())
    face = next(f for f in korean_fonts() if f.name == "UnPilgia.ttf")  # a held-out pen
    (tmp_path / face.name).write_bytes(subset_face(face, text + PICTOGRAMS))
    (packed,) = korean_fonts(system=str(tmp_path))
    assert packed.name == face.name
    assert Path(packed.path).stat().st_size < Path(face.path).stat().st_size
    syllables = text[:2350]
    assert covers(face, syllables) and covers(packed, syllables)
    # Every split takes its faces from the folder: the held-out set finds its pen there.
    held_out = LineMaker("test", system_fonts=str(tmp_path))
    assert [f.name for f in held_out.fonts] == ["UnPilgia.ttf"]


def test_device_names_a_torch_device_this_machine_has() -> None:
    sys.path.insert(0, str(ROOT / "training"))
    import torch
    from train_recognizer import training_device

    assert training_device("cpu") == torch.device("cpu")
    with pytest.raises(SystemExit, match="not a torch device"):
        training_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="no CUDA GPU"):
            training_device("cuda")
    else:
        with pytest.raises(SystemExit, match="CUDA GPU"):
            training_device(f"cuda:{torch.cuda.device_count()}")


def test_a_new_round_warms_up_and_decays_again_from_its_start_step() -> None:
    sys.path.insert(0, str(ROOT / "training"))
    from train_recognizer import Config, lr_factor

    first = Config(steps=3200, warmup=100)
    assert [round(lr_factor(s, first), 3) for s in (0, 99, 1650, 3199)] == [0.01, 1.0, 0.525, 0.05]
    again = Config(steps=5100, warmup=50, round_start=3200)
    assert [round(lr_factor(s, again), 3) for s in (3200, 3249, 4175, 5099)] == [0.02, 1.0, 0.525, 0.05]


def test_round_two_plans_are_training_only_and_never_label_their_pictograms() -> None:
    from imtrans.nets.recdata import PICTOGRAMS, LineMaker, TextSource, covers
    from imtrans.recognize.korean import korean_charset

    texts = TextSource.load()
    train = LineMaker("train", texts=texts)
    assert train.plan_share == 0.6
    assert LineMaker("test", texts=texts, photos=train.photos).plan_share == 0.0
    assert LineMaker("faces", texts=texts, photos=train.photos).plan_share == 0.0
    rng = np.random.default_rng(11)
    plans = [train.plan(rng) for _ in range(120)]
    # every glyph a plan says is drawn by its run's face (a price's `₩` in a face without it
    # was drawn blank; the 65th plan of this generator was one)
    assert all(covers(r.face, r.text) for p in plans for r in p.runs if r.read)
    assert any(not r.read for p in plans for r in p.runs)  # some pictograms drawn
    assert any(len({r.scale for r in p.runs}) > 1 for p in plans)  # some lines of two sizes
    assert any(p.neighbours for p in plans)
    for p in plans:
        # (a phone number's ☎ in the texts themselves is written: only drawn pictograms are not)
        written = set("".join(r.text for r in p.runs if r.read))
        assert p.text and not set(p.text) & set(PICTOGRAMS) - written
        assert all(not set(r.text.strip()) <= set(p.text) for r in p.runs if not r.read)
        assert p.text == p.text.strip() and "  " not in p.text
    always = LineMaker("train", texts=texts, photos=train.photos, plan_share=1.0)
    for i in range(6):
        crop, text = always.sample(np.random.default_rng([1, i]))
        assert crop.dtype == np.uint8 and crop.shape[0] >= 8 and crop.shape[1] >= 8
        assert text and set(text.replace("☎", "")) <= set(korean_charset())


def test_round_three_plans_say_the_dot_draw_latin_parentheses_and_small_thin_lines() -> None:
    from imtrans.nets.recdata import _THIN, LineMaker, TextSource

    texts = TextSource.load()
    train = LineMaker("train", texts=texts)
    rng = np.random.default_rng(5)
    plans = [train.plan(rng) for _ in range(300)]
    # a leading ㆍ is drawn but said ·, as real-photo truths write it
    dots = [p for p in plans if p.runs[0].text.startswith("ㆍ")]
    assert dots and all(p.text.startswith("·") and "ㆍ" not in p.text for p in dots)
    # Latin in parentheses after Korean
    assert any(p.runs[-1].text.startswith("(") and p.runs[-1].text.isascii() and p.runs[0].text[0] >= "가"
               for p in plans)  # fmt: skip
    # a pictogram inside a word, with the sign's gap around it, is never said as a space
    inside = [p for p in plans if len(p.runs) == 3 and not p.runs[1].read and p.runs[1].says is None]
    assert inside
    for p in inside:
        a, b = p.runs[0].text, p.runs[2].text
        assert p.text == " ".join((a + b).split())
    # small lines in thin faces come back a few pixels high (read upscaled)
    tiny = [p for p in plans if p.tiny]
    assert 0.05 < len(tiny) / len(plans) < 0.2
    assert all(any(k in r.face.name for r in p.runs for k in _THIN) for p in tiny)
    always = LineMaker("train", texts=texts, photos=train.photos, plan_share=1.0)
    heights = [always.sample(np.random.default_rng([2, i]))[0].shape[0] for i in range(40)]
    assert min(heights) <= 26


def test_round_four_plans_draw_pens_confusable_syllables_and_shapes_and_redraw_blank_crops() -> None:
    from imtrans.nets import recdata
    from imtrans.nets.recdata import _HAND, SHAPES, LineMaker, TextSource, is_confusable

    assert [c for c in "찌피돼대가나" if is_confusable(c)] == ["찌", "피", "돼", "대"]
    texts = TextSource.load()
    assert texts.ko_confusable and all(any(is_confusable(c) for c in w) for w in texts.ko_confusable[:50])
    train = LineMaker("train", texts=texts)
    rng = np.random.default_rng(8)
    plans = [train.plan(rng) for _ in range(300)]
    hand = [p for p in plans if any(k in p.runs[0].face.name for k in _HAND)]
    assert 0.12 < len(hand) / len(plans) < 0.4
    # (round 5 jitters glyphs one by one where round 4 bent the whole line)
    assert any(p.jitter for p in hand) and any(p.jitter for p in plans if p not in hand)
    assert not any(p.jitter for p in plans if p.tiny)
    assert sum(any(is_confusable(c) for c in p.text) for p in plans) / len(plans) > 0.3
    shapes = [p for p in plans if any(r.face.path == SHAPES for r in p.runs)]
    assert shapes and all(r.face.path != SHAPES or not r.read for p in shapes for r in p.runs)
    assert all(not set(p.text) & set(recdata._SHAPE_KINDS) for p in plans)
    always = LineMaker("train", texts=texts, photos=train.photos, plan_share=1.0)
    for i in range(8):
        crop, text = always.sample(np.random.default_rng([4, i]))
        assert crop.dtype == np.uint8 and crop.shape[0] >= 8 and text
    # a crop with no visible text is drawn again on the training side, never in the validation sets
    flat = np.full((32, 64, 3), 128, np.uint8)
    assert recdata._contrast(flat) < recdata.MIN_CONTRAST
    text_like = flat.copy()
    text_like[8:24, 10:50] = 20
    calls = iter([(flat, "a"), (flat, "b"), (text_like, "c")])
    train._draw = lambda rng: next(calls)  # type: ignore[method-assign]
    assert train.sample(np.random.default_rng(0))[1] == "c" and train.blank == 2
    test = LineMaker("test", texts=texts, photos=train.photos)
    test._draw = lambda rng: (flat, "x")  # type: ignore[method-assign]
    assert test.sample(np.random.default_rng(0))[1] == "x" and test.blank == 0


def test_round_five_plans_jitter_hangul_glyphs_say_gaps_between_words_and_keep_codes_whole() -> None:
    from imtrans.nets import recdata
    from imtrans.nets.recdata import _DISPLAY, FontFace, LineMaker, LinePlan, Run, TextSource, is_confusable

    texts = TextSource.load()
    train = LineMaker("train", texts=texts)
    rng = np.random.default_rng(21)
    plans = [train.plan(rng) for _ in range(400)]
    # a pictogram between two words is said as the space between them; inside a word it is not said
    between = [p for p in plans if len(p.runs) == 3 and not p.runs[1].read and p.runs[1].says == " "]
    assert between
    for p in between:
        assert p.text == " ".join(p.runs[0].text.split() + p.runs[2].text.split())
    # signs' codes of letters and digits come whole, a space between them and the Korean word
    codes = [
        p.text for p in plans if any(w[:1].isdigit() and any(c.isupper() for c in w) for w in p.text.split())
    ]
    assert codes
    # confusable syllables are drawn in bold and display faces more often than other lines
    conf = [p for p in plans if any(is_confusable(c) for c in p.runs[0].text)]
    share = sum(any(k in p.runs[0].face.name for k in _DISPLAY) for p in conf) / len(conf)
    assert share > 0.4
    # jitter moves Hangul glyphs one by one and leaves digits where they were drawn
    face = next(f for f in train.fonts if "NanumGothic.ttf" in f.name)
    straight = LinePlan((Run("12 가나다", face),))
    jittered = LinePlan((Run("12 가나다", face),), jitter=1.0)
    a, _ = recdata._runs_layer(straight.runs, 48, 0, 0.0)
    b, _ = recdata._runs_layer(jittered.runs, 48, 0, 0.0, jittered.jitter, np.random.default_rng(3))
    assert a.shape == b.shape
    digits = int(recdata._font(face, 48).getlength("12")) + 24  # pad 24, then the digits
    assert np.array_equal(a[:, :digits], b[:, :digits])
    assert not np.allclose(a[:, digits:], b[:, digits:])
    assert FontFace(recdata.SHAPES).path == recdata.SHAPES


def test_extra_training_faces_join_the_training_side_only(tmp_path: Path) -> None:
    """Round 6: `training/fetch_fonts.py`'s faces (a folder of .ttf, here an installed face under
    a fetched face's name) are drawn in training, never by the held-out or brush/pen/serif sets."""
    import shutil

    from imtrans.nets.recdata import _HAND, LineMaker, TextSource, korean_fonts, ks_syllables

    assert len(ks_syllables()) == 2350
    face = next(f for f in korean_fonts() if f.path.endswith("NanumPen.ttf"))
    shutil.copy(face.path, tmp_path / "gaegu-400.ttf")
    texts = TextSource.load()
    train = LineMaker("train", texts=texts, extra_fonts=str(tmp_path))
    assert "gaegu-400.ttf" in {f.name for f in train.fonts}
    assert any(k in "gaegu-400.ttf" for k in _HAND)  # drawn as a pen face too
    for split in ("test", "faces"):
        others = LineMaker(split, texts=texts, photos=train.photos, extra_fonts=str(tmp_path))
        assert "gaegu-400.ttf" not in {f.name for f in others.fonts}


SHIPPED = ROOT / "src/imtrans/recognize/models/korean_rec.onnx"


@pytest.fixture(scope="module")
def net_from_shipped_file():
    """`KoreanRecognizerNet.from_onnx` of the shipped file (it checks itself against onnxruntime at
    width 160 and raises if it reads otherwise)."""
    from imtrans.nets.recognizer import KoreanRecognizerNet
    from imtrans.recognize.korean import korean_charset

    return KoreanRecognizerNet.from_onnx(SHIPPED, korean_charset())


def _read_both(net, session, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The net's and an onnxruntime session's probabilities on one random batch of ``width``."""
    import torch

    x = np.random.default_rng(seed).uniform(-1, 1, (2, 3, 48, width)).astype(np.float32)
    with torch.no_grad():
        mine = net(torch.from_numpy(x)).numpy()
    return mine, session.run(None, {"x": x})[0]


def test_a_net_from_the_shipped_file_is_from_ppocrs_net_and_reads_as_the_file_at_other_widths(
    net_from_shipped_file,
) -> None:
    import onnxruntime as ort

    from imtrans.nets.recognizer import KoreanRecognizerNet
    from imtrans.recognize.korean import korean_charset

    net = net_from_shipped_file
    # from_ppocr's modules and names: checkpoints of a run started from a file load like any run's
    assert list(net.state_dict()) == list(KoreanRecognizerNet.from_ppocr(korean_charset()).state_dict())
    assert all(p.requires_grad for p in net.parameters()) and len(list(net.parameters())) > 100
    shipped = ort.InferenceSession(str(SHIPPED), providers=["CPUExecutionProvider"])
    for width in (200, 320):
        mine, theirs = _read_both(net, shipped, width, seed=width)
        assert mine.shape == (2, width // 8, len(korean_charset()) + 1)
        assert np.abs(mine - theirs).max() < 1e-5  # 2.4e-7 measured
    with pytest.raises(ValueError, match="charset"):
        KoreanRecognizerNet.from_onnx(SHIPPED, korean_charset()[:-1])


@pytest.mark.slow
def test_a_file_of_another_structure_or_that_computes_otherwise_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import numpy_helper

    from imtrans.nets.recognizer import KoreanRecognizerNet
    from imtrans.recognize.korean import korean_charset

    model = onnx.load(str(SHIPPED))
    # a first convolution of another kernel size: the shapes differ
    first = next(t for t in model.graph.initializer if t.name == "backbone.Conv/0.weight")
    first.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(first)[:, :, :1, :1].copy(), first.name))
    reshaped = tmp_path / "reshaped.onnx"
    onnx.save(model, str(reshaped))
    with pytest.raises(ValueError, match=r"is not PP-OCRv6's recogniser: its weight backbone.Conv/0.weight"):
        KoreanRecognizerNet.from_onnx(reshaped, korean_charset())
    # the same weights, but the first learnable shift subtracted instead of added: caught by reading
    model = onnx.load(str(SHIPPED))
    shift = next(n for n in model.graph.node if "backbone.initializers.onnx_initializer_0" in n.input)
    assert shift.op_type == "Add"
    shift.op_type = "Sub"
    changed = tmp_path / "changed.onnx"
    onnx.save(model, str(changed))
    with pytest.raises(ValueError, match="does not read as the file does"):
        KoreanRecognizerNet.from_onnx(changed, korean_charset())


def test_bent_glyphs_are_training_only_and_leave_the_validation_lines_as_they_were() -> None:
    from imtrans.nets.recdata import LineMaker, TextSource

    texts = TextSource.load()
    plain = LineMaker("train", texts=texts)
    bent = LineMaker("train", texts=texts, photos=plain.photos, warp=1.0)
    a, ta = plain.sample(np.random.default_rng(4))
    b, tb = bent.sample(np.random.default_rng(4))
    assert ta == tb and a.shape[0] > 0 and b.shape[0] > 0
    assert a.shape != b.shape or np.abs(a.astype(int) - b.astype(int)).mean() > 1.0  # drawn bent
    held = LineMaker("test", texts=texts, photos=plain.photos)
    held_bent = LineMaker("test", texts=texts, photos=plain.photos, warp=1.0)
    c, tc = held.sample(np.random.default_rng(9))
    d, td = held_bent.sample(np.random.default_rng(9))
    assert tc == td and np.array_equal(c, d)  # the held-out split never bends


def test_a_made_up_hand_writes_each_jamo_in_its_place_with_one_pen() -> None:
    from imtrans.nets.recdata import MadeUpHand, korean_fonts

    face = next(f for f in korean_fonts() if f.name == "NanumGothic.ttf")
    hand = MadeUpHand(face, face, pen=0.08, wobble=0.0)
    rng = np.random.default_rng(0)
    em = 64
    standing, lying, compound = (hand.write(c, em, rng) > 0.5 for c in ("가", "고", "과"))
    for ink in (standing, lying, compound):
        assert ink.shape == (em, em) and 0.05 < ink.mean() < 0.4
    # 가: ㅏ's stem stands in the right half, nearly the square's height
    assert max(standing[:, x].mean() for x in range(em // 2, em)) > 0.75
    # 고: ㅗ's bar lies in the lower half, nearly the square's width; nothing of it in the upper rows
    assert max(lying[y].mean() for y in range(em // 2, em)) > 0.75
    # 과: ㅏ stands on the right and ㅗ lies under ㄱ on the left
    assert max(compound[:, x].mean() for x in range(2 * em // 3, em)) > 0.75
    assert max(compound[y, : 2 * em // 3].mean() for y in range(em // 2, em)) > 0.6
    # 각, 곡, 괜: a final's bar across the lowest third, where 가 has only ㅏ's stem
    assert max(standing[y].mean() for y in range(2 * em // 3, em)) < 0.2
    for c in ("각", "곡", "괜"):
        ink = hand.write(c, em, rng) > 0.5
        assert max(ink[y].mean() for y in range(2 * em // 3, em)) > 0.5
    # the pen keeps its width whatever each jamo was scaled by: a thinner pen, less ink
    thin = MadeUpHand(face, face, pen=0.04, wobble=0.0).write("가", em, rng) > 0.5
    assert thin.mean() < 0.75 * standing.mean()


def test_made_up_hands_are_training_only_and_leave_the_validation_lines_as_they_were() -> None:
    from imtrans.nets.recdata import LineMaker, TextSource

    texts = TextSource.load()
    plain = LineMaker("train", texts=texts, plan_share=1.0)
    made = LineMaker("train", texts=texts, photos=plain.photos, plan_share=1.0, made_up=1.0)
    differ = 0
    for seed in range(6):
        a, ta = plain.sample(np.random.default_rng(seed))
        b, tb = made.sample(np.random.default_rng(seed))
        assert ta == tb and b.shape[0] > 0
        differ += a.shape != b.shape or np.abs(a.astype(int) - b.astype(int)).mean() > 1.0
    assert differ >= 4
    held = LineMaker("test", texts=texts, photos=plain.photos)
    held_made = LineMaker("test", texts=texts, photos=plain.photos, made_up=1.0)
    c, tc = held.sample(np.random.default_rng(9))
    d, td = held_made.sample(np.random.default_rng(9))
    assert tc == td and np.array_equal(c, d)  # the held-out split never writes by a made-up hand


@pytest.mark.slow
def test_a_net_from_the_shipped_file_exports_a_file_that_runs_at_any_width(
    net_from_shipped_file, tmp_path: Path
) -> None:
    # When from_onnx converted the file's graph back to torch, the attention's shapes were traced
    # as constants: the export failed onnxruntime at any width but 160.
    import onnxruntime as ort

    sys.path.insert(0, str(ROOT / "training"))
    from train_recognizer import export

    from imtrans.recognize.korean import korean_charset

    net = net_from_shipped_file
    path = tmp_path / "rec.onnx"
    assert export(net, korean_charset(), path) < 1e-5  # its own check, at widths 200 and 320
    again = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    shipped = ort.InferenceSession(str(SHIPPED), providers=["CPUExecutionProvider"])
    assert again.get_modelmeta().custom_metadata_map["character"].split("\n") == korean_charset()
    for width in (160, 200, 320):
        mine, exported = _read_both(net, again, width, seed=width + 1)
        _, theirs = _read_both(net, shipped, width, seed=width + 1)
        assert exported.shape == (2, width // 8, len(korean_charset()) + 1)
        assert np.abs(exported - mine).max() < 1e-5
        assert np.abs(exported - theirs).max() < 1e-5  # the round trip gives the shipped file back


def test_the_export_check_stops_on_a_file_that_runs_only_at_its_traced_width(tmp_path: Path) -> None:
    import torch

    sys.path.insert(0, str(ROOT / "training"))
    from train_recognizer import export

    from imtrans.nets.recognizer import KoreanRecognizerNet
    from imtrans.recognize.korean import korean_charset

    class FixedWidth(torch.nn.Module):
        """(N, W / 8, 120) features whose reshape takes the width as a Python int: traced as a constant."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            width = int(x.shape[3])
            return (
                x.mean(dim=(1, 2))
                .reshape(x.shape[0], width // 8, 8)
                .mean(2, keepdim=True)
                .expand(-1, -1, 120)
            )

    net = KoreanRecognizerNet(FixedWidth(), torch.nn.Linear(120, len(korean_charset()) + 1))
    with pytest.raises(SystemExit, match="does not run at width 200"):
        export(net, korean_charset(), tmp_path / "rec.onnx")


@pytest.mark.slow
def test_a_run_started_from_the_shipped_file_trains_exports_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    onnx_path = tmp_path / "rec.onnx"
    cmd = [sys.executable, str(ROOT / "training" / "train_recognizer.py"), "--smoke", "--out", str(out),
           "--init", str(SHIPPED)]  # fmt: skip
    proc = subprocess.run([*cmd, "--export", str(onnx_path)], capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "max |ort - torch|" in proc.stdout and onnx_path.is_file()
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert events[1]["event"] == "val" and events[1]["cer_heldout"] < 0.1  # step 0: the shipped file reads
    # the checkpoint has from_ppocr's names: resuming and exporting it need nothing of the file
    proc = subprocess.run([*cmd, "--resume", "--steps", "2"], capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "train"] == [1, 2]
    exported = tmp_path / "last.onnx"
    proc = subprocess.run([*cmd, "--export-from", "last", "--export", str(exported)], capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "(step 2)" in proc.stdout and exported.is_file()


def test_batches_rendered_by_workers_are_the_batches_the_training_process_renders() -> None:
    sys.path.insert(0, str(ROOT / "training"))
    from train_recognizer import Config, batches

    from imtrans.nets.recdata import LineMaker, TextSource

    texts = TextSource.load()
    here = LineMaker("train", texts=texts)
    forked = LineMaker("train", texts=texts)
    mine = list(batches(here, 2, Config(batch=3, steps=6, workers=0)))
    theirs = list(batches(forked, 2, Config(batch=3, steps=6, workers=2)))
    assert len(mine) == len(theirs) == 4
    for (crops_a, labels_a), (crops_b, labels_b) in zip(mine, theirs, strict=True):
        assert labels_a == labels_b
        assert all(np.array_equal(a, b) for a, b in zip(crops_a, crops_b, strict=True))
    # What the workers counted reaches the training process's maker.
    assert (forked.skipped, forked.blank) == (here.skipped, here.blank)


def test_a_time_budget_decays_the_rate_over_the_time_and_ends_the_run(tmp_path: Path) -> None:
    # A lent GPU machine runs one command 10 minutes at most: the time, not the steps, ends a round there.
    sys.path.insert(0, str(ROOT / "training"))
    from train_recognizer import Config, lr_factor

    cfg = Config(steps=100_000, warmup=100)
    assert lr_factor(50, cfg, time_share=0.9) == pytest.approx(0.51)  # the warmup counts steps
    assert lr_factor(1000, cfg, time_share=0.5) == pytest.approx(0.525, abs=1e-3)
    assert lr_factor(1000, cfg, time_share=1.0) == pytest.approx(0.05)
    out = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "training" / "train_recognizer.py"), "--smoke", "--out", str(out),
           "--steps", "50", "--minutes", "1e-6", "--device", "cpu"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    # one step, then the time is spent: validated, saved and exported at step 1 of the 50
    assert [e["event"] for e in events] == ["start", "val", "train", "time_spent", "val"]
    assert events[3]["step"] == 1 and events[4]["step"] == 1

    import torch

    assert torch.load(out / "last.pt", map_location="cpu", weights_only=False)["step"] == 1


def test_what_a_bare_gpu_machine_is_carried_builds_the_same_texts_and_net(tmp_path: Path) -> None:
    # training/pack_device.py: the texts as a file, PP-OCRv6's graph with its weights zeroed.
    import lzma

    from imtrans.nets.recdata import TextSource
    from imtrans.nets.recognizer import KoreanRecognizerNet, skeleton_graph
    from imtrans.recognize.korean import korean_charset

    texts = TextSource.load()
    texts.save(tmp_path / "texts.json")
    again = TextSource.from_file(tmp_path / "texts.json")
    assert again == texts and again.ko_phrases and again.en_words
    # the same seed draws the same lines from either
    first, second = np.random.default_rng(3), np.random.default_rng(3)
    assert [again.sample(first) for _ in range(20)] == [texts.sample(second) for _ in range(20)]
    (tmp_path / "other.json").write_text('{"ko_words": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="TextSource.save"):
        TextSource.from_file(tmp_path / "other.json")

    graph = tmp_path / "graph.onnx"
    assert skeleton_graph(graph) > 50
    assert len(lzma.compress(graph.read_bytes(), preset=6)) < 1_000_000  # 21 MB of weights gone
    # built on the zeroed graph, the net still reads as the shipped file (from_onnx checks, 1e-4)
    net = KoreanRecognizerNet.from_onnx(SHIPPED, korean_charset(), graph)
    assert list(net.state_dict()) == list(KoreanRecognizerNet.from_ppocr(korean_charset()).state_dict())


@pytest.mark.slow
def test_a_carried_round_unpacks_and_trains_from_the_carry_alone(tmp_path: Path) -> None:
    # training/pack_device.py's `train`, as a lent GPU machine runs it, from a small carry made
    # here (no wheels: this machine has the packages; three faces, one photo of another name).
    import lzma
    import tarfile

    from PIL import Image

    sys.path.insert(0, str(ROOT / "training"))
    from pack_fonts import subset_face

    from imtrans.nets.recdata import PICTOGRAMS, TextSource, korean_fonts
    from imtrans.nets.recognizer import skeleton_graph
    from imtrans.recognize.korean import korean_charset

    carry, fonts = tmp_path / "carry", tmp_path / "fonts"
    (fonts / "system").mkdir(parents=True)
    (fonts / "extra").mkdir()
    text = "".join(korean_charset()) + PICTOGRAMS
    for face in korean_fonts():  # a training face, a held-out one, a brush/pen/serif one
        if face.name in ("NanumGothic.ttf", "UnPilgia.ttf", "NanumPen.ttf"):
            (fonts / "system" / face.name).write_bytes(subset_face(face, text))
    (carry / "photos").mkdir(parents=True)
    (carry / "wheels").mkdir()
    ramp = np.linspace(40, 220, 256 * 256 * 3).reshape(256, 256, 3).astype(np.uint8)
    Image.fromarray(ramp).save(carry / "photos" / "carried_ramp.jpg")
    with tarfile.open(carry / "fonts.tar.xz", "w:xz") as tar:
        tar.add(fonts, arcname="fonts")
    skeleton_graph(tmp_path / "graph.onnx")
    (carry / "ppocr_rec.onnx.xz").write_bytes(lzma.compress((tmp_path / "graph.onnx").read_bytes()))
    TextSource.load().save(carry / "texts.json")

    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "training" / "pack_device.py"), "train", "--carry", str(carry), "--out",
           str(out), "--work", str(tmp_path / "work"), "--", "--device", "cpu", "--workers", "0", "--threads", "1",
           "--minutes", "1e-6", "--batch", "2", "--val-n", "4"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {p.name for p in out.iterdir()} == {"korean_rec_last.onnx", "korean_rec_best.onnx", "log.jsonl",
                                               "config.json"}  # fmt: skip
    config = json.loads((out / "config.json").read_text())
    assert config["texts"] == str(carry / "texts.json") and config["device"] == "cpu"
    assert config["init"].endswith("korean_rec.onnx") and config["ppocr"].endswith("ppocr_rec.onnx")
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert events[0]["train_fonts"] == 2 and "time_spent" in [e["event"] for e in events]
