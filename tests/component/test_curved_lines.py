"""Lettering set along an arc, through the real detector, recogniser and eraser: a badge's
name read straightened, and only its band erased (`detect/curves.py`)."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import badge

from imtrans.pipeline import Pipeline
from imtrans.settings import Settings


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


@pytest.mark.parametrize(("size", "radius", "text"), [(20, 120, "REDROCK COFFEE"), (12, 70, "REDROCK")])
def test_a_badges_arched_name_is_read(pipeline, size, radius, text):
    image, _ = badge(text, size, radius)
    lines = [ln for ln in pipeline.ocr(image).page.lines if ln.text]
    curved = [ln for ln in lines if ln.curve]
    assert [ln.text for ln in curved] == [text]


def test_without_curved_lines_the_20px_arc_is_not_read():
    # The mechanism: as a rectangle the crescent's mean score falls under the box threshold.
    image, _ = badge("REDROCK COFFEE", 20, 120)
    plain = Pipeline(Settings().with_overrides({"detect.curved": False}))
    assert not any(ln.text == "REDROCK COFFEE" for ln in plain.ocr(image).page.lines)


def test_erasing_an_arched_name_leaves_the_ring_under_it(pipeline):
    image, ring = badge("REDROCK COFFEE", 20, 120)
    page = pipeline.ocr(image).page
    erased = pipeline.erase_page(image, page).image
    changed = np.abs(erased.astype(int) - image.astype(int)).max(axis=2) > 40
    letters = np.abs(image.astype(int) - np.array([190, 90, 40])).max(axis=2) > 60
    x0, y0, x1, _ = ring
    # The ring's top runs under the name's middle (its ends come down beside the ring): the
    # ring's pixels there stay as they were.
    ring_top = letters.copy()
    ring_top[: y0 - 2] = False
    ring_top[y0 + 6 :] = False
    middle = (x0 + x1) // 2
    ring_top[:, : middle - 40] = False
    ring_top[:, middle + 40 :] = False
    assert ring_top.sum() > 50
    assert changed[ring_top].mean() < 0.05
    # The name's letters (above the ring's top) are gone.
    name = letters.copy()
    name[y0 - 2 :] = False
    assert changed[name].mean() > 0.9


def test_a_badges_name_is_redrawn_along_its_arc_and_reads_back(tmp_path):
    image, _ = badge("REDROCK COFFEE", 20, 120)
    glossary = tmp_path / "g.csv"
    glossary.write_text("source,target\nREDROCK COFFEE,CAFE ROCHE ROUGE\n", encoding="utf-8")
    p = Pipeline(
        Settings().with_overrides(
            {"translate.target": "fr", "translate.glossary": str(glossary), "translate.cache": False}
        )
    )
    result = p.translate(image)
    (block,) = result.page.blocks
    assert result.page.translations[block.id].text == "CAFE ROCHE ROUGE"
    quality = result.page.quality[block.id]
    assert quality.passed, quality.failed  # read back along the arc
    # The new lettering follows the arch: its ends sit lower than its middle.
    drawn = np.abs(result.image.astype(int) - result.erased.astype(int)).max(axis=2) > 60
    ys, xs = np.nonzero(drawn)
    left, right = xs.min(), xs.max()
    third = (right - left) / 3
    middle_y = ys[(xs > left + third) & (xs < right - third)].mean()
    ends_y = ys[(xs < left + third / 2) | (xs > right - third / 2)].mean()
    assert ends_y > middle_y + 5
    # Exported as layers, its text is placed straight over the arc's place (editable as text).
    svg = tmp_path / "page.svg"
    result.save_layers(svg, original=image)
    assert "CAFE ROCHE ROUGE" in svg.read_text(encoding="utf-8")
