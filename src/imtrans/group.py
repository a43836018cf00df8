"""Group recognised lines into blocks (paragraphs, speech bubbles, sign panels) and order them.

Two lines belong to one block when, in the frame of the first line's own axes, they are
either stacked (the gap across the lines is at most `max_line_gap` line thicknesses and
they overlap along the reading axis) or fragments of one line (they overlap across and the
gap along is at most `same_row_gap` thicknesses). Both must share direction, language (when
known), roughly their angle, and a thickness within `max_height_ratio`. Blocks are the
connected components of that relation.

What keeps blocks apart that geometry alone would join (`separate_items`):
- a line with no letters (a price, a number, "...") is never joined to one with letters, nor
  stacked with another: it is left as drawn, while its neighbours are translated;
- a list item (a line with a price or number on its row, or ending in a price) is not
  stacked with other lines: a menu's dishes are translated one by one, not as a paragraph;
- given the image, two lines with a divider between them, or on backgrounds of different
  colours, are never joined (`detect.geometry.separated`): the two panels of a sign, a
  bubble and the caption box under it;
- two stacked lines with a line between them that belongs with neither are not joined
  (`_foreign_line_between`): two dishes with each one's serving size and price under it.

"Thickness" is the glyph size: a horizontal line's height, a vertical column's width.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from imtrans.detect.geometry import separated, separated_stacked
from imtrans.languages import has_letters
from imtrans.settings import GroupSettings
from imtrans.types import Alignment, Block, Direction, Line, Quad

_MAX_ANGLE_DIFF = 12.0  # degrees
_MIN_ALONG_OVERLAP = 0.3  # of the shorter line, for stacked lines
_SAME_ROW_OVERLAP = 0.5  # of the thinner line, for fragments of one line


@dataclass(frozen=True)
class _Frame:
    """A line's own axes: `along` is the reading direction, `across` the stacking direction."""

    along: np.ndarray
    across: np.ndarray


def _frame(line: Line) -> _Frame:
    p = np.asarray(line.quad.points, dtype=float)
    e1 = _unit(p[1] - p[0])  # first edge: along a horizontal line, across a vertical column
    e2 = _unit(p[3] - p[0])  # second edge: down a horizontal line, down a vertical column
    if line.direction is Direction.VERTICAL:
        # Columns read top to bottom and stack right to left.
        return _Frame(along=e2, across=-e1)
    return _Frame(along=e1, across=e2)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return v / n if n > 1e-9 else np.array([1.0, 0.0])


def thickness(line: Line) -> float:
    """Glyph size of a line: its quad height when horizontal, its quad width when vertical."""
    return line.quad.width if line.direction is Direction.VERTICAL else line.quad.height


def _interval(quad: Quad, axis: np.ndarray) -> tuple[float, float]:
    proj = np.asarray(quad.points, dtype=float) @ axis
    return float(proj.min()), float(proj.max())


def _gap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two intervals (negative when they overlap, by the overlap length)."""
    return max(a[0], b[0]) - min(a[1], b[1])


def _angle_diff(a: float, b: float) -> float:
    d = abs(a - b) % 360
    return min(d, 360 - d)


def lines_belong_together(a: Line, b: Line, settings: GroupSettings) -> bool:
    """Whether two lines are part of one block (symmetric up to the frame of `a`)."""
    if a.direction is not b.direction:
        return False
    if a.curve or b.curve:
        # Lettering set along an arc is a piece of its own (a badge's name, a banner's
        # subtitle), and its bounding box, as tall as the arc's sag, says nothing of its size.
        return False
    if a.language and b.language and a.language != b.language:
        return False  # bilingual signs and captions: each language is its own block
    if _angle_diff(a.quad.angle, b.quad.angle) > _MAX_ANGLE_DIFF:
        return False
    ta, tb = thickness(a), thickness(b)
    if min(ta, tb) <= 0 or max(ta, tb) / min(ta, tb) > settings.max_height_ratio:
        return False
    frame = _frame(a)
    along_a, along_b = _interval(a.quad, frame.along), _interval(b.quad, frame.along)
    across_a, across_b = _interval(a.quad, frame.across), _interval(b.quad, frame.across)
    t = min(ta, tb)
    along_gap = _gap(along_a, along_b)
    across_gap = _gap(across_a, across_b)
    shorter = min(along_a[1] - along_a[0], along_b[1] - along_b[0])
    stacked = across_gap <= settings.max_line_gap * t and -along_gap >= _MIN_ALONG_OVERLAP * shorter
    same_row = -across_gap >= _SAME_ROW_OVERLAP * t and along_gap <= settings.same_row_gap * t
    return stacked or same_row


def _same_row(a: Line, b: Line) -> bool:
    """`b` lies on `a`'s row (they overlap across by half the thinner one's thickness)."""
    frame = _frame(a)
    overlap = -_gap(_interval(a.quad, frame.across), _interval(b.quad, frame.across))
    return overlap >= _SAME_ROW_OVERLAP * min(thickness(a), thickness(b))


def _kept_apart(a: Line, b: Line, items: set[str], image: np.ndarray | None) -> bool:
    """Whether `separate_items` keeps two lines in different blocks (see the module docstring)."""
    lettered = has_letters(a.text)
    if lettered != has_letters(b.text):
        return True
    one_row = _same_row(a, b)
    if (not lettered or a.id in items or b.id in items) and not one_row:
        return True
    if image is None:
        return False
    return (separated if one_row else separated_stacked)(image, a.quad.bbox, b.quad.bbox)


def _foreign_line_between(a: Line, b: Line, lines: list[Line], joined: Callable[[Line, Line], bool]) -> bool:
    """Whether a line lies between two stacked lines, beside both, that belongs with neither.

    A paragraph's lines follow one another; a line of another size or language set between
    two of them (a dish's serving size and price under its name, above the next dish) says
    they are two items, even when they are as close as a paragraph's lines.
    """
    if _same_row(a, b):
        return False
    frame = _frame(a)
    across_a, across_b = _interval(a.quad, frame.across), _interval(b.quad, frame.across)
    upper, lower = (across_a, across_b) if across_a[0] <= across_b[0] else (across_b, across_a)
    along_a, along_b = _interval(a.quad, frame.along), _interval(b.quad, frame.along)
    slack = 0.3 * min(thickness(a), thickness(b))
    for m in lines:
        if m is a or m is b or m.direction is not a.direction or not has_letters(m.text):
            continue
        # In the gap between the two: its middle below the upper line's foot and above the
        # lower line's head (give or take the loose boxes of a tight paragraph).
        centre = float(_centre(m.quad) @ frame.across)
        if not upper[1] - slack <= centre <= lower[0] + slack:
            continue
        along_m = _interval(m.quad, frame.along)
        beside = all(
            -_gap(along_m, other) >= _MIN_ALONG_OVERLAP * min(along_m[1] - along_m[0], other[1] - other[0])
            for other in (along_a, along_b)
        )
        if beside and not any(joined(m, x) for x in (a, b)):
            return True
    return False


#: A price at the end of a line: digits in groups of three ("12,000", "1.500") or with a
#: currency sign or word ("₩9000", "3000원", "$12.50").
_PRICE_AT_END = re.compile(r"(?:\d{1,3}(?:[,.]\d{3})+|[₩$€£¥]\s*\d+(?:[.,]\d{1,2})?|\d+\s*(?:원|円|元))\s*$")


def _list_items(lines: list[Line]) -> set[str]:
    """Ids of lines with letters that end in a price, or have a line without letters (a price)
    on their row after them."""
    numbers = [ln for ln in lines if not has_letters(ln.text)]
    out = set()
    for ln in lines:
        if not has_letters(ln.text) or ln.direction is Direction.VERTICAL:
            continue
        if _PRICE_AT_END.search(ln.text):
            out.add(ln.id)
            continue
        start = _interval(ln.quad, _frame(ln).along)[0]
        for n in numbers:
            if _same_row(ln, n) and _interval(n.quad, _frame(ln).along)[0] > start:
                out.add(ln.id)
                break
    return out


def group_lines(
    lines: list[Line], settings: GroupSettings | None = None, image: np.ndarray | None = None
) -> list[Block]:
    """Group lines into blocks in reading order; each block's lines are in reading order too.

    Args:
        lines: Recognised lines; lines with no text are left out.
        settings: Grouping settings.
        image: The RGB image the lines were read from: with it, lines across a divider or on
            backgrounds of different colours stay apart (`GroupSettings.separate_items`).
    """
    settings = settings or GroupSettings()
    lines = [ln for ln in lines if ln.text.strip()]
    items = _list_items(lines) if settings.separate_items else set()
    parent = list(range(len(lines)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def joined(a: Line, b: Line) -> bool:
        """Geometry joins them and, with `separate_items`, nothing keeps them apart."""
        together = lines_belong_together(a, b, settings) or lines_belong_together(b, a, settings)
        return together and not (settings.separate_items and _kept_apart(a, b, items, image))

    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            a, b = lines[i], lines[j]
            if joined(a, b) and not (settings.separate_items and _foreign_line_between(a, b, lines, joined)):
                parent[find(i)] = find(j)

    components: dict[int, list[Line]] = {}
    for i, ln in enumerate(lines):
        components.setdefault(find(i), []).append(ln)
    groups = [_order_lines(members) for members in components.values()]
    groups = _order_blocks(groups)
    return _left_aligned_labels([_make_block(f"b{k}", members) for k, members in enumerate(groups)])


def _order_lines(members: list[Line]) -> list[Line]:
    """Rows across the block first (top to bottom, or right to left for columns), then along each row."""
    frame = _frame(members[0])
    t = float(np.median([thickness(m) for m in members]))
    by_across = sorted(members, key=lambda m: _centre(m.quad) @ frame.across)
    rows: list[list[Line]] = []
    for m in by_across:
        c = _centre(m.quad) @ frame.across
        if rows and abs(c - _centre(rows[-1][-1].quad) @ frame.across) < _SAME_ROW_OVERLAP * t:
            rows[-1].append(m)
        else:
            rows.append([m])
    return [m for row in rows for m in sorted(row, key=lambda m: _centre(m.quad) @ frame.along)]


def _centre(q: Quad) -> np.ndarray:
    return np.asarray(q.centre, dtype=float)


def _order_blocks(groups: list[list[Line]]) -> list[list[Line]]:
    """Page reading order: rows of blocks top to bottom; within a row left to right,
    or right to left when most of the page's text is vertical (Japanese manga, vertical Chinese)."""
    if not groups:
        return groups
    n_vertical = sum(len(g) for g in groups if g[0].direction is Direction.VERTICAL)
    right_to_left = n_vertical * 2 > sum(len(g) for g in groups)
    boxes = [_bounds(g) for g in groups]
    order = sorted(range(len(groups)), key=lambda k: boxes[k][1])
    rows: list[list[int]] = []
    for k in order:
        if rows and _overlaps_row(boxes, rows[-1], boxes[k]):
            rows[-1].append(k)
        else:
            rows.append([k])
    result = []
    for row in rows:
        row.sort(key=lambda k: -boxes[k][2] if right_to_left else boxes[k][0])
        result.extend(groups[k] for k in row)
    return result


def _overlaps_row(boxes: list[tuple[float, float, float, float]], row: list[int], box: tuple) -> bool:
    """A block joins a row when it overlaps the row's vertical extent by half of the smaller height."""
    y0 = min(boxes[k][1] for k in row)
    y1 = max(boxes[k][3] for k in row)
    overlap = min(y1, box[3]) - max(y0, box[1])
    return overlap > 0.5 * min(y1 - y0, box[3] - box[1])


def _bounds(members: list[Line]) -> tuple[float, float, float, float]:
    xs0, ys0, xs1, ys1 = zip(*(m.quad.bbox for m in members), strict=True)
    return min(xs0), min(ys0), max(xs1), max(ys1)


def _make_block(block_id: str, members: list[Line]) -> Block:
    first = members[0]
    return Block(
        id=block_id,
        quad=enclosing_quad([m.quad for m in members], first.quad),
        lines=tuple(members),
        direction=first.direction,
        alignment=_alignment(members),
        language=_majority_language(members),
    )


def enclosing_quad(quads: list[Quad], reference: Quad) -> Quad:
    """The smallest rectangle in `reference`'s own axes that holds every quad (rotation kept)."""
    p = np.asarray(reference.points, dtype=float)
    e1 = _unit(p[1] - p[0])
    e2 = _unit(p[3] - p[0])
    pts = np.asarray([pt for q in quads for pt in q.points], dtype=float)
    a, b = pts @ e1, pts @ e2
    a0, a1, b0, b1 = a.min(), a.max(), b.min(), b.max()
    corners = [a0 * e1 + b0 * e2, a1 * e1 + b0 * e2, a1 * e1 + b1 * e2, a0 * e1 + b1 * e2]
    return Quad.from_list(corners)


#: Line starts that spread at most this many line heights more than the centres still make
#: a left-aligned block (lines of about one length line up both ways: left wins the tie).
_LEFT_TIE = 0.05


def _alignment(members: list[Line]) -> Alignment:
    """Left when line starts line up better than line centres; centred otherwise (bubbles, signs).

    Centres that line up much better than starts make a centred block even when the starts
    lie within a quarter line height of each other (a notice of three centred lines of
    nearly one length, realphotos ko16).
    """
    if len(members) < 2 or members[0].direction is Direction.VERTICAL:
        return Alignment.CENTRE
    frame = _frame(members[0])
    starts = [_interval(m.quad, frame.along)[0] for m in members]
    centres = [_centre(m.quad) @ frame.along for m in members]
    t = float(np.median([thickness(m) for m in members]))
    if float(np.std(starts)) <= float(np.std(centres)) + _LEFT_TIE * t:
        return Alignment.LEFT
    return Alignment.CENTRE


#: Single-line blocks whose starts lie within this many line heights of each other, ...
_LABEL_START = 0.25
#: ... whose centres lie further apart than this (lines of one length line up either way) ...
_LABEL_CENTRE = 0.5
#: ... and that stand at most this many line heights apart, form a left-aligned column.
_LABEL_REACH = 3.0


def _left_aligned_labels(blocks: list[Block]) -> list[Block]:
    """Single-line blocks that start where a neighbouring block starts are left-aligned labels.

    One line says nothing about its alignment, so `_alignment` centres it (right for a sign);
    but a column of labels or list items ("Name:", "Address:"), each its own block, shares its
    left edge: its translations must start there too, not be centred on each source line.
    """
    out = list(blocks)
    for i, b in enumerate(blocks):
        if len(b.lines) != 1 or b.direction is Direction.VERTICAL or b.alignment is not Alignment.CENTRE:
            continue
        frame = _frame(b.lines[0])
        t = thickness(b.lines[0])
        start = _interval(b.quad, frame.along)[0]
        centre = _centre(b.quad) @ frame.along
        row = _centre(b.quad) @ frame.across
        for j, other in enumerate(blocks):
            if j == i or other.direction is Direction.VERTICAL:
                continue
            if (
                abs(_interval(other.quad, frame.along)[0] - start) <= _LABEL_START * t
                and abs(_centre(other.quad) @ frame.along - centre) > _LABEL_CENTRE * t
                and abs(_centre(other.quad) @ frame.across - row) <= _LABEL_REACH * t
            ):
                out[i] = replace(b, alignment=Alignment.LEFT)
                break
    return out


def _majority_language(members: list[Line]) -> str:
    counts: Counter[str] = Counter()
    for m in members:
        if m.language:
            counts[m.language] += max(1, len(m.text))
    return counts.most_common(1)[0][0] if counts else ""
