"""Curved lines: lettering set along an arc (a badge, a logo, a stamp, a bottle cap).

DB (the PP-OCR detector) lights a curved line as a crescent, and its usual box, the crescent's
minimum-area rectangle, is mostly background: its mean score falls under the box threshold
and the line is dropped (a 20 px arc), or kept as a rectangle whose crop no recogniser reads
(`REDROCK COFFEE` read `REDROCK FEE`). Here each component of the map is measured in its own
chord's frame: its centre line is fitted as a circle's arc, and where that arc bends off its
chord by `MIN_SAGITTA` of the line's thickness or more the component becomes a curved line,
cut along the arc into quads, scored by the component itself. Readers straighten
it quad by quad (`recognize.crop.crop_line`); everything else uses its bounding quad.
"""

from __future__ import annotations

import cv2
import numpy as np
from shapely.geometry import Polygon

from imtrans.detect.geometry import Box, order_quad
from imtrans.types import Direction, Line, Quad

#: A centre line bending off its chord by at least this share of the line's thickness is curved.
MIN_SAGITTA = 0.3
#: A component filling more of its minimum-area rectangle than this is straight.
MAX_FILL = 0.85
#: The arc must leave at most this share of what a straight line leaves of the band's middle
#: (root mean square): the bend is an arc's, not a line's wander.
MAX_ARC_SHARE = 0.5
#: A curved line is at least this many thicknesses long (a glyph or a blob is not a line).
MIN_LENGTH = 3.0
#: Only lines whose chord lies within this many degrees of horizontal are taken (a column of
#: vertical text is not bent lettering; arcs down a badge's side are left as they are).
MAX_CHORD_ANGLE = 40.0
#: Curved lines joined into one when one ends within this many thicknesses of where the next
#: starts, heading the same way within `JOIN_ANGLE` degrees.
JOIN_GAP = 1.5
JOIN_ANGLE = 20.0
#: Segments per thickness of length (at least 4): short enough to follow an arc closely.
SEGMENTS_PER_THICKNESS = 1.5


def curve_from_component(
    prob: np.ndarray, contour: np.ndarray, unclip_ratio: float
) -> tuple[np.ndarray, float] | None:
    """The quads of a curved line along one map component, or None if it is not a curved line.

    Args:
        prob: The text probability map (H, W) the component was found in.
        contour: The component's outer contour (N, 1, 2) int, as `cv2.findContours` gives it.
        unclip_ratio: DB's unclip ratio: the line reaches past the component by its area times
            this over its perimeter (as a straight box is grown).

    Returns:
        (segments, score): segments (K, 4, 2) float in map pixels, in reading order, each
        top-left, top-right, bottom-right, bottom-left (the glyphs' tops on the arc's outer side
        for an arch, its inner side for a smile: up, for text read left to right); score, the
        map's mean over the component.
    """
    pts = contour.reshape(-1, 2).astype(np.float64)
    if len(pts) < 5:
        return None
    # A band that fills its rectangle this well is straight (the arcs of badges and banners
    # measured fill 0.46-0.76 of theirs): most components stop here, cheaply.
    (_, _), (rw, rh), _ = cv2.minAreaRect(contour)
    if rw * rh <= 0 or cv2.contourArea(contour) > MAX_FILL * rw * rh:
        return None
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    cv2.fillPoly(mask, [np.round(pts - (x0, y0)).astype(np.int32)], 1)
    ys, xs = np.nonzero(mask)
    if len(xs) < 16:
        return None
    thick = 2.0 * float(cv2.distanceTransform(mask, cv2.DIST_L2, 3).max())
    # The chord: the component's principal axis, read left to right.
    xy = np.stack([xs + x0, ys + y0], axis=1).astype(np.float64)
    centre = xy.mean(axis=0)
    _, vecs = np.linalg.eigh(np.cov((xy - centre).T))
    u = vecs[:, 1]
    if u[0] < 0:
        u = -u
    if abs(np.degrees(np.arctan2(u[1], u[0]))) > MAX_CHORD_ANGLE:
        return None
    v = np.array([u[1], -u[0]])  # the chord's normal, pointing up
    t = (xy - centre) @ u
    s = (xy - centre) @ v
    length = float(t.max() - t.min())
    if thick <= 0 or length < MIN_LENGTH * thick:
        return None
    # The centre line as a circle's arc (badges, stamps and caps set text on circles), fitted to
    # the band's middle sampled along it: fitted to all of a thick, short band's pixels, circles
    # run off the arc. A straight line's middle wanders too (a low comma, a short glyph), so
    # the arc must bend by `MIN_SAGITTA` and explain most of what a straight line leaves.
    ta, sa = _centre_samples(t, s, thick)
    if len(ta) < 5:
        return None
    fitted = _fit_circle(ta, sa)
    if fitted is None:
        return None
    ct, cs, radius = fitted
    half_chord = length / 2
    if radius <= half_chord:
        return None
    sagitta = radius - np.sqrt(radius**2 - half_chord**2)
    off_line = float(np.sqrt(np.mean((sa - np.polyval(np.polyfit(ta, sa, 1), ta)) ** 2)))
    off_arc = float(np.sqrt(np.mean((np.hypot(ta - ct, sa - cs) - radius) ** 2)))
    if sagitta < MIN_SAGITTA * thick or off_arc > MAX_ARC_SHARE * off_line:
        return None
    # The line reaches past its shrunk core as DB grows a box (the unclip distance).
    area = float(cv2.contourArea(contour))
    perimeter = float(cv2.arcLength(contour, True))
    grow = area * unclip_ratio / perimeter if perimeter > 0 else 0.0
    half = thick / 2 + grow
    # Angles (around the circle's centre, in the chord's frame) of the line's two ends, reaching
    # `grow` further along the arc; the arc runs left to right through the chord's middle.
    angles = np.arctan2(s - cs, t - ct)
    mid = float(np.arctan2(np.mean(s) - cs, np.mean(t) - ct))
    spread = np.angle(np.exp(1j * (angles - mid)))
    ends = (float(spread.min()) - grow / radius, float(spread.max()) + grow / radius)
    count = max(4, round(SEGMENTS_PER_THICKNESS * length / (2 * half)))
    phis = mid + np.linspace(*ends, count + 1)
    radial = np.stack([np.cos(phis), np.sin(phis)], axis=1)
    # Left to right along the chord, and the glyphs' tops up (away from the centre for an arch,
    # towards it for a smile).
    if (radial[-1] - radial[0])[0] < 0:
        radial = radial[::-1]
    if cs < 0:  # the centre lies below the line (in the chord's frame, s runs up): an arch
        up = radial
    else:
        up = -radial
    points_ts = np.array([ct, cs]) + radius * radial
    on_line = centre + np.outer(points_ts[:, 0], u) + np.outer(points_ts[:, 1], v)
    normal = np.outer(up[:, 0], u) + np.outer(up[:, 1], v)
    top, bottom = on_line + half * normal, on_line - half * normal
    segments = np.stack([top[:-1], top[1:], bottom[1:], bottom[:-1]], axis=1)
    score = float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])
    return segments, score


def _centre_samples(t: np.ndarray, s: np.ndarray, thick: float) -> tuple[np.ndarray, np.ndarray]:
    """The band's centre line sampled along the chord, every half thickness: the middle of the
    band across it there (`t` along the chord, `s` across it)."""
    step = max(1.0, thick / 2)
    which = np.floor((t - t.min()) / step).astype(np.int64)
    order = np.argsort(which, kind="stable")
    which, t, s = which[order], t[order], s[order]
    starts = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
    counts = np.diff(np.r_[starts, len(which)])
    middle = (np.minimum.reduceat(s, starts) + np.maximum.reduceat(s, starts)) / 2
    along = np.add.reduceat(t, starts) / counts
    keep = counts >= 2
    return along[keep], middle[keep]


def _fit_circle(t: np.ndarray, s: np.ndarray) -> tuple[float, float, float] | None:
    """Centre and radius of the circle through points (algebraic least squares)."""
    fit, *_ = np.linalg.lstsq(np.stack([2 * t, 2 * s, np.ones_like(t)], axis=1), t**2 + s**2, rcond=None)
    r2 = fit[2] + fit[0] ** 2 + fit[1] ** 2
    if not np.isfinite(r2) or r2 <= 0:
        return None
    return float(fit[0]), float(fit[1]), float(np.sqrt(r2))


def outline(segments: np.ndarray) -> np.ndarray:
    """The curved line's outline (2K + 2, 2): along its top, then back along its bottom."""
    top = np.concatenate([segments[:, 0], segments[-1:, 1]])
    bottom = np.concatenate([segments[:, 3], segments[-1:, 2]])
    return np.concatenate([top, bottom[::-1]])


def bounding_quad(segments: np.ndarray) -> np.ndarray:
    """The minimum-area rectangle around a curved line (4, 2), its corners ordered as a line's
    quad (`geometry.order_quad`: top-left first, as the text reads)."""
    return order_quad(
        cv2.boxPoints(cv2.minAreaRect(outline(segments).astype(np.float32))).astype(np.float64)
    )[0]


def segments_of(line: Line) -> np.ndarray:
    """A curved line's quads (`Line.curve`) as the (K, 4, 2) float array this module works on."""
    return np.array([q.points for q in line.curve], np.float64)


def curve_quads(segments: np.ndarray) -> tuple[Quad, ...]:
    """The (K, 4, 2) quads as `Line.curve` holds them."""
    return tuple(Quad.from_list(q) for q in segments)


def band_thickness(segments: np.ndarray) -> float:
    """How thick a curved line's band is: its quads' mean height."""
    return float(np.mean(np.linalg.norm(segments[:, 3] - segments[:, 0], axis=1)))


def strip_pieces(segments: np.ndarray, pad: float = 0.0) -> tuple[list[tuple[np.ndarray, int]], int]:
    """How `straighten` lays a curved line out: per segment, the image quad it takes (4, 2)
    float32 (grown by ``pad`` of the line's thickness above and below, and before the first and
    after the last segment) and its width in the strip; and the strip's height."""
    thick = band_thickness(segments)
    m = pad * thick
    out_h = max(1, round(thick + 2 * m))
    pieces = []
    last = len(segments) - 1
    for i, (tl, tr, br, bl) in enumerate(np.asarray(segments, np.float64)):
        up_l = (tl - bl) / max(1e-6, float(np.linalg.norm(tl - bl)))
        up_r = (tr - br) / max(1e-6, float(np.linalg.norm(tr - br)))
        along = (tr - tl) / max(1e-6, float(np.linalg.norm(tr - tl)))
        before = m * along if i == 0 else 0.0
        after = m * along if i == last else 0.0
        src = np.float32(
            [tl + m * up_l - before, tr + m * up_r + after, br - m * up_r + after, bl - m * up_l - before]
        )
        width = max(1, round(float(np.linalg.norm(src[1] - src[0]) + np.linalg.norm(src[2] - src[3])) / 2))
        pieces.append((src, width))
    return pieces, out_h


def straighten(image: np.ndarray, segments: np.ndarray, pad: float = 0.0) -> np.ndarray:
    """The curved line laid out straight: each segment warped upright and set side by side.

    Args:
        image: The page (H, W, C) or (H, W).
        segments: (K, 4, 2) quads along the line in image pixels (`curve_from_component`).
        pad: Margin around the line, a share of its thickness: above and below each segment,
            and before the first and after the last.
    """
    pieces, out_h = strip_pieces(segments, pad)
    out = []
    for src, width in pieces:
        dst = np.float32([[0, 0], [width, 0], [width, out_h], [0, out_h]])
        matrix = cv2.getPerspectiveTransform(src, dst)
        out.append(
            cv2.warpPerspective(
                image, matrix, (width, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
            )
        )
    return np.ascontiguousarray(np.concatenate(out, axis=1))


def unstraighten(strip: np.ndarray, segments: np.ndarray, pad: float, shape: tuple[int, int]) -> np.ndarray:
    """A mask drawn on `straighten`'s strip (same ``pad``), put back on the page: (H, W) = ``shape``.

    Each segment's columns go back to its quad (nearest pixel); where the quads meet, either's.
    """
    pieces, out_h = strip_pieces(segments, pad)
    out = np.zeros(shape, strip.dtype)
    x = 0
    for src, width in pieces:
        piece = np.ascontiguousarray(strip[:, x : x + width])
        x += width
        corners = np.float32([[0, 0], [width, 0], [width, out_h], [0, out_h]])
        x0, y0 = np.floor(src.min(axis=0)).astype(int)
        x1, y1 = np.ceil(src.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(shape[1], x1), min(shape[0], y1)
        if x1 <= x0 or y1 <= y0:
            continue
        matrix = cv2.getPerspectiveTransform(corners, src - np.float32([x0, y0]))
        back = cv2.warpPerspective(piece, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_NEAREST, borderValue=0)
        np.maximum(out[y0:y1, x0:x1], back, out=out[y0:y1, x0:x1])
    return out


def curved_boxes(
    prob: np.ndarray, pixel_threshold: float, box_threshold: float, unclip_ratio: float, sx: float, sy: float
) -> list[Box]:
    """The curved lines of a detection pass's map, in image pixels (the map's times ``sx``, ``sy``).

    Components are taken as DB's post-processing takes them (the map above ``pixel_threshold``,
    dilated by 2 x 2); each that `curve_from_component` finds curved and whose own mean score
    reaches ``box_threshold`` is a `Box` with its `curve`.
    """
    binary = cv2.dilate((prob > pixel_threshold).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found = [curve_from_component(prob, contour, unclip_ratio) for contour in contours]
    lines = [
        (seg * np.array([sx, sy]), score) for seg, score in (f for f in found if f) if score >= box_threshold
    ]
    out = []
    for segments, score in _join_arcs(lines):
        out.append(
            Box(points=bounding_quad(segments), score=score, direction=Direction.HORIZONTAL, curve=segments)
        )
    return out


def _join_arcs(lines: list[tuple[np.ndarray, float]]) -> list[tuple[np.ndarray, float]]:
    """Curved lines that run on along one arc joined into one (the words of a badge's name,
    which the map lights apart): end to start closer than `JOIN_GAP` thicknesses, heading the
    same way there within `JOIN_ANGLE` degrees, and of about one thickness (within a third).
    A gap between them becomes a segment of its own; ends that overlap (by half a thickness at
    most) meet halfway."""
    lines = sorted(lines, key=lambda ln: float(ln[0][0, 0, 0]))
    joined = True
    while joined:
        joined = False
        for i, (a, score_a) in enumerate(lines):
            for j, (b, score_b) in enumerate(lines):
                if i == j:
                    continue
                ta, tb = band_thickness(a), band_thickness(b)
                end_a, start_b = (a[-1, 1] + a[-1, 2]) / 2, (b[0, 0] + b[0, 3]) / 2
                gap = float(np.linalg.norm(start_b - end_a))
                heading_a, heading_b = a[-1, 1] - a[-1, 0], b[0, 1] - b[0, 0]
                cos = float(heading_a @ heading_b) / max(
                    1e-9, float(np.linalg.norm(heading_a) * np.linalg.norm(heading_b))
                )
                # b starts past a's end, or overlaps it (the bands' grown ends) by half a thickness at most.
                along = float((start_b - end_a) @ heading_a) / max(1e-9, float(np.linalg.norm(heading_a)))
                if (
                    gap <= JOIN_GAP * max(ta, tb)
                    and along >= -0.5 * ta
                    and cos >= np.cos(np.radians(JOIN_ANGLE))
                    and abs(ta - tb) <= max(ta, tb) / 3
                ):
                    if along > 0:  # the gap between them becomes a segment of its own
                        bridge = np.stack([a[-1, 1], b[0, 0], b[0, 3], a[-1, 2]])[None]
                        merged = np.concatenate([a, bridge, b])
                    else:  # overlapping ends meet halfway (no stretch of the line read twice)
                        a, b = a.copy(), b.copy()
                        a[-1, 1] = b[0, 0] = (a[-1, 1] + b[0, 0]) / 2
                        a[-1, 2] = b[0, 3] = (a[-1, 2] + b[0, 3]) / 2
                        merged = np.concatenate([a, b])
                    weight = len(a) + len(b)
                    lines[i] = (merged, (score_a * len(a) + score_b * len(b)) / weight)
                    del lines[j]
                    joined = True
                    break
            if joined:
                break
    return lines


def with_curves(boxes: list[Box], curved: list[Box], inside: float = 0.5) -> list[Box]:
    """``boxes`` with the curved lines in place of the boxes that lie mostly (``inside`` of their
    area or more) within a curved line's outline: the same lettering cut as rectangles."""
    if not curved:
        return boxes
    shapes = [Polygon(outline(c.curve)).buffer(0) for c in curved if c.curve is not None]
    kept = []
    for b in boxes:
        poly = Polygon(b.points).buffer(0)
        area = poly.area
        if area > 0 and any(poly.intersection(s).area >= inside * area for s in shapes):
            continue
        kept.append(b)
    return kept + curved
