"""Vertical columns: detected as columns, and read right, Korean included (Tesseract has no kor_vert)."""

from __future__ import annotations

import pytest
from fixtures import render_vertical

from imtrans.detect import make_detector
from imtrans.recognize import make_recognizer
from imtrans.types import Direction


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
