"""The typed hierarchy: geometry and JSON round trips."""

import pytest

from imtrans.types import (
    Alignment,
    Block,
    Diagnostic,
    Direction,
    Line,
    Page,
    Quad,
    Style,
    Translation,
)


@pytest.mark.parametrize(
    ("points", "width", "height", "angle", "area"),
    [
        ([(0, 0), (100, 0), (100, 20), (0, 20)], 100, 20, 0, 2000),
        # rotated 90 degrees counter-clockwise: the top edge points up the image
        ([(0, 100), (0, 0), (20, 0), (20, 100)], 100, 20, 90, 2000),
        ([(0, 0), (3, 4), (-1, 7), (-4, 3)], 5, 5, -53.13, 25),
    ],
)
def test_quad_geometry_golden(points, width, height, angle, area):
    q = Quad.from_list(points)
    assert q.width == pytest.approx(width, abs=0.01)
    assert q.height == pytest.approx(height, abs=0.01)
    assert q.angle == pytest.approx(angle, abs=0.01)
    assert q.area == pytest.approx(area, abs=0.01)


def test_quad_needs_four_points():
    with pytest.raises(ValueError):
        Quad.from_list([(0, 0), (1, 1), (2, 2)])


def test_page_round_trips_through_json():
    line = Line("l0", Quad.from_rect(1, 2, 30, 12), Direction.VERTICAL, 0.9, "縦", "ja", 0.8, "ppocr")
    block = Block("b0", Quad.from_rect(1, 2, 30, 12), (line,), Direction.VERTICAL, Alignment.CENTRE, "ja")
    page = Page(
        width=40,
        height=20,
        blocks=(block,),
        translations={"b0": Translation("b0", "vertical", "ja", "en", "glossary")},
        styles={"b0": Style((1, 2, 3), (250, 250, 250), (255, 255, 255), 2, 14.0, 3.5)},
        diagnostics=(Diagnostic("render", "overflow", "did not fit", block_id="b0"),),
        timings={"detect": 0.12},
        source_lang="ja",
        target_lang="en",
        settings={"a": 1},
    )
    again = Page.from_json(page.to_json())
    assert again == page
    assert again.to_dict()["blocks"][0]["translation"]["text"] == "vertical"


def test_a_grid_columns_rows_round_trip_through_json():
    # `imtrans render PAGE.json` erases a grid's columns by its rows again (recognize/grid.py).
    rows = (Quad.from_rect(0, 0, 70, 10), Quad.from_rect(0, 9, 70, 19))
    column = Line("l0c0", Quad.from_rect(0, 0, 10, 19), Direction.VERTICAL, text="原味", grid_rows=rows)
    again = Line.from_dict(column.to_dict())
    assert again == column and again.grid_rows == rows
    assert "grid_rows" not in Line("l1", rows[0]).to_dict()


def test_block_text_joins_latin_with_spaces_and_cjk_without():
    q = Quad.from_rect(0, 0, 1, 1)
    en = Block("b", q, (Line("a", q, text="Hello"), Line("b", q, text="world")), language="en")
    zh = Block("b", q, (Line("a", q, text="你好"), Line("b", q, text="世界")), language="zh")
    assert en.text == "Hello world"
    assert zh.text == "你好世界"
