"""`imtrans eval` on a tiny dataset whose truth is known exactly (drawn by the test)."""

from __future__ import annotations

import json

import pytest
from fixtures import gradient_background, render_lines
from PIL import Image
from typer.testing import CliRunner

from imtrans.cli import app
from imtrans.evaluate.dataset import GTBlock, GTLine, Sample, read_manifest, write_manifest
from imtrans.evaluate.runner import Evaluator
from imtrans.settings import Settings
from imtrans.types import Quad


def _sample(
    root, sid: str, lines: list[str], lang: str, refs: dict[str, str], phantom: bool = False
) -> Sample:
    page = render_lines(
        lines, lang, size=34, width=640, height=240, background=gradient_background(640, 240, seed=5)
    )
    for kind, arr in (("images", page.image), ("backgrounds", page.background), ("masks", page.mask)):
        (root / kind).mkdir(exist_ok=True)
        Image.fromarray(arr).save(root / kind / f"{sid}.png")
    gt_lines = [GTLine(quad=q.points, text=t, language=lang) for q, t in zip(page.quads, lines, strict=True)]
    if phantom:  # truth that is not in the picture: must count as missed
        gt_lines.append(GTLine(quad=Quad.from_rect(500, 200, 600, 230).points, text="없음", language=lang))
    x0, y0 = min(q.bbox[0] for q in page.quads), min(q.bbox[1] for q in page.quads)
    x1, y1 = max(q.bbox[2] for q in page.quads), max(q.bbox[3] for q in page.quads)
    style = {"font_size": 34, "text_color": [20, 20, 20], "outline_width": 0, "angle": 0.0}  # as drawn
    block = GTBlock(
        id="b0",
        quad=Quad.from_rect(x0 - 4, y0 - 4, x1 + 4, y1 + 4).points,
        text=" ".join(lines),
        language=lang,
        lines=gt_lines,
        translations=refs,
        style=style,
    )
    return Sample(
        id=sid,
        image=f"images/{sid}.png",
        background=f"backgrounds/{sid}.png",
        mask=f"masks/{sid}.png",
        source_language=lang,
        width=640,
        height=240,
        blocks=[block],
    )


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("evalset")
    samples = [
        _sample(
            root,
            "ko-1",
            ["오늘의 추천 메뉴", "영업 시간 안내"],
            "ko",
            {"en": "Today's menu and opening hours"},
        ),
        _sample(root, "en-1", ["Fresh bread daily"], "en", {"en": "Fresh bread daily"}, phantom=True),
    ]
    write_manifest(samples, root)
    return root


@pytest.fixture(scope="module")
def results(dataset_dir):
    settings = Settings().with_overrides({"translate.target": "en"})
    return Evaluator(settings).run(read_manifest(dataset_dir))


def test_a_clean_drawing_scores_as_read_and_erased(results):
    doc, outcomes = results
    ko = next(o for o in outcomes if o.id == "ko-1").metrics
    assert ko["detect.tp"] == ko["detect.n_true"] == 2
    # Tesseract kor reads these two drawn lines with 1 or 2 wrong glyphs (추/주, 영/명), which
    # flip with a pixel of box size: 0.059 at the detector's old threshold, 0.118 at 0.6.
    assert ko["recognize.cer"] < 0.15
    # Erasing must come much closer to the clean background than the lettered input was.
    assert ko["erase.psnr_mask"] > ko["erase.psnr_mask_input"] + 10
    assert ko["erase.residue_rate"] == 0
    assert ko["render.legibility_cer"] < 0.2
    assert ko["render.fit"] == 1.0
    assert ko["e2e.delivered"] == 1.0
    assert doc["summary"]["detect"]["n_true"] == 4  # 2 + 1 + the phantom
    # The lettering's style is read back: size within 25%, dark grey within a visible step.
    style = doc["summary"]["style"]
    assert style["blocks"] >= 2 and style["size_within_25"] == 1.0 and 0.75 < style["size_ratio"] < 1.25
    assert style["colour_within_10"] == 1.0 and style["outline_agrees"] == 1.0 and style["angle_error"] < 2


def test_truth_absent_from_the_picture_is_missed_text(results):
    doc, outcomes = results
    en = next(o for o in outcomes if o.id == "en-1")
    assert en.failures["missed_text"] == 1
    assert doc["summary"]["detect"]["recall"] == pytest.approx(3 / 4)
    assert doc["failures"]["missed_text"] == 1


def test_every_number_carries_the_signature(results):
    doc, _ = results
    sig = doc["signature"]
    for part in ("data:evalset", "n:2", "translator:reference", "settings:", "imtrans:", "rapidocr:"):
        assert part in sig


def test_cli_writes_report_and_compare_reads_it(dataset_dir, tmp_path):
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["eval", "--data", str(dataset_dir), "--stages", "detect,recognize", "--report", str(tmp_path / "a")],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads((tmp_path / "a" / "results.json").read_text())
    assert set(doc["summary"]) >= {"detect", "recognize"} and "erase" not in doc["summary"]
    page = (tmp_path / "a" / "index.html").read_text()
    assert "missed_text" in page and "img/en-1.boxes.jpg" in page
    assert (tmp_path / "a" / "img" / "en-1.original.jpg").is_file()
    cmp = runner.invoke(app, ["eval", "--compare", str(tmp_path / "a"), str(tmp_path / "a" / "results.json")])
    assert cmp.exit_code == 0, cmp.output
    assert "detect.recall" in cmp.output and "same" in cmp.output


def test_a_missing_image_is_an_error_of_that_sample_not_of_the_run(dataset_dir, tmp_path):
    ds = read_manifest(dataset_dir)
    broken = ds.samples[1].model_copy(update={"id": "gone", "image": "images/missing.png"})
    ds = ds.model_copy(update={"samples": [ds.samples[1], broken]})
    doc, _ = Evaluator(Settings(), ["detect"]).run(ds)
    assert doc["summary"]["run"] == {"samples": 2, "errors": 1}
    assert "missing.png" in next(s["error"] for s in doc["samples"] if s["id"] == "gone")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/nonexistent/set"], "dataset"),
        (["--data", "{data}", "--stages", "detect,bogus"], "unknown stage"),
        (["--compare", "/nonexistent/a.json", "/nonexistent/b.json"], "no evaluation results"),
        ([], "--data"),
    ],
)
def test_bad_eval_input_gets_one_line_and_nonzero_exit(dataset_dir, args, message):
    args = [a.replace("{data}", str(dataset_dir)) for a in args]
    out = CliRunner().invoke(app, ["eval", *args])
    assert out.exit_code != 0
    assert message in out.output
    assert "Traceback" not in out.output


def test_a_pipeline_translator_is_scored_with_bleu_and_chrf(dataset_dir, tmp_path):
    glossary = tmp_path / "g.csv"
    glossary.write_text(
        "source,target\n오늘의 추천 메뉴 영업 시간 안내,Today's menu and opening hours\n", encoding="utf-8"
    )
    # The test is about scoring, not reading: the fuzzy match absorbs a misread glyph or two.
    settings = Settings().with_overrides(
        {
            "translate.target": "en",
            "translate.translator": "glossary",
            "translate.glossary": str(glossary),
            "translate.fuzzy_threshold": 80,
        }
    )
    ds = read_manifest(dataset_dir)
    ds = ds.model_copy(update={"samples": [s for s in ds.samples if s.id == "ko-1"]})
    doc, _ = Evaluator(settings, ["e2e"], translator="pipeline").run(ds)
    tr = doc["summary"]["translation"]
    assert tr["segments"] == 1
    assert tr["bleu"] == pytest.approx(100.0) and tr["chrf"] == pytest.approx(100.0)
    assert "tok:13a" in tr["bleu_signature"]
    assert "translator:glossary" in doc["signature"]
