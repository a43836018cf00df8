"""Detection with the bundled PP-OCRv6 model on signs, rotated lines and vertical columns the tests draw."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from fixtures import render_lines, render_vertical

from imtrans.detect import make_detector
from imtrans.recognize import make_recognizer
from imtrans.types import Direction


@pytest.fixture(scope="module")
def detector():
    return make_detector()


@pytest.fixture(scope="module")
def recognizer():
    return make_recognizer()


# A real Korean road sign showed the weakness: two big syllables a glyph-width apart were not found.
SIGNS = [
    ("서울", 150, 150),
    ("대전", 180, 180),
    ("부산 광역시", 120, 60),
    ("서울", 150, 0),
]


@pytest.mark.parametrize(("text", "size", "spacing"), SIGNS)
def test_finds_and_reads_large_widely_spaced_hangul_on_a_road_sign(detector, recognizer, text, size, spacing):
    sign = render_lines(
        [text],
        "ko",
        size=size,
        width=1400,
        height=500,
        color=(255, 255, 255),
        background=(20, 90, 60),
        letter_spacing=spacing,
        origin=(80, 120),
    )
    lines = detector.detect(sign.image)
    read = [ln for ln in recognizer.recognize(sign.image, lines, "auto") if ln.text]
    assert "".join(ln.text for ln in read).replace(" ", "") == text.replace(" ", "")
    assert {ln.language for ln in read} == {"ko"}


def test_finds_a_bilingual_sign_with_english_under_korean(detector, recognizer):
    img = render_lines(
        ["시청", "City Hall"],
        "ko",
        size=90,
        width=900,
        height=420,
        color=(255, 255, 255),
        background=(20, 60, 140),
        spacing=1.9,
    )
    read = [ln for ln in recognizer.recognize(img.image, detector.detect(img.image), "auto") if ln.text]
    assert [(ln.text, ln.language) for ln in read] == [("시청", "ko"), ("City Hall", "en")]


def test_a_rotated_line_keeps_its_angle(detector):
    r = render_lines(["Please keep the door closed"], "en", size=40, width=900, height=500, origin=(150, 230))
    centre = (450, 250)
    matrix = cv2.getRotationMatrix2D(centre, 15, 1.0)  # counter-clockwise on screen
    rotated = cv2.warpAffine(r.image, matrix, (900, 500), borderValue=(255, 255, 255))
    (line,) = detector.detect(rotated)
    assert line.quad.angle == pytest.approx(15, abs=3)
    assert line.direction is Direction.HORIZONTAL


def test_a_vertical_japanese_column_is_vertical_with_its_first_edge_across(detector):
    r = render_vertical(["縦書きの文章です"], "ja", size=44, width=300, height=520)
    (line,) = detector.detect(r.image)
    assert line.direction is Direction.VERTICAL
    assert line.quad.height > 3 * line.quad.width  # first edge runs across the column
    x0, y0, x1, y1 = line.quad.bbox
    tx0, ty0, tx1, ty1 = r.quads[0].bbox
    assert x0 <= tx0 + 10 and x1 >= tx1 - 10 and y0 <= ty0 + 10 and y1 >= ty1 - 10


def test_an_image_without_text_has_no_lines(detector):
    rng = np.random.default_rng(1)
    smooth = cv2.GaussianBlur(rng.integers(0, 255, (400, 600, 3), dtype=np.uint8), (31, 31), 10)
    assert detector.detect(smooth) == []


def test_line_ids_are_stable_and_in_reading_order(detector):
    r = render_lines(["first line here", "second line here", "third line here"], "en", size=36, spacing=2.2)
    lines = detector.detect(r.image)
    assert [ln.id for ln in lines] == ["l0", "l1", "l2"]
    ys = [ln.quad.centre[1] for ln in lines]
    assert ys == sorted(ys)
    assert all(math.isfinite(ln.det_score) and ln.det_score > 0 for ln in lines)
