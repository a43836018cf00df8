"""Estimate how a block's original lettering looked: colours, outline, size and angle.

*Ink* is every pixel near the text mask that differs clearly from the local background,
so the estimate does not depend on how tightly or loosely the erase stage drew its mask
(an outline left outside the mask is still found). The ink's colours are split in two:
if the second colour is distinct from the first and from the background, is not a blend
of the two (as antialiased edges are), and *encloses* the first (the fill seldom touches
the background, the rim often does; in large lettering, most of the fill's border meets the
rim), it is an outline: black comic lettering with a white rim on art, a stall's red title
with a pale rim. Its width is how deep the fill's edge lies inside the ink.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from imtrans.erase.background import dominant_colour, fit_plane, vector_norm
from imtrans.erase.mask import dilated
from imtrans.erase.threads import workers
from imtrans.types import RGB, Block, Direction, Line, Quad, Style

#: Detected line quads are this much taller than the lettering's em (the detector's margin):
#: the geometric mean of quad height / true font size over 179 blocks of the synthetic
#: training sets (30 samples per language; ko 1.46, en 1.33, ja 1.40, zh 1.52).
QUAD_PER_EM = 1.43
#: Colour distance (Euclidean RGB) above which a pixel counts as ink rather than background.
INK_THRESHOLD = 48.0
#: An outline's colour must be this far from the fill, the background, and their blend.
DISTINCT_COLOUR = 60.0
#: Lettering this large (px per em) or larger is "large": the share of its pixels on an edge
#: no longer tells fill from outline (zh01's 557 px title: 0.028 and 0.035).
LARGE_LETTERING_PX = 64.0
#: In large lettering, share of the fill's border that must meet the second colour for it to
#: count as an outline.
ENCLOSED_SHARE = 0.6
#: Text and background closer than this (without an outline) are replaced by black or white.
MIN_CONTRAST = 70.0
# Fewer ink pixels than this: the estimate falls back to a legible default.
_MIN_INK = 8
# Fewest pixels a colour cluster needs to count.
_MIN_LEVEL = 4
# Share of a solid fill's pixels, the farthest from the background, whose median is its colour
# (synthetic training sets, 187 blocks: CIEDE2000 to the true colour, median 6.1 with all
# pixels, 2.7 with the farthest half, 1.8 with the farthest tenth).
_PURE_SHARE = 0.1
#: Lab distance from the background-to-pure-colour blends beyond which the lettering's commonest
#: colour is another colour, not a paler tone of the pure one (about 10 reads as another colour).
_OTHER_HUE = 20.0
# Background read inside the quads: at least this many free pixels, this share of them
# within `_PLATE_SPREAD` (RGB distance) of their commonest colour.
_MIN_BACKGROUND = 20
_MIN_PLATE_SHARE = 0.4
_PLATE_SPREAD = 24.0
# A ramp's plane is first fitted to the pixels this many spreads from the commonest colour.
_RAMP_SEED = 2.0


def estimate_styles(
    image: np.ndarray, blocks: Sequence[Block], text_mask: np.ndarray, whole_box: Collection[str] = ()
) -> dict[str, Style]:
    """`estimate_style` of every block, by block id; blocks are read in parallel threads
    (OpenCV and NumPy's large loops release the GIL; about 20% less time on two cores)."""
    with ThreadPoolExecutor(max_workers=workers(len(blocks))) as pool:
        styles = list(pool.map(lambda b: estimate_style(image, b, text_mask, whole_box), blocks))
    return {b.id: st for b, st in zip(blocks, styles, strict=True)}


def estimate_style(
    image: np.ndarray, block: Block, text_mask: np.ndarray, whole_box: Collection[str] = ()
) -> Style:
    """Estimate a block's lettering style from the original image and the text mask.

    Args:
        image: The original RGB uint8 image (H, W, 3), before erasing.
        block: The block; its line quads say where the glyphs are.
        text_mask: uint8 (H, W), 255 at text pixels (from the erase stage).
        whole_box: Ids of lines the erase stage masked as whole boxes (`TextMask.fallback_line_ids`):
            their mask is not text pixels. Inside them the text is what differs from a flat
            plate that fills most of the quads; with no such plate, and no other line to read,
            the style is a legible default on the background.

    Returns:
        The style: text and background colours, outline colour and width (source pixels),
        font size (px per em, from the median line height; line width for vertical lines)
        and angle (median line angle, degrees counter-clockwise).
    """
    quads = [ln.quad for ln in block.lines] or [block.quad]
    extent = line_extent(block)
    font_size = extent / QUAD_PER_EM
    angle = source_angle(block)
    base = Style(font_size=font_size, angle=angle)

    # Margins scale with the quads, as the mask's do.
    pad = max(3.0, 0.3 * extent)
    reach = max(3, round(0.25 * extent))  # outlines are at most about a third of an em
    polys = [_expand(q, pad) for q in quads]
    h, w = text_mask.shape[:2]
    allpts = np.concatenate(polys)
    x0 = max(0, math.floor(allpts[:, 0].min()))
    y0 = max(0, math.floor(allpts[:, 1].min()))
    x1 = min(w, math.ceil(allpts[:, 0].max()) + 1)
    y1 = min(h, math.ceil(allpts[:, 1].max()) + 1)
    if x1 <= x0 or y1 <= y0:
        return base

    img = image[y0:y1, x0:x1, :3].astype(np.float32)
    mask = text_mask[y0:y1, x0:x1] > 0
    region = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(region, [np.round(p - (x0, y0)).astype(np.int32) for p in polys], 1)
    region_b = region > 0
    # A whole-box mask says nothing about where the glyphs are: forget it, and look for
    # ink anywhere in those lines' quads (`unknown`) against a plate, if there is one.
    boxed = [(q, p) for ln, q, p in zip(block.lines, quads, polys, strict=False) if ln.id in whole_box]
    unknown = np.zeros(mask.shape, bool)
    if boxed:
        forget = np.zeros(mask.shape, np.uint8)
        cv2.fillPoly(forget, [np.round(p - (x0, y0)).astype(np.int32) for _, p in boxed], 1)
        mask &= forget == 0
        known = np.zeros(mask.shape, np.uint8)
        cv2.fillPoly(known, [np.round(np.asarray(q.points) - (x0, y0)).astype(np.int32) for q, _ in boxed], 1)
        unknown = known > 0

    # The background is read inside the lines' own quads when they show one flat colour:
    # the margin around them may already be off a plate that fits the text tightly (a
    # label on a photo), where the photo would pass for background and the plate for ink.
    inner = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(inner, [np.round(np.asarray(q.points) - (x0, y0)).astype(np.int32) for q in quads], 1)
    plate = _plate_pixels(img, mask, inner > 0)
    if plate is not None:
        bg_sel, region_b = plate, inner > 0
    else:
        bg_sel = _background_pixels(mask | unknown, region_b, reach)
        unknown[:] = False  # no plate: nothing there tells the ink from the background
    if bg_sel.sum() == 0:
        bg_sel = region_b
    bg = np.median(img[bg_sel], axis=0) if bg_sel.any() else np.array([255.0, 255.0, 255.0])
    local_bg = _local_mean(img, bg_sel, bg, size=max(9, 2 * reach + 1, int(extent) | 1))
    if boxed and not (mask.any() or unknown.any()):
        return _legible(base, bg)

    near = dilated(mask, reach) | unknown
    differs = np.linalg.norm(img - local_bg, axis=2) > INK_THRESHOLD
    ink = near & region_b & differs
    if ink.sum() < _MIN_INK:
        ink = mask & region_b
    if ink.sum() < _MIN_INK:
        return _legible(base, bg)

    text, outline, width = _split_ink(ink, img, bg, large=font_size >= LARGE_LETTERING_PX)
    style = Style(
        text_color=_rgb(text),
        background_color=_rgb(bg),
        outline_color=_rgb(outline) if outline is not None else None,
        outline_width=width if outline is not None else 0,
        font_size=font_size,
        angle=angle,
    )
    if outline is None and _dist(text, bg) < MIN_CONTRAST:
        return _legible(style, bg)
    return style


def _split_ink(
    ink: np.ndarray, img: np.ndarray, bg: np.ndarray, large: bool = False
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Fill colour, outline colour (or None) and outline width (px) of the ink pixels.

    The ink's colours are split in two (2-means). Two clusters make an outline when both
    stand apart from each other and from the background, the second is not a blend of the
    first with the background (antialiased edges are), and it encloses the first: the
    fill's pixels seldom touch the background, the outline's often do. The outline's
    width is how deep the fill's own edge lies inside the ink. In `large` lettering (a
    sign's title) the edge share says little (see below) and enclosure decides instead.
    """
    depth = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 3)
    colours = img[ink]
    touching = depth[ink] < 1.5  # next to a non-ink pixel
    labels, centres = _two_means(colours, bg)
    sizes = [int((labels == k).sum()) for k in (0, 1)]
    if min(sizes) < _MIN_LEVEL:
        return _solid(colours, touching, bg), None, 0
    edge = [float(touching[labels == k].mean()) for k in (0, 1)]
    fill_k = 0 if edge[0] <= edge[1] else 1
    fill, rim = centres[fill_k], centres[1 - fill_k]
    apart = min(_dist(fill, rim), _dist(rim, bg), _dist(fill, bg), _segment_dist(rim, fill, bg))
    fill_mask = np.zeros(ink.shape, np.uint8)
    fill_mask[ink] = labels == fill_k
    border = (fill_mask > 0) & (cv2.erode(fill_mask, np.ones((3, 3), np.uint8)) == 0)
    # In large lettering: the fill's border where it meets the rim.
    on_rim = (
        border & (cv2.dilate((ink & (fill_mask == 0)).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
        if large
        else border
    )
    outlined = apart > DISTINCT_COLOUR and (
        edge[fill_k] <= 0.5 * edge[1 - fill_k]
        # Large lettering with a thick rim has few pixels on any edge, and where glare hides
        # the rim the fill touches the background: there, enclosure decides (most of the
        # fill's border meets the rim), unless the fill is the blend (blurred dark digits
        # read as a pale fill inside a dark rim). Not in small text: a shadow beside thin
        # strokes encloses their outline as well.
        or (
            large
            and on_rim.sum() >= ENCLOSED_SHARE * border.sum() > 0
            and _segment_dist(fill, rim, bg) > DISTINCT_COLOUR
        )
    )
    if not outlined:
        # One colour and its antialiased edge (or two-tone lettering): the fill is the
        # cluster standing out more from the background.
        far = 0 if _dist(centres[0], bg) >= _dist(centres[1], bg) else 1
        return _solid(colours[labels == far], touching[labels == far], bg), None, 0
    fill_c = np.median(colours[labels == fill_k], axis=0)
    rim_c = np.median(colours[labels != fill_k], axis=0)
    # Where outlines of neighbouring strokes merge, the fill's edge lies deeper: take a low
    # quantile. In large lettering, only where the rim is (glare hides it elsewhere), with
    # one-pixel cracks closed (the blend of fill and rim can pass for the background).
    edge_px = border
    if large:
        edge_px = on_rim if on_rim.any() else border
        whole = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
        depth = cv2.distanceTransform(whole, cv2.DIST_L2, 3)
    width = max(1, round(float(np.percentile(depth[edge_px], 25)) - 1.0)) if edge_px.any() else 1
    return fill_c, rim_c, width


def _solid(colours: np.ndarray, touching: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """The lettering's own colour: the median of the pixels that stand out most from the
    background (`_PURE_SHARE` of them), leaving out antialiased edge pixels when enough
    others remain. Thin or blurred strokes have few pixels of the pure colour, and a plain
    median is pulled towards the background (black text read as dark grey)."""
    inner = colours[~touching]
    pool = inner if len(inner) >= _MIN_LEVEL else colours
    far = vector_norm(pool - bg)
    pure = np.median(pool[far >= np.percentile(far, 100 * (1 - _PURE_SHARE))], axis=0)
    # A few pixels of another colour can stand out more than the lettering does (a shop
    # window's dark frames across red letters): the pure colour must lie on the way from the
    # background to the lettering's commonest colour, else it is taken from that colour's pixels.
    main = dominant_colour(pool[far >= np.median(far)])
    if _segment_dist(*_lab(np.stack([main, bg, pure]))) <= _OTHER_HUE:
        return pure
    own = pool[vector_norm(_lab(pool) - _lab(main)) < _OTHER_HUE]
    if len(own) < _MIN_LEVEL:
        return pure
    own_far = vector_norm(own - bg)
    return np.median(own[own_far >= np.percentile(own_far, 100 * (1 - _PURE_SHARE))], axis=0)


def _two_means(colours: np.ndarray, bg: np.ndarray, iterations: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic 2-means on colours, seeded by the colour farthest from the background
    and the colour farthest from that one; fitted on at most 4096 evenly spaced pixels."""
    sample = colours[:: max(1, len(colours) // 4096)].astype(np.float32)
    c0 = sample[int(np.argmax(((sample - bg) ** 2).sum(axis=1)))]
    c1 = sample[int(np.argmax(((sample - c0) ** 2).sum(axis=1)))]
    centres = np.stack([c0, c1])
    labels = np.zeros(len(sample), np.int32)
    for _ in range(iterations):
        new = _nearest(sample, centres)
        for k in (0, 1):
            if (new == k).any():
                centres[k] = sample[new == k].mean(axis=0)
        if np.array_equal(new, labels):
            break
        labels = new
    return _nearest(colours.astype(np.float32), centres), centres


def _nearest(colours: np.ndarray, centres: np.ndarray) -> np.ndarray:
    # |x - c1|^2 < |x - c0|^2  <=>  x . (c1 - c0) > (|c1|^2 - |c0|^2) / 2: one product, no (N, 3) temporaries.
    c0, c1 = centres[0].astype(np.float64), centres[1].astype(np.float64)
    return (colours @ (c1 - c0) > (c1 @ c1 - c0 @ c0) / 2).astype(np.int32)


def _plate_pixels(img: np.ndarray, mask: np.ndarray, inner: np.ndarray) -> np.ndarray | None:
    """The pixels of one flat colour that most of the quads' free area shows (a plate, a
    bubble, a panel), or None when no colour holds `_MIN_PLATE_SHARE` of it (text on a photo)."""
    free = inner & ~dilated(mask, 2)
    px = img[free]
    if len(px) < _MIN_BACKGROUND:
        return None
    off = vector_norm(px - dominant_colour(px))
    near = off < _PLATE_SPREAD
    if near.mean() < _MIN_PLATE_SHARE:
        # A plate lit unevenly along a long line (a sign under a lamp) is a ramp: a plane
        # through the pixels near its commonest colour, then through those near the plane.
        ys, xs = np.nonzero(free)
        near = off < _RAMP_SEED * _PLATE_SPREAD
        for _ in range(2):
            if near.sum() < _MIN_BACKGROUND:
                return None
            plane, _ = fit_plane(ys[near], xs[near], px[near])
            near = vector_norm(px - plane.at(ys, xs)) < _PLATE_SPREAD
        if near.mean() < _MIN_PLATE_SHARE:
            return None
    sel = np.zeros(free.shape, bool)
    sel[free] = near
    return sel


def _background_pixels(mask: np.ndarray, region: np.ndarray, reach: int) -> np.ndarray:
    """Pixels of the region clear of the text (and of any outline around it)."""
    for r in (reach, 2, 0):
        grown = dilated(mask, r) if r else mask
        sel = region & ~grown
        if sel.sum() >= 20:
            return sel
    return region & ~mask


def _local_mean(img: np.ndarray, sel: np.ndarray, fallback: np.ndarray, size: int) -> np.ndarray:
    """Mean background colour around each pixel (normalised box filter over `sel`)."""
    wts = sel.astype(np.float32)
    num = cv2.boxFilter(img * wts[..., None], -1, (size, size), normalize=False)
    den = cv2.boxFilter(wts, -1, (size, size), normalize=False)[..., None]
    out = np.where(den > 0.5, num / np.maximum(den, 1e-6), fallback[None, None, :])
    return out.astype(np.float32)


def source_font_size(block: Block) -> float:
    """Font size (px per em) of a block's lettering: `line_extent` over `QUAD_PER_EM`."""
    return line_extent(block) / QUAD_PER_EM


def line_extent(block: Block) -> float:
    """The median line height of a block's quads (line width for vertical lines)."""
    sizes = [_line_size(ln) for ln in block.lines]
    if not sizes:
        q = block.quad
        return float(q.width if block.direction == Direction.VERTICAL else q.height)
    return float(np.median(sizes))


def _line_size(line: Line) -> float:
    """A line's font size estimate: the quad's extent across the text."""
    # Vertical quads also put their first edge across the column, so 'width' is across.
    return line.quad.width if line.direction == Direction.VERTICAL else line.quad.height


def source_angle(block: Block) -> float:
    """Angle of a block's lettering: the median of its lines' angles (the block quad's without lines)."""
    return _median_angle([ln.quad.angle for ln in block.lines] or [block.quad.angle])


def _median_angle(angles: list[float]) -> float:
    """Median of angles in degrees, unwrapped around the first so 179 and -179 agree."""
    if not angles:
        return 0.0
    a0 = angles[0]
    unwrapped = [a0 + ((a - a0 + 180.0) % 360.0 - 180.0) for a in angles]
    m = float(np.median(unwrapped))
    return (m + 180.0) % 360.0 - 180.0


def _expand(q: Quad, pad: float) -> np.ndarray:
    """A quad's points pushed outwards by `pad` pixels along its own axes."""
    p = np.array(q.points, np.float64)
    ux = (p[1] - p[0]) + (p[2] - p[3])
    uy = (p[3] - p[0]) + (p[2] - p[1])
    ux /= max(np.linalg.norm(ux), 1e-9)
    uy /= max(np.linalg.norm(uy), 1e-9)
    signs = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    return np.array([p[i] + pad * (sx * ux + sy * uy) for i, (sx, sy) in enumerate(signs)])


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def _segment_dist(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Distance from colour c to the segment a-b (the blends an antialiased edge makes)."""
    c, a, b = (np.asarray(v, np.float64) for v in (c, a, b))
    ab = b - a
    t = float(np.clip(np.dot(c - a, ab) / max(np.dot(ab, ab), 1e-9), 0.0, 1.0))
    return float(np.linalg.norm(c - (a + t * ab)))


def _lab(colours: np.ndarray) -> np.ndarray:
    """CIE Lab of sRGB colours, (..., 3) at 0-255, as (N, 3): distances there follow the eye."""
    rgb = np.asarray(colours, np.float32).reshape(1, -1, 3) / 255.0
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[0]


def _luma(c: np.ndarray | RGB) -> float:
    r, g, b = (float(v) for v in c)
    return 0.299 * r + 0.587 * g + 0.114 * b


def legible_on(background: RGB) -> RGB:
    """Black or white, whichever stands out more from `background`."""
    return (0, 0, 0) if _luma(background) >= 128 else (255, 255, 255)


def _legible(style: Style, bg: np.ndarray) -> Style:
    """The style with black or white text, whichever stands out more from the background."""
    return Style(
        text_color=legible_on(_rgb(bg)),
        background_color=_rgb(bg),
        outline_color=None,
        outline_width=0,
        font_size=style.font_size,
        angle=style.angle,
    )


def _rgb(c: np.ndarray) -> RGB:
    r, g, b = (round(float(v)) for v in c[:3])
    return (min(255, max(0, r)), min(255, max(0, g)), min(255, max(0, b)))
