"""Measuring as a user does it: `imtrans synth` makes a set, `imtrans eval` scores it, `--compare` reads two runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import imtrans

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "ja"
    proc = imtrans(
        "synth",
        "--lang",
        "ja",
        "--layout",
        "mixed",
        "--count",
        "4",
        "--seed",
        "3",
        "--out",
        str(out),
        cwd=out.parent,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_eval_scores_every_stage_of_a_synthetic_set_and_writes_a_report(synth_set, tmp_path):
    proc = imtrans(
        "eval", "--data", str(synth_set), "--to", "en", "--report", str(tmp_path / "rep"), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert doc["dataset"]["samples"] == 4 and doc["summary"]["run"]["errors"] == 0
    assert {"detect", "recognize", "erase", "render", "e2e"} <= set(doc["summary"])
    # Synthetic sets carry line truth and clean backgrounds: the full set of figures exists.
    assert {"precision", "recall", "hmean"} <= set(doc["summary"]["detect"])
    assert {"cer", "exact", "ned"} <= set(doc["summary"]["recognize"])
    assert {"psnr_mask", "ssim_mask", "residue_rate"} <= set(doc["summary"]["erase"])
    assert doc["signature"].startswith("data:ja@")
    assert "illegible_render" in doc["failures"]
    html = (tmp_path / "rep" / "index.html").read_text()
    assert html.count("<tr>") > 10 and "Worst cases" in html
    assert "detect" in proc.stdout and "signature:" in proc.stdout


def test_compare_of_two_runs_with_different_settings(synth_set, tmp_path):
    for name, extra in (("a", []), ("b", ["--set", "detect.extra_scales=[]"])):
        proc = imtrans(
            "eval",
            "--data",
            str(synth_set),
            "--stages",
            "detect,recognize",
            "--report",
            str(tmp_path / name),
            *extra,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr
    proc = imtrans("eval", "--compare", str(tmp_path / "a"), str(tmp_path / "b"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "detect.hmean" in proc.stdout and "recognize.cer" in proc.stdout
    assert "settings:" in proc.stdout


def test_eval_report_into_a_file_path_fails_before_any_work(synth_set, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = imtrans("eval", "--data", str(synth_set), "--report", str(blocker), cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "cannot write the report" in proc.stderr


def test_eval_scores_imtrans_beside_the_raw_engines_on_a_real_photo_folder(tmp_path):
    # A folder in the real-photo format (NAME.json of hand-written lines beside each image),
    # drawn here: an English and a Korean line on one sign.
    from fixtures import gradient_background, render_lines
    from PIL import Image

    page = render_lines(["Fresh bread", "매일 아침"], "ko", size=40, width=520, height=200,
                        background=gradient_background(520, 200, seed=2))  # fmt: skip
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(page.image).save(folder / "sign.png")
    lines = [
        {"text": t, "lang": lang, "box": [round(v) for v in q.bbox], "block": 0}
        for t, lang, q in zip(["Fresh bread", "매일 아침"], ["en", "ko"], page.quads, strict=True)
    ]
    truth = {"file": "sign.png", "width": 520, "height": 200, "kind": "sign", "lines": lines}
    (folder / "sign.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    proc = imtrans("eval", "--data", str(folder), "--stages", "detect,recognize", "--baseline", "rapidocr",
                   "--baseline", "tesseract", "--report", str(tmp_path / "rep"), cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    reading = json.loads((tmp_path / "rep" / "results.json").read_text())["reading"]
    assert list(reading) == ["imtrans", "rapidocr", "tesseract"]
    # imtrans reads both lines; raw rapidocr has no Hangul, so its Korean line is wrong.
    assert reading["imtrans"]["summary"]["all"]["recall"] == 1.0
    assert reading["imtrans"]["summary"]["ko"]["cer"] < 0.3
    assert reading["rapidocr"]["summary"]["ko"]["cer"] > reading["imtrans"]["summary"]["ko"]["cer"]
    assert "reading (lines found and read)" in proc.stdout and "rapidocr" in proc.stdout
    assert "Reading against the baselines" in (tmp_path / "rep" / "index.html").read_text()
