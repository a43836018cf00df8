"""Hardening of image reading and writing (issue 20): every mode, every decoder failure, file modes."""

from __future__ import annotations

import io
import json
import os
import random
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imtrans.errors import ConfigError, InputError, OutputError
from imtrans.imageio import load_image, probe_image, refuse_overwrite, save_image
from imtrans.settings import ImageSettings
from imtrans.translate.glossary import Glossary

ROOT = Path(__file__).resolve().parents[2]
SIGN = ROOT / "examples" / "sign_ko.png"


def _grey_sign() -> np.ndarray:
    return np.asarray(Image.open(SIGN).convert("L"))


def _encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


# -- item 5: every mode Pillow decodes ----------------------------------------------------------
def test_a_16_bit_grey_png_reads_as_its_8_bit_picture_not_white():
    import cv2

    grey = _grey_sign()
    ok, png = cv2.imencode(".png", grey.astype(np.uint16) * 257)
    assert ok
    rgb = load_image(png.tobytes())
    assert np.abs(rgb[..., 0].astype(int) - grey).max() <= 1
    assert rgb.min() < 100  # the dark lettering survives


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[0.0, 0.5, 1.0]], np.float32), [0, 128, 255]),  # float 0-1
        (np.array([[0.0, 100.0, 255.0]], np.float32), [0, 100, 255]),  # float 0-255
        (np.array([[-1.0, 0.0, 1.0]], np.float32), [0, 128, 255]),  # other ranges stretched
        (np.array([[0, 32896, 65535]], np.int32), [0, 128, 255]),  # 32-bit holding 16-bit samples
        (np.array([[0, 100, 255]], np.int32), [0, 100, 255]),  # 32-bit holding 8-bit samples
    ],
)
def test_float_and_32_bit_tiffs_are_scaled_to_8_bits(array, expected):
    rgb = load_image(_encode(Image.fromarray(array), "TIFF"))
    assert rgb[0, :, 0].tolist() == expected


def test_cmyk_and_palette_with_transparency_read_as_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # red
    assert load_image(_encode(cmyk, "JPEG"))[4, 4].tolist()[0] > 200
    pal = Image.new("P", (8, 8), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.info["transparency"] = 1
    assert load_image(_encode(pal, "PNG", transparency=1))[0, 0].tolist() == [255, 255, 255]
    la = Image.merge("LA", (Image.new("L", (4, 4), 0), Image.new("L", (4, 4), 0)))
    assert load_image(_encode(la, "PNG"))[0, 0].tolist() == [255, 255, 255]


# -- item 6: a decoder's own exception is a one-line InputError -------------------------------
def test_any_decoder_failure_of_a_corrupt_avif_is_one_input_error():
    small = Image.open(SIGN).convert("RGB").resize((64, 48))
    data = _encode(small, "AVIF")
    rng = random.Random(0)
    raised: set[str] = set()
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        try:
            Image.open(io.BytesIO(bytes(mutated))).load()
            continue
        except Exception as e:  # noqa: BLE001 - what Pillow itself raises is what the test counts
            raised.add(type(e).__name__)
        with pytest.raises(InputError) as info:
            load_image(bytes(mutated))
        assert "\n" not in str(info.value)
    assert "RuntimeError" in raised  # the case of the issue is among them


# -- item 14: Pillow's guard does not override a raised image.max_pixels --------------------------
def test_raising_max_pixels_past_pillows_guard_lets_the_image_through(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    data = _encode(Image.new("L", (500, 500), 255), "PNG")  # 250,000 px: past twice Pillow's guard
    assert load_image(data, ImageSettings(max_pixels=300_000)).shape == (500, 500, 3)
    with pytest.raises(InputError, match=r"500x500 = .* MP, over the limit"):
        load_image(data, ImageSettings(max_pixels=200_000))


def test_probe_reads_the_declared_size_without_decoding():
    data = _encode(Image.new("RGB", (300, 200)), "JPEG")
    header = probe_image(data, ImageSettings())
    assert (header.width, header.height, header.frames, header.format) == (300, 200, 1, "JPEG")
    with pytest.raises(InputError, match="over the limit"):
        probe_image(data, ImageSettings(max_pixels=1000))
    with pytest.raises(InputError, match="not an image"):
        probe_image(b"hello", ImageSettings())


# -- item 9 (single image): a warning, not silence ------------------------------------------------
def test_a_multi_page_tiff_read_as_one_image_warns_and_frames_can_be_chosen(caplog):
    pages = [Image.new("RGB", (16, 16), c) for c in ("red", "lime", "blue")]
    data = _encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    with caplog.at_level("WARNING", logger="imtrans.imageio"):
        first = load_image(data)
    assert first[0, 0].tolist() == [255, 0, 0]
    assert "3 pages or frames; only the first is translated" in caplog.text
    assert load_image(data, frame=2)[0, 0].tolist() == [0, 0, 255]
    with pytest.raises(InputError, match="no frame 4"):
        load_image(data, frame=3)


# -- item 12: outputs get the mode the umask gives ------------------------------------------------
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_have_the_mode_the_umask_gives_not_always_0600(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        save_image(tmp_path / "out.png", np.zeros((4, 4, 3), np.uint8))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.png").stat().st_mode) == mode


# -- item 14: -o naming the input -----------------------------------------------------------------
def test_an_output_naming_the_input_is_refused(tmp_path, monkeypatch):
    image = tmp_path / "a.png"
    image.write_bytes(SIGN.read_bytes())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="is the input file"):
        refuse_overwrite([image], [None, Path("a.png")])
    refuse_overwrite([image], [tmp_path / "b.png", None])


# -- item 10 and 14: glossaries -------------------------------------------------------------------
def test_a_deeply_nested_json_glossary_is_one_config_error(tmp_path):
    path = tmp_path / "g.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        Glossary.load(path)


@pytest.mark.parametrize(("name", "text"), [("g.csv", "source,target\n"), ("g.json", "{}"), ("g.csv", "")])
def test_an_empty_glossary_is_refused(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match="has no entries"):
        Glossary.load(path)
    (tmp_path / "ok.json").write_text(json.dumps({"출구": "Exit"}))
    assert len(Glossary.load(tmp_path / "ok.json")) == 1
