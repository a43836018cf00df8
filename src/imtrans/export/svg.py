"""Write page layers as SVG: two images and each block's translation as real `<text>`.

Each block is an Inkscape layer (`<g inkscape:groupmode="layer">`, named after the block)
holding one `<text>` with a `<tspan>` per drawn line, placed with the render stage's own
layout: the same line breaks, anchor points, font family, size, colours and outline, and the
layout region's transform to the image as an SVG `matrix(...)`. Vertical columns use
`writing-mode="tb-rl"`. Fonts are named by family (read from the font file drawn with), not
embedded: the viewer must have them (Noto Sans, Noto Sans CJK, or the `--font` file's).
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import numpy as np

from imtrans.export.layers import PageLayers, TextLayer
from imtrans.imageio import encode_image
from imtrans.render.fonts import FontSpec
from imtrans.types import Direction

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
XML_NS = "http://www.w3.org/XML/1998/namespace"

_ANCHORS = {"ls": "start", "ms": "middle", "rs": "end"}


def svg_bytes(layers: PageLayers) -> bytes:
    """The SVG document of a page's layers, UTF-8."""
    for prefix, uri in (("", SVG_NS), ("xlink", XLINK_NS), ("inkscape", INKSCAPE_NS)):
        ET.register_namespace(prefix, uri)
    w, h = layers.width, layers.height
    root = ET.Element(
        f"{{{SVG_NS}}}svg",
        {"width": str(w), "height": str(h), "viewBox": f"0 0 {w} {h}", "version": "1.1"},
    )
    root.text = "\n"
    if layers.original is not None:
        _image_layer(root, "original", layers.original, hidden=True)
    _image_layer(root, "erased", layers.erased, hidden=False)
    for text in layers.texts:
        group = _layer(root, f"block-{text.block_id}", text.name)
        group.append(text_element(text))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _layer(root: ET.Element, ident: str, label: str) -> ET.Element:
    group = ET.SubElement(
        root,
        f"{{{SVG_NS}}}g",
        {"id": ident, f"{{{INKSCAPE_NS}}}groupmode": "layer", f"{{{INKSCAPE_NS}}}label": label},
    )
    group.tail = "\n"
    return group


def _image_layer(root: ET.Element, name: str, image: np.ndarray, hidden: bool) -> None:
    group = _layer(root, name, name)
    if hidden:
        group.set("style", "display:none")
    h, w = image.shape[:2]
    data = base64.b64encode(encode_image(image, "PNG")).decode("ascii")
    ET.SubElement(
        group,
        f"{{{SVG_NS}}}image",
        {
            "x": "0",
            "y": "0",
            "width": str(w),
            "height": str(h),
            f"{{{XLINK_NS}}}href": f"data:image/png;base64,{data}",
        },
    )


def text_element(text: TextLayer) -> ET.Element:
    """One block's `<text>`: a `<tspan>` per line (or column) at the layout's anchor points."""
    family, style_name = FontSpec(text.font_path, text.font_index).load(text.font_px).getname()
    attrs = {
        "transform": svg_matrix(text.to_image, _ink_corners(text)),
        "font-family": f"'{family}'",
        "font-size": str(text.font_px),
        "fill": _hex(text.fill),
        f"{{{XML_NS}}}space": "preserve",
    }
    if "bold" in (style_name or "").lower():
        attrs["font-weight"] = "bold"
    if "italic" in (style_name or "").lower():
        attrs["font-style"] = "italic"
    if text.outline is not None and text.outline_px > 0:
        # PIL strokes outwards by outline_px; an SVG stroke is centred on the glyph's edge.
        attrs |= {
            "stroke": _hex(text.outline),
            "stroke-width": str(2 * text.outline_px),
            "stroke-linejoin": "round",
            "paint-order": "stroke",
        }
    if text.direction == Direction.VERTICAL:
        attrs["writing-mode"] = "tb-rl"
    else:
        attrs["text-anchor"] = _ANCHORS.get(text.anchor, "start")
    element = ET.Element(f"{{{SVG_NS}}}text", attrs)
    for line, (x, y) in zip(text.lines, text.origins, strict=True):
        tspan = ET.SubElement(element, f"{{{SVG_NS}}}tspan", {"x": _num(x), "y": _num(y)})
        tspan.text = line
    return element


def _ink_corners(text: TextLayer) -> np.ndarray:
    """Corners of the drawn pixels' box mapped back to region coordinates (for a perspective fit)."""
    h, w = text.rgba.shape[:2]
    box = np.array(
        [
            [text.x0, text.y0, 1],
            [text.x0 + w, text.y0, 1],
            [text.x0 + w, text.y0 + h, 1],
            [text.x0, text.y0 + h, 1],
        ],
        float,
    )
    back = box @ np.linalg.inv(text.to_image).T
    return back[:, :2] / back[:, 2:]


def svg_matrix(homography: np.ndarray, fit_points: np.ndarray | None = None) -> str:
    """An SVG `matrix(a b c d e f)` for a region-to-image homography.

    Rotated and upright blocks map by an affine transform, written exactly (a pure shift
    snapped to whole pixels, as the render stage snaps it). A perspective block has no
    affine equal: the affine closest to it at `fit_points` (least squares) is used, so its
    text is drawn as a parallelogram where the PNG has it foreshortened.
    """
    m = homography / homography[2, 2]
    if abs(m[2, 0]) > 1e-9 or abs(m[2, 1]) > 1e-9:
        pts = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float) if fit_points is None else fit_points
        src = np.hstack([pts, np.ones((len(pts), 1))])
        dst = src @ m.T
        dst = dst[:, :2] / dst[:, 2:]
        m = np.vstack([np.linalg.lstsq(src, dst, rcond=None)[0].T, [0, 0, 1]])
    a, c, e = m[0]
    b, d, f = m[1]
    if np.allclose([a, b, c, d], [1, 0, 0, 1], atol=1e-6):
        e, f = round(e), round(f)
    return "matrix(" + " ".join(_num(v) for v in (a, b, c, d, e, f)) + ")"


def _num(v: float) -> str:
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)
