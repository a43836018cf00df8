"""Draw each block's translation into the erased image, in the style of the original.

Each block's text is fitted into the bubble, caption or plate around it (`regions.py`), or
into its own box when none closes around it. It is drawn upright on a canvas in the block's
own frame (region coordinates, see `layout.py`), then the canvas is warped onto the block's
quad with one homography, so a rotated or perspective block follows its source with no
special case. The canvas holds two coverage masks (glyph fill, and fill plus outline);
colours are applied to them as premultiplied RGB, warped with the alpha, and blended:
pixels the warped alpha does not touch stay bit-for-bit unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

from imtrans.detect.curves import bounding_quad, segments_of, strip_pieces
from imtrans.languages import NO_SPACE_LANGUAGES, drawn_language, language_of_script
from imtrans.render.colours import legible_on, source_angle, source_font_size
from imtrans.render.fonts import FontSpec, font_for
from imtrans.render.layout import (
    Layout,
    em_top,
    fit_block,
    fit_shaped,
    fits_whole_words,
    layout_direction,
    size_cap,
    text_region,
    vertical_cells,
    vertical_features,
)
from imtrans.render.regions import Box, Region, enclosing_region, room_along
from imtrans.settings import RenderSettings
from imtrans.types import (
    RGB,
    Alignment,
    Block,
    Diagnostic,
    Direction,
    Quad,
    RenderCode,
    Severity,
    Style,
    Translation,
)

#: A block quad whose angle differs from the style's by more than this (degrees) is not
#: trusted for orientation: the text is drawn in a rectangle at the style's angle instead.
ANGLE_TOLERANCE = 3.0
#: Room kept between the text and a bubble's or caption's outline, in source font sizes.
REGION_INSET_EM = 0.1
#: Room kept before a wall when a line runs on along an open background, in line heights.
ALONG_GAP_EM = 0.5
#: A block whose source lettering is this many times another's is its heading (`heading_order_caps`).
HEADING_RATIO = 1.3


@dataclass(frozen=True)
class Patch:
    """A block's drawing, ready to blend: premultiplied RGB and alpha over an image window.

    Attributes:
        x0: Left column of the window in the image.
        y0: Top row of the window in the image.
        premul: float32 (h, w, 3), colour times alpha, 0-255.
        alpha: float32 (h, w), 0-1.
    """

    x0: int
    y0: int
    premul: np.ndarray
    alpha: np.ndarray


def ink_bounds(patch: Patch, threshold: float = 0.5) -> tuple[int, int, int, int] | None:
    """Where a drawing put ink: (x0, y0, x1, y1) in the image (x1, y1 exclusive), or None."""
    ys, xs = np.nonzero(patch.alpha > threshold)
    if len(xs) == 0:
        return None
    return (
        patch.x0 + int(xs.min()),
        patch.y0 + int(ys.min()),
        patch.x0 + int(xs.max()) + 1,
        patch.y0 + int(ys.max()) + 1,
    )


@dataclass(frozen=True)
class BlockDrawing:
    """What drawing one block produced: where the text went and its patch (None when off the image).

    `region` is the bubble, caption or plate the text was fitted into (in the quad's own
    coordinates), or, without a box, why the block's own box was used instead.
    """

    layout: Layout
    quad: Quad
    patch: Patch | None
    region: Region
    origin: tuple[float, float] = (0.0, 0.0)
    #: Text drawn along an arc (`BlockLayout.curve`): `quad` is then the arc straightened.
    curve: np.ndarray | None = None

    def to_image(self) -> np.ndarray:
        """The 3x3 homography from the layout's region coordinates to image pixels.

        `origin` is where the region's top-left corner lies in the quad's own frame (the
        bubble's rectangle, or the block's own box); the quad's frame is mapped onto
        `quad`. An exporter places the layout's lines with it exactly where they were drawn;
        text drawn along an arc, straight over the arc's bounding rectangle.
        """
        qw, qh = self.quad.width, self.quad.height
        src = np.float32([[0, 0], [qw, 0], [qw, qh], [0, qh]])
        dst = self.quad.points if self.curve is None else bounding_quad(self.curve)
        h_quad = cv2.getPerspectiveTransform(src, np.float32(dst)).astype(np.float64)
        return h_quad @ _translation(*self.origin)


@dataclass(frozen=True)
class BlockRender:
    """One block as `render_page` draws it: what text, in which style and font, and where."""

    block: Block
    text: str
    style: Style
    font_spec: FontSpec
    drawing: BlockDrawing


def drawn_bounds(
    renders: Iterable[BlockRender], threshold: float = 0.5
) -> dict[str, tuple[int, int, int, int]]:
    """Where each drawing put ink (`ink_bounds`), by block id; drawings without ink are left out."""
    out = {}
    for r in renders:
        if r.drawing.patch is not None and (box := ink_bounds(r.drawing.patch, threshold)) is not None:
            out[r.block.id] = box
    return out


@dataclass(frozen=True)
class DrawnInk:
    """Where one block's drawing touched the image, and at what size: what reading it back
    needs to read it alone (`check.legibility.read_back`).

    Attributes:
        x0: Left column of the mask's window in the image.
        y0: Top row of the mask's window in the image.
        mask: bool (h, w), True where the drawing's alpha is above 0 (antialiasing and outline
            included).
        font_px: The size its text was laid out at.
    """

    x0: int
    y0: int
    mask: np.ndarray
    font_px: int

    def within(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """The mask over the window (x0, y0)-(x1, y1) of the image (False where it does not reach)."""
        out = np.zeros((y1 - y0, x1 - x0), bool)
        h, w = self.mask.shape
        xa, ya = max(x0, self.x0), max(y0, self.y0)
        xb, yb = min(x1, self.x0 + w), min(y1, self.y0 + h)
        if xb > xa and yb > ya:
            out[ya - y0 : yb - y0, xa - x0 : xb - x0] = self.mask[
                ya - self.y0 : yb - self.y0, xa - self.x0 : xb - self.x0
            ]
        return out


def drawn_ink(renders: Iterable[BlockRender]) -> dict[str, DrawnInk]:
    """Each drawing's `DrawnInk`, by block id; drawings off the image are left out."""
    return {
        r.block.id: DrawnInk(p.x0, p.y0, p.alpha > 0, r.drawing.layout.font_px)
        for r in renders
        if (p := r.drawing.patch) is not None
    }


def render_page(
    image: np.ndarray,
    blocks: list[Block] | tuple[Block, ...],
    translations: dict[str, Translation],
    styles: dict[str, Style],
    settings: RenderSettings,
    target: str,
    kept: Sequence[Quad] = (),
) -> tuple[np.ndarray, list[Diagnostic]]:
    """Draw every block's translation onto a copy of the erased image.

    Blocks without a translation (or with an empty one) are skipped with an info
    diagnostic; a block whose text did not fit at `settings.min_font_px` is drawn at that
    size and reported as "overflow"; a block that fails to draw is reported as
    "render_failed" and the others are still drawn. A missing font file is not a block's
    failure: `ModelMissingError` propagates.

    Args:
        image: The erased RGB uint8 image (H, W, 3); not modified.
        blocks: The page's blocks.
        translations: Translations by block id.
        styles: Styles by block id (from `estimate_style`); a block without one gets a
            default style (black or white text on the erased background).
        settings: Render settings (font size limits, vertical CJK, font override).
        target: Target language code (fonts and line breaking).
        kept: Quads of lettering left on the page (text already in the target language, a
            block not translated): no translation is drawn over them.

    Returns:
        The drawn image and the diagnostics, in block order.
    """
    diags: list[Diagnostic] = []
    out = image.copy()
    for render in block_drawings(image, blocks, translations, styles, settings, target, diags, kept):
        assert render.drawing.patch is not None  # block_drawings leaves out blocks off the image
        composite(out, render.drawing.patch)
    return out, diags


def block_drawings(
    image: np.ndarray,
    blocks: list[Block] | tuple[Block, ...],
    translations: dict[str, Translation],
    styles: dict[str, Style],
    settings: RenderSettings,
    target: str,
    diags: list[Diagnostic],
    kept: Sequence[Quad] = (),
) -> Iterator[BlockRender]:
    """Lay out and draw each block's translation, without compositing: `render_page`'s work.

    Takes the arguments of `render_page`, which composites these drawings in order, one at a
    time (a page's patches are never all held at once). An exporter (`imtrans.export`)
    writes each block's text from them where `render_page` draws it.

    Args:
        diags: The diagnostics of `render_page` are appended here, in block order.

    Yields:
        The drawn blocks in block order: those with a translation, drawn without error and
        at least partly inside the image.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"render_page needs an RGB uint8 image, got {image.dtype} {image.shape}")
    drawn = [b for b in blocks if (t := translations.get(b.id)) is not None and t.text.strip()]
    # Pass 1: every block's layout, so that sizes can be compared across the page.
    planned: list[tuple[Block, str, Style, FontSpec, list[Quad], BlockLayout | Exception]] = []
    for block in blocks:
        tr = translations.get(block.id)
        if tr is None or not tr.text.strip():
            diags.append(
                Diagnostic.of(
                    RenderCode.NO_TRANSLATION, "no translated text to draw", Severity.INFO, block.id
                )
            )
            continue
        style = styles.get(block.id) or default_style(image, block)
        # A translation may keep source-script words (names, untranslated terms): pick a font that has them.
        spec = font_for(language_of_script(tr.text, target), override=settings.font_path)
        others = [b.quad for b in drawn if b.id != block.id] + list(kept)
        try:
            plan: BlockLayout | Exception = layout_block(
                block, tr.text, style, settings, target, spec, image=image, obstacles=others
            )
        except Exception as e:  # one block's failure must not lose the page  # noqa: BLE001
            plan = e
        planned.append((block, tr.text, style, spec, others, plan))
    fitted = [
        (0.0, 0) if isinstance(plan, Exception) else (style.font_size, plan.layout.font_px)
        for _, _, style, _, _, plan in planned
    ]
    caps = heading_order_caps(fitted, settings.min_font_px)
    # Pass 2: shrink body text that came out larger than a heading, then draw one block at a time.
    for (block, text, style, spec, others, plan), cap in zip(planned, caps, strict=True):
        try:
            if isinstance(plan, Exception):
                raise plan
            if cap is not None:
                capped = settings.model_copy(update={"max_font_px": cap})
                plan = layout_block(block, text, style, capped, target, spec, image=image, obstacles=others)
            drawing = paint_block(plan, style, spec, image.shape[:2])
        except Exception as e:  # one block's failure must not lose the page  # noqa: BLE001
            msg = f"could not draw the translation: {type(e).__name__}: {e}"
            diags.append(Diagnostic.of(RenderCode.RENDER_FAILED, msg, Severity.ERROR, block.id))
            continue
        if drawing.patch is None:
            msg = "block lies outside the image"
            diags.append(Diagnostic.of(RenderCode.OUTSIDE_IMAGE, msg, Severity.INFO, block.id))
            continue
        yield BlockRender(block, text, style, spec, drawing)
        if drawing.layout.overflow:
            msg = (
                f"text does not fit in {drawing.layout.region[0]:.0f}x{drawing.layout.region[1]:.0f} px "
                f"at the smallest size ({drawing.layout.font_px} px); drawn overflowing"
            )
            diags.append(Diagnostic.of(RenderCode.OVERFLOW, msg, Severity.WARNING, block.id))


def heading_order_caps(fitted: Sequence[tuple[float, int]], min_px: int) -> list[int | None]:
    """Largest size each block may be drawn at so that body text does not outgrow its headings.

    A block whose source lettering is at least `HEADING_RATIO` times another's is its heading
    (a sign's name over its opening hours, a menu section over its items). A long translation
    of a short heading can only fit smaller than its source; body text fitted larger than such
    a heading is drawn no larger than it, but never below its own source size (nor `min_px`):
    the body gives back what it grew past its source (at most `layout.SOURCE_SIZE_CAP`), not
    legibility. Shrinking body text further, to the heading's size, was measured on the real
    photos: it made read-back CER worse (0.59 -> 0.65) and menus and notices tiny.

    Args:
        fitted: Per block, (source font size, fitted font px); a source size of 0 is unknown
            and takes part in no comparison.
        min_px: The smallest size drawn.

    Returns:
        Per block, the size to fit it at again, or None where its fitted size stands.
    """
    caps: list[int | None] = []
    for source, px in fitted:
        headings = [
            h_px for h_src, h_px in fitted if source > 0 and h_src >= HEADING_RATIO * source and h_px > 0
        ]
        limit = max(min(headings, default=px), math.ceil(source), min_px)
        caps.append(limit if limit < px else None)
    return caps


def draw_block(
    block: Block,
    text: str,
    style: Style,
    settings: RenderSettings,
    target: str,
    font_spec: FontSpec,
    image_shape: tuple[int, int],
    *,
    image: np.ndarray | None = None,
    obstacles: Sequence[Quad] = (),
) -> BlockDrawing:
    """Lay out and draw one block's text; return its patch for an image of `image_shape` (H, W).

    `layout_block` then `paint_block`; see them for the arguments.
    """
    plan = layout_block(block, text, style, settings, target, font_spec, image=image, obstacles=obstacles)
    return paint_block(plan, style, font_spec, image_shape)


@dataclass(frozen=True)
class BlockLayout:
    """Where one block's text goes, before it is drawn: `BlockDrawing` without the patch."""

    layout: Layout
    quad: Quad
    region: Region
    origin: tuple[float, float]
    #: A block of one line set along an arc: its quads (`Line.curve`); the layout is then made
    #: on the arc straightened (`quad` is that strip, at the origin) and bent back onto it.
    curve: np.ndarray | None = None


def layout_block(
    block: Block,
    text: str,
    style: Style,
    settings: RenderSettings,
    target: str,
    font_spec: FontSpec,
    *,
    image: np.ndarray | None = None,
    obstacles: Sequence[Quad] = (),
) -> BlockLayout:
    """Fit one block's text: its size, lines and the region it fills, in the block's own frame.

    With the erased `image`, the text is fitted into the bubble, caption or plate around the
    block (`regions.enclosing_region`): it may grow past the block's own box inside it, and
    stops at its outline where the box runs past it. Without one (text on a photo, a
    background that runs on past the searched window), the block's own box is used
    (`layout.text_region`); where the text would come out smaller than its source there, it
    may run on along its lines over free background (`regions.room_along`).

    Args:
        block: The block (its quad, direction and alignment).
        text: The translated text.
        style: Colours, outline, source font size and angle.
        settings: Render settings.
        target: Target language code ("auto": the page's own text, laid out in the language
            its script shows, `languages.drawn_language`).
        font_spec: The font.
        image: The erased image, searched for the region around the block.
        obstacles: Quads of the other blocks drawn on the page (kept out of this one's region).

    Returns:
        The layout, the quad the text is mapped onto, the region found, and where the
        layout's region starts in the quad's frame.
    """
    curve = arc_of(block)
    if curve is None:
        quad = placement_quad(block, style)
    else:
        # Lettering along an arc is drawn along it: laid out on the arc straightened, with no
        # region around it (the strip is no place on the page), and bent back in `paint_block`.
        pieces, strip_h = strip_pieces(curve)
        quad = Quad.from_rect(0.0, 0.0, float(sum(width for _, width in pieces)), float(strip_h))
        image = None
    qw, qh = quad.width, quad.height
    if qw < 1 or qh < 1:
        raise ValueError(f"degenerate block quad ({qw:.1f}x{qh:.1f} px)")
    target = drawn_language(text, target)
    direction = layout_direction(block.direction, target, settings.vertical_for_cjk)
    own_w, own_h = text_region(qw, qh, block.direction, direction)
    own = ((qw - own_w) / 2, 0.0, (qw + own_w) / 2, own_h)
    region = Region((), "no image")
    if image is not None:
        inset = max(1.0, REGION_INSET_EM * style.font_size)
        region = enclosing_region(image, quad, obstacles, own_boxes=[own], inset_px=inset)
    outlined = style.outline_color is not None and style.font_size > 0
    stroke_ratio = style.outline_width / style.font_size if outlined else 0.0

    def fit(
        w: float, h: float, min_px: int = settings.min_font_px, max_px: int = settings.max_font_px
    ) -> Layout:
        return fit_block(
            text,
            target,
            w,
            h,
            direction,
            font_spec,
            min_px,
            max_px,
            style.font_size,
            alignment=block.alignment,
            stroke_ratio=stroke_ratio,
        )

    def started(found: Region) -> Region:
        if found.bounded and block.direction is direction is Direction.HORIZONTAL:
            # A left-aligned label on a plate starts where its source started (a right-aligned
            # one ends there), not at the plate's edge; a centred one may use the plate's width.
            return replace(found, boxes=tuple(_keep_start(box, own, block.alignment) for box in found.boxes))
        return found

    cap = size_cap(settings.min_font_px, settings.max_font_px, style.font_size)
    # The words a break must not split: spaced words; in Japanese and Chinese, which break
    # between any two characters, only their Latin words and numbers (a whole zh sign's text
    # is no word: kept "whole", it was drawn as one small column, zh01 b34).
    pieces = str.split if target not in NO_SPACE_LANGUAGES else _latin_runs
    words = set(pieces(text))

    def score(lay: Layout) -> tuple[bool, bool, int]:
        whole = all(w in words for line in lay.lines for w in pieces(line))
        return (not lay.overflow, whole, lay.font_px)

    def best_box(boxes: tuple[Box, ...], max_px: int = settings.max_font_px) -> tuple[Layout, Box]:
        """The bubble's rectangle that fits the text with whole words at the largest size (at
        most `max_px`); the largest rectangle on a tie."""
        layout, chosen = fit(*_size(boxes[0]), max_px=max_px), boxes[0]
        best = score(layout)
        for box in boxes[1:]:
            if best >= (True, True, cap):
                break
            # Once whole words fit, another rectangle only counts if it holds them larger.
            floor = settings.min_font_px
            if best[:2] == (True, True):
                floor = layout.font_px + 1
                if not fits_whole_words(text, target, *_size(box), direction, font_spec, floor, stroke_ratio):
                    continue
            trial = fit(*_size(box), min_px=floor, max_px=max_px)
            if score(trial) > best:
                layout, chosen, best = trial, box, score(trial)
        return layout, chosen

    region = started(region)
    if region.bounded:
        inset_region = region
        # The source's own footprint too, when drawn in its own direction: the pale strip
        # between two columns of a hanging sign is no room for both (zh01 b34).
        boxes = region.boxes + ((own,) if block.direction is direction else ())
        layout, chosen = best_box(boxes)
        if score(layout)[:2] != (True, True) and image is not None:
            # Text that overflows the rectangle kept off the bubble's walls, or fits it only
            # with its words split ("hm-/m", OpenMantra dev 004), may still fit whole between
            # the walls: drawn centred, it would reach there anyway.
            walls = started(
                enclosing_region(image, quad, obstacles, own_boxes=[own], inset_px=0.0, inset=0.0)
            )
            if walls.bounded:
                # Words split in the rectangle are set whole no larger: the walls are no margin.
                trial, box = best_box(
                    walls.boxes, layout.font_px if not layout.overflow else settings.max_font_px
                )
                if score(trial)[:2] > score(layout)[:2]:
                    layout, chosen, region = trial, box, walls
        rx0, ry0 = (
            chosen[0],
            _level_with_source(layout, chosen, own) if block.direction is direction else chosen[1],
        )
        centred = block.alignment is Alignment.CENTRE or block.direction is Direction.VERTICAL
        if direction is Direction.HORIZONTAL and (centred or score(layout)[:2] != (True, True)):
            # Lines shaped to the bubble (wider in its middle) where they fit larger, or where
            # rectangles leave the text overflowing or split.
            shaped = fit_shaped(text, target, inset_region.rows, inset_region.axis, font_spec,
                                settings.min_font_px, settings.max_font_px, style.font_size,
                                stroke_ratio=stroke_ratio)  # fmt: skip
            if shaped is not None and score(shaped[0]) > score(layout):
                (layout, (rx0, ry0)), region = shaped, inset_region
    else:
        rx0, ry0 = own[0], own[1]
        layout = fit(own_w, own_h)
        shrunk = style.font_size > 0 and layout.font_px < style.font_size - 0.5
        if image is not None and shrunk and block.direction is direction is Direction.HORIZONTAL:
            # On an open background the row beside the block may be empty: run the text on
            # along it, no larger than its source, rather than wrap and shrink in place.
            line_px = qh / max(1, len(block.lines))
            room = room_along(image, quad, obstacles, block.alignment, ALONG_GAP_EM * line_px)
            if room is not None:
                source_px = max(settings.min_font_px, min(settings.max_font_px, math.ceil(style.font_size)))
                trial = fit(room[2] - room[0], own_h, max_px=source_px)
                if not trial.overflow and trial.font_px > layout.font_px:
                    layout, rx0, ry0 = trial, room[0], 0.0
    return BlockLayout(layout, quad, region, (rx0, ry0), curve)


def arc_of(block: Block) -> np.ndarray | None:
    """The quads (K, 4, 2) of a block that is one line set along an arc, else None."""
    if len(block.lines) != 1 or not block.lines[0].curve:
        return None
    return segments_of(block.lines[0])


def _level_with_source(layout: Layout, box: Box, own: Box) -> float:
    """Where in ``box`` a layout fitted into it starts (its top), moved from the box's middle
    towards the source lines' middle as far as the ink stays inside the box.

    A plate's free rectangle reaches from the line above to the plate's edge: centred in it, a
    sign's subtitle was drawn a line lower than its source, and the title above it higher.
    """
    _, y0, _, y1 = box
    _, ink_top, _, ink_bottom = layout.ink_box
    want = (own[1] + own[3]) / 2 - (y0 + (ink_top + ink_bottom) / 2)
    lowest, highest = -ink_top, (y1 - y0) - ink_bottom  # shifts that keep the ink in the box
    if layout.overflow or lowest > highest:
        return y0
    return y0 + min(max(want, lowest), highest)


def _latin_runs(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9]+", text)


def _keep_start(box: Box, own: Box, alignment: Alignment) -> Box:
    """`box` cut so that the block's lines start (left) or end (right) where its own box does."""
    x0, y0, x1, y1 = box
    if alignment is Alignment.LEFT and x0 < own[0] < x1:
        return (own[0], y0, x1, y1)
    if alignment is Alignment.RIGHT and x0 < own[2] < x1:
        return (x0, y0, own[2], y1)
    return box


def paint_block(
    plan: BlockLayout, style: Style, font_spec: FontSpec, image_shape: tuple[int, int]
) -> BlockDrawing:
    """Draw a block's laid-out text in its style; the patch is for an image of `image_shape` (H, W).

    Returns:
        The layout, the quad the text was mapped onto, the patch (None if the quad lies
        wholly outside the image), the region found and its origin.
    """
    layout, quad = plan.layout, plan.quad
    region_w, region_h = layout.region
    rx0, ry0 = plan.origin
    qw, qh = quad.width, quad.height
    # The canvas covers the region and any overflowing ink, with a little room for antialiasing.
    ix0, iy0, ix1, iy1 = layout.ink_box
    cx0 = math.floor(min(0.0, ix0)) - 2
    cy0 = math.floor(min(0.0, iy0)) - 2
    cx1 = math.ceil(max(region_w, ix1)) + 2
    cy1 = math.ceil(max(region_h, iy1)) + 2
    fill, cover = draw_masks(layout, font_spec, (cx1 - cx0, cy1 - cy0), (cx0, cy0))
    premul, alpha = _colourise(fill, cover, style)
    # canvas pixel -> region coordinates -> the quad's own coordinates -> image.
    to_quad = _translation(cx0 + rx0, cy0 + ry0)
    if plan.curve is not None:
        patch = _warp_along(premul, alpha, to_quad, plan.curve, image_shape)
        return BlockDrawing(layout, quad, patch, plan.region, (rx0, ry0), plan.curve)
    src = np.float32([[0, 0], [qw, 0], [qw, qh], [0, qh]])
    h_quad = cv2.getPerspectiveTransform(src, np.float32(quad.points)).astype(np.float64)
    patch = _warp(premul, alpha, h_quad @ to_quad, image_shape)
    return BlockDrawing(layout, quad, patch, plan.region, (rx0, ry0))


def _warp_along(
    premul: np.ndarray,
    alpha: np.ndarray,
    to_strip: np.ndarray,
    curve: np.ndarray,
    image_shape: tuple[int, int],
) -> Patch | None:
    """A canvas laid out on an arc straightened (``to_strip``: canvas pixel -> strip) bent back
    onto the arc: each of its quads takes the canvas columns of its stretch of the strip (the
    first and last also what runs past the strip's ends), each warped as `_warp` warps a quad's."""
    pieces, strip_h = strip_pieces(curve)
    cw = alpha.shape[1]
    starts = np.cumsum([0] + [width for _, width in pieces])
    columns = np.arange(cw) + to_strip[0, 2]  # the strip x of each canvas column
    out: Patch | None = None
    for i, (src, width) in enumerate(pieces):
        lo = -np.inf if i == 0 else starts[i] - 1
        hi = np.inf if i == len(pieces) - 1 else starts[i] + width + 1
        kept = np.flatnonzero((columns >= lo) & (columns < hi))
        if len(kept) == 0 or not alpha[:, kept[0] : kept[-1] + 1].any():
            continue
        c0, c1 = int(kept[0]), int(kept[-1]) + 1
        rect = np.float32(
            [[starts[i], 0], [starts[i] + width, 0], [starts[i] + width, strip_h], [starts[i], strip_h]]
        )
        h_piece = cv2.getPerspectiveTransform(rect, np.float32(src)).astype(np.float64)
        # Only the piece's own columns are warped with its homography (far from its quad it
        # runs off to infinity).
        part = _warp(premul[:, c0:c1], alpha[:, c0:c1], h_piece @ to_strip @ _translation(c0, 0), image_shape)
        out = part if out is None else _over(part, out)
    return out


def _over(top: Patch | None, under: Patch) -> Patch:
    """Two patches as one over the window holding both, ``top`` composited over ``under``."""
    if top is None:
        return under
    x0, y0 = min(top.x0, under.x0), min(top.y0, under.y0)
    x1 = max(top.x0 + top.alpha.shape[1], under.x0 + under.alpha.shape[1])
    y1 = max(top.y0 + top.alpha.shape[0], under.y0 + under.alpha.shape[0])
    premul = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
    alpha = np.zeros((y1 - y0, x1 - x0), np.float32)
    for p in (under, top):
        ys, xs = (
            slice(p.y0 - y0, p.y0 - y0 + p.alpha.shape[0]),
            slice(p.x0 - x0, p.x0 - x0 + p.alpha.shape[1]),
        )
        a = p.alpha[..., None]
        premul[ys, xs] = p.premul + premul[ys, xs] * (1.0 - a)
        alpha[ys, xs] = p.alpha + alpha[ys, xs] * (1.0 - p.alpha)
    return Patch(x0, y0, premul, alpha)


def draw_masks(
    layout: Layout, font_spec: FontSpec, size: tuple[int, int], offset: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a layout's text as coverage masks on an upright canvas.

    Args:
        layout: The layout (region coordinates).
        font_spec: The font.
        size: Canvas (width, height).
        offset: Region coordinates of the canvas's top-left pixel.

    Returns:
        (fill, cover): uint8 (h, w) masks of the glyph fill and of fill plus outline
        (the same array when there is no outline).
    """
    fill = Image.new("L", size, 0)
    cover = Image.new("L", size, 0) if layout.stroke_px else fill
    font = font_spec.load(layout.font_px)
    ox, oy = offset
    if layout.direction == Direction.VERTICAL:
        for column, (cx, top) in zip(layout.lines, layout.origins, strict=True):
            _draw_column(fill, cover, column, cx - ox, top - oy, font_spec, font, layout)
    else:
        for line, (x, y) in zip(layout.lines, layout.origins, strict=True):
            _text(fill, cover, (x - ox, y - oy), line, font, layout.anchor, layout.stroke_px, None)
    fill_a = np.asarray(fill)
    return fill_a, (np.asarray(cover) if cover is not fill else fill_a)


def composite(image: np.ndarray, patch: Patch) -> None:
    """Blend a patch into `image` in place; pixels where the patch's alpha is 0 are not written."""
    h, w = patch.alpha.shape
    window = image[patch.y0 : patch.y0 + h, patch.x0 : patch.x0 + w]
    touched = patch.alpha > 0
    a = patch.alpha[touched][:, None]
    blended = window[touched].astype(np.float32) * (1.0 - a) + patch.premul[touched]
    window[touched] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def placement_quad(block: Block, style: Style) -> Quad:
    """The quad the text is drawn into: the block's, unless its angle disagrees with the style's.

    A grouping stage may give a block an axis-aligned quad around rotated lines. When
    `style.angle` is more than `ANGLE_TOLERANCE` degrees outside the range of the block
    quad's top and bottom edge angles (a perspective quad's lines lie between the two),
    the text goes into the smallest rectangle at `style.angle` that holds every line quad.
    """
    _, _, c, d = block.quad.points
    top = _wrap(block.quad.angle - style.angle)
    bottom = _wrap(-math.degrees(math.atan2(c[1] - d[1], c[0] - d[0])) - style.angle)
    # In a perspective quad the lines' angles lie between those of its top and bottom edges.
    if min(top, bottom) - ANGLE_TOLERANCE <= 0.0 <= max(top, bottom) + ANGLE_TOLERANCE:
        return block.quad
    pts = np.array([p for ln in block.lines for p in ln.quad.points] or block.quad.points, np.float64)
    theta = math.radians(style.angle)
    ux = np.array([math.cos(theta), -math.sin(theta)])  # the text's x axis (image y points down)
    uy = np.array([math.sin(theta), math.cos(theta)])  # the text's y axis
    u, v = pts @ ux, pts @ uy
    corners = [(u.min(), v.min()), (u.max(), v.min()), (u.max(), v.max()), (u.min(), v.max())]
    return Quad.from_list([a * ux + b * uy for a, b in corners])


def default_style(image: np.ndarray, block: Block) -> Style:
    """A style for a block that has none: black or white on the erased background's median colour."""
    x0, y0, x1, y1 = (round(v) for v in block.quad.bbox)
    h, w = image.shape[:2]
    window = image[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)].reshape(-1, 3)
    bg: RGB = (255, 255, 255)
    if len(window):
        r, g, b = (int(v) for v in np.median(window, axis=0))
        bg = (r, g, b)
    return Style(
        text_color=legible_on(bg),
        background_color=bg,
        font_size=source_font_size(block),
        angle=source_angle(block),
    )


def _draw_column(
    fill: Image.Image,
    cover: Image.Image,
    column: str,
    cx: float,
    top: float,
    spec: FontSpec,
    font: ImageFont.FreeTypeFont,
    layout: Layout,
) -> None:
    """Draw one vertical column, cell by cell, centred on x = cx from y = top down."""
    px, stroke = layout.font_px, layout.stroke_px
    baseline_drop = -em_top(font, px)
    feats = vertical_features()
    for cell in vertical_cells(column, font, px):
        y = top + cell.y
        if cell.kind == "cjk":
            x = cx - font.getlength(cell.text) / 2
            _text(fill, cover, (x, y + baseline_drop), cell.text, font, "ls", stroke, feats)
        elif cell.kind == "upright":
            _text(fill, cover, (cx, y + cell.height / 2), cell.text, font, "mm", stroke, None)
        elif cell.kind == "tcy":
            length = font.getlength(cell.text)
            small = font if length <= 0.95 * px else spec.load(max(1, int(px * 0.95 * px / length)))
            _text(fill, cover, (cx, y + cell.height / 2), cell.text, small, "mm", stroke, None)
        elif cell.kind == "rotated":
            _rotated_run(fill, cover, cell.text, font, (cx, y), cell.height, stroke)


def _rotated_run(
    fill: Image.Image,
    cover: Image.Image,
    text: str,
    font: ImageFont.FreeTypeFont,
    top_centre: tuple[float, float],
    length: float,
    stroke: int,
) -> None:
    """A Latin run turned 90 degrees clockwise, its top at `top_centre`."""
    asc, desc = font.getmetrics()
    pad = stroke + 2
    w, h = math.ceil(length) + 2 * pad, asc + desc + 2 * pad
    f_run = Image.new("L", (w, h), 0)
    c_run = Image.new("L", (w, h), 0) if cover is not fill else f_run
    _text(f_run, c_run, (pad, h / 2), text, font, "lm", stroke, None)
    cx, y = top_centre
    at = (round(cx - h / 2), round(y - pad))
    pairs = [(f_run, fill)] if cover is fill else [(f_run, fill), (c_run, cover)]
    for src, dst in pairs:
        rot = src.transpose(Image.Transpose.ROTATE_270)
        box = (at[0], at[1], at[0] + rot.width, at[1] + rot.height)
        dst.paste(ImageChops.lighter(dst.crop(box), rot), box)


def _text(
    fill: Image.Image,
    cover: Image.Image,
    xy: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont,
    anchor: str,
    stroke: int,
    feats: list[str] | None,
) -> None:
    """Draw text into the fill mask, and with its outline into the cover mask."""
    ImageDraw.Draw(fill).text(xy, text, fill=255, font=font, anchor=anchor, features=feats)
    if cover is not fill:
        ImageDraw.Draw(cover).text(
            xy, text, fill=255, font=font, anchor=anchor, features=feats, stroke_width=stroke, stroke_fill=255
        )


def _colourise(fill: np.ndarray, cover: np.ndarray, style: Style) -> tuple[np.ndarray, np.ndarray]:
    """Premultiplied colour and alpha: the fill in the text colour, the rest of the cover in the outline's."""
    f = fill.astype(np.float32) / 255.0
    a = np.maximum(cover.astype(np.float32) / 255.0, f)
    text = np.array(style.text_color, np.float32)
    premul = f[..., None] * text
    if style.outline_color is not None and cover is not fill:
        premul += (a - f)[..., None] * np.array(style.outline_color, np.float32)
    return premul, a


def _size(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return box[2] - box[0], box[3] - box[1]


def _wrap(degrees: float) -> float:
    return (degrees + 180.0) % 360.0 - 180.0


def _translation(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def _warp(
    premul: np.ndarray, alpha: np.ndarray, h_canvas: np.ndarray, image_shape: tuple[int, int]
) -> Patch | None:
    """Warp the canvas onto the image window its corners land in; None if that window is empty."""
    ch, cw = alpha.shape
    corners = np.array([[0, 0, 1], [cw, 0, 1], [cw, ch, 1], [0, ch, 1]], np.float64) @ h_canvas.T
    if np.any(corners[:, 2] <= 1e-9):
        raise ValueError("the block quad maps part of the canvas behind the viewer (bad perspective)")
    xy = corners[:, :2] / corners[:, 2:]
    ih, iw = image_shape
    x0, y0 = max(0, math.floor(xy[:, 0].min())), max(0, math.floor(xy[:, 1].min()))
    x1, y1 = min(iw, math.ceil(xy[:, 0].max()) + 1), min(ih, math.ceil(xy[:, 1].max()) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    m = _translation(-x0, -y0) @ h_canvas
    m = m / m[2, 2]
    if np.allclose(m[:2, :2], np.eye(2), atol=1e-6) and np.allclose(m[2, :2], 0, atol=1e-9):
        m[0, 2], m[1, 2] = round(m[0, 2]), round(m[1, 2])  # a pure shift: keep the glyphs crisp
    size = (x1 - x0, y1 - y0)
    rgba = np.dstack([premul, alpha * 255.0]).astype(np.float32)
    warped = cv2.warpPerspective(
        rgba, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0)
    )
    a = np.clip(warped[..., 3] / 255.0, 0.0, 1.0)
    a[a < 1.0 / 512] = 0.0  # interpolation dust is no ink
    premul_w = np.where(a[..., None] > 0, warped[..., :3], 0.0).astype(np.float32)
    return Patch(x0, y0, premul_w, a.astype(np.float32))
