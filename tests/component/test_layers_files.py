"""Layers of a drawn page, written and read back by real libraries: psd-tools reopens the PSD,
ElementTree parses the SVG; real fonts, the real Telea eraser, the render stage's own drawing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from psd_tools import PSDImage

from imtrans.errors import InputError
from imtrans.export import composite_layers, page_layers, write_layers
from imtrans.export.svg import INKSCAPE_NS, SVG_NS
from imtrans.pipeline import PageResult, Pipeline
from imtrans.settings import Settings
from imtrans.types import Alignment, Block, Direction, Line, Page, Quad, Style, Translation

W, H = 640, 420
TEXTS = {
    "b0": "Rotated and outlined",
    "b1": "営業時間は午前十時からです",
    "b2": "Perspective text here",
    "b3": "Right aligned",
}
STYLES = {
    "b0": Style((250, 240, 40), (235, 235, 235), (20, 20, 20), 3, 30.0, 9.0),
    "b1": Style((255, 255, 255), (60, 90, 140), None, 0, 40.0, 0.0),
    "b2": Style((255, 200, 200), (60, 90, 140), (0, 0, 0), 2, 28.0, 0.0),
    "b3": Style((30, 30, 30), (235, 235, 235), None, 0, 30.0, 0.0),
}
QUADS = {
    "b0": [(30, 60), (290, 20), (300, 90), (40, 130)],  # rotated about 9 degrees
    "b1": [(560, 30), (610, 30), (610, 380), (560, 380)],  # a vertical column
    "b2": [(360, 250), (520, 240), (530, 330), (350, 320)],  # perspective
    "b3": [(40, 250), (280, 250), (280, 300), (40, 300)],
}


def source_image() -> np.ndarray:
    """Two flat panels with dark marks where the source lettering was (the eraser removes them)."""
    image = np.full((H, W, 3), 235, np.uint8)
    image[:, 320:] = (60, 90, 140)
    for quad in QUADS.values():
        x0, y0 = (int(min(p[i] for p in quad)) + 12 for i in (0, 1))
        image[y0 : y0 + 6, x0 : x0 + 30] = (90, 20, 20)
    return image


def block(block_id: str, direction: Direction, alignment: Alignment, language: str) -> Block:
    quad = Quad.from_list(QUADS[block_id])
    line = Line(f"l-{block_id}", quad, direction, 0.9, "x", language, 0.9)
    return Block(block_id, quad, (line,), direction, alignment, language)


def drawn_page(target: str) -> tuple[np.ndarray, PageResult]:
    """The page drawn by `Pipeline.rerender`: English blocks (rotated and outlined, perspective,
    right aligned) for target "en", one vertical Japanese column for "ja"."""
    if target == "ja":
        blocks = [block("b1", Direction.VERTICAL, Alignment.LEFT, "zh")]
    else:
        blocks = [
            block("b0", Direction.HORIZONTAL, Alignment.LEFT, "ko"),
            block("b2", Direction.HORIZONTAL, Alignment.CENTRE, "ko"),
            block("b3", Direction.HORIZONTAL, Alignment.RIGHT, "ko"),
        ]
    ids = [b.id for b in blocks]
    settings = Settings()
    page = Page(
        W,
        H,
        tuple(blocks),
        {i: Translation(i, TEXTS[i], "ko", target, "glossary") for i in ids},
        {i: STYLES[i] for i in ids},
        target_lang=target,
        settings=settings.to_dict(),
    )
    image = source_image()
    return image, Pipeline(settings).rerender(image, page)


@pytest.fixture(scope="module", params=["en", "ja"])
def drawn(request) -> tuple[np.ndarray, PageResult]:
    return drawn_page(request.param)


def test_text_layers_hold_exactly_what_the_render_drew(drawn):
    original, result = drawn
    layers = page_layers(result, original)
    assert [t.block_id for t in layers.texts] == [b.id for b in result.page.blocks]
    # Blended over the erased image, the layers give the PNG (8-bit straight alpha: within 1 level).
    assert np.abs(composite_layers(layers).astype(int) - result.image).max() <= 1


def test_the_psd_reopens_with_the_same_layers_and_the_same_picture(drawn, tmp_path):
    original, result = drawn
    path = tmp_path / "page.psd"
    result.save_layers(path, original=original)
    psd = PSDImage.open(path)
    layers = page_layers(result, original)
    names = ["original", "erased", *(t.name for t in layers.texts)]
    assert [layer.name for layer in psd] == names
    assert all(layer.kind == "pixel" and not layer.has_mask() for layer in psd)
    assert [layer.visible for layer in psd] == [False, True] + [True] * len(layers.texts)
    assert (psd.width, psd.height) == (W, H)
    assert np.array_equal(np.asarray(psd[0].topil().convert("RGB")), original)
    assert np.array_equal(np.asarray(psd[1].topil().convert("RGB")), result.erased)
    for layer, text in zip(list(psd)[2:], layers.texts, strict=True):
        h, w = text.rgba.shape[:2]
        assert layer.bbox == (text.x0, text.y0, text.x0 + w, text.y0 + h)
        assert np.array_equal(np.asarray(layer.topil()), text.rgba)
    # psd-tools' own composite of the reopened file (what a viewer shows) is the rendered PNG.
    shown = np.asarray(psd.composite().convert("RGB")).astype(int)
    assert np.abs(shown - result.image).max() <= 2
    assert np.array_equal(np.asarray(psd.topil().convert("RGB")), np.asarray(psd.composite().convert("RGB")))


def svg_texts(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    out = {}
    for group in root.findall(f"{{{SVG_NS}}}g"):
        assert group.get(f"{{{INKSCAPE_NS}}}groupmode") == "layer"
        text = group.find(f"{{{SVG_NS}}}text")
        out[group.get(f"{{{INKSCAPE_NS}}}label")] = text if text is not None else group
    return out


def test_the_svg_has_both_images_and_a_text_element_per_block(drawn, tmp_path):
    original, result = drawn
    path = tmp_path / "page.svg"
    result.save_layers(path, original=original)
    layers = page_layers(result, original)
    found = svg_texts(path)
    assert list(found) == ["original", "erased", *(t.name for t in layers.texts)]
    assert found["original"].get("style") == "display:none"
    for t in layers.texts:
        element = found[t.name]
        assert element.tag == f"{{{SVG_NS}}}text"
        assert [s.text for s in element] == list(t.lines)
        assert "".join(t.lines).replace(" ", "") == t.text.replace(" ", "")
        assert element.get("font-size") == str(t.font_px)
        assert element.get("fill") == "#{:02x}{:02x}{:02x}".format(*STYLES[t.block_id].text_color)
        family = "'Noto Sans CJK JP'" if result.page.target_lang == "ja" else "'Noto Sans'"
        assert element.get("font-family") == family
        assert element.get("transform").startswith("matrix(")
    if result.page.target_lang == "ja":
        assert found[layers.texts[0].name].get("writing-mode") == "tb-rl"
    else:
        outlined = found[layers.texts[0].name]  # b0
        assert outlined.get("stroke") == "#141414"
        assert outlined.get("paint-order") == "stroke"
        assert int(outlined.get("stroke-width")) == 2 * layers.texts[0].outline_px > 0
        assert found[layers.texts[2].name].get("text-anchor") == "end"  # b3, right aligned


def test_result_save_writes_the_image_by_its_suffix_or_the_page_json(drawn, tmp_path):
    _, result = drawn
    result.save(tmp_path / "out.png")
    result.save(tmp_path / "out.JSON")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out.png")), result.image)
    assert Page.from_json((tmp_path / "out.JSON").read_text()) == Page.from_json(result.to_json())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.JSON", "out.png"]  # no temp files left


def test_layers_without_the_original_leave_its_layer_out(drawn, tmp_path):
    _, result = drawn
    write_layers(result, tmp_path / "page.psd")
    names = [layer.name for layer in PSDImage.open(tmp_path / "page.psd")]
    assert names == ["erased", *(t.name for t in page_layers(result).texts)]


def test_an_original_of_another_size_is_refused_and_nothing_is_written(drawn, tmp_path):
    _, result = drawn
    with pytest.raises(InputError, match="the original image is 10x10, but the page is 640x420"):
        result.save_layers(tmp_path / "page.svg", original=np.zeros((10, 10, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_an_ocr_result_has_no_layers(tmp_path):
    result = PageResult(Page(W, H), source_image())
    with pytest.raises(InputError, match="no erased image"):
        result.save_layers(tmp_path / "page.psd")
