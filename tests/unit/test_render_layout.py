"""Fitting text into a block region: size search, overflow, alignment, vertical columns."""

from __future__ import annotations

import pytest

from imtrans.render.fonts import font_for
from imtrans.render.layout import (
    Layout,
    column_extent,
    fit_block,
    layout_direction,
    size_cap,
    stroke_for,
    text_region,
    vertical_cells,
)
from imtrans.types import Alignment, Direction

EN = font_for("en")
JA = font_for("ja")


def _fit(text: str, w: float, h: float, **kw: object) -> Layout:
    args: dict[str, object] = {
        "language": "en",
        "direction": Direction.HORIZONTAL,
        "font_spec": EN,
        "min_px": 10,
        "max_px": 200,
        "start_px": 40,
    }
    args.update(kw)
    return fit_block(text, region_w=w, region_h=h, **args)  # type: ignore[arg-type]


def _inside(layout: Layout, w: float, h: float, slack: float = 0.5) -> bool:
    x0, y0, x1, y1 = layout.ink_box
    return x0 >= -slack and y0 >= -slack and x1 <= w + slack and y1 <= h + slack


SIZE_CAP = [
    # (min_px, max_px, start_px, cap)
    (10, 200, 40, 48),  # 1.2x the source lettering
    (10, 30, 40, 30),  # never above max_px
    (10, 200, 3, 10),  # tiny source text: the smallest legible size
    (10, 200, 0, 200),  # unknown source size: only max_px
]


@pytest.mark.parametrize(("lo", "hi", "start", "cap"), SIZE_CAP)
def test_size_cap_golden(lo: int, hi: int, start: float, cap: int) -> None:
    assert size_cap(lo, hi, start) == cap


def test_short_text_in_a_big_region_stops_at_the_source_size_cap() -> None:
    layout = _fit("Hi", 800, 400, start_px=30)
    assert layout.font_px == 36
    assert not layout.overflow
    assert layout.lines == ("Hi",)


def test_longer_text_shrinks_and_stays_inside_the_region() -> None:
    short = _fit("Hello there", 300, 120)
    long = _fit("Hello there, this is a much longer sentence that needs several lines", 300, 120)
    assert long.font_px < short.font_px
    assert len(long.lines) > 1
    assert not long.overflow
    assert _inside(long, 300, 120)


def test_the_chosen_size_is_the_largest_that_fits() -> None:
    text = "Hello there, this is a much longer sentence that needs several lines"
    best = _fit(text, 300, 120)
    bigger = _fit(text, 300, 120, min_px=best.font_px + 1)
    assert bigger.overflow


def test_words_are_kept_whole_when_a_smaller_size_allows_it() -> None:
    layout = _fit("Wait a moment, please!", 90, 200)
    assert not layout.overflow
    assert not any(line.endswith("-") for line in layout.lines)
    assert " ".join(layout.lines) == "Wait a moment, please!"


def test_text_that_cannot_fit_at_min_size_overflows_at_min_size() -> None:
    layout = _fit("This sentence is far too long to fit into such a tiny box " * 3, 60, 20)
    assert layout.overflow
    assert layout.font_px == 10
    assert not _inside(layout, 60, 20)


def test_centre_alignment_centres_lines_and_left_starts_at_the_edge() -> None:
    centre = _fit("one two three four", 200, 100, alignment=Alignment.CENTRE)
    assert centre.anchor == "ms"
    assert all(x == pytest.approx(100) for x, _ in centre.origins)
    left = _fit("one two three four", 200, 100, alignment=Alignment.LEFT)
    assert left.anchor == "ls"
    assert all(x == pytest.approx(0) for x, _ in left.origins)


def test_lines_are_centred_vertically() -> None:
    layout = _fit("centred", 400, 300, start_px=20)
    _, y0, _, y1 = layout.ink_box
    assert (y0 + y1) / 2 == pytest.approx(150, abs=1)


def test_an_outline_makes_room_for_itself() -> None:
    plain = _fit("Outlined text here", 300, 60)
    outlined = _fit("Outlined text here", 300, 60, stroke_ratio=0.1)
    assert outlined.stroke_px == stroke_for(outlined.font_px, 0.1) > 0
    assert outlined.font_px <= plain.font_px
    assert _inside(outlined, 300, 60)


def test_vertical_japanese_makes_columns_right_to_left() -> None:
    text = "「こんにちは」と言った。ちょっと待ってください！"
    layout = fit_block(text, "ja", 200, 300, Direction.VERTICAL, JA, 10, 200, 40, alignment=Alignment.CENTRE)
    assert layout.direction == Direction.VERTICAL
    assert len(layout.lines) > 1
    assert "".join(layout.lines) == text
    xs = [x for x, _ in layout.origins]
    assert xs == sorted(xs, reverse=True)
    font = JA.load(layout.font_px)
    assert all(column_extent(c, font, layout.font_px) <= 300 for c in layout.lines)
    assert _inside(layout, 200, 300)


def test_vertical_cells_rotate_latin_runs_and_set_two_digits_across() -> None:
    font = JA.load(40)
    cells = vertical_cells("あiPhone12個A！", font, 40)
    assert [(c.text, c.kind) for c in cells] == [
        ("あ", "cjk"),
        ("iPhone12", "rotated"),
        ("個", "cjk"),
        ("A", "upright"),
        ("！", "cjk"),
    ]
    cells = vertical_cells("第12話!?", font, 40)
    assert [(c.text, c.kind) for c in cells] == [("第", "cjk"), ("12", "tcy"), ("話", "cjk"), ("!?", "tcy")]
    assert [c.y for c in cells] == [0, 40, 80, 120]


LAYOUT_DIRECTION = [
    (Direction.VERTICAL, "ja", True, Direction.VERTICAL),
    (Direction.VERTICAL, "zh", True, Direction.VERTICAL),
    (Direction.VERTICAL, "ja", False, Direction.HORIZONTAL),
    (Direction.VERTICAL, "en", True, Direction.HORIZONTAL),
    (Direction.VERTICAL, "ko", True, Direction.HORIZONTAL),
    (Direction.HORIZONTAL, "ja", True, Direction.HORIZONTAL),
]


@pytest.mark.parametrize(("source", "target", "flag", "expected"), LAYOUT_DIRECTION)
def test_layout_direction_golden(source: Direction, target: str, flag: bool, expected: Direction) -> None:
    assert layout_direction(source, target, flag) == expected


TEXT_REGION = [
    # A narrow vertical column drawn horizontally grows sideways (0.6 h, at most 2.5 w).
    (40, 300, Direction.VERTICAL, Direction.HORIZONTAL, (100, 300)),
    (100, 300, Direction.VERTICAL, Direction.HORIZONTAL, (180, 300)),
    (250, 300, Direction.VERTICAL, Direction.HORIZONTAL, (250, 300)),
    # Otherwise the block's own size.
    (40, 300, Direction.VERTICAL, Direction.VERTICAL, (40, 300)),
    (400, 50, Direction.HORIZONTAL, Direction.HORIZONTAL, (400, 50)),
]


@pytest.mark.parametrize(("w", "h", "source", "layout", "expected"), TEXT_REGION)
def test_text_region_golden(
    w: float, h: float, source: Direction, layout: Direction, expected: tuple[float, float]
) -> None:
    assert text_region(w, h, source, layout) == pytest.approx(expected)
