"""Text-pixel masks: which pixels inside each detected line are ink, not background.

Inpainting whole line boxes smears the background (MODELS.md); inpainting only the
glyph pixels leaves most of the box untouched. Per line, on the line's bounding crop:

1. grow the quad along its own axes (rotated quads stay exact) and rasterise it with
   ``cv2.fillPoly`` as the line's *region*; the grown margin is the *ring*;
2. estimate the background from the ring: a robust colour plane (gradients are not
   text) plus the ring's local detail spread inward (a photo behind a caption);
3. measure every region pixel's colour distance from that background;
4. threshold the distance: Otsu's threshold, lowered to just above the ring's own noise
   when the split is clean (so anti-aliased fringes and second tones such as an outline
   or a fill count as text, whatever the polarity);
5. keep what is drawn in the lettering's own colour(s) (`lettering.py`);
6. grow over a thick outline of one colour that surrounds the text, even if the ring
   shares it (on large lines: `_grow_over_halo`), then over what, next to the text, still
   differs from the background (the soft edge of an outline, a shadow, a camera's halo:
   `_grow_over_outline`);
7. drop structures entering from beyond the region (a bubble border in the margin);
8. dilate by ``dilate`` px, never beyond the region.

When the ring is busy (or the distance does not separate), the line may sit on a flat
panel barely larger than its text (a label, a button, a sign plate, a lightbox) with the
ring off the panel: if the line's core lies on one flat panel (a colour, a ramp, or a
plate lit unevenly), that panel is the background instead (`_panel_text`), and the mask
stays inside it. Otherwise, when the distance does not separate (a textured background
about as far from its own ring as the text is), the line falls back to its whole box, and
the result says so (`TextMask.fallback_line_ids`; the pipeline reports each as a diagnostic).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from imtrans.detect.curves import band_thickness, segments_of, straighten, unstraighten
from imtrans.erase.background import dominant_colour, fit_plane, vector_norm
from imtrans.erase.lettering import MIN_CONTRAST as _MIN_CONTRAST
from imtrans.erase.lettering import refine_by_lettering_colour
from imtrans.erase.threads import workers
from imtrans.types import Line, Quad

# The quad is grown by this fraction of the line's thickness (at least 3 px, dilate + 2).
_PAD = 0.25
# Text must stand this many "ring noise levels" above the background.
_NOISE_FACTOR = 3.0
# Percentile of ring residuals taken as the ring's noise level (robust to a few glyph pixels).
_NOISE_PERCENTILE = 80.0
# Otsu's between-class / total variance below this: no clean split, fall back.
_MIN_SEPARABILITY = 0.5
# If more of the known background (ring) than this is classed as text, fall back.
_MAX_RING_TEXT = 0.25
# If more of the region than this is classed as text, fall back.
_MAX_REGION_TEXT = 0.8
# Normalised-convolution weight below which the background estimate fades to the plane.
_DECAY = 0.02
# Ring pixels needed to trust it; fewer (a quad covering the whole image) uses the region itself.
_MIN_RING = 24
# A panel under the line: the share of the line's core in its colour, the core's share on
# it, its greatest noise (colour distance), and how far the core lies inside the quad
# (a fraction of the line's thickness: the detector's box reaches beyond the glyphs).
_MIN_PANEL_SHARE = 0.25
_MIN_CORE_ON_PANEL = 0.97
_MAX_PANEL_NOISE = 14.0
# A ring noisier than this (colour distance) may lie off a panel: look for one.
_BUSY_RING = 8.0
_CORE_INSET = 0.15
# Colours of the core tried as the panel's, commonest first.
_PANEL_CANDIDATES = 2
# Core pixels sampled to find the panel.
_PANEL_SAMPLE = 4096
# A plate lit unevenly: its plane is first fitted to the core's pixels within this many
# `MIN_CONTRAST`s of the candidate colour.
_RAMP_SEED = 2.5
# Outlines, shadows and halos: the text grows by at most this fraction of the line's
# thickness (and this many px: a blur or a sharpening halo is the camera's, not the
# font's) over pixels this far from the background (colour distance, and multiples of
# the background's noise).
_OUTLINE_REACH = 0.06
_MAX_OUTLINE_PX = 6
_GROW_CONTRAST = 10.0
_GROW_NOISE = 1.25
# A thick outline (a white rim around red letters on a yellow sign): the colour of this
# share of the pixels just around the text (`_HALO_BAND` px), if it is not the ring's
# commonest colour, is the lettering's, even where the outline reaches into the ring.
_HALO_SHARE = 0.5
_HALO_BAND = 3
# A background whose ring is this flat (colour distance, 80th percentile) is a screenshot's:
# compression ringing up to `_RINGING_REACH` px from the text and `_RINGING_CONTRAST`
# levels off the background is masked with it.
# The ring must hold nothing else (its 99th percentile under `MIN_CONTRAST`): a speech
# bubble's ring holds its outline or the next column, whose faint edges are not ripple.
_FLAT_NOISE = 2.0
_RINGING_REACH = 7
_RINGING_CONTRAST = 3.0
# A rule (an underline, a divider) through the region: at most this share of the line's
# thickness wide, at least this many thicknesses long, filling this share of its rotated box.
_RULE_WIDTH = 0.2
_RULE_LENGTH = 2.0
_RULE_FILL = 0.6
# Large lettering on a busy, unevenly lit plate (a shop sign under a lamp): the plate's
# colours are the commonest of the margin's (up to `_PLATE_COLOURS`, each of at least
# `_MIN_PLATE_COLOUR` of it), compared by chromaticity (a lamp changes a colour's brightness,
# not its hue); brightness offset `_CHROMA_OFFSET` keeps dark pixels' hue from being noise.
_PLATE_COLOURS = 4
_MIN_PLATE_COLOUR = 0.05
_PLATE_SPREAD = 2 * _MIN_CONTRAST
_CHROMA_OFFSET = 30.0
# The lettering must stand this far from the plate (chromaticity, Otsu's split), and cover
# this share of the line's core at least and at most; an outline within `_HALO_CHROMA` of a
# plate colour (white on a glare) does not stop the growth over it.
_LETTERING_CHROMA = 2 * _MIN_CONTRAST
_MIN_LETTERING_SHARE = 0.05
_MAX_LETTERING_SHARE = 0.5
_HALO_CHROMA = 60.0


@dataclass(frozen=True)
class TextMask:
    """A text mask and the lines whose text could not be separated from their background.

    Attributes:
        mask: uint8 (H, W), 255 at text pixels.
        fallback_line_ids: ids of lines masked as whole (dilated) boxes because their region
            was too noisy to separate; the pipeline may turn them into diagnostics.
    """

    mask: np.ndarray
    fallback_line_ids: tuple[str, ...] = ()


#: Reaches (px) up to this grow a mask by a dilation with a disc (`dilated`); farther ones by a
#: distance transform, whose time does not grow with the reach (a dilation's grows with the
#: disc's area: a title's 200 px reach took 1.3 s a dilation on a 12 MP photo).
DILATE_REACH = 15


def dilated(mask: np.ndarray, reach: int) -> np.ndarray:
    """bool: the pixels within ``reach`` px of ``mask``'s nonzero pixels (a disc's dilation)."""
    if reach <= DILATE_REACH:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
        return cv2.dilate((mask > 0).astype(np.uint8), disc) > 0
    return cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= reach


def text_mask(image: np.ndarray, lines: list[Line], dilate: int) -> np.ndarray:
    """The text pixels of every line, dilated.

    Args:
        image: RGB uint8 (H, W, 3) (greyscale (H, W) works too).
        lines: Detected lines; only their quads are used.
        dilate: Pixels to grow the mask by (kept inside each line's slightly grown quad).

    Returns:
        uint8 (H, W), 255 at text pixels. See `build_text_mask` for which lines fell back.
    """
    return build_text_mask(image, lines, dilate).mask


def mask_lines(lines: Sequence[Line]) -> tuple[list[Line], dict[str, str]]:
    """The lines a text mask is built on: each line itself, but a grid's columns by the grid's
    rows (`Line.grid_rows`, each grid once), whose margins lie clear of other glyphs; and the
    line each of them stands for (a row for its grid's first column)."""
    out: list[Line] = []
    owner: dict[str, str] = {}
    grids: set[tuple[Quad, ...]] = set()
    for ln in lines:
        if not ln.grid_rows:
            out.append(ln)
            owner[ln.id] = ln.id
        elif ln.grid_rows not in grids:
            grids.add(ln.grid_rows)
            for k, quad in enumerate(ln.grid_rows):
                row = Line(f"{ln.id}r{k}", quad, det_score=ln.det_score)
                out.append(row)
                owner[row.id] = ln.id
    return out, owner


def build_text_mask(image: np.ndarray, lines: list[Line], dilate: int, kept: Sequence[Line] = ()) -> TextMask:
    """Like `text_mask`, also reporting the lines that fell back to their whole box.

    Args:
        image: RGB uint8 (H, W, 3) (greyscale (H, W) works too).
        lines: Detected lines; only their quads are used.
        dilate: Pixels to grow the mask by (kept inside each line's slightly grown quad).
        kept: Other lines of the page, left as they are (not masked): their lettering is
            not taken for the background of a line beside them, nor masked with it.

    Returns:
        The mask and the ids of lines masked as whole boxes.

    Raises:
        ValueError: if ``image`` is not (H, W) or (H, W, C) or ``dilate`` is negative.
    """
    if image.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    if dilate < 0:
        raise ValueError(f"dilate must be >= 0, got {dilate}")
    h, w = image.shape[:2]
    out = np.zeros((h, w), np.uint8)
    fallbacks: list[str] = []
    # Lines are independent; OpenCV and NumPy's large loops release the GIL.
    every = [*lines, *kept]
    with ThreadPoolExecutor(max_workers=workers(len(lines))) as pool:
        results = list(
            pool.map(
                lambda ln: (
                    curved_line_mask(image, ln, dilate)
                    if ln.curve
                    else line_mask(image, ln.quad, dilate, _neighbours(ln, kept), _neighbours(ln, every))
                ),
                lines,
            )
        )
    for line, result in zip(lines, results, strict=True):
        if result is None:
            continue
        (y0, x0), crop_mask, fell_back = result
        view = out[y0 : y0 + crop_mask.shape[0], x0 : x0 + crop_mask.shape[1]]
        np.maximum(view, crop_mask, out=view)
        if fell_back:
            fallbacks.append(line.id)
    return TextMask(out, tuple(fallbacks))


def line_mask(
    image: np.ndarray, quad: Quad, dilate: int, kept: Sequence[Quad] = (), near: Sequence[Quad] = ()
) -> tuple[tuple[int, int], np.ndarray, bool] | None:
    """The text mask of one line, on the line's bounding crop.

    Args:
        image: RGB uint8 (H, W, 3) or greyscale (H, W).
        quad: The line's outline.
        dilate: Pixels to grow the text pixels by, kept inside the grown quad.
        kept: Outlines of lines near this one whose lettering stays (not erased): their
            lettering is not the background, so their part of the margin is not read as it,
            and what lies more in their boxes than in this line's is theirs, not masked.
        near: Outlines of every other line near this one, erased or kept: where the plate
            of a large sign's line is read (`_lettering_on_plate`), their lettering is not it.

    Returns:
        ``((y0, x0), crop_mask, fell_back)``: the crop's top-left corner in the image, a uint8
        mask of the crop (255 at text), and whether the whole box was used because the text
        could not be separated. None if the quad is degenerate or lies outside the image.
    """
    h, w = image.shape[:2]
    pts = np.asarray(quad.points, np.float64)
    if not np.isfinite(pts).all() or quad.area < 1.0:
        return None
    pad = max(3, dilate + 2, round(_PAD * min(quad.width, quad.height)))
    grown = _grow(pts, pad)
    x0 = max(0, int(np.floor(grown[:, 0].min())))
    y0 = max(0, int(np.floor(grown[:, 1].min())))
    x1 = min(w, int(np.ceil(grown[:, 0].max())) + 1)
    y1 = min(h, int(np.ceil(grown[:, 1].max())) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    # Sides where the image cut the region off: its outer edge is not there.
    clipped = (
        grown[:, 1].min() < 0,
        grown[:, 1].max() > h - 1,
        grown[:, 0].min() < 0,
        grown[:, 0].max() > w - 1,
    )
    ch, cw = y1 - y0, x1 - x0
    offset = np.array([x0, y0], np.float64)
    region = _poly_mask(grown - offset, ch, cw)
    inner = _poly_mask(pts - offset, ch, cw)
    if not region.any():
        return None
    ring = region & ~inner
    others = _quads_mask(kept, offset, ch, cw)
    if others.any() and (ring & ~others).sum() >= _MIN_RING:
        ring &= ~others
    if ring.sum() < _MIN_RING:
        ring = region

    crop = image[y0:y1, x0:x1]
    crop = crop.reshape(ch, cw, -1).astype(np.float32)
    sigma = 0.35 * min(quad.width, quad.height) + pad
    background, ring_residual = _local_background(crop, ring, sigma)
    dist = vector_norm(crop - background)

    ring_noise = float(np.percentile(ring_residual, _NOISE_PERCENTILE))
    text, strong, fell_back = _separate(dist, region, ring, ring_noise)
    thickness = min(quad.width, quad.height)
    # A sign's large lettering (its outline may be wider than a camera's halo): lit by a lamp.
    signage = round(_OUTLINE_REACH * thickness) > _MAX_OUTLINE_PX
    keep_inside = region
    panel = on_plate = None
    if fell_back or ring_noise > _BUSY_RING:
        # A busy ring may lie off a panel that fits the text tightly (a label, a button, a
        # sign plate): then the panel, not the ring, is the text's background.
        core = _poly_mask(_grow(pts, -_CORE_INSET * thickness) - offset, ch, cw)
        panel = _panel_text(crop, region, core, sigma, signage)
        if panel is None and fell_back:
            # Before the whole box: a glyph touching a neighbour's lettering (a pictogram's
            # stroke running into the line above) lets the outside reach into the panel
            # through that lettering. With the neighbours' boxes as walls it stays a hole.
            walls = _quads_mask(near, offset, ch, cw) & ~inner
            if walls.any():
                panel = _panel_text(crop, region, core, sigma, signage, walls)
    reach = min(_MAX_OUTLINE_PX, max(1, round(_OUTLINE_REACH * thickness)))
    if signage and ring_noise > _BUSY_RING and panel is None:
        plate_ring = ring & ~_quads_mask(near, offset, ch, cw)
        if plate_ring.sum() >= _MIN_RING:
            edge = _outer_edge(region, clipped)
            on_plate = _lettering_on_plate(crop, region, inner, core, plate_ring, edge, others, thickness)
    if on_plate is not None:
        text = on_plate
        fell_back = False
    elif panel is not None:
        text, keep_inside, panel_dist, panel_noise = panel
        text = _grow_over_outline(text, panel_dist, panel_noise, reach) & keep_inside
        text = _drop_rim_specks(text, inner, keep_inside, region)
        fell_back = False
    elif fell_back:
        text = inner.copy()
    else:
        text = refine_by_lettering_colour(crop, dist, text, strong, region, inner, ring, thickness)
        text = _grow_over_halo(text, crop, region, ring, thickness)
        text = _grow_over_outline(text, dist, ring_noise, reach) & region
        if ring_noise <= _FLAT_NOISE and float(np.percentile(ring_residual, 99)) < _MIN_CONTRAST:
            text = _grow_over_ringing(text, dist, ring_noise) & region
        edge = _outer_edge(region, clipped)
        text = _drop_rules(_drop_neighbours_glyphs(text, inner, others), edge, thickness)
        text = _drop_outside_parts(text, inner, edge)
    text_u8 = np.where(text, np.uint8(255), np.uint8(0))
    if dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        text_u8 = cv2.dilate(text_u8, kernel)
    text_u8[~keep_inside] = 0
    return (y0, x0), text_u8, fell_back


def curved_line_mask(
    image: np.ndarray, line: Line, dilate: int
) -> tuple[tuple[int, int], np.ndarray, bool] | None:
    """`line_mask` of a curved line (`Line.curve`), worked out on the line straightened.

    Laid out straight, a badge's ring or a logo's arc under the lettering becomes a rule along
    the line and the band around the lettering its ring, as for a straight line; the mask goes
    back to the page quad by quad. Returns as `line_mask` does.
    """
    segments = segments_of(line)
    thick = band_thickness(segments)
    if thick < 1.0:
        return None
    # Room around the line in the strip for `line_mask`'s ring (it grows the quad by as much).
    margin = max(3, dilate + 2, round(_PAD * thick)) + 1
    share = margin / thick
    strip = straighten(image, segments, share)
    sh, sw = strip.shape[:2]
    m = (sh - thick) / 2
    found = line_mask(strip, Quad.from_rect(m, m, sw - m, sh - m), dilate)
    if found is None:
        return None
    (sy, sx), crop, fell_back = found
    on_strip = np.zeros((sh, sw), np.uint8)
    on_strip[sy : sy + crop.shape[0], sx : sx + crop.shape[1]] = crop
    if not fell_back:
        on_strip = _drop_bent_rules(on_strip, thick, dilate)
    page = unstraighten(on_strip, segments, share, image.shape[:2])
    ys, xs = np.nonzero(page)
    if len(xs) == 0:
        return None
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    return (y0, x0), page[y0:y1, x0:x1], fell_back


def _drop_bent_rules(strip_mask: np.ndarray, thick: float, dilate: int) -> np.ndarray:
    """A curved line's strip mask without the thin strokes that run along it: a badge's ring
    or a logo's arc under the lettering, which the line's band takes in and which bends
    otherwise than the lettering (so `_drop_rules`, for straight rules, does not see it).
    A part at least `_RULE_LENGTH` thicknesses long, on average at most `_RULE_WIDTH` of a
    thickness thick and nowhere more than twice that (besides the mask's dilation, ``dilate``
    px each side) is one."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (strip_mask > 0).astype(np.uint8), connectivity=8
    )
    out = strip_mask.copy()
    for i in range(1, count):
        length = int(stats[i, cv2.CC_STAT_WIDTH])
        thin = _RULE_WIDTH * thick + 2 * dilate
        # Thin on average and nowhere much thicker (a word of thin strokes is as tall as its letters).
        flat = stats[i, cv2.CC_STAT_HEIGHT] <= 2 * _RULE_WIDTH * thick + 2 * dilate
        if length >= _RULE_LENGTH * thick and stats[i, cv2.CC_STAT_AREA] / length <= thin and flat:
            out[labels == i] = 0
    return out


def _quads_mask(quads: Sequence[Quad], offset: np.ndarray, h: int, w: int) -> np.ndarray:
    """Boolean (h, w) raster of the quads, shifted by ``-offset`` (a crop's corner)."""
    out = np.zeros((h, w), bool)
    for q in quads:
        out |= _poly_mask(np.asarray(q.points, np.float64) - offset, h, w)
    return out


def _neighbours(line: Line, lines: Sequence[Line]) -> list[Quad]:
    """The other lines whose boxes come within half this line's thickness of its box."""
    x0, y0, x1, y1 = line.quad.bbox
    pad = 0.5 * min(line.quad.width, line.quad.height)
    out = []
    for other in lines:
        if other is line:
            continue
        a0, b0, a1, b1 = other.quad.bbox
        if a0 < x1 + pad and a1 > x0 - pad and b0 < y1 + pad and b1 > y0 - pad:
            out.append(other.quad)
    return out


def _local_background(crop: np.ndarray, ring: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Estimate the background under a line from its ring: a colour plane plus local detail.

    A robust plane carries the large-scale colour; the ring's residuals from it, spread
    inward by normalised convolution (a Gaussian of ``sigma`` px), carry what changes along
    the line (a photo behind a caption). Far from any ring pixel the estimate decays to the plane.

    Returns:
        The background estimate (float32, crop-shaped) and the Euclidean residual of every
        ring pixel from it (its noise level).
    """
    ch, cw = ring.shape
    ry, rx = np.nonzero(ring)
    plane, residual = fit_plane(ry, rx, crop[ry, rx])
    background = plane.grid(ch, cw)
    # Ring pixels far off the plane (a glyph a tight quad cuts, a neighbour's stroke) carry no weight.
    inlier = residual <= max(3.0 * float(np.median(residual)), _MIN_CONTRAST)
    weight = np.zeros((ch, cw), np.float32)
    weight[ry[inlier], rx[inlier]] = 1.0
    detail = (crop - background) * weight[:, :, None]
    blur_w = _smooth(weight, sigma)
    blur_d = _smooth(detail, sigma).reshape(ch, cw, -1)
    background += blur_d / (blur_w + _DECAY)[:, :, None]
    ring_residual = vector_norm(crop[ry, rx] - background[ry, rx])
    return background, ring_residual


def _smooth(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``sigma`` px, computed at a reduced scale when sigma is large (speed)."""
    h, w = a.shape[:2]
    f = max(1, int(sigma // 3))
    if f == 1 or min(h, w) < 2 * f:
        return cv2.GaussianBlur(a, (0, 0), sigma)
    small = cv2.resize(a, (max(1, round(w / f)), max(1, round(h / f))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _separate(
    dist: np.ndarray, region: np.ndarray, ring: np.ndarray, noise: float
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Split a region's pixels into text and background by colour distance.

    Args:
        dist: Each crop pixel's colour distance from the background estimate.
        region: The line's grown region.
        ring: Its margin, taken for background.
        noise: The ring's noise level (a high percentile of its residuals).

    Returns:
        The text pixels (boolean, crop-sized), the confident ones among them (above Otsu's
        threshold), and whether the split failed (the caller falls back to the box).
    """
    values = dist[region]
    t_noise = max(_MIN_CONTRAST, _NOISE_FACTOR * noise)
    t_otsu, separability = _otsu(values)
    if values.max() <= t_noise and noise * _NOISE_FACTOR <= _MIN_CONTRAST:
        # A quiet background and nothing that stands out from it: nothing to erase.
        empty = np.zeros_like(region)
        return empty, empty, False
    # Everything clearly above the ring's noise is text (fringes, outlines, second tones);
    # on a busy background Otsu's split, if higher than the floor, is the safer threshold.
    threshold = max(_MIN_CONTRAST, min(t_otsu, t_noise))
    text = (dist > threshold) & region
    strong = (dist > max(threshold, t_otsu)) & region
    ring_text = float(text[ring].mean())
    region_text = float((values > threshold).mean())
    failed = separability < _MIN_SEPARABILITY or ring_text > _MAX_RING_TEXT or region_text > _MAX_REGION_TEXT
    return text, strong, failed


def _grow_over_outline(text: np.ndarray, dist: np.ndarray, noise: float, reach: int) -> np.ndarray:
    """Grow the text over what, next to it, still differs from the background.

    An outline, a drop shadow, a camera's sharpening halo or the blur between a dark rim
    and the plate can stand less far from the background than the threshold and still be
    seen: left unmasked, the fill copies it inward and draws a ghost of the letters. So
    every pixel within ``reach`` px of the text whose distance from the background (its 3x3
    median, so single noisy pixels do not chain and the letters' own contrast does not
    spread) exceeds the background's own noise is added, where it connects to the text.
    """
    if not text.any():
        return text
    low = max(_GROW_CONTRAST, _GROW_NOISE * noise)
    smooth = cv2.medianBlur(np.ascontiguousarray(dist, np.float32), 3)
    near = cv2.distanceTransform((~text).astype(np.uint8), cv2.DIST_L2, 3) <= reach
    return _connected_to(text, (smooth > low) & near)


def _grow_over_ringing(text: np.ndarray, dist: np.ndarray, noise: float) -> np.ndarray:
    """On a flat background, grow the text over the faint ringing around it.

    A screenshot or scan saved as JPEG carries, in the 8x8 blocks that hold lettering, a
    faint ripple a few levels off the background: below any text threshold, but once the
    letters are filled, the ripple alone draws grey boxes where the line was. On a background
    flat to a level or two it cannot be anything else: every pixel within `_RINGING_REACH` px
    of the text that stands `_RINGING_CONTRAST` levels (or 3 noise levels) off it, but less
    than lettering does (`MIN_CONTRAST`: a highlight the lettering's colour left out stays), is
    added.
    """
    if not text.any():
        return text
    near = cv2.distanceTransform((~text).astype(np.uint8), cv2.DIST_L2, 3) <= _RINGING_REACH
    return text | (near & (dist > max(_RINGING_CONTRAST, 3.0 * noise)) & (dist < _MIN_CONTRAST))


def _connected_to(text: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """The text plus the candidate pixels connected (8-way) to it through candidates."""
    _, labels = cv2.connectedComponents((candidate | text).astype(np.uint8), connectivity=8)
    touching = np.zeros(int(labels.max()) + 1, bool)
    touching[labels[text]] = True
    touching[0] = False
    return text | touching[labels]


def _band_around(text: np.ndarray, within: np.ndarray) -> np.ndarray:
    """The pixels just around the text (`_HALO_BAND` px), inside ``within``."""
    size = 2 * _HALO_BAND + 1
    return (cv2.dilate(text.astype(np.uint8), np.ones((size, size), np.uint8)) > 0) & ~text & within


def _grow_over_halo(
    text: np.ndarray, crop: np.ndarray, region: np.ndarray, ring: np.ndarray, thickness: float
) -> np.ndarray:
    """Grow the text over a thick outline of its own colour, which the ring may share.

    A title's outline can be wider than `_grow_over_outline`'s reach and reach into the
    ring, so neither the threshold (the ring's noise, inflated by the outline) nor the
    lettering colours (an outline common in the ring is background) take it; the fill then
    copies it inward and draws the letters in the outline's colour. The background is the
    ring's commonest colour; if most pixels just around the text share another colour
    (nearer it than the background, and well apart from the background), that colour is an
    outline: the text grows over the pixels of it connected to the text, up to
    `_OUTLINE_REACH` of the line's thickness, and over the holes it then encloses that are
    not the background's colour (the outline in a stroke's shade, a shadow's gaps). Only on
    lines large enough for that reach to exceed `_MAX_OUTLINE_PX`: around small text such
    a halo is the camera's (a glow around lights read as letters).
    """
    reach = round(_OUTLINE_REACH * thickness)
    if reach <= _MAX_OUTLINE_PX or not text.any():
        return text
    band = _band_around(text, region)
    if band.sum() < _MIN_RING:
        return text
    background = dominant_colour(crop[ring])
    halo = dominant_colour(crop[band])
    apart = float(np.linalg.norm(halo - background))
    if apart < 2 * _MIN_CONTRAST:
        return text
    tol = max(2 * _MIN_CONTRAST, 0.5 * apart)

    def of_halo(px: np.ndarray) -> np.ndarray:
        d_halo = vector_norm(px - halo)
        return (d_halo < vector_norm(px - background)) & (d_halo < tol)

    if float(of_halo(crop[band]).mean()) < _HALO_SHARE:
        return text
    near = cv2.distanceTransform((~text).astype(np.uint8), cv2.DIST_L2, 3) <= reach
    text = _connected_to(text, of_halo(crop) & near & region)
    # Enclosed holes mostly off the background's colour are outline or shadow too.
    n, labels = cv2.connectedComponents((~text & region).astype(np.uint8), connectivity=4)
    flat = labels.ravel()
    off_background = (vector_norm(crop - background) > 2 * _MIN_CONTRAST).ravel()
    share = np.bincount(flat, weights=off_background, minlength=n) / np.maximum(
        np.bincount(flat, minlength=n), 1
    )
    fill = share > 0.5
    fill[np.unique(labels[_outer_edge(region, (False,) * 4)])] = False
    fill[0] = False
    return text | fill[labels]


def _chromaticity(rgb: np.ndarray) -> np.ndarray:
    """Colours with their brightness divided out (scaled so that a grey reads about 255)."""
    return rgb / (rgb.sum(axis=-1, keepdims=True) + _CHROMA_OFFSET) * 765.0


def _lettering_on_plate(
    crop: np.ndarray,
    region: np.ndarray,
    inner: np.ndarray,
    core: np.ndarray,
    ring: np.ndarray,
    edge: np.ndarray,
    kept: np.ndarray,
    thickness: float,
) -> np.ndarray | None:
    """Large lettering on a busy plate: what, inside the line, has none of the plate's colours.

    A shop sign's title (red letters with a white outline on a yellow plate, lit by a lamp
    with a glare beside it) defeats the colour plane: the margin holds the plate from dim to
    bright, the glare's white and other lines' lettering, so its noise is as large as the
    letters' contrast, and the fill either takes the plate for text or gives up to the box.
    Compared by chromaticity, though, the plate is one colour however it is lit, and the
    glare another: the margin's commonest colours (`_PLATE_COLOURS`, other lines' boxes cut
    out) are the plate, and the letters are what stands out from all of them (Otsu's split).
    An outline that shares a plate colour (white on white glare) is taken by growing the
    letters by the outline reach (`_OUTLINE_REACH` of the thickness): the plate's own colour
    next to the letters is filled with itself; then what goes on from them inside the box
    standing out at least half as far (a stroke the glare washes out), the counters they
    enclose, and `_MAX_OUTLINE_PX` more, over the outline's soft edge. Pieces mostly in
    kept lines' boxes (``kept``) are theirs: they are dropped first, and nothing grows
    over them.

    None when the letters do not show that way (too little or too much of the core, or much
    of the margin or of the box's own edge, stands out, or not by far; a plate fitting the
    text tightly, whose colour the margin lacks, stands out all along the box's edge): the
    caller goes on as before.
    """
    if crop.ndim != 3 or crop.shape[2] < 3:
        return None
    chroma = _chromaticity(crop[:, :, :3])
    ring_px = chroma[ring]
    colours: list[np.ndarray] = []
    left = np.ones(len(ring_px), bool)
    for _ in range(_PLATE_COLOURS):
        if left.mean() < _MIN_PLATE_COLOUR:
            break
        colour = dominant_colour(ring_px[left])
        colours.append(colour)
        left &= vector_norm(ring_px - colour) >= _PLATE_SPREAD
    # Each pixel's distance from each plate colour (the outline's growth reads them again).
    apart = np.stack([vector_norm(chroma - c) for c in colours])
    dist = apart.min(axis=0)
    threshold, separability = _otsu(dist[region])
    # What stands out only in the margin is other lettering (the line below's), not this line's.
    strong = _drop_outside_parts((dist > threshold) & region, inner, edge)
    strong = _connected_to(strong & inner, strong)
    # A piece mostly in kept lines' boxes is theirs (small lettering set inside the title's box).
    n, labels = cv2.connectedComponents(strong.astype(np.uint8), connectivity=8)
    theirs = 2 * np.bincount(labels[kept], minlength=n) > np.bincount(labels.ravel(), minlength=n)
    theirs[0] = False
    text = strong & ~theirs[labels]
    # Kept lines' lettering, with room for its own outline: nothing grows over it.
    soft_edge = np.ones((2 * _MAX_OUTLINE_PX + 1,) * 2, np.uint8)
    guard = cv2.dilate((strong & ~text).astype(np.uint8), soft_edge) > 0
    share = float(text[core].mean()) if core.any() else 0.0
    border = inner & ~cv2.erode(inner.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if (
        threshold < _LETTERING_CHROMA
        or separability < _MIN_SEPARABILITY
        or float(text[ring].mean()) > _MAX_RING_TEXT
        or float(strong[border].mean()) > _MAX_RING_TEXT
        or not _MIN_LETTERING_SHARE <= share <= _MAX_LETTERING_SHARE
    ):
        return None
    # The outline: the colour just around the letters, and the plate colours like it, are
    # grown over up to the reach; the other plate colours stop the growth.
    band = _band_around(text, inner)
    if band.sum() < _MIN_RING:
        return text
    halo = dominant_colour(chroma[band])
    stops = [k for k, c in enumerate(colours) if float(np.linalg.norm(c - halo)) > _HALO_CHROMA]
    grow = cv2.distanceTransform((~text).astype(np.uint8), cv2.DIST_L2, 3) <= round(
        _OUTLINE_REACH * thickness
    )
    grow &= region & ~guard
    if stops:  # nearer a stopping plate colour than the outline's: the plate
        grow &= vector_norm(chroma - halo) < apart[stops].min(axis=0)
    text = _connected_to(text, grow)
    # A stroke washed out by the glare stands out less, but goes on from the letters (hysteresis).
    text = _connected_to(text, (dist > threshold / 2) & inner & ~guard)
    # Counters the letters enclose (white inside a red letter's outline, like the glare) go
    # with them, inside the box: left, the fill spreads them over the letter's place.
    n, labels = cv2.connectedComponents((region & ~text).astype(np.uint8), connectivity=4)
    enclosed = np.ones(n, bool)
    enclosed[np.unique(labels[edge])] = False
    enclosed[0] = False
    text |= enclosed[labels] & inner & ~guard
    # The outline's soft outer edge, half plate already, would be copied inward by the fill.
    return (cv2.dilate(text.astype(np.uint8), soft_edge) > 0) & region & ~guard


def _panel_text(
    crop: np.ndarray,
    region: np.ndarray,
    core: np.ndarray,
    sigma: float,
    signage: bool = False,
    walls: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """The text on a flat panel that holds the line's core, when the ring is off the panel.

    The panel is one of the commonest colours of the core (`_PANEL_CANDIDATES`, in order:
    bold lettering in a tight quad can outnumber its plate), if flat: its pixels stay
    within a few levels of a colour plane (a plate lit unevenly is a ramp). Its area is the
    connected part of the region near that plane that touches the core, with the holes the
    glyphs make filled; the core must lie on it (the lettering's own colour fails there: its
    strokes do not enclose the core). Text is what in that area differs from the panel.

    Returns:
        (text pixels, the filled panel area the mask must stay inside, every pixel's colour
        distance from the panel, the panel's noise), or None when the core does not lie on
        one flat panel.
    """
    cy, cx = np.nonzero(core)
    if len(cy) < _MIN_RING:
        return None
    # The panel's colour, share and noise are statistics: an even sample of the core will do.
    step = max(1, len(cy) // _PANEL_SAMPLE)
    cy, cx = cy[::step], cx[::step]
    core_px = crop[cy, cx]
    untried = np.ones(len(core_px), bool)
    for _ in range(_PANEL_CANDIDATES):
        if untried.sum() < _MIN_RING:
            break
        colour = dominant_colour(core_px[untried])
        untried &= vector_norm(core_px - colour) >= _MIN_CONTRAST
        found = _panel_of_colour(crop, region, core, (cy, cx), colour, sigma, signage, walls)
        if found is not None:
            return found
    return None


def _panel_of_colour(
    crop: np.ndarray,
    region: np.ndarray,
    core: np.ndarray,
    core_yx: tuple[np.ndarray, np.ndarray],
    colour: np.ndarray,
    sigma: float,
    signage: bool = False,
    walls: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """`_panel_text` for one candidate colour, given the (sampled) core pixels' positions.

    The panel's model is, from the cheapest up, whichever leaves it flat: the colour itself;
    a colour plane (a ramp); the plane plus the lighting its pixels show across the region
    (a lightbox brighter in the middle), spread over the letters as the ring's detail is
    (`_local_background`). What it leaves is the panel's noise.
    """
    cy, cx = core_yx
    core_px = crop[cy, cx]
    residual = vector_norm(core_px - colour)
    on_panel = residual < _MIN_CONTRAST
    # A large sign's plate lit by a lamp (``signage``: lines whose outline reach exceeds
    # `_MAX_OUTLINE_PX`) holds too few pixels of any one colour: its model is seeded with
    # the pixels of a wider band around the colour, and its noise may be as much larger.
    # Not on small lines: a product label's glyph on a photo then passed for a panel.
    tol = _MIN_CONTRAST
    if on_panel.mean() >= _MIN_PANEL_SHARE:
        noise = float(np.percentile(residual[on_panel], _NOISE_PERCENTILE))
        if noise <= _BUSY_RING:
            return _panel_area(region, core, vector_norm(crop - colour), noise, walls=walls)
    elif not signage:
        return None
    else:
        tol = _RAMP_SEED * _MIN_CONTRAST
        on_panel = residual < tol
        if on_panel.mean() < _MIN_PANEL_SHARE:
            return None
    for _ in range(2):  # a plane through the panel's pixels, then through those near the plane
        plane, _ = fit_plane(cy[on_panel], cx[on_panel], core_px[on_panel])
        residual = vector_norm(core_px - plane.at(cy, cx))
        on_panel = residual < tol
        if on_panel.mean() < _MIN_PANEL_SHARE:
            return None
    noise = float(np.percentile(residual[on_panel], _NOISE_PERCENTILE))
    dist = vector_norm(crop - plane.grid(*region.shape))
    if noise > _BUSY_RING:
        for _ in range(2):
            background, seed_residual = _local_background(crop, region & (dist < tol), sigma)
            dist = vector_norm(crop - background)
        noise = float(np.percentile(seed_residual, _NOISE_PERCENTILE))
    return _panel_area(region, core, dist, noise, _MAX_PANEL_NOISE * tol / _MIN_CONTRAST, walls)


def _panel_area(
    region: np.ndarray,
    core: np.ndarray,
    dist: np.ndarray,
    noise: float,
    max_noise: float = _MAX_PANEL_NOISE,
    walls: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """The panel's filled area and the text on it, given each pixel's distance from the
    panel's model and its noise; None when the core does not lie on it or is too noisy.

    ``walls`` (other lines' boxes, off this line's own) stop the outside from reaching in:
    a glyph of this line that touches a neighbour's lettering (a pictogram's stroke running
    into the line above) is still a hole in the panel. They are never part of the area."""
    if noise > max_noise:
        return None
    threshold = max(_MIN_CONTRAST, _NOISE_FACTOR * noise)
    panel = ((dist <= threshold) & region).astype(np.uint8)
    _, labels = cv2.connectedComponents(panel, connectivity=8)
    touching = np.unique(labels[core & (panel > 0)])
    panel_b = np.isin(labels, touching[touching > 0])
    # Fill the holes glyphs make: whatever the outside cannot reach around the panel.
    blocked = panel_b if walls is None else panel_b | walls
    outside = np.pad(~blocked, 1, constant_values=True).astype(np.uint8)
    cv2.floodFill(outside, None, (0, 0), 2)
    area = (outside[1:-1, 1:-1] != 2) & region
    if walls is not None:
        area &= ~walls
    text = area & ~panel_b & (dist > threshold)
    if (area & core).sum() < _MIN_CORE_ON_PANEL * core.sum() or not text.any():
        return None
    if text.sum() > _MAX_REGION_TEXT * area.sum():
        return None
    return text, area, dist, noise


def _drop_rim_specks(text: np.ndarray, inner: np.ndarray, area: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Drop the pieces outside the quad that touch the panel's rim inside the region (its wall):
    a bubble wall's antialiasing and JPEG ringing inside the bubble, not lettering. Inpainted,
    they drew the wall's ink into the bubble as grey smudges (OpenMantra dev 016, 030: a small
    bubble whose wall curves into the line's region). What reaches the quad stays, and so does
    what only meets the region's edge (a large glyph the quad clips, realphotos-dev zh01)."""
    band = np.ones((5, 5), np.uint8)  # 2 px wide
    rim = (
        area & ~(cv2.erode(area.astype(np.uint8), band) > 0) & (cv2.erode(region.astype(np.uint8), band) > 0)
    )
    n, labels = cv2.connectedComponents(text.astype(np.uint8), connectivity=8)
    if n <= 1:
        return text
    on_rim = np.bincount(labels[rim], minlength=n) > 0
    on_quad = np.bincount(labels[inner], minlength=n) > 0
    specks = on_rim & ~on_quad
    specks[0] = False
    return text & ~specks[labels] if specks.any() else text


def _drop_outside_parts(text: np.ndarray, inner: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """Drop what comes in from beyond the region: a bubble border, a frame line in the margin.

    Such a structure enters through the region's outer edge and crosses the margin between
    the grown region and the detected quad; a glyph does not (a tight quad may clip a glyph,
    but the margin is wider than the clipped part). So the text pixels outside the quad that
    connect, outside the quad, to the outer edge go; whatever lies inside the quad stays
    (a glyph touching a border is still erased).
    """
    outside = (text & ~inner).astype(np.uint8)
    n, labels = cv2.connectedComponents(outside, connectivity=8)
    if n <= 1:
        return text
    reach = np.bincount(labels[edge], minlength=n) > 0
    reach[0] = False
    if not reach.any():
        return text
    return text & ~reach[labels]


def _drop_neighbours_glyphs(text: np.ndarray, inner: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Drop the glyphs of kept lines beside this one that reach into its region.

    Boxes of tightly set lines overlap: the feet of the line above lie in this line's box. A
    piece of lettering with more than twice as many pixels in the boxes of lines left as they
    are (``others``, outside this line's box) as in this line's box (outside theirs) is
    theirs, and stays. Pieces of lines erased too are not looked at: masked twice, nothing is
    lost, where a piece dropped here and cut off at that line's own region edge (the frame
    drawn around each item of a menu) would be left half erased.
    """
    if not others.any():
        return text
    n, labels = cv2.connectedComponents(text.astype(np.uint8), connectivity=8)
    if n <= 1:
        return text
    own = np.bincount(labels[inner & ~others], minlength=n)
    theirs = np.bincount(labels[others & ~inner], minlength=n)
    foreign = theirs > 2 * own
    foreign[0] = False
    return text & ~foreign[labels]


def _drop_rules(text: np.ndarray, edge: np.ndarray, thickness: float) -> np.ndarray:
    """Drop rules that run through the region: an underline, a divider, a table's line.

    A rule enters through the region's outer edge like a bubble border, but also runs on
    inside the quad (an underline under a title sits inside its padded box), where
    `_drop_outside_parts` keeps it. A glyph never reaches the outer edge as a thin straight
    band: what does, at most `_RULE_WIDTH` of the line's thickness wide, at least
    `_RULE_LENGTH` thicknesses long and filling its rotated box, is left as it is, whole.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(text.astype(np.uint8), connectivity=8)
    if n <= 1:
        return text
    touching = np.bincount(labels[edge], minlength=n) > 0
    touching[0] = False
    rules = np.zeros(n, bool)
    for k in np.nonzero(touching)[0]:
        if stats[k, cv2.CC_STAT_AREA] < _RULE_LENGTH * thickness:
            continue
        ys, xs = np.nonzero(labels == k)
        (_, _), (w, h), _ = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32))
        width, length = sorted((w + 1.0, h + 1.0))
        rules[k] = (
            width <= max(2.0, _RULE_WIDTH * thickness)
            and length >= _RULE_LENGTH * thickness
            and stats[k, cv2.CC_STAT_AREA] >= _RULE_FILL * width * length
        )
    if not rules.any():
        return text
    return text & ~rules[labels]


def _outer_edge(region: np.ndarray, clipped: tuple[bool, bool, bool, bool]) -> np.ndarray:
    """The region's outer boundary pixels, except along sides the image border cut off.

    Args:
        region: Boolean region mask of the crop.
        clipped: Whether the region continues beyond the crop's top, bottom, left, right.
    """
    top, bottom, left, right = (int(c) for c in clipped)
    padded = np.pad(region.astype(np.uint8), 1)
    padded[0, :], padded[-1, :] = top, bottom
    padded[:, 0], padded[:, -1] = left, right
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8))[1:-1, 1:-1]
    return region & ~eroded.astype(bool)


def _otsu(values: np.ndarray) -> tuple[float, float]:
    """Otsu's threshold of distances (clipped to 0..255) and its separability (0..1)."""
    v8 = np.clip(values, 0, 255).astype(np.uint8)
    hist = np.bincount(v8, minlength=256).astype(np.float64)
    p = hist / hist.sum()
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(p)
    m = np.cumsum(p * levels)
    mt = m[-1]
    var_t = float((p * (levels - mt) ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        var_b = (mt * w0 - m) ** 2 / (w0 * (1.0 - w0))
    var_b = np.nan_to_num(var_b, nan=0.0, posinf=0.0)
    k = int(np.argmax(var_b))
    if var_t <= 0:
        return float(k), 0.0
    return float(k), float(var_b[k] / var_t)


def _grow(pts: np.ndarray, pad: float) -> np.ndarray:
    """Move each edge of a quad outward by ``pad`` px along the quad's own axes."""
    a, b, c, d = pts
    u = (b - a) + (c - d)  # along the text
    v = (d - a) + (c - b)  # across the text
    u = u / max(float(np.linalg.norm(u)), 1e-9)
    v = v / max(float(np.linalg.norm(v)), 1e-9)
    return np.stack([a - pad * (u + v), b + pad * (u - v), c + pad * (u + v), d - pad * (u - v)])


def _poly_mask(pts: np.ndarray, h: int, w: int) -> np.ndarray:
    """Boolean (h, w) raster of a polygon, with sub-pixel vertex positions."""
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [np.round(pts * 16).astype(np.int32)], 255, lineType=cv2.LINE_8, shift=4)
    return m.astype(bool)
