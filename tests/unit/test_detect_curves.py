"""Curved lines from a detection map's component: which components bend, and how a line is cut
along its arc and straightened (`detect/curves.py`)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from imtrans.detect.curves import (
    bounding_quad,
    curve_from_component,
    curved_boxes,
    straighten,
    unstraighten,
    with_curves,
)
from imtrans.detect.geometry import Box
from imtrans.types import Line, Quad


def arc_map(radius: float, thickness: int, degrees: float, *, smile: bool = False) -> np.ndarray:
    """A probability map (0 / 0.9) holding one band along a circle's arc, an arch or a smile."""
    prob = np.zeros((400, 600), np.float32)
    centre = (300, 350) if not smile else (300, 0)
    start = -90 - degrees / 2 if not smile else 90 - degrees / 2
    band = np.zeros(prob.shape, np.uint8)
    cv2.ellipse(band, centre, (int(radius), int(radius)), 0, start, start + degrees, 1, thickness)
    prob[band > 0] = 0.9
    return prob


def components(prob: np.ndarray) -> list[np.ndarray]:
    contours, _ = cv2.findContours((prob > 0.5).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return list(contours)


def test_an_arch_becomes_a_curved_line_cut_along_its_arc():
    prob = arc_map(200, 16, 60)
    (contour,) = components(prob)
    found = curve_from_component(prob, contour, 1.6)
    assert found is not None
    segments, score = found
    assert score == pytest.approx(0.9, abs=0.01)
    assert len(segments) >= 4
    # Read left to right, the glyphs' tops up: every quad's top edge runs rightwards, above its bottom.
    assert (segments[:, 1, 0] > segments[:, 0, 0]).all()
    assert (segments[:, 0, 1] < segments[:, 3, 1]).all()
    # The band's middle follows the arc: its centre points lie on the circle (radius 200 about (300, 350)).
    middle = (segments[:, 0] + segments[:, 3]) / 2
    radii = np.hypot(middle[:, 0] - 300, middle[:, 1] - 350)
    assert radii == pytest.approx(np.full(len(radii), 200.0), abs=4.0)


def test_a_smile_keeps_its_glyph_tops_up():
    prob = arc_map(200, 16, 60, smile=True)
    (contour,) = components(prob)
    segments, _ = curve_from_component(prob, contour, 1.6)
    assert (segments[:, 1, 0] > segments[:, 0, 0]).all()
    assert (segments[:, 0, 1] < segments[:, 3, 1]).all()


@pytest.mark.parametrize("shape", ["straight line", "vertical column", "blob"])
def test_straight_lines_columns_and_blobs_are_not_curved(shape):
    prob = np.zeros((400, 600), np.float32)
    if shape == "straight line":
        prob[190:206, 100:500] = 0.9
    elif shape == "vertical column":
        prob[50:350, 290:306] = 0.9
    else:
        cv2.circle(prob, (300, 200), 30, 0.9, -1)
    for contour in components(prob):
        assert curve_from_component(prob, contour, 1.6) is None


def test_a_slightly_bowed_line_stays_straight():
    # A 400 px line whose middle sits 2 px off its chord (a scan's page curl): not a curved line.
    radius = (200**2 + 2**2) / (2 * 2)
    prob = np.zeros((400, 600), np.float32)
    band = np.zeros(prob.shape, np.uint8)
    half_angle = math.degrees(math.asin(200 / radius))
    cv2.ellipse(band, (300, round(200 + radius)), (round(radius), round(radius)), 0, -90 - half_angle,
                -90 + half_angle, 1, 16)  # fmt: skip
    prob[band > 0] = 0.9
    for contour in components(prob):
        assert curve_from_component(prob, contour, 1.6) is None


def test_curved_boxes_scale_to_the_image_and_replace_the_rectangles_they_hold():
    prob = arc_map(200, 16, 60)
    (curved,) = curved_boxes(prob, 0.6, 0.5, 1.6, 2.0, 2.0)
    assert curved.curve is not None
    assert curved.curve[:, :, 0].max() > 600  # the map is half the image's size
    on_band = Box(curved.curve[2].copy(), 0.7)  # a rectangle the main pass cut out of the arc
    x0, _, x1, y1 = curved.bbox
    cx = (x0 + x1) / 2
    under = Box(np.array([[cx - 40, y1 - 30], [cx + 40, y1 - 30], [cx + 40, y1], [cx - 40, y1]], float), 0.8)
    far = Box(np.array([[0, 700], [100, 700], [100, 740], [0, 740]], float), 0.9)
    out = with_curves([on_band, under, far], [curved])
    assert on_band not in out
    # What the arc bends around (an emblem under an arch) is not the arc's.
    assert under in out and far in out and curved in out


def test_straighten_lays_the_band_out_as_one_strip():
    prob = arc_map(200, 16, 60)
    (contour,) = components(prob)
    segments, _ = curve_from_component(prob, contour, 1.6)
    image = np.zeros((400, 600, 3), np.uint8)
    image[prob > 0] = (255, 255, 255)
    strip = straighten(image, segments)
    # The arc's band runs straight along the strip: its middle row is white from end to end
    # of the arc (the strip reaches a little past each end, as a detector's box does).
    row = strip[strip.shape[0] // 2, :, 0] > 200
    ends = np.flatnonzero(row)
    assert row[ends[0] : ends[-1] + 1].all()
    # The arc is 60 degrees of a 200 px radius, with round caps half its thickness (8 px) long.
    assert ends[-1] - ends[0] == pytest.approx(math.radians(60) * 200 + 16, rel=0.05)
    # Across the strip, the band is one run of rows as thick as the arc's (16 px), not a smear.
    rows = np.flatnonzero((strip[:, ends[0] : ends[-1], 0] > 200).mean(axis=1) > 0.5)
    assert rows[-1] - rows[0] + 1 == pytest.approx(16, abs=2)
    quad = bounding_quad(segments)
    assert quad.shape == (4, 2)


def test_a_curved_line_goes_through_json():
    quads = (Quad.from_rect(0, 0, 10, 8), Quad(((10, 0), (20, 2), (19, 10), (10, 8))))
    line = Line("l0", Quad.from_rect(0, 0, 20, 10), text="REDROCK", curve=quads)
    data = line.to_dict()
    assert len(data["curve"]) == 2
    assert Line.from_dict(data) == line
    assert "curve" not in Line("l1", Quad.from_rect(0, 0, 20, 10)).to_dict()


def test_the_words_of_one_arc_are_one_line():
    # A badge's two words, lit apart by the map: one curved line, read in one go.
    prob = arc_map(200, 16, 30)
    right = np.zeros_like(prob)
    band = np.zeros(prob.shape, np.uint8)
    cv2.ellipse(band, (300, 350), (200, 200), 0, -90 + 5, -90 + 45, 1, 16)
    right[band > 0] = 0.9
    left = np.zeros_like(prob)
    band[:] = 0
    cv2.ellipse(band, (300, 350), (200, 200), 0, -90 - 45, -90 - 5, 1, 16)
    left[band > 0] = 0.9
    (line,) = curved_boxes(np.maximum(left, right), 0.6, 0.5, 1.6, 1.0, 1.0)
    x0, _, x1, _ = line.bbox
    assert x0 < 300 - 130 and x1 > 300 + 130
    # Its quads run left to right without folding back where the words meet.
    middles = (line.curve[:, 0] + line.curve[:, 2]) / 2
    assert (np.diff(middles[:, 0]) > 0).all()


def test_unstraighten_puts_a_strip_mask_back_on_its_arc():
    prob = arc_map(200, 16, 60)
    (contour,) = components(prob)
    segments, _ = curve_from_component(prob, contour, 1.6)
    image = np.zeros((400, 600), np.uint8)
    image[prob > 0] = 255
    back = unstraighten(straighten(image, segments), segments, 0.0, image.shape)
    band = image > 0
    assert (back[band] > 0).mean() > 0.95
    assert (back[~band] > 0).sum() < 0.1 * band.sum()
