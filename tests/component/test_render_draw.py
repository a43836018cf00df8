"""Drawing translations onto a page: placement, colour, rotation, untouched surroundings, diagnostics."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from fixtures import render_lines, rotated_quad

from imtrans.render.colours import estimate_style
from imtrans.render.draw import block_drawings, heading_order_caps, placement_quad, render_page
from imtrans.settings import RenderSettings
from imtrans.types import (
    RGB,
    Alignment,
    Block,
    Diagnostic,
    Direction,
    Line,
    Quad,
    Severity,
    Style,
    Translation,
)

SETTINGS = RenderSettings()


def _block(
    bid: str,
    quad: Quad,
    direction: Direction = Direction.HORIZONTAL,
    alignment: Alignment = Alignment.CENTRE,
    lines: tuple[Quad, ...] | None = None,
) -> Block:
    line_quads = lines or (quad,)
    lines_ = tuple(Line(f"{bid}.{i}", q, direction=direction) for i, q in enumerate(line_quads))
    return Block(bid, quad, lines_, direction, alignment)


def _tr(bid: str, text: str, target: str = "en") -> Translation:
    return Translation(bid, text, "ko", target, "test")


def _page(
    image: np.ndarray,
    blocks: list[Block],
    texts: dict[str, str],
    styles: dict[str, Style],
    target: str = "en",
) -> tuple[np.ndarray, list[Diagnostic]]:
    translations = {k: _tr(k, v, target) for k, v in texts.items()}
    return render_page(image, blocks, translations, styles, SETTINGS, target)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 0


def _inside_quad(shape: tuple[int, ...], quad: Quad, grow: int) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(np.array(quad.points)).astype(np.int32)], 1)
    if grow:
        m = cv2.dilate(m, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return m > 0


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(100, 256, (h, w, 3)).astype(np.uint8)


def test_text_is_drawn_inside_the_quad_in_the_style_colour() -> None:
    img = np.full((300, 400, 3), 255, np.uint8)
    quad = Quad.from_rect(50, 50, 350, 150)
    style = Style((200, 0, 0), font_size=40)
    out, diags = _page(img, [_block("a", quad)], {"a": "Hello world"}, {"a": style})
    assert diags == []
    changed = _changed(out, img)
    assert changed.sum() > 500
    assert not (changed & ~_inside_quad(img.shape, quad, 2)).any()
    # The most strongly inked pixels are the text colour.
    ink = out[changed & (out[..., 1] < 20)]
    assert len(ink) > 100
    assert math.dist(np.median(ink, axis=0), (200, 0, 0)) < 15


def test_pixels_outside_the_blocks_stay_unchanged_and_the_input_is_not_modified() -> None:
    img = _noise(400, 500)
    before = img.copy()
    quads = [Quad.from_rect(20, 20, 300, 90), rotated_quad(330, 280, 240, 80, -15)]
    blocks = [_block("a", quads[0]), _block("b", quads[1])]
    styles = {
        "a": Style((0, 0, 0), font_size=30),
        "b": Style((0, 0, 255), (255, 255, 0), (255, 255, 255), 2, 30, -15),
    }
    out, _ = _page(img, blocks, {"a": "Some text here", "b": "Rotated and outlined"}, styles)
    assert np.array_equal(img, before)
    outside = ~(_inside_quad(img.shape, quads[0], 3) | _inside_quad(img.shape, quads[1], 3))
    assert np.array_equal(out[outside], img[outside])
    assert _changed(out, img).sum() > 500


@pytest.mark.parametrize("degrees", [30, -20, 90])
def test_a_rotated_block_is_drawn_centred_and_along_its_angle(degrees: float) -> None:
    img = np.full((500, 500, 3), 255, np.uint8)
    quad = rotated_quad(250, 250, 360, 70, degrees)
    style = Style((0, 0, 0), font_size=50, angle=degrees)
    out, diags = _page(img, [_block("a", quad)], {"a": "HELLO WORLD"}, {"a": style})
    assert diags == []
    ys, xs = np.nonzero(_changed(out, img))
    assert math.dist((xs.mean(), ys.mean()), quad.centre) < 6
    # The ink's principal axis runs along the text (image y points down, angles counter-clockwise).
    cov = np.cov(np.vstack([xs - xs.mean(), ys - ys.mean()]))
    axis = -math.degrees(0.5 * math.atan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1]))
    assert abs((axis - degrees + 90) % 180 - 90) < 4


def test_an_axis_aligned_block_of_rotated_lines_is_drawn_at_the_lines_angle() -> None:
    lines = (rotated_quad(250, 230, 300, 50, 25), rotated_quad(260, 280, 300, 50, 25))
    x0 = min(q.bbox[0] for q in lines)
    y0 = min(q.bbox[1] for q in lines)
    x1 = max(q.bbox[2] for q in lines)
    y1 = max(q.bbox[3] for q in lines)
    block = _block("a", Quad.from_rect(x0, y0, x1, y1), lines=lines)
    style = Style((0, 0, 0), font_size=50, angle=25)
    assert placement_quad(block, style).angle == pytest.approx(25)
    img = np.full((500, 500, 3), 255, np.uint8)
    out, _ = _page(img, [block], {"a": "HELLO WORLD"}, {"a": style})
    ys, xs = np.nonzero(_changed(out, img))
    cov = np.cov(np.vstack([xs - xs.mean(), ys - ys.mean()]))
    axis = -math.degrees(0.5 * math.atan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1]))
    assert axis == pytest.approx(25, abs=4)


def test_a_perspective_quad_is_used_when_the_style_angle_lies_between_its_edges() -> None:
    quad = Quad.from_list([(60, 60), (330, 30), (350, 200), (50, 230)])  # top edge 6.3, bottom 5.7 degrees
    block = _block("a", quad)
    assert placement_quad(block, Style(angle=6.0)) is quad
    assert placement_quad(block, Style(angle=30.0)).angle == pytest.approx(30.0)


def test_a_perspective_quad_keeps_the_text_inside_it() -> None:
    img = _noise(300, 400, seed=1)
    quad = Quad.from_list([(60, 60), (330, 30), (350, 200), (50, 230)])
    style = Style((0, 0, 0), font_size=60, angle=quad.angle)
    out, diags = _page(img, [_block("a", quad)], {"a": "Perspective sign"}, {"a": style})
    assert diags == []
    changed = _changed(out, img)
    assert changed.sum() > 500
    assert not (changed & ~_inside_quad(img.shape, quad, 3)).any()


def test_an_outline_is_drawn_in_the_outline_colour() -> None:
    img = np.full((200, 500, 3), (60, 110, 170), np.uint8)
    style = Style((10, 10, 10), (60, 110, 170), (255, 255, 255), 4, 50)
    out, _ = _page(img, [_block("a", Quad.from_rect(20, 20, 480, 180))], {"a": "OUTLINED"}, {"a": style})
    px = out.reshape(-1, 3).astype(int)
    assert (np.abs(px - (255, 255, 255)).max(axis=1) < 10).sum() > 300
    assert (np.abs(px - (10, 10, 10)).max(axis=1) < 10).sum() > 300


def test_a_shop_title_hundreds_of_pixels_tall_is_drawn_near_its_own_size() -> None:
    # A stall's 400 px title: the translation keeps the lettering's size (no fixed 200 px cap,
    # which drew such titles as a small label in a large bare board).
    img = np.full((700, 1600, 3), (190, 170, 60), np.uint8)
    style = Style((150, 50, 40), (190, 170, 60), (235, 215, 140), 12, font_size=400)
    blocks = [_block("a", Quad.from_rect(40, 60, 1560, 640))]
    (drawn,) = block_drawings(img, blocks, {"a": _tr("a", "OIL")}, {"a": style}, SETTINGS, "en", [])
    assert drawn.drawing.layout.font_px >= 350


def test_a_chinese_column_pair_is_not_drawn_as_one_small_column_for_being_a_whole_word() -> None:
    # A hanging sign's two columns on a plate with a narrow strip above and below: the strip
    # holds the text as one column, small; the plate's middle as two, near its own size.
    # Chinese breaks between any two characters: its text is no "word" to keep whole.
    img = np.full((600, 700, 3), 40, np.uint8)
    cv2.rectangle(img, (305, 60), (365, 560), (255, 255, 255), -1)
    cv2.rectangle(img, (230, 200), (440, 420), (255, 255, 255), -1)
    quad = Quad.from_rect(255, 110, 405, 550)
    block = _block("a", quad, Direction.VERTICAL)
    style = Style((20, 20, 20), (255, 255, 255), font_size=64)
    text = "忙碌中忘了微笑請多包涵謝謝"
    (drawn,) = block_drawings(img, [block], {"a": _tr("a", text, "zh")}, {"a": style}, SETTINGS, "zh", [])
    layout = drawn.drawing.layout
    assert len(layout.lines) == 2 and layout.font_px >= 50, layout
    assert "".join(layout.lines) == text


def test_text_that_does_not_fit_is_drawn_and_reported_as_overflow() -> None:
    img = np.full((200, 300, 3), 255, np.uint8)
    quad = Quad.from_rect(100, 90, 160, 104)
    text = "This is a very long translation that cannot possibly fit into a tiny box"
    out, diags = _page(img, [_block("tiny", quad)], {"tiny": text}, {"tiny": Style(font_size=12)})
    assert [(d.stage, d.code, d.block_id, d.severity) for d in diags] == [
        ("render", "overflow", "tiny", Severity.WARNING)
    ]
    assert _changed(out, img).any()


def test_blocks_without_translation_are_skipped_with_an_info_diagnostic() -> None:
    img = _noise(200, 300)
    blocks = [
        _block("none", Quad.from_rect(10, 10, 200, 60)),
        _block("blank", Quad.from_rect(10, 100, 200, 150)),
    ]
    out, diags = _page(img, blocks, {"blank": "   "}, {})
    assert np.array_equal(out, img)
    assert [(d.code, d.block_id, d.severity) for d in diags] == [
        ("no_translation", "none", Severity.INFO),
        ("no_translation", "blank", Severity.INFO),
    ]


def test_a_failing_block_becomes_a_diagnostic_and_the_others_are_drawn() -> None:
    img = np.full((200, 300, 3), 255, np.uint8)
    broken = _block("broken", Quad.from_list([(50, 50), (50, 50), (50, 50), (50, 50)]))
    good = _block("good", Quad.from_rect(20, 100, 280, 180))
    out, diags = _page(img, [broken, good], {"broken": "x", "good": "Still drawn"}, {})
    assert [(d.code, d.block_id, d.severity) for d in diags] == [("render_failed", "broken", Severity.ERROR)]
    assert _changed(out, img)[100:181, 20:281].any()


def test_a_block_without_style_gets_legible_text() -> None:
    img = np.full((200, 300, 3), (20, 20, 30), np.uint8)
    out, diags = _page(img, [_block("a", Quad.from_rect(20, 50, 280, 150))], {"a": "Dark page"}, {})
    assert diags == []
    assert out.max() > 200  # white text on the dark background


def test_vertical_japanese_is_drawn_in_columns_inside_the_block() -> None:
    img = np.full((400, 300, 3), 255, np.uint8)
    quad = Quad.from_rect(100, 30, 220, 370)
    block = _block("v", quad, Direction.VERTICAL)
    text = "「こんにちは」と言った。ちょっと待って、ください！"
    out, diags = _page(img, [block], {"v": text}, {"v": Style(font_size=36)}, "ja")
    assert diags == []
    changed = _changed(out, img)
    assert not (changed & ~_inside_quad(img.shape, quad, 2)).any()
    ys, xs = np.nonzero(changed)
    assert ys.max() - ys.min() > 2 * (xs.max() - xs.min())  # taller than wide: columns


def test_a_pages_own_chinese_column_drawn_again_stays_a_column() -> None:
    """Target "auto": eval draws a page's own true text again; a Chinese column is laid out as
    Chinese (in columns), not as text of no language (one line across)."""
    img = np.full((400, 300, 3), 255, np.uint8)
    quad = Quad.from_rect(120, 30, 180, 370)
    block = _block("v", quad, Direction.VERTICAL)
    out, diags = _page(img, [block], {"v": "忙碌中忘了微笑請多包涵"}, {"v": Style(font_size=40)}, "auto")
    assert diags == []
    ys, xs = np.nonzero(_changed(out, img))
    assert ys.max() - ys.min() > 2 * (xs.max() - xs.min())  # taller than wide: a column


def test_vertical_source_into_english_is_horizontal_and_may_widen_the_column() -> None:
    img = np.full((400, 300, 3), 255, np.uint8)
    quad = Quad.from_rect(130, 30, 170, 370)  # one narrow column
    block = _block("v", quad, Direction.VERTICAL)
    out, diags = _page(img, [block], {"v": "Hello, he said."}, {"v": Style(font_size=36)}, "en")
    assert diags == []
    _, xs = np.nonzero(_changed(out, img))
    assert xs.min() < 130 and xs.max() > 170  # wider than the source column...
    assert xs.min() >= 150 - 51 and xs.max() <= 150 + 51  # ... but at most 2.5x its width
    assert abs(xs.mean() - 150) < 8


def test_estimated_comic_style_round_trip() -> None:
    r = render_lines(["HELLO!"], "en", size=48, color=(15, 15, 15), background=(60, 110, 170), width=400)
    style = estimate_style(r.image, _block("a", r.quads[0]), r.mask)
    erased = r.background.copy()
    out, diags = _page(erased, [_block("a", r.quads[0])], {"a": "HI!"}, {"a": style})
    assert diags == []
    changed = _changed(out, erased)
    dark = out[changed & (out.max(axis=2) < 40)]
    assert len(dark) > 50
    c: RGB = tuple(int(v) for v in np.median(dark, axis=0))  # type: ignore[assignment]
    assert math.dist(c, (15, 15, 15)) < 15


def test_body_text_does_not_outgrow_a_heading_drawn_smaller_than_its_source() -> None:
    # A sign: a short heading in big letters whose translation is long, over a line of small
    # body text whose translation is short. Fitted alone, the body grows past its source size
    # and the heading shrinks below the body.
    img = np.full((300, 600, 3), 255, np.uint8)
    heading = _block("heading", Quad.from_rect(200, 20, 400, 80))
    body = _block("body", Quad.from_rect(50, 150, 550, 190))
    texts = {"heading": "Seoul Metropolitan Government Building", "body": "Exit 3"}
    styles = {"heading": Style(font_size=60), "body": Style(font_size=30)}
    translations = {k: _tr(k, v) for k, v in texts.items()}
    diags: list[Diagnostic] = []
    drawn = {
        r.block.id: r.drawing.layout.font_px
        for r in block_drawings(img, [heading, body], translations, styles, SETTINGS, "en", diags)
    }
    alone = {
        r.block.id: r.drawing.layout.font_px
        for b in (heading, body)
        for r in block_drawings(img, [b], {b.id: translations[b.id]}, styles, SETTINGS, "en", diags)
    }
    assert diags == []  # everything fits
    assert alone["body"] > 30 > alone["heading"]  # the case the rule is for
    assert drawn["heading"] == alone["heading"]
    assert drawn["body"] == 30  # back to its source size, not down to the heading's


def test_heading_order_caps_only_takes_back_what_body_text_grew_past_its_source() -> None:
    # (source size, fitted px): a heading drawn at 20 over body text of source size 25 fitted
    # at 30, 24 and 18, and a block of unknown size.
    fitted = [(60.0, 20), (25.0, 30), (25.0, 24), (25.0, 18), (0.0, 40)]
    assert heading_order_caps(fitted, min_px=10) == [None, 25, None, None, None]
    # Down to the heading's size where that is above the body's source size.
    assert heading_order_caps([(60.0, 28), (25.0, 30)], min_px=10) == [None, 28]
    # Lettering within HEADING_RATIO is not a heading.
    assert heading_order_caps([(30.0, 20), (25.0, 30)], min_px=10) == [None, None]


def _small_bubble(size: int, axes: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A white oval with a 2 px black wall in the middle of a grey square, and its white inside."""
    img = np.full((size, size, 3), 128, np.uint8)
    centre = (size // 2, size // 2)
    cv2.ellipse(img, centre, axes, 0, 0, 360, (255, 255, 255), -1)
    white = np.all(img == 255, axis=2)
    cv2.ellipse(img, centre, axes, 0, 0, 360, (0, 0, 0), 2)
    return img, white & np.all(img == 255, axis=2)


def test_text_that_overflows_the_rectangle_kept_off_the_walls_fits_between_them() -> None:
    """A small bubble: at the smallest size the text is wider than the rectangle kept off the
    bubble's walls, but fits between the walls; it is laid out there, not reported as an
    overflow, and stays on the bubble's white."""
    img, inside = _small_bubble(200, (34, 50))
    quad = Quad.from_rect(88, 70, 112, 130)
    block = _block("b", quad, Direction.VERTICAL)
    text = "i know this might appear to be impossible"
    out, diags = _page(img, [block], {"b": text}, {"b": Style(font_size=20, text_color=(0, 0, 0))})
    assert [d.code for d in diags] == []
    assert not (_changed(out, img) & ~inside).any()


def test_a_word_split_in_the_rectangle_kept_off_the_walls_is_set_whole_between_them() -> None:
    """A small bubble (OpenMantra dev 004): "hmm" fits the rectangle kept off the walls only
    split ("hm-", "m"); between the walls it fits whole, no larger, and stays on the white."""
    from imtrans.render.draw import layout_block
    from imtrans.render.fonts import font_for

    img, inside = _small_bubble(120, (16, 22))
    quad = Quad.from_rect(54, 46, 66, 74)
    block = _block("b", quad, Direction.VERTICAL)
    style = Style(font_size=14, text_color=(0, 0, 0))
    plan = layout_block(block, "hmm", style, SETTINGS, "en", font_for("en"), image=img)
    assert plan.layout.lines == ("hmm",) and not plan.layout.overflow
    out, diags = _page(img, [block], {"b": "hmm"}, {"b": style})
    assert [d.code for d in diags] == []
    assert not (_changed(out, img) & ~inside).any()


def test_a_subtitle_on_a_plate_is_drawn_level_with_its_source_not_in_the_plates_middle() -> None:
    """ko20: a sign plate (black, on a grey wall) with its subtitle low on it. The plate's free
    rectangle runs from its top to its bottom; centred there, the subtitle was drawn a line
    higher than its source. It is drawn level with its source, still on the plate."""
    img = np.full((300, 400, 3), 128, np.uint8)
    img[40:260, 60:340] = (20, 20, 20)
    plate = np.zeros(img.shape[:2], bool)
    plate[40:260, 60:340] = True
    quad = Quad.from_rect(140, 200, 260, 224)  # the subtitle, centre y 212; the plate's is 150
    block = _block("b", quad)
    out, diags = _page(
        img, [block], {"b": "MAKEUP ZONE"}, {"b": Style(font_size=18, text_color=(255, 255, 255))}
    )
    ink = _changed(out, img)
    rows = np.nonzero(ink.any(axis=1))[0]
    assert [d.code for d in diags] == [] and not (ink & ~plate).any()
    assert abs((rows.min() + rows.max()) / 2 - 212) <= 3
