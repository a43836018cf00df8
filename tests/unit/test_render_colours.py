"""Style estimation: known lettering drawn with PIL onto a known background, estimated back."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fixtures import gradient_background, render_lines, rotated_quad
from PIL import Image, ImageDraw

from imtrans.render.colours import QUAD_PER_EM, estimate_style, estimate_styles
from imtrans.render.fonts import font_for
from imtrans.types import RGB, Block, Direction, Line, Quad, Style


def _close(a: RGB | None, b: RGB, tol: float = 25.0) -> bool:
    return a is not None and math.dist(a, b) <= tol


def _block(quads: list[Quad], direction: Direction = Direction.HORIZONTAL) -> Block:
    lines = tuple(Line(f"l{i}", q, direction=direction) for i, q in enumerate(quads))
    x0 = min(q.bbox[0] for q in quads)
    y0 = min(q.bbox[1] for q in quads)
    x1 = max(q.bbox[2] for q in quads)
    y1 = max(q.bbox[3] for q in quads)
    return Block("b0", Quad.from_rect(x0, y0, x1, y1), lines, direction)


def _lettering(
    text: str, size: int, fill: RGB, bg: RGB, outline: RGB | None = None, width: int = 0
) -> tuple[np.ndarray, np.ndarray, Quad]:
    """Bold text, optionally outlined; the mask covers every pixel the lettering changed."""
    font = font_for("en", bold=True).load(size)
    img = Image.new("RGB", (720, 200), bg)
    draw = ImageDraw.Draw(img)
    draw.text((30, 50), text, font=font, fill=fill, stroke_width=width, stroke_fill=outline)
    arr = np.asarray(img)
    mask = (np.abs(arr.astype(int) - np.array(bg)).max(axis=2) > 0).astype(np.uint8) * 255
    return arr, mask, Quad.from_rect(*draw.textbbox((30, 50), text, font=font, stroke_width=width))


def test_plain_dark_text_on_light_background() -> None:
    r = render_lines(["Hello there", "second line"], "en", color=(30, 60, 200), background=(240, 235, 220))
    style = estimate_style(r.image, _block(r.quads), r.mask)
    assert _close(style.text_color, (30, 60, 200))
    assert _close(style.background_color, (240, 235, 220), 5)
    assert style.outline_color is None
    assert style.outline_width == 0


def test_text_on_a_noisy_gradient_background() -> None:
    bg = gradient_background(800, 300, seed=3)
    r = render_lines(["Gradient behind", "these words"], "en", color=(20, 20, 20), background=bg)
    style = estimate_style(r.image, _block(r.quads), r.mask)
    assert _close(style.text_color, (20, 20, 20))
    assert style.outline_color is None


@pytest.mark.parametrize(
    ("fill", "outline", "bg", "width"),
    [
        ((10, 10, 10), (255, 255, 255), (60, 110, 170), 4),  # comic: black with a white rim on art
        ((250, 250, 250), (20, 20, 20), (200, 60, 50), 3),  # white with a black rim on red
        ((230, 200, 30), (120, 0, 120), (40, 140, 60), 2),
    ],
)
def test_outlined_lettering_gives_outline_colour_and_width(
    fill: RGB, outline: RGB, bg: RGB, width: int
) -> None:
    img, mask, quad = _lettering("HELLO WORLD", 48, fill, bg, outline, width)
    style = estimate_style(img, _block([quad]), mask)
    assert _close(style.text_color, fill), style
    assert _close(style.outline_color, outline, 40), style
    assert abs(style.outline_width - width) <= 1, style
    assert _close(style.background_color, bg, 5)


def test_outline_is_found_when_the_mask_covers_only_the_fill() -> None:
    img, _, quad = _lettering("HELLO WORLD", 48, (10, 10, 10), (60, 110, 170), (255, 255, 255), 4)
    _, fill_mask, _ = _lettering("HELLO WORLD", 48, (10, 10, 10), (60, 110, 170))
    style = estimate_style(img, _block([quad]), fill_mask)
    assert _close(style.text_color, (10, 10, 10))
    assert _close(style.outline_color, (255, 255, 255), 40)


def test_a_loosely_dilated_mask_gives_the_same_colours() -> None:
    import cv2

    img, mask, quad = _lettering("Loose mask", 40, (150, 20, 20), (245, 245, 240))
    loose = cv2.dilate(mask, np.ones((7, 7), np.uint8))
    style = estimate_style(img, _block([quad]), loose)
    assert _close(style.text_color, (150, 20, 20), 30)
    assert _close(style.background_color, (245, 245, 240), 5)
    assert style.outline_color is None


def test_low_contrast_text_is_replaced_by_black_or_white() -> None:
    img, mask, quad = _lettering("Faint", 40, (140, 140, 140), (150, 150, 150))
    style = estimate_style(img, _block([quad]), mask)
    assert style.text_color == (0, 0, 0)
    img, mask, quad = _lettering("Faint", 40, (70, 70, 90), (60, 60, 80))
    assert estimate_style(img, _block([quad]), mask).text_color == (255, 255, 255)


def test_font_size_and_angle_come_from_the_lines() -> None:
    r = render_lines(["Hello there", "second line"], "en", size=40)
    style = estimate_style(r.image, _block(r.quads), r.mask)
    # A detected line's quad is QUAD_PER_EM times the lettering's em (the detector's margin).
    assert style.font_size == pytest.approx(np.median([q.height for q in r.quads]) / QUAD_PER_EM)
    assert style.angle == pytest.approx(0.0)
    # Lines rotated 20 and 22 degrees counter-clockwise (the top edge rises to the right).
    quads = [rotated_quad(200, 100 + 50 * i, 300, 40, a) for i, a in enumerate([20, 22, 21])]
    style = estimate_style(r.image, _block(quads), r.mask)
    assert style.angle == pytest.approx(21.0)
    assert style.font_size == pytest.approx(40 / QUAD_PER_EM)


def test_the_median_angle_does_not_wrap_around() -> None:
    quads = [rotated_quad(200, 100 + 50 * i, 300, 40, a) for i, a in enumerate([179, -179, 178])]
    blank, no_mask = np.full((300, 400, 3), 255, np.uint8), np.zeros((300, 400), np.uint8)
    style = estimate_style(blank, _block(quads), no_mask)
    assert abs(style.angle) == pytest.approx(179.0)


def test_vertical_lines_take_their_size_from_the_column_width() -> None:
    q = Quad.from_rect(300, 40, 340, 400)
    blank, no_mask = np.full((500, 500, 3), 255, np.uint8), np.zeros((500, 500), np.uint8)
    style = estimate_style(blank, _block([q], Direction.VERTICAL), no_mask)
    assert style.font_size == pytest.approx(40 / QUAD_PER_EM)
    assert style.angle == pytest.approx(0.0)


def test_no_text_pixels_gives_a_legible_default() -> None:
    img = np.full((100, 200, 3), (30, 30, 40), np.uint8)
    style = estimate_style(img, _block([Quad.from_rect(10, 10, 150, 40)]), np.zeros((100, 200), np.uint8))
    assert isinstance(style, Style)
    assert style.text_color == (255, 255, 255)


def test_a_block_outside_the_image_does_not_crash() -> None:
    img = np.full((100, 200, 3), 255, np.uint8)
    style = estimate_style(img, _block([Quad.from_rect(500, 500, 600, 540)]), np.zeros((100, 200), np.uint8))
    assert style.font_size == pytest.approx(40 / QUAD_PER_EM)


def test_styles_of_many_blocks_read_in_parallel_match_one_by_one() -> None:
    colours = [(200, 30, 30), (30, 160, 40), (20, 20, 20), (250, 250, 250)]
    r = render_lines(
        ["Red words", "Green words", "Black words", "White words"], "en", background=(120, 120, 140)
    )
    image = r.image.copy()
    # Recolour each line's glyphs so that every block has its own text colour.
    for quad, colour in zip(r.quads, colours, strict=True):
        x0, y0, x1, y1 = (int(v) for v in quad.bbox)
        sel = r.mask[y0:y1, x0:x1] > 0
        image[y0:y1, x0:x1][sel] = colour
    blocks = [Block(f"b{i}", q, (Line(f"l{i}", q),), Direction.HORIZONTAL) for i, q in enumerate(r.quads)]
    styles = estimate_styles(image, blocks, r.mask)
    assert list(styles) == [b.id for b in blocks]
    assert styles == {b.id: estimate_style(image, b, r.mask) for b in blocks}
    for b, colour in zip(blocks, colours, strict=True):
        assert _close(styles[b.id].text_color, colour)


def test_text_on_a_tight_plate_over_a_photo_keeps_the_plate_as_background() -> None:
    # A label barely larger than its text on a busy photo: the margin around the line's
    # box is photo, so the background must be read inside the box (the plate).
    import cv2

    from imtrans.erase import text_mask

    rng = np.random.default_rng(3)
    photo = cv2.GaussianBlur(rng.integers(0, 256, (160, 700, 3), dtype=np.uint8), (0, 0), 1.5)
    img = Image.fromarray(photo)
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 56, 470, 98), fill=(245, 242, 235))
    font = font_for("en").load(26)
    draw.text((46, 60), "Fresh espresso daily", font=font, fill=(30, 30, 30))
    image = np.asarray(img)
    x0, y0, x1, y1 = draw.textbbox((46, 60), "Fresh espresso daily", font=font)
    quad = Quad.from_rect(x0 - 10, y0 - 10, x1 + 10, y1 + 10)
    mask = text_mask(image, [Line("l0", quad)], 2)

    style = estimate_style(image, _block([quad]), mask)

    assert _close(style.background_color, (245, 242, 235), 10)
    assert _close(style.text_color, (30, 30, 30), 40)


def test_a_line_masked_as_its_whole_box_is_read_against_its_plate() -> None:
    # A light plate filling the line's box, on a busy photo: the erase stage masked the whole
    # (grown) box, so the mask marks the plate as ink. Told so, the estimate finds the
    # lettering on the plate instead.
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (200, 720, 3), dtype=np.uint8)
    img = Image.fromarray(photo)
    draw = ImageDraw.Draw(img)
    font = font_for("en", bold=True).load(48)
    box = draw.textbbox((30, 50), "Main Station", font=font)
    draw.rectangle((box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4), fill=(240, 235, 220))
    draw.text((30, 50), "Main Station", font=font, fill=(20, 60, 150))
    image = np.asarray(img)
    quad = Quad.from_rect(*box)
    whole_box = np.zeros(image.shape[:2], np.uint8)
    whole_box[box[1] - 6 : box[3] + 7, box[0] - 6 : box[2] + 7] = 255

    style = estimate_style(image, _block([quad]), whole_box, whole_box={"l0"})

    assert _close(style.text_color, (20, 60, 150), 40), style
    assert _close(style.background_color, (240, 235, 220)), style


def test_a_plate_lit_unevenly_is_read_as_the_background_under_outlined_lettering() -> None:
    # A sign's price line: navy figures with a thick white outline on a yellow plate lit from
    # one side (dim to bright along the line), the sign's dark edge just below the line. No
    # one colour fills the quads, but a ramp does: the plate is the background, not the
    # outline's white and the edge's dark mixed.
    from imtrans.erase import text_mask

    h, w = 200, 760
    ramp = np.linspace(0.4, 1.0, w)[None, :, None]
    image = np.broadcast_to(np.array([250.0, 238.0, 95.0]) * ramp, (h, w, 3)).astype(np.uint8).copy()
    image[150:] = (52, 48, 44)  # below the sign
    img = Image.fromarray(image)
    draw = ImageDraw.Draw(img)
    font = font_for("en", bold=True).load(64)
    draw.text(
        (40, 60), "One 25 Half 50", font=font, fill=(40, 40, 90), stroke_width=5, stroke_fill=(250, 250, 245)
    )
    image = np.asarray(img)
    x0, y0, x1, y1 = draw.textbbox((40, 60), "One 25 Half 50", font=font, stroke_width=5)
    quad = Quad.from_rect(x0 - 4, y0 - 4, x1 + 4, y1 + 4)
    mask = text_mask(image, [Line("l0", quad)], 2)

    style = estimate_style(image, _block([quad]), mask)

    bg = style.background_color
    assert bg is not None and bg[2] < 90 and bg[0] > 120, style  # yellow, not grey
    assert sum(style.text_color) < 300, style  # the navy (or its outline), never drawn white on the yellow


def test_large_lettering_with_a_thick_rim_partly_lost_to_glare_keeps_fill_and_rim() -> None:
    # A stall's title: red characters hundreds of pixels tall with a thick pale rim on a yellow
    # board, a lamp's glare washing out the right end, rim and board alike. The rim's edge
    # share is tiny at this size and the fill touches the glare: still red, with a pale rim.
    fill, rim, board, glare = (150, 50, 40), (235, 215, 140), (190, 170, 60), (250, 248, 235)
    font = font_for("en", bold=True).load(220)
    img = Image.new("RGB", (1300, 420), board)
    draw = ImageDraw.Draw(img)
    draw.text((40, 60), "OIL", font=font, fill=fill, stroke_width=16, stroke_fill=rim)
    x0, y0, x1, y1 = draw.textbbox((40, 60), "OIL", font=font, stroke_width=16)
    image = np.asarray(img).copy()
    right = image[:, x0 + int(0.75 * (x1 - x0)) :]
    washed = (np.abs(right.astype(int) - rim).max(axis=2) < 40) | (
        np.abs(right.astype(int) - board).max(axis=2) < 40
    )
    right[washed] = glare
    mask = (np.abs(image.astype(int) - np.array(board)).max(axis=2) > 0).astype(np.uint8) * 255

    style = estimate_style(image, _block([Quad.from_rect(x0, y0, x1, y1)]), mask)

    assert _close(style.text_color, fill, 40), style
    assert _close(style.outline_color, rim, 40), style
    assert style.outline_width >= 8, style


def test_blurred_grey_digits_are_not_read_as_a_pale_fill_in_a_dark_rim() -> None:
    # A page number on a comic page: dark grey digits blurred over white. Their soft edge is a
    # pale grey ring; the dark core is the lettering, not an outline around the pale.
    import cv2

    img, _, quad = _lettering("20", 40, (60, 60, 60), (252, 252, 252))
    img = cv2.GaussianBlur(img, (0, 0), 2.0)
    mask = (np.abs(img.astype(int) - 252).max(axis=2) > 6).astype(np.uint8) * 255
    style = estimate_style(img, _block([quad]), mask)
    assert style.outline_color is None, style
    assert sum(style.text_color) < 3 * 130, style


def test_dark_frames_across_coloured_letters_do_not_give_the_letters_colour() -> None:
    # en02: red SALE on a shop window, its dark frames running through the word; the frames
    # stand out more from the grey background than the red does, but are fewer pixels
    red, grey, frame = (110, 28, 30), (142, 132, 120), (20, 18, 18)
    img, mask, quad = _lettering("SALE", 90, red, grey)
    img = img.copy()
    x0, y0, x1, y1 = (int(v) for v in quad.bbox)
    for x in range(x0 + 40, x1, 70):
        img[y0 - 10 : y1 + 10, x : x + 4] = frame
        mask[y0 - 10 : y1 + 10, x : x + 4] = 255  # the eraser's mask takes the frames in as well
    style = estimate_style(img, _block([quad]), mask)
    assert _close(style.text_color, red, 40)
