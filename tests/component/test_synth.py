"""`imtrans synth`: deterministic output, ground truth that matches the pixels, cleaning, the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from imtrans.cli import app
from imtrans.errors import InputError
from imtrans.evaluate.dataset import read_manifest
from imtrans.synth import Resources, Synthesis, generate, synthesise
from imtrans.synth.draw import Degradation, degrade, unchanged_region
from imtrans.synth.layouts import BlockPlan, Decoration

LAYOUTS = {"ko": ["sign", "paragraph", "bubble", "mixed"], "en": ["sign", "paragraph", "bubble", "mixed"],
           "ja": ["sign", "paragraph", "bubble", "vertical", "mixed"],
           "zh": ["sign", "paragraph", "bubble", "vertical", "mixed"]}  # fmt: skip


@pytest.fixture(scope="module")
def resources() -> dict[str, Resources]:
    """Corpora, fonts and photos, loaded once per language for the whole module."""
    return {}


def _res(cache: dict[str, Resources], lang: str) -> Resources:
    if lang not in cache:
        cache[lang] = Resources.load(lang)
    return cache[lang]


def _kept(lang: str, layout: str, res: Resources, adjust=None, start: int = 0) -> Synthesis:  # type: ignore[no-untyped-def]
    for i in range(start, start + 10):
        syn = synthesise(lang, layout, 5, i, res, adjust)
        if syn.dropped is None:
            return syn
    raise AssertionError(f"no {lang}-{layout} sample kept in 10 candidates")


def _no_shadow(plan: BlockPlan) -> BlockPlan:
    return dataclasses.replace(plan, style=dataclasses.replace(plan.style, shadow=None))


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_same_bytes_and_sample_k_does_not_depend_on_count(tmp_path: Path) -> None:
    generate("ko", "sign", 2, 3, tmp_path / "a")
    generate("ko", "sign", 2, 3, tmp_path / "b")
    generate("ko", "sign", 1, 3, tmp_path / "one")
    generate("ko", "sign", 2, 4, tmp_path / "other")
    a, b, one, other = (_files(tmp_path / n) for n in ("a", "b", "one", "other"))
    assert a == b
    for name in ("images/ko-sign-00000.png", "backgrounds/ko-sign-00000.png", "masks/ko-sign-00000.png"):
        assert one[name] == a[name]
        assert other[name] != a[name]
    assert one["manifest.jsonl"].splitlines()[0] == a["manifest.jsonl"].splitlines()[0]
    assert a["manifest.jsonl"] != other["manifest.jsonl"]


@pytest.mark.parametrize("lang", ["ko", "en", "ja", "zh"])
def test_every_layout_of_every_language_makes_a_sample(lang: str, resources: dict[str, Resources]) -> None:
    res = _res(resources, lang)
    for layout in LAYOUTS[lang]:
        syn = _kept(lang, layout, res)
        assert syn.composition is not None and syn.composition.blocks
        for block in syn.composition.blocks:
            assert block.plan.language == lang and all(block.plan.lines)
    if lang in ("ko", "en"):
        with pytest.raises(InputError, match="ja and zh only"):
            synthesise(lang, "vertical", 0, 0, res)


@pytest.mark.parametrize(
    ("lang", "layout"), [("en", "sign"), ("ko", "bubble"), ("ja", "vertical"), ("zh", "paragraph")]
)
def test_mask_is_where_text_changed_the_pixels_and_degradation_keeps_the_rest_equal(
    lang: str, layout: str, resources: dict[str, Resources]
) -> None:
    syn = _kept(lang, layout, _res(resources, lang))
    comp = syn.composition
    assert comp is not None
    differs = (comp.image != comp.background).any(axis=2)
    assert np.array_equal(comp.mask > 0, differs)
    assert set(np.unique(comp.mask)) <= {0, 255} and differs.any()
    # The sample's own degradation, then every kind at once, with JPEG and without.
    cases = [syn.degradation, Degradation(1.0, 4.0, 60), Degradation(0.8, 2.0, 0)]
    for spec in cases:
        img, bg = degrade(comp.image, comp.background, spec, np.random.default_rng(0))
        keep = unchanged_region(comp.mask, jpeg=spec.jpeg_quality > 0)
        assert np.array_equal(img[keep], bg[keep]), spec
        assert keep.mean() > 0.5  # the region is not trivially empty


@pytest.mark.parametrize(
    ("lang", "layout"), [("en", "sign"), ("ko", "paragraph"), ("ja", "vertical"), ("zh", "bubble")]
)
def test_line_quads_hold_their_lines_ink(lang: str, layout: str, resources: dict[str, Resources]) -> None:
    syn = _kept(lang, layout, _res(resources, lang), adjust=_no_shadow)
    comp = syn.composition
    assert comp is not None
    inside = np.zeros(comp.mask.shape, np.uint8)
    for block in comp.blocks:
        for quad in block.line_quads:
            line = np.zeros_like(inside)
            cv2.fillPoly(line, [np.round(np.array(quad.points)).astype(np.int32)], 255)
            assert (comp.mask[line > 0] > 0).any(), "a line quad over no ink"
            inside |= line
    # Bilinear warping spreads coverage by a pixel; allow 2.
    grown = cv2.dilate(inside, np.ones((5, 5), np.uint8))
    assert not ((comp.mask > 0) & (grown == 0)).any()
    # Vertical columns: the quad's first edge runs across the column's top (it is the short one).
    for block in comp.blocks:
        if block.plan.direction.value == "vertical":
            for q, text in zip(block.line_quads, block.plan.lines, strict=True):
                if len(text) > 1:
                    assert q.width < q.height


def test_cleaning_drops_low_contrast_and_missing_glyphs(resources: dict[str, Resources]) -> None:
    res = _res(resources, "en")

    def grey_on_grey(plan: BlockPlan) -> BlockPlan:
        card = Decoration("card", (128, 128, 128), None, 0, padding=10)
        style = dataclasses.replace(
            plan.style, fill=(132, 132, 132), outline=None, outline_width=0, shadow=None
        )
        return dataclasses.replace(plan, decoration=card, style=style)

    def tamil(plan: BlockPlan) -> BlockPlan:
        return dataclasses.replace(plan, lines=(plan.lines[0] + "\u0b95",) + plan.lines[1:])

    for i in range(3):
        assert synthesise("en", "sign", 1, i, res, grey_on_grey).dropped in ("low_contrast", "no_room")
        assert synthesise("en", "sign", 1, i, res, tamil).dropped == "missing_glyph"
    assert synthesise("en", "sign", 1, 0, res, grey_on_grey).dropped == "low_contrast"


def test_cli_writes_a_dataset_that_read_manifest_loads(tmp_path: Path) -> None:
    out = tmp_path / "zh"
    result = CliRunner().invoke(
        app,
        ["synth", "--lang", "zh", "--layout", "vertical", "--count", "2", "--seed", "1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "2/2 zh-vertical samples" in result.output
    dataset = read_manifest(out)
    assert [s.id for s in dataset.samples] == ["zh-vertical-00000", "zh-vertical-00001"]
    for s in dataset.samples:
        for rel in (s.image, s.background, s.mask):
            assert rel and dataset.path(rel).is_file()
        assert 512 <= max(s.width, s.height) <= 1024
        assert s.blocks and all(b.direction == "vertical" and b.lines for b in s.blocks)
        assert all(b.text == "".join(ln.text for ln in b.lines) for b in s.blocks)
        assert s.blocks[0].style["font"].startswith("Noto") and s.blocks[0].style["font_index"] == 2
    card = json.loads((out / "datacard.json").read_text())
    assert card["counts"]["made"] == 2 and card["text_sources"] and card["photos"]

    bad = CliRunner().invoke(
        app, ["synth", "--lang", "en", "--layout", "vertical", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == InputError.exit_code
    assert "ja and zh only" in bad.output


def test_cli_draws_on_the_photos_of_added_folders_too(tmp_path: Path) -> None:
    folder = tmp_path / "walls"
    folder.mkdir()
    rng = np.random.default_rng(0)
    # Textured enough for text to stay legible on it; 40 copies so most samples land on one.
    texture = cv2.resize(
        rng.integers(40, 120, (60, 80, 3), dtype=np.uint8), (800, 600), interpolation=cv2.INTER_CUBIC
    )
    for i in range(40):
        cv2.imwrite(str(folder / f"wall{i:02d}.png"), texture)
    (folder / "notes.txt").write_text("not a photo")
    out = tmp_path / "en"
    argv = ["synth", "--lang", "en", "--layout", "sign", "--count", "3", "--seed", "1", "--out", str(out)]
    result = CliRunner().invoke(app, [*argv, "--photos", str(folder)])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "datacard.json").read_text())
    added = [p for p in card["photos"] if p["source"] == f"added folder {folder}"]
    assert [p["name"] for p in added] == [f"wall{i:02d}" for i in range(40)]
    used = {s.meta["photo"] for s in read_manifest(out).samples}
    assert used & {p["name"] for p in added}, used

    empty, twins = tmp_path / "empty", tmp_path / "twins"
    empty.mkdir()
    twins.mkdir()
    for name in ("sky.png", "sky.jpg"):
        cv2.imwrite(str(twins / name), texture)
    for bad_folder, message in (
        (tmp_path / "missing", "does not exist"),
        (empty, "holds no"),
        (twins, "named 'sky'"),
    ):
        bad = CliRunner().invoke(app, [*argv, "--out", str(tmp_path / "x"), "--photos", str(bad_folder)])
        assert bad.exit_code == InputError.exit_code, bad.output
        assert message in bad.output
