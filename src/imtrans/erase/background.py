"""A robust linear colour model of a background, fitted on a ring of pixels.

Both the mask builder (what colour is *not* text here?) and the eraser's fast path (what
colour goes under the text?) need the same thing: the background colour around a region,
allowing for a smooth ramp (gradients, uneven lighting) and ignoring the few stray text
pixels a ring always catches. A per-channel plane ``c + a*x + b*y`` fitted by least squares,
refitted once without the outliers, does both; on a flat background it is the mean colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Rings larger than this are subsampled (evenly, deterministically) before fitting.
_MAX_FIT_POINTS = 1024
# Fewer ring pixels than this cannot support a plane; a constant (median) is used instead.
_MIN_PLANE_POINTS = 12


@dataclass(frozen=True)
class ColourPlane:
    """Background colour as a function of position: ``coef[0] + coef[1]*(x-cx) + coef[2]*(y-cy)``.

    Attributes:
        coef: float64 array (3, C), one column per colour channel.
        cx: x origin the coefficients are relative to.
        cy: y origin the coefficients are relative to.
    """

    coef: np.ndarray
    cx: float
    cy: float

    def at(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Predicted colours (float32, shape (N, C)) at pixel coordinates ``ys``, ``xs``."""
        design = np.empty((len(ys), 3), np.float32)
        design[:, 0] = 1.0
        design[:, 1] = xs
        design[:, 1] -= np.float32(self.cx)
        design[:, 2] = ys
        design[:, 2] -= np.float32(self.cy)
        return design @ self.coef.astype(np.float32)

    def grid(self, h: int, w: int) -> np.ndarray:
        """Predicted colours on a whole (h, w) grid, float32 (h, w, C)."""
        c = self.coef.astype(np.float32)
        dx = np.arange(w, dtype=np.float32) - np.float32(self.cx)
        dy = np.arange(h, dtype=np.float32) - np.float32(self.cy)
        return (c[0] + dx[:, None] * c[1])[None, :, :] + (dy[:, None] * c[2])[:, None, :]


def fit_plane(ys: np.ndarray, xs: np.ndarray, values: np.ndarray) -> tuple[ColourPlane, np.ndarray]:
    """Fit a robust colour plane to ring pixels.

    Args:
        ys: Row of each ring pixel (N,).
        xs: Column of each ring pixel (N,).
        values: Colours of the ring pixels, (N, C), any numeric dtype.

    Returns:
        The fitted plane and the Euclidean colour residual of every given ring pixel (float32, (N,)).

    Raises:
        ValueError: if no ring pixel is given.
    """
    n = len(ys)
    if n == 0:
        raise ValueError("cannot fit a background colour to an empty ring")
    v = values.reshape(n, -1).astype(np.float32)
    step = max(1, n // _MAX_FIT_POINTS)
    fy, fx, fv = ys[::step], xs[::step], v[::step]
    cx, cy = float(fx.mean()), float(fy.mean())
    if len(fy) < _MIN_PLANE_POINTS:
        coef = np.zeros((3, v.shape[1]))
        coef[0] = np.median(fv, axis=0)
        plane = ColourPlane(coef, cx, cy)
    else:
        design = np.stack([np.ones(len(fy)), fx - cx, fy - cy], axis=1)
        plane = _solve(design, fv, cx, cy)
        # One refit without outliers (stray glyph pixels, a neighbour's antialiasing).
        r = vector_norm(fv - plane.at(fy, fx))
        keep = r <= max(2.5 * float(np.median(r)), 2.0)
        if _MIN_PLANE_POINTS <= keep.sum() < len(keep):
            plane = _solve(design[keep], fv[keep], cx, cy)
    residual = vector_norm(v - plane.at(ys, xs))
    return plane, residual


#: A hole thicker than this (px from its middle to its border) is filled with the plane plus
#: the ring's light where it runs off the plane (`_light_off_plane`): one plane over a big
#: letter on a lightbox is a shade off somewhere, and the letter's shape shows.
FOLLOW_LIGHT_PX = 8.0
#: ... less this much (0-441): what runs off the plane by less is noise or compression ripple.
UNEVEN_LIGHT = 3.0
#: A plate whose every channel is at least this is clipped white: its light is not followed.
CLIPPED_WHITE = 249.0
#: Share of the ring's largest residuals ignored when judging flatness (stray fringe pixels).
FLAT_TRIM = 0.05
#: A ring at least this share of one colour (within `WALL_COLOUR_FACTOR` times the tolerance),
#: `WALL_ONE_PIECE` of that in one piece, lies beside a wall (`_beside_a_wall`).
WALL_RING_SHARE, WALL_COLOUR_FACTOR, WALL_ONE_PIECE = 0.5, 3.0, 0.85


def flat_fill(crop: np.ndarray, mine: np.ndarray, ring: np.ndarray, tolerance: float) -> np.ndarray | None:
    """Fill colours for the pixels `mine` from the colour plane of `ring`, or None if it is not flat.

    Args:
        crop: Image around the hole, (h, w) or (h, w, C).
        mine: Bool (h, w): the pixels to fill.
        ring: Bool (h, w): unmasked pixels around them, the only source.
        tolerance: Largest standard deviation (0-255) of the ring around its plane.

    Returns:
        uint8 values in the order of `np.nonzero(mine)`, or None when the ring is too small
        or not smooth.
    """
    fill = _plane_fill(crop, mine, ring, tolerance)
    if fill is None and (beside := _beside_a_wall(crop, mine, ring, tolerance)) is not None:
        fill = _plane_fill(crop, mine, beside, tolerance)
    return fill


def ring_plane(crop: np.ndarray, ring: np.ndarray, tolerance: float) -> ColourPlane | None:
    """The colour plane of `ring` when the ring is smooth around it (the std of its residual,
    the largest `FLAT_TRIM` left out, below `tolerance` in every channel), else None.

    Args:
        crop: Image around a hole, (h, w) or (h, w, C).
        ring: Bool (h, w): unmasked pixels around the hole.
        tolerance: Largest standard deviation (0-255) of the ring around its plane.
    """
    ry, rx = np.nonzero(ring)
    if len(ry) < 8:
        return None
    values = crop[ry, rx].reshape(len(ry), -1)
    plane, residual = fit_plane(ry, rx, values)
    signed = values.astype(np.float32) - plane.at(ry, rx)
    keep = residual <= np.quantile(residual, 1.0 - FLAT_TRIM)
    if float(signed[keep].std(axis=0).max()) >= tolerance:
        return None
    return plane


def _plane_fill(crop: np.ndarray, mine: np.ndarray, ring: np.ndarray, tolerance: float) -> np.ndarray | None:
    """`flat_fill` from the whole of `ring`."""
    plane = ring_plane(crop, ring, tolerance)
    if plane is None:
        return None
    my, mx = np.nonzero(mine)
    colours = plane.at(my, mx)
    thickness = float(cv2.distanceTransform(mine.astype(np.uint8), cv2.DIST_L2, 3).max())
    if thickness > FOLLOW_LIGHT_PX:
        light = _light_off_plane(crop, ring, plane, thickness / 3, 3 * tolerance)[my, mx]
        # Shrunk by `UNEVEN_LIGHT`: a plate lit evenly keeps its plane, whatever little is left
        # (noise, or a screenshot's compression ripple around its letters: one-sided on white,
        # it would grey the fill).
        size = vector_norm(light)
        shrink = np.maximum(size - UNEVEN_LIGHT, 0) / np.maximum(size, 1e-6)
        # Light cannot be read off a plate clipped to white (a page, a bubble): what departs
        # from it there is only ever darker (antialiasing, compression), never the light.
        shrink[colours.min(axis=1) >= CLIPPED_WHITE] = 0.0
        colours += light * shrink[:, None]
    fill = np.clip(np.rint(colours), 0, 255).astype(np.uint8)
    return fill.reshape((len(my),) + crop.shape[2:])


def _light_off_plane(
    crop: np.ndarray, ring: np.ndarray, plane: ColourPlane, reach: float, limit: float
) -> np.ndarray:
    """Where the ring's light runs off its plane (a lightbox, a lamp's falloff), the same
    departure spread into the hole: the ring's residuals from the plane averaged with Gaussian
    weights of `reach` px (normalised convolution), for every pixel of the crop, (h, w, C)
    float32. Residuals farther than `limit` from the plane are something else beside the plate
    (a photo, a stroke) and are left out; a ring's noise averages away."""
    h, w = ring.shape
    ry, rx = np.nonzero(ring)
    signed = crop[ry, rx].reshape(len(ry), -1).astype(np.float32) - plane.at(ry, rx)
    near = vector_norm(signed) < limit
    channels = signed.shape[1]
    # Averaged at a scale where the reach is about 4 px: the result is smooth at that scale.
    f = min(1.0, 4.0 / max(reach, 1.0))
    sh, sw = max(1, round(h * f)), max(1, round(w * f))
    sums = np.zeros((sh, sw, channels), np.float32)
    weights = np.zeros((sh, sw), np.float32)
    sy = np.minimum((ry[near] * f).astype(np.intp), sh - 1)
    sx = np.minimum((rx[near] * f).astype(np.intp), sw - 1)
    np.add.at(sums, (sy, sx), signed[near])
    np.add.at(weights, (sy, sx), 1.0)
    sigma = max(1.0, reach * f)
    sums = cv2.GaussianBlur(sums, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    weights = cv2.GaussianBlur(weights, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    if sums.ndim == 2:
        sums = sums[:, :, None]
    light = sums / np.maximum(weights, 1e-6)[:, :, None]
    light = cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)
    return light.reshape(h, w, channels)


def _beside_a_wall(
    crop: np.ndarray, mine: np.ndarray, ring: np.ndarray, tolerance: float
) -> np.ndarray | None:
    """The ring without a wall the hole lies beside: a bubble's or a plate's outline, or a
    neighbour's stroke, that passes close to the text but does not cross it. Inpainted, its ink
    is drawn into the hole (grey smudges inside small bubbles, OpenMantra dev).

    The ring qualifies when at least `WALL_RING_SHARE` of it is one colour (the ground), that
    part is one piece (`WALL_ONE_PIECE` of it: a wall that crosses the hole cuts the ring into
    two sides, and a flat fill would cut the wall), and the rest is ink: within the tolerance
    of the line from the ground through the lettering's colour (antialiasing blends the two; a
    darker ink of that hue too). A ground of another colour there (a sign's shaded yellow band
    beside its grey, realphotos-dev zh01) is a region the hole may reach into: None, as for any
    other ring."""
    ry, rx = np.nonzero(ring)
    if len(ry) < 8:
        return None
    values = crop[ry, rx].reshape(len(ry), -1).astype(np.float32)
    ground = dominant_colour(values)
    near = vector_norm(values - ground) < WALL_COLOUR_FACTOR * tolerance
    if near.mean() < WALL_RING_SHARE or near.all():
        return None
    hole = crop[mine].reshape(int(mine.sum()), -1).astype(np.float32)
    far = vector_norm(hole - ground)
    # The lettering: the hole's pixels farthest from the ground (not its other grounds).
    letters = hole[(far >= WALL_COLOUR_FACTOR * tolerance) & (far >= np.percentile(far, 90))]
    if len(letters) == 0:
        return None
    ink = np.median(letters, axis=0) - ground
    other = np.median(values[~near], axis=0) - ground
    # On the line from the ground through the lettering's colour, past it too: a hole of faint
    # specks beside a black wall.
    along = max(0.0, float(other @ ink) / max(float(ink @ ink), 1e-6))
    if float(vector_norm(other - along * ink)) >= tolerance:
        return None
    side = np.zeros(ring.shape, np.uint8)
    side[ry[near], rx[near]] = 1
    _, _, stats, _ = cv2.connectedComponentsWithStats(side, connectivity=8)
    if stats[1:, cv2.CC_STAT_AREA].max() < WALL_ONE_PIECE * near.sum():
        return None
    return side > 0


def dominant_colour(pixels: np.ndarray) -> np.ndarray:
    """The commonest colour of some pixels: the median of those in the fullest cell of a
    grid of 16 levels per channel.

    Args:
        pixels: (N, C) values in 0..255, N >= 1.

    Returns:
        float (C,) colour.
    """
    cells = np.ravel_multi_index(
        tuple(np.clip(pixels // 16, 0, 15).astype(np.intp).T), (16,) * pixels.shape[1]
    )
    return np.median(pixels[cells == np.bincount(cells).argmax()], axis=0)


def vector_norm(a: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis (faster than np.linalg.norm for 3 channels)."""
    return np.sqrt(np.einsum("...k,...k->...", a, a))


def _solve(design: np.ndarray, values: np.ndarray, cx: float, cy: float) -> ColourPlane:
    """Least squares by the 3x3 normal equations (a tiny ridge keeps degenerate rings solvable)."""
    gram = design.T @ design + np.eye(3) * 1e-6
    coef = np.linalg.solve(gram, design.T @ values.astype(np.float64))
    return ColourPlane(coef, cx, cy)
