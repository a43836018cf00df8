"""Tesseract crop preparation and output cleaning (pure functions, no engine)."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import render_lines, render_vertical

from imtrans.recognize.tesseract import binarize_text, clean_text, restack_column


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("| 오늘의 커피 한 잔\n", "오늘의 커피 한 잔"),
        ("! 영업 시간 안내", "영업 시간 안내"),
        (":대전역 방면으로", "대전역 방면으로"),
        ("부산 광역시 해운대구 |", "부산 광역시 해운대구"),
        ("'화장실은 이층에 있어요|", "화장실은 이층에 있어요"),
        ("지하철  2호선\n강남역", "지하철 2호선 강남역"),
        ("Exit 3!", "Exit 3!"),  # a real closing mark stays
        ("(출구)", "(출구)"),
        ("|", ""),
        ("", ""),
    ],
)
def test_clean_text_golden(raw, expected):
    assert clean_text(raw) == expected


def crop_with_frame(color, background):
    """A line crop with a 6 px margin, and a dark bar down its left edge (a plate's border)."""
    r = render_lines(
        ["서울역"], "ko", size=30, width=140, height=50, origin=(14, 6), color=color, background=background
    )
    img = r.image[:, :, 0].copy()
    img[:, :3] = 0
    return img


@pytest.mark.parametrize(
    ("color", "background"), [((0, 0, 0), (255, 255, 255)), ((255, 255, 255), (30, 60, 40))]
)
def test_binarize_gives_black_text_on_white_and_drops_the_frame(color, background):
    out = binarize_text(crop_with_frame(color, background), margin=6)
    assert set(np.unique(out)) <= {0, 255}
    assert (out[:, :3] == 255).all()  # the bar touching the border is gone
    ink = (out == 0).mean()
    assert 0.05 < ink < 0.5  # the glyphs are there, as the minority


def test_restack_lays_a_column_out_as_a_row_of_its_glyphs():
    r = render_vertical(["서울역"], "ko", size=40, width=120, height=220)
    x0, y0, x1, y1 = (int(v) for v in r.quads[0].bbox)
    column = r.image[y0 - 4 : y1 + 4, x0 - 4 : x1 + 4, 0]
    row = restack_column(column, margin=4)
    assert row.shape[1] > 2 * row.shape[0]  # wider than tall: three glyphs side by side
    ink_columns = (row < 128).any(axis=0)
    runs = np.flatnonzero(np.diff(ink_columns.astype(int)) == 1)
    assert len(runs) >= 3
