"""Page orientation: the frame mapping (golden tables), the plausibility rules, the decision."""

from __future__ import annotations

import numpy as np
import pytest

from imtrans.detect.orientation import (
    MIN_LETTERS,
    find_rotation,
    needs_check,
    plausibility,
    quad_to_stored,
    to_stored,
    turn_image,
    turn_quad_reading,
)
from imtrans.recognize.crop import crop_line
from imtrans.types import Direction, Line, Quad

# A stored image 40 wide, 30 high. Points of the image turned clockwise by `angle`, and where
# they lie in the stored image (pixel indices, as OpenCV reads them: the turned image's corner
# pixels go to the stored image's corner pixels).
W, H = 40, 30
MAPPING = [
    (0, (0, 0), (0, 0)),
    (0, (12, 7), (12, 7)),
    (90, (0, 0), (0, 29)),  # turned top-left = stored bottom-left
    (90, (29, 0), (0, 0)),
    (90, (29, 39), (39, 0)),
    (90, (12, 7), (7, 17)),
    (180, (0, 0), (39, 29)),
    (180, (12, 7), (27, 22)),
    (270, (0, 0), (39, 0)),  # turned top-left = stored top-right
    (270, (29, 39), (0, 29)),
    (270, (12, 7), (32, 12)),
]


@pytest.mark.parametrize(("angle", "turned", "stored"), MAPPING)
def test_a_turned_point_maps_to_its_place_in_the_stored_image(angle, turned, stored):
    assert to_stored(turned, angle, W, H) == pytest.approx(stored)


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_every_pixel_of_the_turned_image_comes_from_the_mapped_stored_pixel(angle):
    stored = np.arange(W * H * 3, dtype=np.int64).reshape(H, W, 3)
    turned = turn_image(stored, angle)
    assert turned.shape[:2] == ((H, W) if angle in (0, 180) else (W, H))
    for v in range(turned.shape[0]):
        for u in range(turned.shape[1]):
            x, y = to_stored((u, v), angle, W, H)
            assert (turned[v, u] == stored[y, x]).all()


# A line read on the upright (turned) page, from (10, 5) to (25, 11): where its quad lies in the
# stored image, first point at the text's own top-left, and the angle of its first edge.
LINE = Quad.from_rect(10, 5, 25, 11)
STORED_QUADS = [
    (0, ((10, 5), (25, 5), (25, 11), (10, 11)), 0),
    # the page needed 90: the text runs bottom to top, its first edge points up
    (90, ((5, 19), (5, 4), (11, 4), (11, 19)), 90),
    (180, ((29, 24), (14, 24), (14, 18), (29, 18)), 180),
    # the page needed 270: the text runs top to bottom, its first edge points down
    (270, ((34, 10), (34, 25), (28, 25), (28, 10)), -90),
]


@pytest.mark.parametrize(("angle", "points", "edge_angle"), STORED_QUADS)
def test_a_line_quad_keeps_its_reading_order_in_the_stored_frame(angle, points, edge_angle):
    quad = quad_to_stored(LINE, angle, W, H)
    assert np.allclose(quad.points, points)
    assert abs((quad.angle - edge_angle + 180) % 360 - 180) < 1e-6
    assert quad.width == pytest.approx(LINE.width) and quad.height == pytest.approx(LINE.height)


# A box as the detector gives it on the stored image (first edge left to right), re-read as if the
# page needed `angle`: which corner becomes the text's top-left, and the text's direction.
COLUMN = Quad(((5, 0), (11, 0), (11, 20), (5, 20)))  # 6 wide, 20 tall
REREAD = [
    (90, (5, 20), Direction.HORIZONTAL),  # bottom-left
    (180, (11, 20), Direction.VERTICAL),  # bottom-right; still a column, upside down
    (270, (11, 0), Direction.HORIZONTAL),  # top-right
]


@pytest.mark.parametrize(("angle", "first", "direction"), REREAD)
def test_a_box_is_re_read_from_the_corner_the_rotation_makes_its_top_left(angle, first, direction):
    line = Line("l0", COLUMN, Direction.VERTICAL, text="x", confidence=0.9)
    turned = turn_quad_reading(line, angle)
    assert turned.quad.points[0] == first
    assert turned.direction is direction
    assert (turned.text, turned.confidence) == ("", 0.0)


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_re_reading_a_stored_box_crops_what_the_upright_page_shows(angle):
    """The crop a candidate rotation reads is the crop of the line on the page turned upright."""
    rng = np.random.default_rng(angle)
    stored = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    upright = turn_image(stored, angle)
    line = Line("l0", LINE)
    on_stored = quad_to_stored(LINE, angle, W, H)
    # The detector's view of that box on the stored image: first edge left to right.
    xs = sorted({p[0] for p in on_stored.points})
    ys = sorted({p[1] for p in on_stored.points})
    detected = Line("l0", Quad.from_rect(xs[0], ys[0], xs[-1], ys[-1]))
    reread = turn_quad_reading(detected, angle)
    assert np.allclose(reread.quad.points, on_stored.points)
    assert np.array_equal(crop_line(stored, reread), crop_line(upright, line))


def _line(text, conf, quad=LINE, direction=Direction.HORIZONTAL):
    return Line("l0", quad, direction, text=text, confidence=conf)


WIDE = Quad.from_rect(0, 0, 200, 40)  # a line that holds about 5 square glyphs
TALL = Quad(((0, 0), (40, 0), (40, 200), (0, 200)))

PLAUSIBILITY = [
    ("서울역 시청", 0.9, WIDE, Direction.HORIZONTAL, 0.9),
    ("", 0.9, WIDE, Direction.HORIZONTAL, 0.0),  # nothing read
    ("...", 0.9, WIDE, Direction.HORIZONTAL, 0.0),  # no letters
    ("서", 0.9, WIDE, Direction.HORIZONTAL, 0.0),  # far shorter than the line
    ("Exit to the", 0.8, WIDE, Direction.HORIZONTAL, 0.8),
    ("Exit", 0.8, WIDE, Direction.HORIZONTAL, 0.0),  # Latin letters are narrower than glyphs
    ("本日のおすすめ", 0.95, TALL, Direction.VERTICAL, 0.95),  # a real CJK column
    ("SIDE BY", 0.95, TALL, Direction.VERTICAL, 0.0),  # Latin read down a column: a sideways line
]


@pytest.mark.parametrize(("text", "conf", "quad", "direction", "expected"), PLAUSIBILITY)
def test_a_reading_counts_only_when_it_fits_its_line(text, conf, quad, direction, expected):
    assert plausibility(_line(text, conf, quad, direction)) == pytest.approx(expected)


def test_a_page_that_reads_well_is_never_read_again():
    lines = [_line("서울역 시청", 0.92, WIDE), _line("Exit to the", 0.9, WIDE)]
    assert not needs_check(lines)
    assert not needs_check([])

    def reader(image, lines):
        raise AssertionError("an upright page that reads well must not be read again")

    found = find_rotation(np.zeros((10, 10, 3), np.uint8), lines, reader)
    assert (found.angle, found.checked) == (0, False)


def _reader_reading_well_at(good_corner, text="서울역 시청 방면"):
    """A fake recogniser: reads a line well only when its quad starts at `good_corner`."""

    def read(image, lines):
        return [
            ln.__class__(
                ln.id,
                ln.quad,
                ln.direction,
                text=text if ln.quad.points[0] == good_corner else "",
                confidence=0.9 if ln.quad.points[0] == good_corner else 0.1,
            )
            for ln in lines
        ]

    return read


def test_the_rotation_whose_readings_are_clearly_better_wins():
    poor = [_line("", 0.2, TALL, Direction.VERTICAL)]
    image = np.zeros((10, 10, 3), np.uint8)
    # TALL's bottom-left corner starts the text on a page that needs 90 degrees.
    found = find_rotation(image, poor, _reader_reading_well_at((0, 200)))
    assert found.angle == 90 and found.checked
    assert found.scores[90] > found.scores[0]
    # Nothing reads better turned: the page stays as it is.
    assert find_rotation(image, poor, _reader_reading_well_at((-1, -1))).angle == 0
    # A short reading is no evidence (one junk box read as two letters).
    assert len("cd") < MIN_LETTERS
    assert find_rotation(image, poor, _reader_reading_well_at((0, 200), text="cd")).angle == 0


def test_unknown_angles_are_refused():
    with pytest.raises(ValueError):
        to_stored((0, 0), 45, W, H)
