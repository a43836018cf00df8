"""Find the bubble, caption box or plate that holds a block, and the room for text inside it.

The erased image around a block is read in the block's own upright frame (the quad's axes,
so a rotated block gets a rectangle at its own angle). Pixels close to the colour of the
block's erased background are *free*; everything else (a bubble's outline, a caption's
frame, art, lettering left in place) is a wall. The free component the block sits on is the
bubble; it is *closed* when it reaches neither the edge of the searched window nor the edge
of the image. Holes in it (lettering the eraser left, a stray dot) are filled, other
translated blocks are cut out of it. The rectangles inside it that hold the block's centre,
inset a little from the walls, are where the translation may be drawn: the largest, and
wider-and-lower or narrower-and-taller ones (a line of English in an oval bubble gets its
widest rows), among which the renderer takes the one that gives the largest font.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from imtrans.types import Alignment, Quad

Box = tuple[float, float, float, float]

#: How far around the block the enclosing region is looked for: this share of the block's
#: longer side plus half its shorter side (plus `_MARGIN_PX`), on every side. A bubble that
#: reaches farther is treated as open.
SEARCH_MARGIN = 1.0
#: A region still open at `SEARCH_MARGIN` is looked for once more this many times farther,
#: if it crosses less than `RETRY_RIM_SHARE` of the window's edge.
WIDER_SEARCH = 2.5
RETRY_RIM_SHARE = 0.25
#: Largest number of window pixels searched; bigger windows are read at a lower scale.
MAX_WINDOW_PIXELS = 120_000
#: Largest channel difference from the block's background that still counts as background.
BACKGROUND_TOLERANCE = 40
#: Share of the block's own box the region must cover to be the one the block sits on.
MIN_COVER = 0.5
#: The rectangle must keep at least this share of the block's own box area.
MIN_AREA_SHARE = 0.35
#: The rectangle is inset from the walls by this share of its width / height on each side.
INSET = 0.03
#: Most rectangles offered per block (the largest, and others of different shapes).
MAX_CANDIDATES = 5
#: Rectangles offered beside the largest must keep this share of its area.
MIN_CANDIDATE_AREA = 0.5
_MARGIN_PX = 16.0


@dataclass(frozen=True)
class Region:
    """Where a block's translation may be drawn, in the block quad's own coordinates.

    The quad's own coordinates are those of an upright box of the quad's width and height,
    origin at its top-left corner (see `layout.py`); the region may reach past that box
    (a bubble larger than its text) or stop inside it (a tight box running past a caption's
    edge).

    Attributes:
        boxes: Rectangles (x0, y0, x1, y1) inside the enclosing region, the largest first,
            then others of different shapes; empty when no closed region was found.
        reason: Why no closed region was found ('' when one was).
    """

    boxes: tuple[Box, ...] = ()
    reason: str = ""
    #: The region's shape, row by row: a box one window pixel high for each row of the run of
    #: region through the largest rectangle's middle column, inset as the rectangles are (an
    #: empty box where a neck leaves nothing); for `layout.fit_shaped`.
    rows: tuple[Box, ...] = ()
    #: The x of that middle.
    axis: float = 0.0

    @property
    def bounded(self) -> bool:
        """Whether the region comes from an enclosing bubble, caption or plate."""
        return bool(self.boxes)

    @property
    def box(self) -> Box | None:
        """The largest rectangle, or None."""
        return self.boxes[0] if self.boxes else None


def enclosing_region(
    image: np.ndarray,
    quad: Quad,
    obstacles: Sequence[Quad] = (),
    own_boxes: Sequence[Box] = (),
    inset_px: float = 1.0,
    inset: float = INSET,
) -> Region:
    """The rectangle inside the bubble, caption or plate that holds `quad`.

    Args:
        image: The erased RGB uint8 image (the source lettering removed).
        quad: The quad the block's text is drawn into.
        obstacles: Quads of other blocks drawn on the same page: their room is theirs.
        own_boxes: Boxes (quad coordinates) the block would use without a bubble (see
            `layout.text_region`); each one that lies wholly inside the region is offered
            too, without the inset: the source lettering sat there.
        inset_px: Pixels kept free inside the walls on every side, besides ``inset`` of the
            rectangle's size (the renderer gives a tenth of the source lettering's size).
        inset: Share of the rectangle's width / height kept free on each side (`INSET`).

    Returns:
        The region's rectangles in the quad's own coordinates, or a `Region` without one
        and the reason when the block sits on no closed region of its background's colour.
    """
    qw, qh = quad.width, quad.height
    if qw < 2 or qh < 2:
        return Region((), "block too small to search around")
    margin = SEARCH_MARGIN * max(qw, qh) + 0.5 * min(qw, qh) + _MARGIN_PX
    found = _closed_region(image, quad, margin)
    if found == _OPEN_WINDOW:
        # A bubble much larger than its text (a partial block, a short word): look farther.
        found = _closed_region(image, quad, WIDER_SEARCH * margin)
    if isinstance(found, str):
        return Region((), _REASONS.get(found, found))
    win = found
    filled = win.filled
    # Other blocks' room is theirs (two blocks in one bubble); our own box stays ours.
    if obstacles:
        filled = filled & ~(_quads_in_window(obstacles, win.to_image, filled.shape) & ~win.own)
    found_px = _rectangles(filled, win.own)
    rects = [win.to_quad(r) for r in found_px]
    if not rects:
        return Region((), _REASONS["not_on_region"])
    x0, y0, x1, y1 = rects[0]
    if (x1 - x0) * (y1 - y0) < MIN_AREA_SHARE * qw * qh:
        return Region((), "the closed region around the block is too small")
    boxes: list[Box] = []
    for x0, y0, x1, y1 in rects:  # inset from the walls
        dx = inset * (x1 - x0) + inset_px
        dy = inset * (y1 - y0) + inset_px
        if x1 - x0 > 2 * dx and y1 - y0 > 2 * dy:
            boxes.append((x0 + dx, y0 + dy, x1 - dx, y1 - dy))
    if not boxes:
        return Region((), "the closed region around the block is too small")
    rows, axis = _profile(filled, win, found_px[0], inset, inset_px)
    for box in own_boxes:
        wx0, wy0 = math.ceil((box[0] + win.margin) * win.scale), math.ceil((box[1] + win.margin) * win.scale)
        wx1, wy1 = (
            math.floor((box[2] + win.margin) * win.scale),
            math.floor((box[3] + win.margin) * win.scale),
        )
        inside = 0 <= wx0 < wx1 <= filled.shape[1] and 0 <= wy0 < wy1 <= filled.shape[0]
        if inside and filled[wy0:wy1, wx0:wx1].all():
            boxes.append(box)
    return Region(tuple(boxes), rows=rows, axis=axis)


def _profile(
    filled: np.ndarray, win: _Window, largest: tuple[int, int, int, int], inset: float, inset_px: float
) -> tuple[tuple[Box, ...], float]:
    """The region row by row in quad units: for each window row of the run of region through
    the largest rectangle's middle column, the run of region through that column, inset by
    ``inset`` of the widest row and of the run's height plus ``inset_px``; and the column's x."""
    col = (largest[0] + largest[2] - 1) // 2  # x1, y1 exclusive
    mid = (largest[1] + largest[3] - 1) // 2
    if not filled[mid, col]:
        return (), 0.0
    up = int(_run_lengths(filled[: mid + 1, col][::-1, None])[0])
    down = int(_run_lengths(filled[mid:, col][:, None])[0])
    top, bottom = mid - up + 1, mid + down  # rows top..bottom-1
    band = filled[top:bottom]
    left = _run_lengths(band[:, : col + 1][:, ::-1].T)
    right = _run_lengths(band[:, col:].T)
    s, m = win.scale, win.margin
    dx = inset * float((left + right - 1).max()) / s + inset_px
    dy = inset * (bottom - top) / s + inset_px
    y_top, y_bottom = top / s - m + dy, bottom / s - m - dy
    rows = []
    for k in range(bottom - top):
        y0, y1 = (top + k) / s - m, (top + k + 1) / s - m
        x0, x1 = (col - int(left[k]) + 1) / s - m + dx, (col + int(right[k])) / s - m - dx
        if y0 >= y_top and y1 <= y_bottom:
            rows.append((x0, y0, max(x0, x1), y1))
    return tuple(rows), (col + 0.5) / s - m


#: How far past its own box a line on an open background may run along its direction, in
#: shares of the box's length on each side (see `room_along`).
ALONG_REACH = 1.5
#: Share of a column's rows (the middle of the block's band) that may differ from the
#: background before the column stops the text: JPEG noise and a stray pixel do not.
ALONG_WALL_SHARE = 0.03
#: Rows at the top and bottom of the band left out of the test: loose boxes of the lines
#: above and below reach into it.
ALONG_BAND_TRIM = 0.15
#: Rows at the top and bottom of the band where another block's box does not stop the text.
ALONG_OBSTACLE_TRIM = 0.4


def room_along(
    image: np.ndarray,
    quad: Quad,
    obstacles: Sequence[Quad],
    alignment: Alignment,
    gap_px: float,
) -> Box | None:
    """The block's own box run on along its lines over free background, keeping its alignment.

    A menu item, a label or a caption on a plain background that runs on past any outline
    (`enclosing_region` finds none) is fitted into its own box, where a translation longer
    than its source wraps and shrinks while the background beside it lies empty. This is the
    band of the block's own rows, widened along them over columns of the background's
    colour up to the first wall (lettering left in place, a price, an edge of the plate,
    another block) less `gap_px`: to the right of left-aligned text, to the left of
    right-aligned text, by the same amount both ways for centred text, so the translation
    starts (ends, or is centred) where the source did.

    Args:
        image: The erased RGB uint8 image.
        quad: The block's quad (its own frame: x along the lines).
        obstacles: Quads of other blocks drawn on the page.
        alignment: The block's alignment.
        gap_px: Room kept free before a wall, in quad units.

    Returns:
        (x0, 0, x1, height) in the quad's own coordinates, or None when the background beside
        the block is not free on the side(s) the alignment grows into.
    """
    qw, qh = quad.width, quad.height
    if qw < 2 or qh < 2:
        return None
    reach = ALONG_REACH * qw
    to_image, size, scale = _window(quad, reach, 0.0)
    wall, outside, bg_ok = _walls(image, quad, to_image, size, scale)
    if not bg_ok:
        return None
    stopped = _middle(wall | outside, ALONG_BAND_TRIM).mean(axis=0) > ALONG_WALL_SHARE
    if obstacles:
        # Detector boxes of tightly set lines overlap by a third of their height: only a box
        # that reaches the middle of the band is in the way.
        taken = _quads_in_window(obstacles, to_image, wall.shape)
        stopped |= _middle(taken, ALONG_OBSTACLE_TRIM).any(axis=0)
    own_x0, own_x1 = round(reach * scale), round((reach + qw) * scale)
    gap = gap_px * scale
    right_stop = np.nonzero(stopped[own_x1:])[0]
    right = (int(right_stop[0]) if len(right_stop) else size[0] - own_x1) - gap
    left_stop = np.nonzero(stopped[:own_x0][::-1])[0]
    left = (int(left_stop[0]) if len(left_stop) else own_x0) - gap
    right, left = max(0.0, right / scale), max(0.0, left / scale)
    if alignment is Alignment.LEFT:
        left = 0.0
    elif alignment is Alignment.RIGHT:
        right = 0.0
    else:
        left = right = min(left, right)
    if left + right < 1.0:
        return None
    return (-left, 0.0, qw + right, qh)


_OPEN_WINDOW = "open_window"
_REASONS = {
    _OPEN_WINDOW: "the background around the block is not closed by an outline",
    "open_wide": "the background around the block runs on past the searched window",
    "open_image": "the background around the block runs to the edge of the image",
    "no_background": "no background colour inside the block",
    "not_on_region": "the block does not sit on one closed region",
}


@dataclass(frozen=True)
class _Window:
    """The closed region around a block, in a window of the block's own upright frame."""

    filled: np.ndarray  # the region, holes filled
    own: np.ndarray  # the block's own box
    to_image: np.ndarray  # window pixel -> image pixel (homography)
    scale: float  # window pixels per quad unit
    margin: float  # quad units searched around the block

    def to_quad(self, rect: tuple[int, int, int, int]) -> Box:
        x0, y0, x1, y1 = rect
        s, m = self.scale, self.margin
        return (x0 / s - m, y0 / s - m, x1 / s - m, y1 / s - m)


def _closed_region(image: np.ndarray, quad: Quad, margin: float) -> _Window | str:
    """The closed region of the block's background colour around it, or why there is none."""
    qw, qh = quad.width, quad.height
    to_image, size, scale = _window(quad, margin, margin)
    wall, outside, bg_ok = _walls(image, quad, to_image, size, scale)
    if not bg_ok:
        return "no_background"
    own = np.zeros(wall.shape, bool)
    own[math.floor(margin * scale) : math.ceil((margin + qh) * scale),
        math.floor(margin * scale) : math.ceil((margin + qw) * scale)] = True  # fmt: skip
    free = (~wall & ~outside).astype(np.uint8)
    # Cut one-pixel leaks (a gap in an outline, a thin line of background out of the bubble).
    free = cv2.morphologyEx(free, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels = cv2.connectedComponents(free, connectivity=4)
    counts = np.bincount(labels[own], minlength=max(n, 2))
    counts[0] = 0
    label = int(counts.argmax())
    if counts[label] == 0:
        return "not_on_region"
    comp = labels == label
    rim = np.concatenate([comp[0], comp[-1], comp[:, 0], comp[:, -1]])
    if rim.any():
        # A bubble a little larger than the window crosses its edge on a short stretch; a
        # background that runs on (a blank page, a sky, a wall) along much of it.
        return _OPEN_WINDOW if rim.mean() < RETRY_RIM_SHARE else "open_wide"
    if (comp & (cv2.dilate(outside.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)).any():
        return "open_image"
    filled = _fill_holes(comp, own)
    if filled[own].mean() < MIN_COVER:
        return "not_on_region"
    return _Window(filled, own, to_image, scale, margin)


def _window(quad: Quad, margin_x: float, margin_y: float) -> tuple[np.ndarray, tuple[int, int], float]:
    """A window of the block's upright frame reaching ``margin_x`` / ``margin_y`` quad units past
    its box: the homography window pixel -> image, the window's (width, height) and its pixels
    per quad unit (below 1 for windows over `MAX_WINDOW_PIXELS`)."""
    qw, qh = quad.width, quad.height
    win_w, win_h = qw + 2 * margin_x, qh + 2 * margin_y
    scale = min(1.0, math.sqrt(MAX_WINDOW_PIXELS / (win_w * win_h)))
    size = (max(3, round(win_w * scale)), max(3, round(win_h * scale)))
    # window pixel -> quad coordinates -> image
    to_quad = np.array([[1 / scale, 0, -margin_x], [0, 1 / scale, -margin_y], [0, 0, 1]], np.float64)
    src = np.float32([[0, 0], [qw, 0], [qw, qh], [0, qh]])
    h_quad = cv2.getPerspectiveTransform(src, np.float32(quad.points)).astype(np.float64)
    return h_quad @ to_quad, size, scale


def _quads_in_window(quads: Sequence[Quad], to_image: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Boolean mask of a window (``shape``) covered by the image-space ``quads``."""
    taken = np.zeros(shape[:2], np.uint8)
    from_image = np.linalg.inv(to_image)
    for q in quads:
        pts = cv2.perspectiveTransform(np.float64(q.points).reshape(-1, 1, 2), from_image).reshape(-1, 2)
        cv2.fillPoly(taken, [np.round(pts).astype(np.int32)], 1)
    return taken > 0


def _walls(
    image: np.ndarray, quad: Quad, to_image: np.ndarray, size: tuple[int, int], scale: float
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Wall and outside-the-image masks of the window, and whether a background was found.

    The background is the median colour of the erased pixels inside the block. A window
    read at a reduced scale is averaged down from the image first (area interpolation), so
    a one-pixel outline still darkens its reduced pixel well past the tolerance.
    """
    h, w = image.shape[:2]
    corners = cv2.perspectiveTransform(
        np.float64([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]]).reshape(-1, 1, 2), to_image
    ).reshape(-1, 2)
    ix0 = max(0, math.floor(corners[:, 0].min()) - 1)
    iy0 = max(0, math.floor(corners[:, 1].min()) - 1)
    ix1 = min(w, math.ceil(corners[:, 0].max()) + 2)
    iy1 = min(h, math.ceil(corners[:, 1].max()) + 2)
    empty = np.zeros((size[1], size[0]), bool)
    if ix1 - ix0 < 2 or iy1 - iy0 < 2:
        return empty, ~empty, False
    crop = image[iy0:iy1, ix0:ix1]
    qx0, qy0, qx1, qy1 = (round(v) for v in quad.bbox)
    inside = np.zeros((qy1 - qy0 + 1, qx1 - qx0 + 1), np.uint8)
    cv2.fillPoly(inside, [np.round(np.float64(quad.points) - (qx0, qy0)).astype(np.int32)], 1)
    box = image[max(0, qy0) : max(0, qy1 + 1), max(0, qx0) : max(0, qx1 + 1)]
    pixels = box[inside[: box.shape[0], : box.shape[1]] > 0]
    if len(pixels) < 4:
        return empty, ~empty, False
    bg = np.median(pixels[:: max(1, len(pixels) // 2000)], axis=0)
    to_crop = _shift(-ix0, -iy0) @ to_image  # window pixel -> crop pixel
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        to_crop = np.diag([scale, scale, 1.0]) @ to_crop
    diff = cv2.split(cv2.absdiff(crop, np.full(crop.shape, bg, np.uint8)))
    wall = (cv2.max(cv2.max(diff[0], diff[1]), diff[2]) > BACKGROUND_TOLERANCE).astype(np.uint8)
    flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    wall_w = cv2.warpPerspective(wall, to_crop, size, flags=flags, borderValue=0)
    valid = cv2.warpPerspective(np.ones_like(wall), to_crop, size, flags=flags, borderValue=0)
    # The crop is clipped to the image, so pixels beyond the crop lie outside the image.
    return wall_w > 0, valid == 0, True


def _fill_holes(mask: np.ndarray, own: np.ndarray) -> np.ndarray:
    """The mask with its holes that reach into the block's own box filled (lettering the eraser
    left); holes wholly outside it (an icon on a sign, lettering left as it is) stay walls."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    solid = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(solid, contours, -1, 1, thickness=cv2.FILLED)
    holes = ((solid > 0) & ~mask).astype(np.uint8)
    n, labels = cv2.connectedComponents(holes, connectivity=8)
    if n < 2:
        return solid > 0
    ours = np.zeros(n, bool)
    ours[np.unique(labels[own])] = True
    ours[0] = False
    return mask | ours[labels]


def _rectangles(region: np.ndarray, own: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Rectangles inside `region` that hold the block's anchor: the largest first.

    The anchor is the centre of the part of the block's own box inside the region. Every
    rectangle through it is an anchor row span `up` rows above and `down` below, and the
    run of columns around the anchor where the region reaches that far both ways: searched
    over a grid of `up` and `down` values. Beside the largest, the widest rectangle of a few
    other heights is offered (those that keep `MIN_CANDIDATE_AREA` of the largest's area).

    Returns:
        (x0, y0, x1, y1) in window pixels (x1, y1 exclusive); empty when there is none.
    """
    ys, xs = np.nonzero(region & own)
    if len(xs) == 0:
        return []
    ay, ax = round(float(ys.mean())), round(float(xs.mean()))
    if not region[ay, ax]:
        k = int(np.argmin((ys - ay) ** 2 + (xs - ax) ** 2))
        ay, ax = int(ys[k]), int(xs[k])
    rows = region[ay]
    up = _run_lengths(region[: ay + 1][::-1])  # rows above the anchor row, itself included
    down = _run_lengths(region[ay:])
    up[~rows] = -1
    down[~rows] = -1
    ups = _levels(int(up[ax]), up)
    downs = _levels(int(down[ax]), down)
    ok = (up[None, None, :] >= ups[:, None, None]) & (down[None, None, :] >= downs[None, :, None])
    # The run of columns through the anchor for each (up, down): count trues each way from it.
    left = _run_lengths(np.moveaxis(ok[:, :, : ax + 1][:, :, ::-1], 2, 0))
    right = _run_lengths(np.moveaxis(ok[:, :, ax:], 2, 0))
    width = np.maximum(left + right - 1, 0)
    height = ups[:, None] + downs[None, :] - 1
    area = width * height
    best = float(area.max())
    if best <= 0:
        return []

    def rect(i: int, j: int) -> tuple[int, int, int, int]:
        return (ax - int(left[i, j]) + 1, ay - int(ups[i]) + 1, ax + int(right[i, j]), ay + int(downs[j]))

    order = np.argsort(-area, axis=None, kind="stable")
    first = np.unravel_index(int(order[0]), area.shape)
    out = [rect(int(first[0]), int(first[1]))]
    # The widest rectangle of each height, among those large enough, spread over the heights.
    widest: dict[int, tuple[int, int]] = {}
    for i, j in zip(*np.nonzero(area >= MIN_CANDIDATE_AREA * best), strict=True):
        h = int(height[i, j])
        if h not in widest or width[i, j] > width[widest[h]]:
            widest[h] = (int(i), int(j))
    heights = sorted(widest)
    if len(heights) > MAX_CANDIDATES - 1:
        picks = np.round(np.linspace(0, len(heights) - 1, MAX_CANDIDATES - 1)).astype(int)
        heights = [heights[k] for k in picks]
    for h in heights:
        r = rect(*widest[h])
        if r not in out:
            out.append(r)
    return out


def _middle(rows: np.ndarray, trim: float) -> np.ndarray:
    """The rows of a mask without `trim` of its height at the top and at the bottom (one row at least)."""
    n = rows.shape[0]
    cut = min(math.floor(trim * n), (n - 1) // 2)
    return rows[cut : n - cut]


def _run_lengths(stack: np.ndarray) -> np.ndarray:
    """Per position of axis 1.., how many leading entries along axis 0 are true."""
    n = stack.shape[0]
    first_false = np.argmin(stack, axis=0)
    return np.where(stack.all(axis=0), n, first_false).astype(np.int64)


def _levels(at_anchor: int, reach: np.ndarray, count: int = 24) -> np.ndarray:
    """Candidate spans up to the anchor column's own reach: the distinct reaches, thinned."""
    vals = np.unique(reach[(reach >= 1) & (reach <= at_anchor)])
    if len(vals) > count:
        vals = vals[np.round(np.linspace(0, len(vals) - 1, count)).astype(int)]
    return vals if len(vals) else np.array([1], np.int64)


def _shift(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])
