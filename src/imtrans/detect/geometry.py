"""Pure geometry for detected boxes: ordering quads, overlap, merging passes and glyphs into lines.

Every function here takes and returns plain numpy arrays or `Box` records, so the rules can be
tested as tables without running a model. Coordinates are pixels of the input image.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from imtrans.types import Direction, Quad

#: A box this much taller than wide (along its own axes) is a vertical column.
VERTICAL_ASPECT = 1.5


@dataclass(frozen=True, eq=False)
class Box:
    """A candidate text box: four ordered corners (see `order_quad`), its score and where it came from.

    Boxes compare by identity (their corners are an array).

    Attributes:
        points: (4, 2) float array: top-left, top-right, bottom-right, bottom-left as the text is read.
        score: Mean text probability inside the box (the detector's box score).
        direction: Horizontal line or vertical column.
        scale: Scale of the detection pass that found it (1.0 = main pass).
        parts: How many detector boxes were merged into this one.
        curve: A line set along an arc: (K, 4, 2) quads along it (`curves.curve_from_component`);
            `points` is then its bounding rectangle. None for a straight line.
    """

    points: np.ndarray
    score: float
    direction: Direction = Direction.HORIZONTAL
    scale: float = 1.0
    parts: int = 1
    curve: np.ndarray | None = None

    @property
    def width(self) -> float:
        """Mean length of the first and third edges: along a line, across a column."""
        p = self.points
        return float(np.linalg.norm(p[1] - p[0]) + np.linalg.norm(p[2] - p[3])) / 2

    @property
    def height(self) -> float:
        """Mean length of the second and fourth edges: a line's height, a column's length."""
        p = self.points
        return float(np.linalg.norm(p[3] - p[0]) + np.linalg.norm(p[2] - p[1])) / 2

    @property
    def short_side(self) -> float:
        return min(self.width, self.height)

    @property
    def text_size(self) -> float:
        """Rough size of the lettering: the long side of a glyph-like box, the short side of a line."""
        lo, hi = sorted((self.width, self.height))
        return hi if hi < 1.6 * lo else lo

    @property
    def area(self) -> float:
        return float(abs(cv2.contourArea(self.points.astype(np.float32))))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        p = self.points
        return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())

    def to_quad(self) -> Quad:
        return Quad.from_list(self.points)


def order_quad(points: np.ndarray) -> tuple[np.ndarray, Direction]:
    """Order four corners of a (rotated) rectangle per the `imtrans.types` convention.

    The long axis decides: a box whose long axis is closer to the image's vertical and that is at
    least `VERTICAL_ASPECT` times longer than wide is a vertical column, read top to bottom, whose
    first edge runs across its top from left to right. Anything else is a horizontal line read
    along its long axis, left to right, whose first edge is its top edge (so a line rotated by 15
    degrees has a first edge at 15 degrees). Boxes whose long axis is closer to the vertical but that
    are not long enough for a column (a square glyph, a narrow letter) take the edge closest to the
    image horizontal as their top. A line rotated by more than 45 degrees thus becomes a column:
    without reading it, the two cannot be told apart.

    Args:
        points: (4, 2) corners in any order.

    Returns:
        The corners as top-left, top-right, bottom-right, bottom-left, and the direction.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(4, 2)
    (cx, cy), (rw, rh), rot = cv2.minAreaRect(pts.astype(np.float32))
    c = np.array([cx, cy])
    # Two edge directions of the rectangle, from the hull of the given points.
    hull = cv2.boxPoints(((cx, cy), (rw, rh), rot)).astype(np.float64)
    e1 = hull[1] - hull[0]
    e2 = hull[2] - hull[1]
    l1, l2 = float(np.linalg.norm(e1)), float(np.linalg.norm(e2))
    if l1 < 1e-6 or l2 < 1e-6:
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), Direction.HORIZONTAL
    long_v, long_l, short_l = (e1 / l1, l1, l2) if l1 >= l2 else (e2 / l2, l2, l1)
    long_is_vertical = abs(long_v[1]) > abs(long_v[0])
    if long_is_vertical and long_l >= VERTICAL_ASPECT * short_l:
        a = long_v if long_v[1] > 0 else -long_v  # down the column
        e = np.array([a[1], -a[0]])  # across the column, to the right
        direction = Direction.VERTICAL
        u_axis, v_axis = e, a
        half_u, half_v = short_l / 2, long_l / 2
    else:
        # A line is read along whichever rectangle axis is closer to the image horizontal: its long
        # axis for an ordinary line, its short axis for a square glyph or a narrow letter.
        short_v = (e2 / l2) if l1 >= l2 else (e1 / l1)
        if abs(long_v[0]) >= abs(short_v[0]):
            d, half_u, half_v = long_v, long_l / 2, short_l / 2
        else:
            d, half_u, half_v = short_v, short_l / 2, long_l / 2
        d = d if d[0] > 0 or (d[0] == 0 and d[1] < 0) else -d  # read left to right
        n = np.array([-d[1], d[0]])  # down, across the line
        direction = Direction.HORIZONTAL
        u_axis, v_axis = d, n
    ordered = np.array(
        [
            c - half_u * u_axis - half_v * v_axis,
            c + half_u * u_axis - half_v * v_axis,
            c + half_u * u_axis + half_v * v_axis,
            c - half_u * u_axis + half_v * v_axis,
        ]
    )
    return ordered, direction


def intersection_area(a: np.ndarray, b: np.ndarray) -> float:
    """Area shared by two convex quads."""
    area, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    return float(max(area, 0.0))


def overlap(a: Box, b: Box) -> tuple[float, float, float]:
    """IoU, and the share of `a` inside `b` and of `b` inside `a`."""
    inter = intersection_area(a.points, b.points)
    if inter <= 0:
        return 0.0, 0.0, 0.0
    aa, ab = max(a.area, 1e-6), max(b.area, 1e-6)
    return inter / (aa + ab - inter), inter / aa, inter / ab


def meets(overlaps: tuple[float, float, float]) -> bool:
    """Whether two boxes, given their `overlap`, meet as passes count it: IoU over 0.05, or a
    fifth of either box inside the other."""
    iou, a_in, b_in = overlaps
    return iou > 0.05 or a_in > 0.2 or b_in > 0.2


def add_unseen(kept: list[Box], found: list[Box]) -> list[Box]:
    """`kept` and each box of `found` that `meets` none of them: a line `kept` missed.

    Among `found`, only the same line found twice (IoU over 0.5, where windows searched again
    overlap) is dropped: neighbouring lines' boxes overlap a little.
    """
    out = list(kept)
    for box in found:
        near = any(meets(overlap(box, k)) for k in kept)
        if not near and not any(overlap(box, f)[0] > 0.5 for f in out[len(kept) :]):
            out.append(box)
    return out


def merge_passes(
    main: list[Box], extra: list[list[Box]], *, main_scale: float = 1.0, big_text: float = 90.0
) -> list[Box]:
    """Combine the main detection pass with coarser passes.

    The detector reads text of ordinary size well and breaks on very large glyphs: it sees strokes,
    not letters, and finds fragments, glyphs of two lines fused into one box, or nothing. A coarser
    pass sees those glyphs at an ordinary size, but it also fuses and cuts things of its own. So a
    box of a coarser pass (`C`) is weighed against the boxes kept so far (`K`):

    * `C` overlaps nothing: the finer passes missed it; keep it.
    * Its text is not big for the finer passes (`Box.text_size` below `big_text` pixels as the
      finest pass that looked at it saw it): the finer passes had it at a good size; drop `C`.
    * `C` cuts across a `K` (each holds less than 60% of the other): `C` is inconsistent with
      what was found; drop it.
    * `C` lies inside a `K` of about its own height (a glyph of a line already found): drop it.
    * Otherwise `C` replaces the boxes inside it (fragments of its glyphs) and the boxes that hold
      it but reach 1.5 times as far across its lines (glyphs of two lines fused into one tall box),
      unless the boxes inside it are two or more whole lines stacked (then the coarse pass fused
      lines; drop `C`).

    Args:
        main: Boxes of the main pass, in original image pixels.
        extra: Boxes of each extra pass, in original image pixels; each box's `scale` is the scale
            of the image its pass looked at.
        main_scale: Scale of the image the main pass looked at.
        big_text: Text size, in pixels as a pass sees it, above which that pass is not trusted.

    Returns:
        The merged boxes.
    """
    kept = list(main)
    # Finest first: each coarser pass is weighed against everything finer.
    passes = sorted((p for p in extra if p), key=lambda p: -p[0].scale)
    finer_scale = main_scale
    for boxes in passes:
        # In original pixels, how big text must be before the finer passes were unreliable.
        threshold = big_text / finer_scale
        for box in sorted(boxes, key=lambda b: -b.area):
            hits = []
            for j, k in enumerate(kept):
                iou, in_k, k_in = overlap(box, k)
                if meets((iou, in_k, k_in)):
                    hits.append((j, in_k, k_in))
            if not hits:
                kept.append(box)
                continue
            if box.text_size < threshold:
                continue
            inside, fused, drop_box = [], [], False
            for j, in_k, k_in in hits:
                k = kept[j]
                if k_in >= 0.6:
                    inside.append(j)
                elif in_k >= 0.6 and _across(k, box) >= 1.5 * _across(box, box):
                    fused.append(j)
                else:
                    drop_box = True  # cuts across k, or is a glyph of a line k already holds
                    break
            if drop_box or _spans_lines(box, [kept[j] for j in inside]):
                continue
            gone = set(inside) | set(fused)
            kept = [k for j, k in enumerate(kept) if j not in gone]
            kept.append(box)
        finer_scale = boxes[0].scale
    return kept


def _across(b: Box, ref: Box) -> float:
    """Extent of `b` across the reading direction of `ref` (image axes): height for a line."""
    x0, y0, x1, y1 = b.bbox
    return (y1 - y0) if ref.direction == Direction.HORIZONTAL else (x1 - x0)


def _spans_lines(box: Box, inside: list[Box]) -> bool:
    """True if `inside` holds two or more whole lines stacked across themselves (a coarse pass
    merged them): rows stacked top to bottom, or vertical columns side by side.

    Each inner box is measured in its own direction, whatever `box` was classed as: a coarse
    box over three close columns is as often a wide "line" as a tall "column". A whole line is
    at least a fifth as thick as `box` is across it (not a fragment of a big glyph) and runs at
    least half of `box` along it, or is at least twice as long as thick.
    """
    x0, y0, x1, y1 = box.bbox
    for direction, axis in ((Direction.HORIZONTAL, 1), (Direction.VERTICAL, 0)):
        box_along, box_across = (x1 - x0, y1 - y0) if axis == 1 else (y1 - y0, x1 - x0)
        lines = [
            b
            for b in inside
            if b.direction == direction
            and _thick(b) >= 0.2 * box_across
            and (_long(b) >= 0.5 * box_along or _long(b) >= 2.0 * _thick(b))
        ]
        # Neighbouring lines overlap by the detector's margins (the unclip step), so two lines
        # count as stacked when they share less than half of the thinner one's thickness.
        spans = sorted((b.points[:, axis].min(), b.points[:, axis].max()) for b in lines)
        for (a0, a1), (b0, b1) in itertools.pairwise(spans):
            if a1 - b0 <= 0.5 * min(a1 - a0, b1 - b0):
                return True
    return False


def _long(b: Box) -> float:
    """Length of a box along its own reading direction."""
    return b.height if b.direction == Direction.VERTICAL else b.width


def _thick(b: Box) -> float:
    """Thickness of a box across its own reading direction (the glyph size)."""
    return b.width if b.direction == Direction.VERTICAL else b.height


def merge_glyphs(
    boxes: list[Box],
    *,
    max_gap: float = 2.0,
    max_angle: float = 10.0,
    image: np.ndarray | None = None,
) -> list[Box]:
    """Merge glyph- and word-sized boxes that sit on one baseline into lines.

    Large, widely spaced lettering (a road sign's place name) comes out of the detector one glyph
    or one word per box. Upright boxes of similar height whose centres are level are chained into
    one horizontal line when the gap between them is at most `max_gap` heights and both are
    glyph-like (at most 1.6 times wider than tall); at most one height when a narrow letter such
    as "l" or "1" pairs with a glyph; at most 1.5 heights when a short word (at most 4 times wider
    than tall) pairs with a glyph, or with a word of about its height (within 1.3); and at most
    one height when a glyph no taller than 1.25 lines follows a whole line (a last letter the
    detector left out). Two whole lines are never merged, nor is a vertical column (more than 4
    times taller than wide) chained sideways with anything. Given the image, two boxes with a
    divider between them or on backgrounds of different colours are never merged (`separated`):
    the two panels of a sign, a menu's columns.

    On a page with more columns than rows, a narrow box is a short column, and glyphs and columns
    are chained down their column instead (at most half a column's width apart), never sideways:
    the detector splits a short column into its glyphs when it keeps close columns apart. On
    other pages glyphs are never chained top to bottom: a two-syllable word is as square as one
    big syllable, so two stacked short lines would turn into a false column.

    Args:
        boxes: Candidate boxes.
        max_gap: Largest gap between two glyphs of one line, in glyph heights.
        max_angle: Words and lines tilted more than this (degrees) are left alone; glyphs up to 3 times this.

    Returns:
        Boxes with each chain replaced by one box around it.
    """
    # A glyph's own rectangle is tilted by its shape (an "L" leans), so glyphs get more latitude.
    ids = [
        i
        for i, b in enumerate(boxes)
        if b.curve is None and _upright(b, max_angle if _kind(b.bbox) in ("word", "line") else 3 * max_angle)
    ]
    parent = {i: i for i in ids}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    rects = {i: boxes[i].bbox for i in ids}
    kinds = {i: _kind(rects[i]) for i in ids}
    # On a page of vertical writing (more columns than rows), a narrow box is a short column,
    # not a thin letter, and glyphs are chained down their column, never sideways.
    page_kinds = [_kind(b.bbox) for b in boxes]
    vertical_page = page_kinds.count("column") + page_kinds.count("narrow") > page_kinds.count(
        "line"
    ) + page_kinds.count("word")
    if vertical_page:
        kinds = {i: "column" if k == "narrow" else k for i, k in kinds.items()}
    for a in ids:
        for b in ids:
            if a >= b:
                continue
            if vertical_page:
                ta, tb = _transposed(rects[a]), _transposed(rects[b])
                if (
                    {kinds[a], kinds[b]} <= {"glyph", "column"}
                    and _same_row(ta, tb, _COLUMN_GAP)
                    and (image is None or not separated_stacked(image, rects[a], rects[b]))
                ):
                    union(a, b)
                continue
            pair = {kinds[a], kinds[b]}
            if pair == {"glyph"}:
                gap = max_gap
            elif pair == {"glyph", "narrow"}:
                # A narrow letter ("l", "1") sits close to its neighbours; a short vertical
                # column ("私は") is as narrow, and its neighbour is the next column over.
                gap = 1.0
            elif pair <= {"glyph", "word"}:
                # Two words of one line share a size; a label beside a larger value does not.
                # (A word and a single big syllable may differ more: "공항" after "천".)
                ha, hb = rects[a][3] - rects[a][1], rects[b][3] - rects[b][1]
                if pair == {"word"} and max(ha, hb) > _WORD_HEIGHTS * min(ha, hb):
                    continue
                gap = 1.5
            elif "line" in pair and pair & {"glyph", "narrow"} and len(pair) == 2:
                # A last letter the detector left out of its line is no taller than the line
                # (a short vertical column beside a line's end is: a menu's "可任選一種").
                line, letter = (rects[a], rects[b]) if kinds[a] == "line" else (rects[b], rects[a])
                if letter[3] - letter[1] > _LETTER_HEIGHT * (line[3] - line[1]):
                    continue
                gap = 1.0
            else:
                continue
            if _same_row(rects[a], rects[b], gap) and (
                image is None or not separated(image, rects[a], rects[b])
            ):
                union(a, b)
    groups: dict[int, list[int]] = {}
    for i in ids:
        groups.setdefault(find(i), []).append(i)
    merged_ids = {i for g in groups.values() if len(g) > 1 for i in g}
    out = [b for i, b in enumerate(boxes) if i not in merged_ids]
    for g in groups.values():
        if len(g) < 2:
            continue
        members = [boxes[i] for i in g]
        x0 = min(rects[i][0] for i in g)
        y0 = min(rects[i][1] for i in g)
        x1 = max(rects[i][2] for i in g)
        y1 = max(rects[i][3] for i in g)
        pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
        out.append(
            Box(
                points=pts,
                score=float(np.mean([m.score for m in members])),
                direction=Direction.VERTICAL if vertical_page else Direction.HORIZONTAL,
                scale=min(m.scale for m in members),
                parts=sum(m.parts for m in members),
            )
        )
    return out


#: A pixel differs from the background by more than this (0-255, any channel) ...
_INK = 48
#: ... and a divider is a column of the gap where this share of the pixels of the row do.
_DIVIDER_SHARE = 0.8
#: Backgrounds whose median colours differ by more than this (0-255, any channel) are two panels.
_PANEL_COLOUR = 60


def separated(image: np.ndarray, a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether the pixels say two boxes on one row belong apart: a divider runs through the gap
    between them (a column of the gap that differs from the gap's background over most of the
    row's height), or their backgrounds (each box's median colour; text covers less than half
    of a box) differ in colour.

    Args:
        image: RGB uint8 image the boxes were found on.
        a, b: Axis-aligned boxes (x0, y0, x1, y1) in its pixels.
    """
    left, right = sorted((a, b), key=lambda r: r[0])
    colours = [_window(image, *r).reshape(-1, 3) for r in (left, right)]
    if all(len(c) for c in colours):
        medians = [np.median(c, axis=0) for c in colours]
        if float(np.abs(medians[0] - medians[1]).max()) > _PANEL_COLOUR:
            return True
    y0, y1 = max(left[1], right[1]), min(left[3], right[3])
    window = _window(image, left[2], y0, right[0], y1)
    if window.shape[0] < 4 or window.shape[1] < 1:
        return False
    gap = window.astype(np.int16)
    background = np.median(gap.reshape(-1, 3), axis=0)
    ink = np.abs(gap - background).max(axis=2) > _INK
    return bool((ink.mean(axis=0) >= _DIVIDER_SHARE).any())


def separated_stacked(image: np.ndarray, a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """`separated` for two boxes one above the other (a divider across the gap between rows,
    or two backgrounds): the same test on the image turned on its side."""
    return separated(np.swapaxes(image, 0, 1), _transposed(a), _transposed(b))


def _window(image: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """The pixels of an axis-aligned box, clipped to the image (empty when nothing is left)."""
    h, w = image.shape[:2]
    xa, xb = max(0, int(x0)), min(w, math.ceil(x1))
    ya, yb = max(0, int(y0)), min(h, math.ceil(y1))
    return image[ya : max(ya, yb), xa : max(xa, xb)]


#: Two words chained into one line differ in height by at most this.
_WORD_HEIGHTS = 1.3
#: A letter left out of its line is at most this many times the line's height.
_LETTER_HEIGHT = 1.25
#: Boxes of one row have centres at most this many mean heights apart (across the row).
_ROW_CENTRES = 0.3
#: Glyphs of one vertical column lie at most this many column widths apart.
_COLUMN_GAP = 0.5


def _transposed(r: tuple[float, ...]) -> tuple[float, float, float, float]:
    """An axis-aligned box with x and y swapped: a column seen as a row."""
    return r[1], r[0], r[3], r[2]


def _upright(b: Box, max_angle: float) -> bool:
    """The box's first edge is within `max_angle` of the image horizontal."""
    p = b.points
    angle = math.degrees(math.atan2(p[1][1] - p[0][1], p[1][0] - p[0][0]))
    return abs(angle) <= max_angle


def _kind(r: tuple[float, float, float, float]) -> str:
    """glyph (about square), narrow (a thin letter), word (a few glyphs), line, or column (a
    vertical line, never chained sideways), by bbox shape."""
    w, h = r[2] - r[0], r[3] - r[1]
    if w > 4.0 * h:
        return "line"
    if w > 1.6 * h:
        return "word"
    if h > 1.6 * w:
        return "narrow" if h <= 4.0 * w else "column"
    return "glyph"


def _same_row(a: tuple[float, ...], b: tuple[float, ...], max_gap: float) -> bool:
    """Two boxes side by side on one row (centres level), at most `max_gap` mean heights apart."""
    ha, hb = a[3] - a[1], b[3] - b[1]
    if max(ha, hb) > 1.5 * min(ha, hb):
        return False
    overlap_y = min(a[3], b[3]) - max(a[1], b[1])
    if overlap_y < 0.6 * min(ha, hb):
        return False
    # Two stacked lines of a tilted poster overlap by their margins as much as that; one row's
    # boxes have their centres level.
    if abs((a[1] + a[3]) - (b[1] + b[3])) / 2 > _ROW_CENTRES * (ha + hb) / 2:
        return False
    gap = max(a[0], b[0]) - min(a[2], b[2])
    return gap <= max_gap * (ha + hb) / 2


def reading_order(boxes: list[Box]) -> list[Box]:
    """A stable order: rows top to bottom, then left to right within a row.

    A row holds the boxes whose first line of glyphs lies within half a glyph of each other: a
    line's centre, a column's top glyph. A row made mostly of vertical columns goes right to left,
    as Japanese and Chinese are read.
    """

    def anchor(b: Box) -> float:
        if b.direction == Direction.VERTICAL:
            return float(b.points[:, 1].min()) + b.short_side / 2
        return float(b.points[:, 1].mean())

    items = sorted(boxes, key=lambda b: (anchor(b), float(b.points[:, 0].mean())))
    rows: list[list[Box]] = []
    for b in items:
        if rows:
            last = rows[-1]
            ref = float(np.mean([anchor(r) for r in last]))
            ref_h = min(r.short_side for r in last)
            if abs(anchor(b) - ref) < 0.5 * min(b.short_side, ref_h):
                last.append(b)
                continue
        rows.append([b])
    out = []
    for row in rows:
        columns = sum(b.direction == Direction.VERTICAL for b in row) * 2 > len(row)
        out.extend(sorted(row, key=lambda r: float(r.points[:, 0].mean()), reverse=columns))
    return out
