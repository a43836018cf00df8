"""A translated page as layers: the original, the erased background, and each block's text.

`page_layers` draws each block again with the render stage's own code
(`render.draw.block_drawings`, the work `render_page` composites), so each text layer holds
exactly the pixels the PNG output has and the layout (lines, origins, font, size, colours,
outline, the region-to-image transform) that placed them. The writers (`psd.py`, `svg.py`)
turn that into a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from imtrans.errors import InputError
from imtrans.render.draw import BlockRender, Patch, block_drawings
from imtrans.settings import RenderSettings
from imtrans.types import RGB, Diagnostic, Direction, Point

if TYPE_CHECKING:
    from imtrans.pipeline import PageResult

#: A layer's name is the block id and the start of its translation, at most this many characters.
NAME_CHARS = 60


@dataclass(frozen=True)
class TextLayer:
    """One block's translation as the render stage drew it.

    Attributes:
        block_id: The block's id.
        name: The layer's name: block id and translation (shortened).
        text: The whole translation.
        lines: Lines (horizontal) or columns (vertical) as broken by the layout.
        origins: Per line, its anchor point in region coordinates (`render.layout.Layout`).
        anchor: "ls", "ms" or "rs" (left, centre, right on the baseline) or "vertical".
        direction: Horizontal lines or vertical columns (right to left).
        font_path: The font file drawn with.
        font_index: The face inside a font collection (.ttc).
        font_px: The font size in pixels (the em).
        fill: The text colour.
        outline: The outline colour, or None.
        outline_px: The outline's width outside the glyphs, in pixels (0: none).
        to_image: 3x3 homography from region coordinates to image pixels.
        x0: Left column of `rgba` in the image.
        y0: Top row of `rgba` in the image.
        rgba: uint8 (h, w, 4): the drawn pixels (straight, not premultiplied, alpha).
    """

    block_id: str
    name: str
    text: str
    lines: tuple[str, ...]
    origins: tuple[Point, ...]
    anchor: str
    direction: Direction
    font_path: Path
    font_index: int
    font_px: int
    fill: RGB
    outline: RGB | None
    outline_px: int
    to_image: np.ndarray
    x0: int
    y0: int
    rgba: np.ndarray


@dataclass(frozen=True)
class PageLayers:
    """Everything an editable output holds, bottom to top."""

    width: int
    height: int
    original: np.ndarray | None
    erased: np.ndarray
    texts: tuple[TextLayer, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


def page_layers(
    result: PageResult,
    original: np.ndarray | None = None,
    settings: RenderSettings | None = None,
) -> PageLayers:
    """The layers of a translated page.

    Args:
        result: A `Pipeline.translate` or `Pipeline.rerender` result (it has the erased image).
        original: The input image, for the bottom layer (hidden: the erased image covers it);
            None leaves that layer out.
        settings: The render settings the result was drawn with; default: those the page records.

    Raises:
        InputError: The result has no erased image, or an image is not the page's size.
    """
    page = result.page
    if result.erased is None:
        raise InputError("this result has no erased image (only translate and render results have layers)")
    for name, image in (("erased", result.erased), ("original", original)):
        if image is not None and image.shape[:2] != (page.height, page.width):
            h, w = image.shape[:2]
            raise InputError(f"the {name} image is {w}x{h}, but the page is {page.width}x{page.height}")
    if settings is None:
        settings = RenderSettings.model_validate(page.settings.get("render", {}))
    todo = [b for b in page.blocks if b.id in page.translations]
    notes: list[Diagnostic] = []
    kept = [b.quad for b in page.blocks if b.id not in page.translations]
    drawings = block_drawings(
        result.erased, todo, page.translations, page.styles, settings, page.target_lang, notes, kept
    )
    texts = tuple(_text_layer(r) for r in drawings)
    return PageLayers(page.width, page.height, original, result.erased, texts, tuple(notes))


def _text_layer(render: BlockRender) -> TextLayer:
    drawing, style = render.drawing, render.style
    layout = drawing.layout
    assert drawing.patch is not None  # block_drawings yields only blocks on the image
    name = f"{render.block.id}: {' '.join(render.text.split())}"
    if len(name) > NAME_CHARS:
        name = name[: NAME_CHARS - 1] + "…"
    outlined = style.outline_color is not None and layout.stroke_px > 0
    return TextLayer(
        block_id=render.block.id,
        name=name,
        text=render.text,
        lines=layout.lines,
        origins=layout.origins,
        anchor=layout.anchor,
        direction=layout.direction,
        font_path=render.font_spec.path,
        font_index=render.font_spec.index,
        font_px=layout.font_px,
        fill=style.text_color,
        outline=style.outline_color if outlined else None,
        outline_px=layout.stroke_px if outlined else 0,
        to_image=drawing.to_image(),
        x0=drawing.patch.x0,
        y0=drawing.patch.y0,
        rgba=straight_rgba(drawing.patch),
    )


def straight_rgba(patch: Patch) -> np.ndarray:
    """A patch's premultiplied colour and alpha as 8-bit RGBA with straight alpha."""
    alpha = patch.alpha
    safe = np.where(alpha > 0, alpha, 1.0)[..., None]
    rgb = np.where(alpha[..., None] > 0, patch.premul / safe, 0.0)
    out = np.dstack([rgb, alpha * 255.0])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def composite_layers(layers: PageLayers) -> np.ndarray:
    """The visible layers blended (8-bit straight alpha, as an editor shows them): the erased
    image with every text layer over it. Tests compare it with the rendered PNG."""
    out = layers.erased.astype(np.float64)
    for t in layers.texts:
        h, w = t.rgba.shape[:2]
        window = out[t.y0 : t.y0 + h, t.x0 : t.x0 + w]
        a = t.rgba[..., 3:4] / 255.0
        window[...] = window * (1 - a) + t.rgba[..., :3] * a
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
