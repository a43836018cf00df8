"""Loading refuses what is not a sane image; writing is all-or-nothing."""

import io

import numpy as np
import pytest
from PIL import Image

from imtrans.errors import InputError, OutputError
from imtrans.imageio import atomic_writes, load_image, save_image
from imtrans.settings import ImageSettings


def png_bytes(w=20, h=10, mode="RGB", color=(10, 20, 30)):
    buf = io.BytesIO()
    Image.new(mode, (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def test_loads_rgb_uint8(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(png_bytes())
    img = load_image(p)
    assert img.shape == (10, 20, 3) and img.dtype == np.uint8
    assert tuple(img[0, 0]) == (10, 20, 30)


def test_transparency_is_composited_on_white():
    img = load_image(png_bytes(mode="RGBA", color=(0, 0, 0, 0)))
    assert tuple(img[0, 0]) == (255, 255, 255)


def test_exif_orientation_is_applied():
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    Image.new("RGB", (40, 10), (1, 2, 3)).save(buf, "JPEG", exif=exif)
    assert load_image(buf.getvalue()).shape[:2] == (40, 10)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"this is a text file, not a picture", "not an image"),
        (png_bytes()[:50], "corrupt or truncated"),
    ],
)
def test_bad_files_raise_one_line_input_errors(tmp_path, content, message):
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message) as e:
        load_image(p)
    assert "\n" not in str(e.value)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such image file"):
        load_image(tmp_path / "nope.png")


def test_image_over_the_pixel_limit_is_refused_before_decoding():
    with pytest.raises(InputError, match="over the limit"):
        load_image(png_bytes(200, 200), ImageSettings(max_pixels=39_999))


def test_decompression_bomb_is_refused():
    # A 20000 x 20000 PNG of one colour compresses to a few hundred kB: decoding it would take 1.2 GB.
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")
    with pytest.raises(InputError, match="over the limit"):
        load_image(buf.getvalue())


def test_file_over_the_byte_limit_is_refused(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(png_bytes())
    with pytest.raises(InputError, match="bytes"):
        load_image(p, ImageSettings(max_bytes=10))


def test_atomic_writes_leave_nothing_when_one_output_fails(tmp_path):
    img = np.zeros((4, 4, 3), np.uint8)
    (tmp_path / "keep.png").write_bytes(b"old")
    with pytest.raises(OutputError), atomic_writes() as w:
        w.write_image(tmp_path / "keep.png", img)
        w.write_image(tmp_path / "missing-dir" / "b.png", img)
    assert (tmp_path / "keep.png").read_bytes() == b"old"  # the earlier file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]  # no temp files left


def test_unknown_output_extension_is_refused(tmp_path):
    with pytest.raises(OutputError, match="unknown image extension"):
        save_image(tmp_path / "a.xyz", np.zeros((2, 2, 3), np.uint8))


def test_save_image_round_trips(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (8, 9, 3), dtype=np.uint8)
    save_image(tmp_path / "a.png", img)
    assert np.array_equal(load_image(tmp_path / "a.png"), img)
