"""Vertical columns: detected as columns, and read right, Korean included (Tesseract has no kor_vert)."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import render_vertical
from PIL import Image, ImageDraw, ImageFont

from imtrans.detect import make_detector
from imtrans.recognize import make_recognizer
from imtrans.render.fonts import font_for
from imtrans.types import Direction, Line, Quad


@pytest.fixture(scope="module")
def engines():
    return make_detector(), make_recognizer()


@pytest.mark.parametrize(
    ("lang", "columns"),
    [
        ("ko", ["서울특별시", "약국"]),
        ("ja", ["縦書きの文章です", "東京駅"]),
        ("zh", ["北京欢迎你", "出口"]),
    ],
)
@pytest.mark.parametrize("size", [32, 56])
def test_columns_are_found_in_reading_order_and_read(engines, lang, columns, size):
    detector, recognizer = engines
    page = render_vertical(columns, lang, size=size, width=size * 7, height=size * 10)
    lines = detector.detect(page.image)
    assert [ln.direction for ln in lines] == [Direction.VERTICAL] * len(columns)
    read = recognizer.recognize(page.image, lines, "auto")
    # Columns are read right to left, as they were drawn.
    assert [(ln.text, ln.language) for ln in read] == [(c, lang) for c in columns]


@pytest.mark.parametrize("text", ["って", "あっ"])
def test_a_two_kana_column_too_short_for_its_shape_is_read_down(engines, text):
    """A manga "って" is about 1.4 times taller than wide: not a column by its shape, and read
    across it comes back as one wrong glyph below the confidence kept; it is read down instead."""
    spec = font_for("ja")
    font = ImageFont.truetype(str(spec.path), 28, index=spec.index)
    page = Image.new("RGB", (200, 200), "white")
    draw = ImageDraw.Draw(page)
    for i, ch in enumerate(text):
        draw.text((80, 60 + 29 * i), ch, font=font, fill="black")
    image = np.asarray(page)
    ys, xs = np.nonzero(image.min(axis=2) < 128)
    box = Line("0", Quad.from_rect(xs.min() - 3, ys.min() - 3, xs.max() + 4, ys.max() + 4))
    assert box.quad.height > box.quad.width and box.direction is Direction.HORIZONTAL
    _, recognizer = engines
    (read,) = recognizer.recognize(image, [box], "auto")
    assert (read.text, read.direction, read.language) == (text, Direction.VERTICAL, "ja")
