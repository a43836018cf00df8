"""Short columns set side by side, read across as rows, are read again down the columns.

A Chinese or Japanese menu often sets each item as a short column (`1. 原味` over `2. 胡椒`
...), the columns side by side: the detector, seeing glyphs evenly spaced in both directions,
finds rows (`咖辣海梅芥胡原` over `哩粉苔子茉椒味`), which read as nonsense. What tells the two
readings apart is what tells a reader: in text written across, the glyphs of a line stand
closer together than the lines do; in a grid of columns, the rows stand closer together than
the glyphs in them (`_ROWS_CLOSER`). So rows of Han glyphs, each with the same number of glyphs,
spanning the same width and closer to each other than their glyph pitch, are cut into that
many columns, and the columns are read again; the columns replace the rows when they read as
confidently as `_MIN_CONFIDENCE`, each holding a glyph per row. A row of item numbers over the
columns (`7. 6. 5. 4. 3. 2. 1.`) is not taken into them: it stays a line of its own, which has
no letters and so is left as drawn; taken in, the columns reached the sign's edge, where their
eraser found no background and filled their whole boxes (zh01, looked at).

Each column carries its grid's rows (`Line.grid_rows`), and is erased by them: a column's
margin holds its neighbours' glyphs, a row's lies clear of them (recognize/README.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from imtrans.languages import script_counts
from imtrans.types import Direction, Line, Quad

#: Rows are a grid's when their centres lie closer than the glyph pitch by this factor.
_ROWS_CLOSER = 1.15
#: Rows of a grid start and end within this share of the glyph pitch of each other.
_ALIGNED = 0.5
#: Fewest columns (glyphs per row) a grid needs: two glyphs in a row are as often a word.
_MIN_COLUMNS = 3
#: The columns' readings must average this confidence to replace the rows.
_MIN_CONFIDENCE = 0.8

Reader = Callable[[list[Line]], list[Line]]


def _glyphs(line: Line) -> int:
    """How many Han glyphs a row of Han glyphs holds (0 for any other reading)."""
    text = line.text.replace(" ", "")
    c = script_counts(text)
    return c["han"] if text and c["han"] == len(text) else 0


def _pitch(line: Line, n: int) -> float:
    return line.quad.width / n


def _partners(a: Line, b: Line, n: int) -> bool:
    """Whether `b` is a row beside `a` in a grid of `n` columns: as wide, and closer to it
    than `a`'s glyphs are to each other."""
    pitch = _pitch(a, n)
    ax0, _, ax1, _ = a.quad.bbox
    bx0, _, bx1, _ = b.quad.bbox
    gap = abs(b.quad.centre[1] - a.quad.centre[1])
    return (
        abs(ax0 - bx0) <= _ALIGNED * pitch
        and abs(ax1 - bx1) <= _ALIGNED * pitch
        and 0 < gap * _ROWS_CLOSER < pitch
    )


def grid_rows(lines: list[Line]) -> list[list[int]]:
    """Indices of the lines that are the rows of a grid of short columns, top to bottom, one
    list per grid: at least two rows of as many Han glyphs (`_MIN_COLUMNS` or more)."""
    level = [
        i
        for i, ln in enumerate(lines)
        if ln.direction is Direction.HORIZONTAL and _glyphs(ln) >= _MIN_COLUMNS and abs(ln.quad.angle) < 10
    ]
    grids: list[list[int]] = []
    used: set[int] = set()
    for i in level:
        if i in used:
            continue
        n = _glyphs(lines[i])
        rows = [i]
        grew = True
        while grew:
            grew = False
            for j, ln in enumerate(lines):
                if j in rows or j in used or ln.direction is not Direction.HORIZONTAL:
                    continue
                if _glyphs(ln) == n and any(_partners(lines[r], ln, n) for r in rows):
                    rows.append(j)
                    grew = True
        if len(rows) >= 2:
            rows.sort(key=lambda r: lines[r].quad.centre[1])
            grids.append(rows)
            used.update(rows)
    return grids


def grid_columns(lines: list[Line], read: Reader) -> list[Line]:
    """`lines` with the rows of each grid (`grid_rows`) replaced by its columns, read by `read`
    (columns read as confidently as `_MIN_CONFIDENCE` on average, each with a glyph or more per
    row); other lines as they were, in their order."""
    out = list(lines)
    drop: set[int] = set()
    for rows in grid_rows(lines):
        n = _glyphs(lines[rows[0]])
        boxes = np.array([lines[r].quad.bbox for r in rows])
        x0, x1 = float(np.median(boxes[:, 0])), float(np.median(boxes[:, 2]))
        y0, y1 = float(boxes[:, 1].min()), float(boxes[:, 3].max())
        pitch = (x1 - x0) / n
        first = lines[rows[0]]
        row_quads = tuple(lines[r].quad for r in rows)
        columns = [
            Line(
                f"{first.id}c{k}",
                Quad.from_rect(x0 + k * pitch, y0, x0 + (k + 1) * pitch, y1),
                Direction.VERTICAL,
                det_score=first.det_score,
                grid_rows=row_quads,
            )
            for k in range(n)
        ]
        read_columns = read(columns)
        confident = np.mean([c.confidence for c in read_columns]) >= _MIN_CONFIDENCE
        whole = all(script_counts(c.text)["han"] >= len(rows) for c in read_columns)
        if confident and whole:
            drop.update(rows)
            out.extend(read_columns)
    return [ln for i, ln in enumerate(out) if i not in drop]
