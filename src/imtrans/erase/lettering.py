"""The lettering's own colours: keep what is drawn in them, drop what is merely not background.

A colour distance from an estimated background takes for text whatever that estimate
misses (hair behind a caption, a specular highlight) and loses lettering that crosses a
background of its own brightness. Lettering is one flat colour, or a fill and an
outline, or words drawn in colours of their own; a busy background is not flat. So the
confident text pixels are clustered by colour, the lettering's colours picked out, and the
mask limited to, and completed within, a stroke-width band around thin structures of
those colours.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from imtrans.erase.background import vector_norm

# Colour distance (Euclidean, 0..441 on RGB) below which a pixel is never text (mask.py uses it too).
MIN_CONTRAST = 18.0
# Confident text pixels needed to look for the lettering's colours.
_MIN_STRONG = 20
# Colours clustered at most (subsampled evenly beyond this).
_MAX_CLUSTER_POINTS = 400
# A text colour cluster: at least this share of confident pixels, at most this RMS spread.
_MIN_CLUSTER_SHARE = 0.1
_MAX_CLUSTER_SPREAD = 30.0
# A colour found in more of the ring (background) than this is not the lettering's.
_MAX_RING_COLOUR = 0.5
# A cluster looser than this (RMS) is tried as two colours.
_SPLIT_SPREAD = 14.0
# An outline colour is rare in the ring (background); at most this share of it.
_MAX_RING_OUTLINE = 0.25
# A second colour is an outline if it covers this share of the pixels around the first's strokes.
_MIN_OUTLINE = 0.5
# The text colours must explain at least this share of the confident pixels.
_MIN_COVERAGE = 0.3
# A colour draws letters when this share of its thin pixels lies in shapes at least this
# fraction of the line's thickness across.
_MIN_GLYPH = 0.3
_MIN_GLYPH_SHARE = 0.5
# Widest stroke, as a fraction of the line's thickness; wider text-coloured blobs are background.
_MAX_STROKE = 0.3
# Text pixels lie within this fraction of the line's thickness of a pixel of a text colour.
_BAND = 0.12


def refine_by_lettering_colour(
    crop: np.ndarray,
    dist: np.ndarray,
    text: np.ndarray,
    strong: np.ndarray,
    region: np.ndarray,
    inner: np.ndarray,
    ring: np.ndarray,
    thickness: float,
) -> np.ndarray:
    """Keep the text pixels that belong to the lettering's own colours, and add the ones missed.

    Lettering is drawn in one flat colour, or a fill and an outline; a busy background is
    not flat. The confident pixels are clustered by colour (`_lettering_colours`). The text
    is then every candidate pixel, or every pixel closer to a text colour (or to the
    fill-outline blend) than to the background, within a stroke-width band of a *core*
    pixel: a stroke-thin structure of a text colour. This drops background detail that the
    distance alone took for text (hair behind a caption, a specular highlight) and adds
    outline pixels close to the background, and lettering crossing a background of
    similar brightness. Without such colours, ``text`` is returned as it is.

    Args:
        crop: The line's crop, float32 (h, w, C).
        dist: Colour distance of each crop pixel from the estimated background.
        text: Candidate text pixels (distance above the threshold), boolean.
        strong: Confident text pixels (distance above Otsu's threshold), boolean.
        region: The grown quad; nothing outside it is text.
        inner: The detected quad.
        ring: The region's margin outside the quad, taken as background.
        thickness: The line's thickness in px (the quad's shorter side).

    Returns:
        The refined text pixels, boolean (h, w).
    """
    ys, xs = np.nonzero(strong)
    if len(ys) < _MIN_STRONG:
        return text
    # Core candidates: confident pixels, and any pixel inside the quad that stands out at
    # all (lettering crossing a background about as dark or light as itself).
    cy, cx = np.nonzero(strong | (inner & (dist > MIN_CONTRAST)))
    pixels = crop[cy, cx]
    r = max(2, round(_MAX_STROKE * thickness / 2))
    opener = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))

    def thin_layer(centre: np.ndarray, tol: float) -> np.ndarray:
        # Pixels of one colour, minus blobs wider than any stroke (a shadow as dark as the
        # lettering, a panel of its colour: background, and text over it is invisible anyway).
        # Judged colour by colour: a fill and its outline together make a thick shape.
        layer = np.zeros(region.shape, np.uint8)
        of_colour = vector_norm(pixels - centre) < tol
        layer[cy[of_colour], cx[of_colour]] = 1
        blobs = cv2.morphologyEx(layer, cv2.MORPH_OPEN, opener)
        layer[blobs > 0] = 0
        return layer

    colours, blends = _lettering_colours(crop[ys, xs], crop[ring], thin_layer, thickness)
    if not colours:
        return text
    core = np.zeros(region.shape, np.uint8)
    for layer in colours.values():
        core |= layer
    if not core.any():
        return text
    centres = np.array(list(colours.keys()), np.float32)
    band = max(2, round(_BAND * thickness))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    near = cv2.dilate(core, kernel).astype(bool) & region
    ny, nx = np.nonzero(near)
    d_bg = dist[ny, nx]
    closer_to_text = (_text_colour_distance(crop[ny, nx], centres, blends) < d_bg) & (d_bg > MIN_CONTRAST)
    refined = np.zeros(region.shape, bool)
    refined[ny, nx] = text[ny, nx] | closer_to_text
    return refined


def _lettering_colours(
    confident: np.ndarray,
    ring_pixels: np.ndarray,
    thin_layer: Callable[[np.ndarray, float], np.ndarray],
    thickness: float,
) -> tuple[dict[tuple[float, ...], np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
    """The lettering's colours and, for each, its stroke-thin pixels (a uint8 layer).

    Candidates are tight colour clusters of the confident pixels (`_colour_clusters`). A colour
    common in the ring is background (text rarely reaches the ring), so the candidate least
    present there is the fill. Every other candidate rare in the ring too is kept if it
    outlines a kept colour (most pixels just outside one colour's strokes have the other) or
    draws letters of its own (`_draws_letters`: an orange word in a white title, green
    syllables among black ones). Together the colours must explain a fair share of the
    confident pixels.

    Args:
        confident: Colours of the confident text pixels, (N, C).
        ring_pixels: Colours of the ring (background) pixels, (M, C).
        thin_layer: Maps ``(centre, tolerance)`` to that colour's stroke-thin pixel layer.
        thickness: The line's thickness in px.

    Returns:
        ``{centre: layer}`` for each lettering colour (empty when none), and the pairs of
        colours that outline one another (their blend, the antialiased seam, is text too).
    """
    v = confident.reshape(len(confident), -1).astype(np.float32)
    v = v[:: max(1, len(v) // _MAX_CLUSTER_POINTS)]
    ring = ring_pixels.reshape(len(ring_pixels), -1).astype(np.float32)
    ring = ring[:: max(1, len(ring) // _MAX_CLUSTER_POINTS)]
    candidates = []
    for centre, members in _colour_clusters(v):
        share = len(members) / len(v)
        spread = _spread(members, centre)
        if share < _MIN_CLUSTER_SHARE or spread > _MAX_CLUSTER_SPREAD:
            continue
        tol = max(MIN_CONTRAST, 2.5 * spread)
        in_ring = float((vector_norm(ring - centre) < tol).mean()) if len(ring) else 0.0
        if in_ring <= _MAX_RING_COLOUR:
            candidates.append((in_ring, -share, centre, tol))
    if not candidates:
        return {}, []
    candidates.sort(key=lambda c: (c[0], c[1]))
    _, neg_share, centre, tol = candidates[0]
    kept = [(centre, thin_layer(centre, tol))]
    blends: list[tuple[np.ndarray, np.ndarray]] = []
    share = -neg_share
    background = np.median(ring, axis=0) if len(ring) else None
    for rank, (in_ring, neg_share, centre, tol) in enumerate(candidates[1:], start=1):
        if in_ring > _MAX_RING_OUTLINE:
            continue
        # A blend of a kept colour and the background is their antialiased edge (or a
        # bubble border's), not a colour of its own; only the runner-up may still be an outline.
        blend = background is not None and any(
            float(_text_colour_distance(centre[None], other[None], [(other, background)])[0]) < tol
            for other, _ in kept
        )
        if blend and rank > 1:
            continue
        layer = thin_layer(centre, tol)
        outlined = [
            other
            for other, other_layer in kept
            if max(_outlines(other_layer, layer), _outlines(layer, other_layer)) >= _MIN_OUTLINE
        ]
        if outlined or (not blend and _draws_letters(layer, thickness)):
            blends += [(other, centre) for other in outlined]
            kept.append((centre, layer))
            share -= neg_share
    if share < _MIN_COVERAGE:
        return {}, []
    return {tuple(c.tolist()): layer for c, layer in kept}, blends


def _draws_letters(layer: np.ndarray, thickness: float) -> bool:
    """Whether a colour's stroke-thin pixels form letters: most of them lie in connected
    shapes at least `_MIN_GLYPH` of the line's thickness across (specular spots and
    specks of texture are smaller; a word's strokes are not)."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(layer, connectivity=8)
    if n <= 1:
        return False
    sizes = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    areas = stats[1:, cv2.CC_STAT_AREA]
    return bool(areas[sizes >= _MIN_GLYPH * thickness].sum() >= _MIN_GLYPH_SHARE * areas.sum())


def _colour_clusters(v: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Colour clusters of ``v`` (N, C): k-means with k=3, then each loose cluster split in two
    if that gives two tight, distinct colours (dark lettering over a dark-brown panel
    otherwise lands in one cluster between the two)."""
    centres, labels = _kmeans(v, 3)
    out = []
    for k, centre in enumerate(centres):
        members = v[labels == k]
        if len(members) == 0:
            continue
        spread = _spread(members, centre)
        if spread > _SPLIT_SPREAD and len(members) >= 2 * _MIN_STRONG:
            sub, sub_labels = _kmeans(members, 2)
            halves = [members[sub_labels == j] for j in range(2)]
            if (
                all(len(h) for h in halves)
                and float(np.linalg.norm(sub[0] - sub[1])) > 2 * MIN_CONTRAST
                and max(_spread(h, c) for h, c in zip(halves, sub, strict=True)) < 0.7 * spread
            ):
                out.extend(zip(sub, halves, strict=True))
                continue
        out.append((centre, members))
    return out


def _spread(members: np.ndarray, centre: np.ndarray) -> float:
    """RMS colour distance of a cluster's members to its centre."""
    return float(np.sqrt(((members - centre) ** 2).sum(axis=1).mean()))


def _outlines(inside: np.ndarray, outside: np.ndarray) -> float:
    """Share of the pixels just around ``inside``'s strokes (1-2 px) that belong to ``outside``."""
    around = cv2.dilate(inside, np.ones((5, 5), np.uint8)) & (1 - inside)
    n = int(around.sum())
    return float((around & outside).sum()) / n if n else 0.0


def _kmeans(v: np.ndarray, k: int, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic k-means (farthest-point initialisation) on a few hundred colours."""
    c = np.empty((k, v.shape[1]), np.float32)
    c[0] = np.median(v, axis=0)
    d = ((v - c[0]) ** 2).sum(axis=1)
    for j in range(1, k):
        c[j] = v[int(np.argmax(d))]
        d = np.minimum(d, ((v - c[j]) ** 2).sum(axis=1))
    labels = np.full(len(v), -1, np.int64)
    for _ in range(iterations):
        new = np.argmin((c * c).sum(axis=1)[None, :] - 2.0 * (v @ c.T), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        counts = np.bincount(labels, minlength=k)
        for j in np.nonzero(counts)[0]:
            c[j] = v[labels == j].mean(axis=0)
    return c, labels


def _text_colour_distance(
    pixels: np.ndarray, centres: np.ndarray, blends: list[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Colour distance of pixels (N, C) to the nearest text colour, or to a fill-outline blend."""
    d = np.min(vector_norm(pixels[:, None, :] - centres[None]), axis=1)
    for a, b in blends:
        ab = b - a
        t = np.clip(((pixels - a) @ ab) / max(float(ab @ ab), 1e-6), 0.0, 1.0)
        d = np.minimum(d, vector_norm(pixels - (a + t[:, None] * ab)))
    return d
