"""Pure parts of the layers export: SVG transforms, layer formats, straight alpha, page JSON checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from imtrans.errors import InputError, OutputError
from imtrans.export import layer_format
from imtrans.export.layers import straight_rgba
from imtrans.export.redraw import check_size, read_page
from imtrans.export.svg import svg_matrix
from imtrans.render.draw import Patch
from imtrans.types import Page


def shift(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0, tx], [0, 1.0, ty], [0, 0, 1.0]])


@pytest.mark.parametrize(
    ("homography", "expected"),
    [
        (shift(12.4, 7.6), "matrix(1 0 0 1 12 8)"),  # a pure shift is snapped, as the render snaps it
        (shift(0, 0), "matrix(1 0 0 1 0 0)"),
        (2.0 * shift(3, 4), "matrix(1 0 0 1 3 4)"),  # scaled homogeneous form: normalised first
        (np.array([[0.0, -1, 10], [1, 0, 20], [0, 0, 1]]), "matrix(0 1 -1 0 10 20)"),  # 90 degrees
        (np.array([[2.0, 0, 0.25], [0, 0.5, 0], [0, 0, 1]]), "matrix(2 0 0 0.5 0.25 0)"),
    ],
)
def test_an_affine_homography_is_written_exactly_as_an_svg_matrix(homography, expected):
    assert svg_matrix(homography) == expected


def test_a_rotation_keeps_its_angle_in_the_svg_matrix():
    t = math.radians(30)
    h = np.array([[math.cos(t), -math.sin(t), 5], [math.sin(t), math.cos(t), 6], [0, 0, 1]])
    a, b, c, d, e, f = (float(v) for v in svg_matrix(h)[7:-1].split())
    assert math.degrees(math.atan2(b, a)) == pytest.approx(30, abs=0.01)
    assert (c, d, e, f) == pytest.approx((-0.5, 0.866, 5, 6), abs=1e-3)


def test_a_perspective_homography_becomes_the_closest_affine_at_the_given_points():
    h = np.array([[1.0, 0.1, 0], [0.0, 1.0, 0], [0.001, 0, 1]])
    pts = np.array([[0.0, 0], [100, 0], [100, 40], [0, 40]])
    a, b, c, d, e, f = (float(v) for v in svg_matrix(h, pts)[7:-1].split())
    affine = np.array([[a, c, e], [b, d, f]])
    src = np.hstack([pts, np.ones((4, 1))])
    exact = src @ h.T
    exact = exact[:, :2] / exact[:, 2:]
    error = np.abs(src @ affine.T - exact).max()
    assert error < 1.0  # 0.91 px; the identity's error, for comparison, is 9.1 px
    assert error < np.abs(pts - exact).max() / 5


@pytest.mark.parametrize(("path", "fmt"), [("a.psd", "psd"), ("b.SVG", "svg"), ("dir/c.svg", "svg")])
def test_the_layers_format_comes_from_the_suffix(path, fmt):
    assert layer_format(path) == fmt


@pytest.mark.parametrize("path", ["a.png", "a.pdf", "a"])
def test_other_suffixes_are_not_layer_files(path):
    with pytest.raises(OutputError, match="use .psd or .svg"):
        layer_format(path)


def test_straight_alpha_undoes_the_premultiplied_patch():
    alpha = np.array([[0.0, 0.5, 1.0]], np.float32)
    colour = np.array([[[0, 0, 0], [200, 100, 50], [10, 20, 30]]], np.float32)
    rgba = straight_rgba(Patch(0, 0, colour * alpha[..., None], alpha))
    assert rgba.tolist() == [[[0, 0, 0, 0], [200, 100, 50, 128], [10, 20, 30, 255]]]


def test_a_page_json_reads_back(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(Page(width=30, height=20).to_json())
    assert read_page(path) == Page(width=30, height=20)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON file"),
        ("[1, 2]", "not a page JSON"),
        ('{"settings": {}}', "not a page JSON"),
        ('{"width": 10, "height": 10, "blocks": [{"id": "b0"}]}', "not a valid page JSON"),
        ('{"width": 10, "height": 10, "blocks": [{"id": "b0", "quad": [[0, 0]]}]}', "not a valid page JSON"),
        ('{"width": 0, "height": 10, "blocks": []}', "no pixels"),
    ],
)
def test_a_file_that_is_not_a_page_is_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as e:
        read_page(path)
    assert "\n" not in str(e.value)


def test_a_missing_page_json_is_refused(tmp_path):
    with pytest.raises(InputError, match="no such page JSON"):
        read_page(tmp_path / "none.json")


def test_an_image_of_another_size_than_the_page_is_refused():
    page = Page.from_dict(json.loads(Page(width=30, height=20).to_json()))
    check_size(np.zeros((20, 30, 3), np.uint8), page, "a.png")
    with pytest.raises(InputError, match="a.png is 31x20, but the page JSON describes a 30x20 image"):
        check_size(np.zeros((20, 31, 3), np.uint8), page, "a.png")
