"""Box geometry of the detector: corner order, merging passes, chaining glyphs, reading order (golden tables)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fixtures import rotated_quad

from imtrans.detect.geometry import (
    Box,
    add_unseen,
    merge_glyphs,
    merge_passes,
    order_quad,
    reading_order,
    separated,
)
from imtrans.types import Direction


def rect(x0: float, y0: float, x1: float, y1: float, score: float = 0.8, scale: float = 1.0) -> Box:
    pts, direction = order_quad(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float))
    return Box(points=pts, score=score, direction=direction, scale=scale)


@pytest.mark.parametrize(
    ("points", "direction", "first"),
    [
        # an ordinary line, corners given in a scrambled order
        ([[100, 40], [0, 0], [100, 0], [0, 40]], Direction.HORIZONTAL, [(0, 0), (100, 0)]),
        # a column: the first edge runs across its top
        ([[0, 0], [40, 0], [40, 200], [0, 200]], Direction.VERTICAL, [(0, 0), (40, 0)]),
        # a square glyph and a narrow letter stay horizontal, top edge first
        ([[0, 0], [50, 0], [50, 50], [0, 50]], Direction.HORIZONTAL, [(0, 0), (50, 0)]),
        ([[10, 0], [30, 0], [30, 28], [10, 28]], Direction.HORIZONTAL, [(10, 0), (30, 0)]),
    ],
)
def test_order_quad_golden(points, direction, first):
    pts, got = order_quad(np.array(points, dtype=float))
    assert got is direction
    assert [tuple(np.round(p, 3)) for p in pts[:2]] == first


@pytest.mark.parametrize("degrees", [-30, -15, -5, 5, 15, 30])
def test_a_rotated_line_keeps_its_angle_and_reads_left_to_right(degrees):
    pts, direction = order_quad(np.asarray(rotated_quad(300, 200, 400, 40, degrees).points)[[2, 0, 3, 1]])
    assert direction is Direction.HORIZONTAL
    angle = -math.degrees(math.atan2(pts[1][1] - pts[0][1], pts[1][0] - pts[0][0]))
    assert angle == pytest.approx(degrees, abs=0.01)
    assert pts[1][0] > pts[0][0]


def test_a_coarse_glyph_replaces_the_fragments_the_main_pass_found_inside_it():
    fragments = [rect(110, 110, 200, 160), rect(150, 180, 180, 290), rect(120, 250, 280, 270)]
    glyph = rect(100, 100, 300, 300, scale=0.5)
    merged = merge_passes(fragments, [[glyph]])
    assert len(merged) == 1 and merged[0].scale == 0.5


def test_a_coarse_box_of_ordinary_size_defers_to_the_main_pass():
    main = [rect(0, 0, 400, 40)]
    coarse = [rect(0, 0, 420, 44, scale=0.5)]
    assert merge_passes(main, [coarse]) == main


def test_a_coarse_box_the_main_pass_missed_is_added():
    main = [rect(0, 0, 400, 40)]
    coarse = [rect(0, 300, 200, 500, scale=0.5)]
    assert len(merge_passes(main, [coarse])) == 2


def test_a_coarse_box_that_cuts_across_a_main_box_is_dropped():
    main = [rect(0, 0, 200, 200), rect(300, 0, 500, 200)]
    straddle = rect(120, 0, 520, 220, scale=0.5)  # half of the first glyph and all of the second
    assert merge_passes(main, [[straddle]]) == main


def test_a_coarse_box_that_fuses_two_whole_lines_is_dropped():
    main = [rect(0, 0, 600, 60), rect(0, 75, 600, 135)]
    fused = rect(0, 0, 600, 140, scale=0.5)
    assert merge_passes(main, [[fused]]) == main


def test_a_main_box_fusing_glyphs_of_two_lines_gives_way_to_the_coarse_glyphs():
    fused_column = rect(0, 0, 200, 520)  # big glyphs of two lines read as one tall box
    top, bottom = rect(0, 0, 200, 200, scale=0.5), rect(0, 320, 200, 520, scale=0.5)
    merged = merge_passes([fused_column], [[top, bottom]])
    assert sorted(b.bbox[1] for b in merged) == [0, 320]


def test_the_main_pass_scale_sets_what_counts_as_big_text():
    main = [rect(0, 0, 60, 60)]
    coarse = [rect(0, 0, 130, 130, scale=0.25)]
    # At main scale 1 a 130 px glyph is big: the coarse box wins. At main scale 0.5 it was 65 px.
    assert merge_passes(main, [coarse], main_scale=1.0)[0].scale == 0.25
    assert merge_passes(main, [coarse], main_scale=0.5) == main


def test_widely_spaced_glyphs_on_one_baseline_become_one_line():
    glyphs = [rect(x, 100, x + 150, 250) for x in (0, 300, 600)]
    (line,) = merge_glyphs(glyphs)
    assert line.bbox == (0, 100, 750, 250)
    assert line.direction is Direction.HORIZONTAL and line.parts == 3


def test_spaced_words_join_but_far_apart_words_do_not():
    near = [rect(0, 0, 200, 60), rect(280, 0, 480, 60)]  # gap 1.3 heights
    far = [rect(0, 0, 200, 60), rect(400, 0, 600, 60)]  # gap 3.3 heights
    assert len(merge_glyphs(near)) == 1
    assert len(merge_glyphs(far)) == 2


def test_a_coarse_box_over_vertical_columns_side_by_side_is_dropped():
    # Three close columns of a speech bubble (margins overlapping, as the detector gives them)
    # and the half-scale box that fused them (openmantra boureisougi-005).
    columns = [rect(603, 250, 626, 376), rect(583, 250, 610, 364), rect(565, 249, 592, 333)]
    fused = rect(547, 233, 646, 394, scale=0.5)
    assert merge_passes(columns, [[fused]]) == columns


def test_a_glyph_beside_a_vertical_column_is_not_chained_into_a_line():
    column, glyph = rect(100, 0, 130, 160), rect(150, 0, 180, 30)
    short_column, bubble_mark = rect(100, 0, 124, 40), rect(140, 5, 170, 35)
    assert len(merge_glyphs([column, glyph])) == 2
    assert len(merge_glyphs([short_column, bubble_mark])) == 2


def test_on_a_vertical_page_glyphs_chain_down_their_column_never_sideways():
    long_column = rect(300, 0, 340, 300)
    # "出口" split into its two glyphs, and a one-glyph column beside it
    top, bottom, beside = rect(200, 0, 240, 40), rect(200, 46, 240, 86), rect(150, 0, 190, 40)
    merged = merge_glyphs([long_column, top, bottom, beside])
    assert len(merged) == 3
    column = next(b for b in merged if b.parts == 2)
    assert column.direction is Direction.VERTICAL and column.bbox == (200, 0, 240, 86)


def test_a_short_column_at_the_end_of_a_line_is_not_its_left_out_letter():
    # zh01's menu: a row of flavours, then a short vertical column "可任選一種" just after it
    flavours, column = rect(816, 1177, 1573, 1303), rect(1582, 1145, 1653, 1332)
    assert len(merge_glyphs([flavours, column])) == 2


def test_a_label_beside_a_larger_value_is_not_chained_into_one_line():
    # zh01: "營業時間：" then, 8 px on, "下午 4:00~9:30" in larger figures
    label, value = rect(1133, 2153, 1393, 2268), rect(1401, 2118, 1890, 2277)
    assert len(merge_glyphs([label, value])) == 2


def test_two_stacked_lines_of_a_tilted_poster_are_not_one_row():
    # boxes of zh01's poster: a title and the line under it, overlapping by their margins
    title, under = rect(1147, 1933, 1888, 2124), rect(1395, 2019, 1880, 2183)
    assert len(merge_glyphs([title, under])) == 2


def _two_panels(left_colour, right_colour, divider=False):
    image = np.zeros((100, 400, 3), np.uint8)
    image[:, :200] = left_colour
    image[:, 200:] = right_colour
    if divider:
        image[:, 198:202] = 255
    return image


@pytest.mark.parametrize(
    ("image", "apart"),
    [
        (_two_panels((20, 60, 160), (20, 60, 160)), False),  # one plate
        (_two_panels((20, 60, 160), (20, 140, 60)), True),  # a blue and a green panel
        (_two_panels((20, 60, 160), (20, 60, 160), divider=True), True),  # a white bar between
    ],
)
def test_glyphs_on_two_panels_or_across_a_divider_stay_apart(image, apart):
    a, b = rect(100, 20, 160, 80), rect(240, 20, 300, 80)  # glyphs 1.3 heights apart
    assert separated(image, a.bbox, b.bbox) is apart
    assert len(merge_glyphs([a, b], image=image)) == (2 if apart else 1)


def test_a_letter_left_out_of_its_line_is_added_back():
    line, letter = rect(0, 0, 400, 50), rect(420, 0, 455, 55)
    assert len(merge_glyphs([line, letter])) == 1


@pytest.mark.parametrize(
    "boxes",
    [
        [rect(0, 0, 100, 60), rect(0, 90, 100, 150)],  # two short lines stacked: never a column
        [rect(0, 0, 100, 100), rect(150, 0, 250, 40)],  # different heights
        [rect(0, 0, 600, 50), rect(650, 0, 1200, 50)],  # two whole lines
        [rect(0, 0, 40, 200), rect(60, 0, 100, 200)],  # two vertical columns side by side
    ],
)
def test_boxes_that_are_not_one_line_stay_apart(boxes):
    assert len(merge_glyphs(boxes)) == len(boxes)


def test_reading_order_is_rows_then_left_to_right_and_columns_right_to_left():
    a, b = rect(300, 0, 500, 40), rect(0, 5, 200, 45)
    c = rect(0, 100, 300, 140)
    assert reading_order([c, a, b]) == [b, a, c]
    left, right = rect(0, 0, 40, 300), rect(100, 0, 140, 200)
    assert reading_order([left, right]) == [right, left]


def test_add_unseen_keeps_only_lines_nothing_found_overlaps():
    kept = [rect(0, 0, 100, 20)]
    inside_kept = rect(10, 2, 60, 18)  # a piece of a line already found
    sticker = rect(200, 100, 280, 128)  # a line the main pass missed
    again = rect(201, 100, 280, 129)  # the same line from an overlapping window
    under = rect(214, 122, 270, 142)  # the sticker's next line: boxes of neighbours overlap a little
    out = add_unseen(kept, [inside_kept, sticker, again, under])
    assert out == [kept[0], sticker, under]
