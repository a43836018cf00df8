"""Fitting text into a block region: size search, overflow, alignment, vertical columns, and the
region bounded by the bubble, caption or plate around the block."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from fixtures import rotated_quad

from imtrans.render.draw import BlockDrawing, draw_block, render_page
from imtrans.render.fonts import font_for
from imtrans.render.layout import (
    Layout,
    column_extent,
    fit_block,
    fits_whole_words,
    layout_direction,
    size_cap,
    stroke_for,
    text_region,
    vertical_cells,
)
from imtrans.render.regions import enclosing_region, room_along
from imtrans.settings import RenderSettings
from imtrans.types import Alignment, Block, Direction, Line, Quad, Style, Translation

EN = font_for("en")
SETTINGS = RenderSettings()
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


def test_text_that_cannot_fit_at_min_size_keeps_its_words_whole() -> None:
    # realphotos ko16: a logo's word given to a 5 x 6 px fragment was drawn `R-`, `E-`, `D-`...
    layout = _fit("REDROCK", 5, 6)
    assert layout.overflow and layout.lines == ("REDROCK",)
    sentence = _fit("This sentence is far too long to fit into such a tiny box", 30, 20)
    assert sentence.overflow and not any(line.endswith("-") for line in sentence.lines)
    assert " ".join(sentence.lines) == "This sentence is far too long to fit into such a tiny box"


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


# -- regions bounded by the bubble, caption or plate that holds the text ---------------------
def _bubble_page(centre=(250, 200), axes=(150, 100), angle=0.0, outline=3) -> np.ndarray:
    """A white oval speech bubble with a black outline on grey art."""
    img = np.full((400, 500, 3), 120, np.uint8)
    cv2.ellipse(img, centre, axes, angle, 0, 360, (255, 255, 255), -1)
    cv2.ellipse(img, centre, axes, angle, 0, 360, (0, 0, 0), outline)
    return img


def _region_corners(quad: Quad, box: tuple[float, float, float, float]) -> np.ndarray:
    """The region's corners in image pixels (the box is in the quad's own coordinates)."""
    qw, qh = quad.width, quad.height
    h = cv2.getPerspectiveTransform(np.float32([[0, 0], [qw, 0], [qw, qh], [0, qh]]), np.float32(quad.points))
    x0, y0, x1, y1 = box
    pts = np.float64([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, h.astype(np.float64)).reshape(-1, 2)


def _inside_ellipse(pts: np.ndarray, centre, axes, angle: float = 0.0) -> bool:
    t = math.radians(angle)
    d = pts - np.array(centre, float)
    u = d[:, 0] * math.cos(t) + d[:, 1] * math.sin(t)
    v = -d[:, 0] * math.sin(t) + d[:, 1] * math.cos(t)
    return bool(((u / axes[0]) ** 2 + (v / axes[1]) ** 2 <= 1.0).all())


def test_a_block_in_a_drawn_bubble_gets_a_region_inside_the_bubble_and_larger_than_its_box() -> None:
    img = _bubble_page()
    quad = Quad.from_rect(220, 160, 280, 240)  # a narrow column of text in the middle
    region = enclosing_region(img, quad)
    assert region.bounded and region.reason == ""
    x0, y0, x1, y1 = region.boxes[0]
    assert (x1 - x0) * (y1 - y0) > 3 * quad.width * quad.height
    # Every offered rectangle lies inside the bubble's inner edge (semi-axes less the outline).
    for box in region.boxes:
        assert _inside_ellipse(_region_corners(quad, box), (250, 200), (148, 98))


def test_a_bubbles_rows_follow_its_oval() -> None:
    img = _bubble_page(axes=(40, 90))
    quad = Quad.from_rect(235, 170, 265, 230)
    region = enclosing_region(img, quad)
    assert region.bounded and len(region.rows) > 100
    widths = [x1 - x0 for x0, _, x1, _ in region.rows]
    middle = len(widths) // 2
    assert widths[middle] > 1.5 * widths[5] and widths[middle] > 1.5 * widths[-6]  # wider in its middle
    for box in region.rows[:: len(region.rows) // 10]:
        if box[2] > box[0]:
            assert _inside_ellipse(_region_corners(quad, box), (250, 200), (38, 88))


def _shaped_in_oval(
    axes: tuple[int, int], quad: Quad, text: str, source_px: float, inner: tuple[int, int]
) -> BlockDrawing:
    """Draw ``text`` for a vertical block in an oval bubble at the page's centre; check what any
    shaped layout must hold: every word drawn, no overflow, the ink inside the outline's inner
    edge (semi-axes ``inner``) and no single rectangle of the bubble holding it at its size."""
    img = _bubble_page(axes=axes, outline=2)
    block = Block("a", quad, (Line("a.0", quad),), Direction.VERTICAL, Alignment.CENTRE)
    drawing = draw_block(
        block, text, Style(font_size=source_px), SETTINGS, "en", EN, img.shape[:2], image=img
    )
    layout = drawing.layout
    assert not layout.overflow and layout.font_px >= SETTINGS.min_font_px
    assert " ".join(layout.lines) == text
    patch = drawing.patch
    assert patch is not None
    ys, xs = np.nonzero(patch.alpha > 0.5)
    assert _inside_ellipse(np.stack([xs + patch.x0, ys + patch.y0], axis=1).astype(float), (250, 200), inner)
    assert not any(
        fits_whole_words(text, "en", x1 - x0, y1 - y0, Direction.HORIZONTAL, EN, layout.font_px)
        for x0, y0, x1, y1 in drawing.region.boxes
    )
    return drawing


def test_a_long_translation_in_a_narrow_oval_is_shaped_to_it_instead_of_overflowing() -> None:
    # OpenMantra dev 030: five lines at 10 px in a 45 x 84 px oval. No rectangle inside the
    # oval holds them; lines as wide as the oval at their own height do.
    quad = Quad.from_rect(240, 170, 260, 230)
    drawing = _shaped_in_oval((27, 46), quad, "The makeup brushes you lent me.", 18, (26, 45))
    assert len({round(x) for x, _ in drawing.layout.origins}) == 1  # centred on one axis


def test_centred_text_in_an_oval_is_set_larger_than_any_rectangle_allows() -> None:
    quad = Quad.from_rect(235, 150, 265, 250)
    _shaped_in_oval((45, 75), quad, "you were not going to stop her...", 30, (44, 74))


def test_a_rotated_bubble_gives_a_region_at_the_blocks_angle_inside_it() -> None:
    img = _bubble_page(angle=-30)  # cv2 turns clockwise on screen for positive angles
    quad = rotated_quad(250, 200, 80, 50, 30)
    region = enclosing_region(img, quad)
    assert region.bounded
    x0, _, x1, _ = region.boxes[0]
    assert x1 - x0 > 1.5 * quad.width
    assert _inside_ellipse(_region_corners(quad, region.boxes[0]), (250, 200), (148, 98), -30)


def test_a_caption_box_clips_a_block_that_runs_past_its_edge() -> None:
    img = np.full((300, 500, 3), 90, np.uint8)
    cv2.rectangle(img, (100, 100), (300, 160), (255, 255, 255), -1)
    cv2.rectangle(img, (100, 100), (300, 160), (0, 0, 0), 2)
    quad = Quad.from_rect(110, 112, 340, 148)  # the detected box runs 40 px past the caption
    region = enclosing_region(img, quad)
    assert region.bounded
    for box in region.boxes:
        xs, ys = _region_corners(quad, box).T
        assert xs.min() > 101 and xs.max() < 299 and ys.min() > 101 and ys.max() < 159
    x0, _, x1, _ = region.boxes[0]
    assert x1 - x0 > 150  # the caption's width, less the walls and the inset


def test_no_closed_region_falls_back_with_a_reason() -> None:
    blank = np.full((300, 400, 3), 255, np.uint8)  # a background that runs on to the edges
    noise = np.random.default_rng(0).integers(0, 256, (300, 400, 3)).astype(np.uint8)  # text on a photo
    quad = Quad.from_rect(120, 120, 280, 170)
    for img in (blank, noise):
        region = enclosing_region(img, quad)
        assert not region.bounded and region.box is None
        assert region.reason
    block = Block("a", quad, (Line("a.0", quad),), Direction.HORIZONTAL, Alignment.CENTRE)
    drawing = draw_block(
        block, "Hello", Style(font_size=30), SETTINGS, "en", EN, blank.shape[:2], image=blank
    )
    assert not drawing.region.bounded and drawing.region.reason
    assert drawing.layout.region == pytest.approx((quad.width, quad.height))  # the block's own box


def test_two_blocks_in_one_bubble_keep_out_of_each_others_box() -> None:
    img = _bubble_page(axes=(150, 130))
    top, bottom = Quad.from_rect(200, 120, 300, 170), Quad.from_rect(200, 230, 300, 280)
    region = enclosing_region(img, top, obstacles=[bottom])
    assert region.bounded
    for box in region.boxes:
        assert _region_corners(top, box)[:, 1].max() <= 230 + 1


def _draw_column(axes: tuple[int, int], column: Quad, text: str, target: str, size: float):
    """Draw one vertical source column's translation in a bubble; the bubble and the drawn pixels."""
    img = _bubble_page(axes=axes)
    block = Block("v", column, (Line("v.0", column, direction=Direction.VERTICAL),), Direction.VERTICAL)
    tr = {"v": Translation("v", text, "ja", target, "t")}
    out, diags = render_page(img, [block], tr, {"v": Style(font_size=size)}, SETTINGS, target)
    assert diags == []
    ys, xs = np.nonzero(np.abs(out.astype(int) - img.astype(int)).max(axis=2) > 0)
    return xs, ys


def test_english_from_a_vertical_column_stays_inside_its_bubble() -> None:
    column = Quad.from_rect(235, 110, 265, 290)
    xs, ys = _draw_column(
        (90, 120), column, "I never thought so many people would come to see me off", "en", 26
    )
    assert len(xs) > 200
    assert _inside_ellipse(np.stack([xs, ys], 1).astype(float), (250, 200), (87, 117))
    assert xs.max() - xs.min() > 2.5 * column.width  # wider than the block-only rule allows (2.5x)


def test_vertical_japanese_in_a_bubble_stays_in_columns_inside_it() -> None:
    column = Quad.from_rect(225, 100, 275, 300)
    xs, ys = _draw_column((90, 130), column, "こんなに来てくれるとは思わなかったねえ", "ja", 24)
    assert _inside_ellipse(np.stack([xs, ys], 1).astype(float), (250, 200), (87, 127))
    assert ys.max() - ys.min() > xs.max() - xs.min()  # still columns


def test_an_icon_on_a_sign_plate_stays_out_of_the_region() -> None:
    img = np.full((400, 500, 3), 150, np.uint8)
    cv2.rectangle(img, (100, 60), (400, 340), (20, 20, 20), -1)  # a dark plate on a wall
    cv2.circle(img, (250, 130), 30, (240, 240, 240), -1)  # a white icon above the text
    quad = Quad.from_rect(180, 200, 320, 240)
    region = enclosing_region(img, quad)
    assert region.bounded
    for box in region.boxes:
        assert _region_corners(quad, box)[:, 1].min() >= 160  # below the icon
    x0, _, x1, _ = region.boxes[0]
    assert x1 - x0 > 250  # the plate's width


def _menu_board() -> tuple[np.ndarray, Quad]:
    """A dark open board (its background runs to the image's edges) with a price in white at
    the right of an item's row; the item's quad at the left, its lettering already erased."""
    img = np.full((200, 800, 3), 20, np.uint8)
    cv2.putText(img, "18,000", (560, 115), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    return img, Quad.from_rect(100, 85, 300, 115)


def _drawn_columns(out: np.ndarray, img: np.ndarray) -> np.ndarray:
    return np.nonzero((np.abs(out.astype(int) - img.astype(int)).max(axis=2) > 0).any(axis=0))[0]


@pytest.mark.parametrize("alignment", [Alignment.LEFT, Alignment.CENTRE, Alignment.RIGHT])
def test_a_line_on_an_open_background_runs_on_along_its_row_up_to_the_next_lettering(alignment) -> None:
    img, quad = _menu_board()
    room = room_along(img, quad, [], alignment, gap_px=15)
    assert room is not None
    x0, y0, x1, y1 = room
    assert (y0, y1) == (0.0, pytest.approx(quad.height))
    # Left-aligned: from its own start up to the price, less the gap; right-aligned: leftwards
    # up to the image's edge, less the gap; centred: the lesser of the two both ways.
    expected = {
        Alignment.LEFT: (0.0, 560 - 100 - 15),
        Alignment.CENTRE: (-85.0, 200 + 85.0),
        Alignment.RIGHT: (-85.0, 200.0),
    }[alignment]
    assert x0 == pytest.approx(expected[0], abs=3) and x1 == pytest.approx(expected[1], abs=3)


def test_another_blocks_box_stops_the_row_only_where_it_reaches_the_rows_middle() -> None:
    img, quad = _menu_board()
    below = Quad.from_rect(350, 106, 450, 140)  # the next item's loose box overlaps this row by 9 px
    beside = Quad.from_rect(350, 88, 450, 112)  # a block on the same row
    assert room_along(img, quad, [below], Alignment.LEFT, 15)[2] > 400
    assert room_along(img, quad, [beside], Alignment.LEFT, 15)[2] == pytest.approx(350 - 100 - 15, abs=3)


def test_a_long_translation_of_a_menu_item_keeps_its_size_on_one_line_instead_of_wrapping() -> None:
    img, quad = _menu_board()
    block = Block("a", quad, (Line("a.0", quad),), Direction.HORIZONTAL, Alignment.LEFT)
    text = "Pork neck cube steak"
    drawing = draw_block(block, text, Style(font_size=24), SETTINGS, "en", EN, img.shape[:2], image=img)
    assert drawing.layout.lines == (text,) and drawing.layout.font_px == 24
    out, _ = render_page(
        img,
        [block],
        {"a": Translation("a", text, "ko", "en", "t")},
        {"a": Style(font_size=24)},
        SETTINGS,
        "en",
    )
    cols = _drawn_columns(out, img)
    assert (
        98 <= cols.min() <= 106 and cols.max() < 560 - 10
    )  # starts where the item did, stops before the price
    # Where the text fits its own box at its size it stays there, and the row's free room
    # does not make it larger than its source.
    short = draw_block(block, "Rice", Style(font_size=24), SETTINGS, "en", EN, img.shape[:2], image=img)
    assert short.layout.region == pytest.approx((quad.width, quad.height))


def test_a_translation_is_not_drawn_over_a_line_left_as_it_is() -> None:
    # A plate with the erased name at the top and a faint line kept below it (text already in
    # the target language, too faint to be a wall for the region search): the long
    # translation takes the plate's room above, not the kept line's (realphotos ko22).
    img = np.full((300, 500, 3), 120, np.uint8)
    cv2.rectangle(img, (50, 50), (450, 250), (255, 255, 255), -1)
    cv2.putText(img, "Exhibition Hall", (100, 170), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (222, 222, 222), 2)
    kept = Quad.from_rect(98, 150, 300, 176)
    quad = Quad.from_rect(100, 118, 200, 146)
    block = Block("a", quad, (Line("a.0", quad),), Direction.HORIZONTAL, Alignment.LEFT)
    tr = {"a": Translation("a", "Exhibition Hall A and the Devil's Door craft beer pub", "ko", "en", "t")}
    style = {"a": Style(font_size=24, text_color=(0, 0, 0))}
    out, diags = render_page(img, [block], tr, style, SETTINGS, "en", kept=[kept])
    assert diags == []
    ink = np.abs(out.astype(int) - img.astype(int)).max(axis=2) > 0
    x0, y0, x1, y1 = (int(v) for v in kept.bbox)
    assert ink.sum() > 500 and not ink[y0:y1, x0:x1].any()
