"""Fit a translation into a block's region: font size, line breaks and positions.

All coordinates here are *region coordinates*: pixels of an unrotated box in the block's
own frame (the rectangle of its bubble that `regions.py` found, or the block's own width and
height, see `text_region`), origin at its top-left corner. The drawing step maps that box
onto the block's quad, so rotated and perspective blocks need nothing special here.
"""

from __future__ import annotations

import bisect
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import ImageFont, features

from imtrans.languages import NO_SPACE_LANGUAGES
from imtrans.render.breaking import break_text, break_vertical, paragraphs
from imtrans.render.fonts import FontSpec
from imtrans.types import Alignment, Direction, Point

#: Baseline-to-baseline distance of horizontal lines, in font sizes.
LINE_SPACING = 1.2
#: Distance between the centres of vertical columns, in font sizes.
COLUMN_SPACING = 1.4
#: The translation may be drawn at most this much larger than the source lettering.
SOURCE_SIZE_CAP = 1.2
#: Languages that get vertical layout when their source was vertical.
VERTICAL_LANGUAGES = frozenset({"ja", "zh"})
#: How far a narrow vertical region may grow sideways for horizontal text (see `text_region`).
VERTICAL_SOURCE_GROWTH = 2.5

# Narrow characters drawn upright in a full-width cell in vertical text ('vert' gives them vertical forms).
_UPRIGHT_NARROW = frozenset("…‥―—〜～")
_HAS_RAQM = features.check("raqm")

CellKind = Literal["cjk", "upright", "tcy", "rotated", "space"]


@dataclass(frozen=True)
class VerticalCell:
    """One step down a vertical column.

    Attributes:
        text: The character or run drawn in this cell.
        kind: "cjk" (full-width glyph, upright, vertical forms), "upright" (one narrow
            glyph, centred), "tcy" (tate-chu-yoko: 2-3 digits or !? set across the column),
            "rotated" (a Latin run turned 90 degrees clockwise) or "space".
        y: Offset of the cell's top from the column's top, in pixels.
        height: The cell's height, in pixels.
    """

    text: str
    kind: CellKind
    y: float
    height: float


@dataclass(frozen=True)
class Layout:
    """Where and how big a block's translation is drawn, in region coordinates.

    Attributes:
        lines: Lines (horizontal) or columns (vertical, in reading order: right to left).
        font_px: Font size in pixels.
        line_height: Baseline-to-baseline distance (horizontal) or column pitch (vertical).
        origins: Per line, the PIL anchor point: for horizontal lines the baseline point at
            the left edge, centre or right edge (see `anchor`); for vertical columns the
            column's centre x and top y.
        anchor: PIL anchor of horizontal lines ("ls", "ms" or "rs"); "vertical" for columns.
        direction: Horizontal lines or vertical columns.
        ink_box: Bounds (x0, y0, x1, y1) of the drawn text including its outline; beyond the
            region when the text overflows.
        stroke_px: Outline width at this font size (0 for none).
        overflow: True when even `min_px` did not fit and the text spills out of the region.
        region: The (width, height) the text was fitted into.
    """

    lines: tuple[str, ...]
    font_px: int
    line_height: float
    origins: tuple[Point, ...]
    anchor: str
    direction: Direction
    ink_box: tuple[float, float, float, float]
    stroke_px: int
    overflow: bool
    region: tuple[float, float]


def layout_direction(source: Direction, target: str, vertical_for_cjk: bool) -> Direction:
    """Vertical only for a vertical source translated into Japanese/Chinese (when enabled)."""
    if source == Direction.VERTICAL and target in VERTICAL_LANGUAGES and vertical_for_cjk:
        return Direction.VERTICAL
    return Direction.HORIZONTAL


def text_region(width: float, height: float, source: Direction, layout: Direction) -> tuple[float, float]:
    """The box a translation is fitted into when no bubble bounds it, from the block's own size.

    A vertical source drawn as horizontal text (Japanese columns translated to English)
    would otherwise get a column one or two glyphs wide. Its region grows sideways,
    symmetrically about the centre, to 0.6 of its height but at most 2.5 times its width:
    speech bubbles around vertical text are nearly always wider than the text, and the
    limit keeps the drawn text from wandering far over the art.

    Args:
        width: The block quad's width along its own x axis.
        height: The block quad's height along its own y axis.
        source: The block's writing direction.
        layout: The direction the translation is drawn in.

    Returns:
        (width, height) of the region; the height never changes.
    """
    if source == Direction.VERTICAL and layout == Direction.HORIZONTAL:
        return max(width, min(0.6 * height, VERTICAL_SOURCE_GROWTH * width)), height
    return width, height


def size_cap(min_px: int, max_px: int, start_px: float) -> int:
    """Largest font size to try: `max_px`, but no more than 1.2x the source lettering.

    Source lettering smaller than `min_px` does not hold the translation below `min_px`
    (tiny source text is drawn at the smallest legible size instead).
    """
    if start_px <= 0:
        return max_px
    return max(min_px, min(max_px, math.ceil(SOURCE_SIZE_CAP * start_px)))


def stroke_for(px: int, stroke_ratio: float) -> int:
    """Outline width at font size `px`: the source's outline scaled with the font, at least 1 px."""
    if stroke_ratio <= 0:
        return 0
    return max(1, round(stroke_ratio * px))


def fit_block(
    text: str,
    language: str,
    region_w: float,
    region_h: float,
    direction: Direction,
    font_spec: FontSpec,
    min_px: int,
    max_px: int,
    start_px: float,
    *,
    alignment: Alignment = Alignment.LEFT,
    stroke_ratio: float = 0.0,
) -> Layout:
    """Choose the largest font size at which `text` fits the region, and lay it out.

    The cap, `size_cap(min_px, max_px, start_px)`, is tried first; if it does not fit, a
    binary search over integer sizes from `min_px` up to it.
    A size fits when the broken lines (or columns), including the outline, lie inside
    region_w x region_h. Words are kept whole if any size allows it; only when none does
    are they hyphenated or split (a second search). If nothing fits at `min_px`, `min_px`
    is used anyway with whole words and the layout is flagged `overflow` (the text is centred
    on the region and spills out).

    Args:
        text: The translation.
        language: Target language (line-breaking rules).
        region_w: Region width in pixels (the block quad's own width, see `text_region`).
        region_h: Region height in pixels.
        direction: The layout direction (see `layout_direction`), not the source's.
        font_spec: The font to draw with.
        min_px: Smallest font size allowed.
        max_px: Largest font size allowed.
        start_px: The source lettering's size estimate (`Style.font_size`).
        alignment: Left, centre or right aligned lines (vertical columns: top or centred).
        stroke_ratio: Outline width per pixel of font size (0 for no outline).

    Returns:
        The layout.
    """
    min_px = max(1, int(min_px))
    hi = max(min_px, size_cap(min_px, int(max_px), start_px))

    def attempt(px: int, split: bool) -> _Attempt:
        return _attempt(text, language, region_w, region_h, direction, font_spec, px, stroke_ratio, split)

    # Most translations fit at the cap (short text in a roomy block): one attempt, no search.
    at_cap = attempt(hi, False)
    if at_cap.fits:
        return _place(at_cap, region_w, region_h, direction, alignment)
    # Shrinking the font is better than splitting words: split only if no size fits whole words.
    for split in (False, True):
        best = attempt(min_px, split)
        if not split:
            whole_at_min = best
        if best.fits:
            # Whole words were already tried at the cap: search below it.
            lo, top = min_px, hi if split else hi - 1
            while lo < top:
                mid = (lo + top + 1) // 2
                trial = attempt(mid, split)
                if trial.fits:
                    lo, best = mid, trial
                else:
                    top = mid - 1
            return _place(best, region_w, region_h, direction, alignment)
    # Nothing fits at min_px: the text overflows either way, so its words stay whole. Split to
    # a region narrower than a letter or two, a word is broken letter by letter (`R-E-D-R-O-C-K`
    # down a 5 x 6 px logo fragment), which no one can read.
    return _place(whole_at_min, region_w, region_h, direction, alignment)


def fits_whole_words(
    text: str,
    language: str,
    region_w: float,
    region_h: float,
    direction: Direction,
    font_spec: FontSpec,
    px: int,
    stroke_ratio: float = 0.0,
) -> bool:
    """Whether `text` fits the region at font size `px` with its words kept whole (one try of `fit_block`)."""
    return _attempt(text, language, region_w, region_h, direction, font_spec, px, stroke_ratio, False).fits


def fit_shaped(
    text: str,
    language: str,
    rows: tuple[tuple[float, float, float, float], ...],
    axis: float,
    font_spec: FontSpec,
    min_px: int,
    max_px: int,
    start_px: float,
    *,
    stroke_ratio: float = 0.0,
) -> tuple[Layout, tuple[float, float]] | None:
    """Centred horizontal lines shaped to a bubble given row by row.

    An oval bubble's middle is wider than any rectangle that also holds its height: a long
    translation that overflows every rectangle at `min_px` may still fit when each line takes
    the width the bubble has at its own height (OpenMantra dev 030: five lines in a 45 x 84 px
    oval). Lines are centred on `axis` and on the rows' middle; words stay whole. A text of
    several paragraphs (its own line breaks, a list's items: `breaking.paragraphs`) keeps
    them in `fit_block` and is not shaped.

    Args:
        rows: The region's rows (x0, y0, x1, y1), top to bottom (`regions.Region.rows`).
        axis: The x the lines are centred on.
        The others: as `fit_block`'s.

    Returns:
        The layout in the coordinates of the rows' bounding box and that box's top-left
        corner; None for languages written without spaces, text of several paragraphs, or
        when nothing fits at `min_px`.
    """
    words = text.split()
    if language in NO_SPACE_LANGUAGES or not words or not rows or len(paragraphs(text)) > 1:
        return None
    x0, y0 = min(r[0] for r in rows), rows[0][1]
    x1, y1 = max(r[2] for r in rows), rows[-1][3]
    middle = (y0 + y1) / 2
    half = [max(0.0, min(axis - r[0], r[2] - axis)) for r in rows]
    tops = [r[1] for r in rows]

    def room(top: float, bottom: float) -> float:
        """Width centred on the axis that every row from top to bottom has."""
        if top < y0 or bottom > y1:
            return 0.0
        first = max(0, bisect.bisect_right(tops, top) - 1)
        last = max(first + 1, bisect.bisect_left(tops, bottom))
        return 2 * min(half[first:last])

    def attempt(px: int) -> Layout | None:
        font = font_spec.load(px)
        stroke = stroke_for(px, stroke_ratio)
        ink_top, ink_bottom = line_ink(font, language, (text,))
        tall = ink_bottom - ink_top
        pitch = round(LINE_SPACING * px)
        most = int((y1 - y0 - tall - 2 * stroke) // pitch) + 1 if pitch else 0
        for n in range(1, most + 1):
            height = (n - 1) * pitch + tall
            first = middle - height / 2  # the first line's ink top
            limits = [
                room(first + i * pitch - stroke, first + i * pitch + tall + stroke) - 2 * stroke
                for i in range(n)
            ]
            lines, taken = _pack_shaped(words, limits, lambda s: _length(font, s))
            if taken < len(words) or len(lines) != n:
                continue
            widest = max(_length(font, ln) for ln in lines)
            cx, top = axis - x0, first - y0
            origins = tuple((cx, top - ink_top + i * pitch) for i in range(n))
            ink = (cx - widest / 2 - stroke, top - stroke, cx + widest / 2 + stroke, top + height + stroke)
            return Layout(tuple(lines), px, float(pitch), origins, "ms", Direction.HORIZONTAL, ink, stroke,
                          False, (x1 - x0, y1 - y0))  # fmt: skip
        return None

    lo, hi = max(1, int(min_px)), max(int(min_px), size_cap(int(min_px), int(max_px), start_px))
    best = attempt(lo)
    if best is None:
        return None
    while lo < hi:  # the largest size that fits (fitting is near enough monotone in the size)
        mid = (lo + hi + 1) // 2
        trial = attempt(mid)
        if trial is not None:
            lo, best = mid, trial
        else:
            hi = mid - 1
    return best, (x0, y0)


def _pack_shaped(
    words: list[str], limits: list[float], measure: Callable[[str], float]
) -> tuple[list[str], int]:
    """Words packed greedily into lines no wider than each line's own limit; the lines and
    how many words they took (fewer than all when the limits ran out)."""
    lines: list[str] = []
    j = 0
    for limit in limits:
        if j == len(words) or measure(words[j]) > limit:
            break
        line = words[j]
        j += 1
        while j < len(words) and measure(line + " " + words[j]) <= limit:
            line += " " + words[j]
            j += 1
        lines.append(line)
    return lines, j


@dataclass(frozen=True)
class _Attempt:
    lines: tuple[str, ...]
    px: int
    pitch: float
    extents: tuple[float, ...]  # line widths (horizontal) or column heights (vertical)
    ink_top: float  # horizontal: ink top relative to the baseline (negative)
    ink_bottom: float
    stroke: int
    fits: bool


def _attempt(
    text: str,
    language: str,
    region_w: float,
    region_h: float,
    direction: Direction,
    spec: FontSpec,
    px: int,
    stroke_ratio: float,
    split: bool,
) -> _Attempt:
    font = spec.load(px)
    stroke = stroke_for(px, stroke_ratio)
    if direction == Direction.VERTICAL:
        avail = region_h - 2 * stroke
        pitch = COLUMN_SPACING * px

        def column_height(s: str) -> float:
            return column_extent(s, font, px)

        cols = tuple(break_vertical(text, language, avail, column_height, split_words=split))
        heights = tuple(column_height(c) for c in cols)
        width = (len(cols) - 1) * pitch + px + 2 * stroke if cols else 0.0
        fits = width <= region_w and all(h <= avail for h in heights)
        return _Attempt(cols, px, pitch, heights, 0.0, 0.0, stroke, fits)
    avail = region_w - 2 * stroke

    def measure(s: str) -> float:
        return _length(font, s)

    lines = tuple(break_text(text, language, avail, measure, split_words=split))
    widths = tuple(measure(ln) for ln in lines)
    top, bottom = line_ink(font, language, lines)
    pitch = round(LINE_SPACING * px)
    height = (len(lines) - 1) * pitch + (bottom - top) + 2 * stroke if lines else 0.0
    fits = height <= region_h and all(w <= avail for w in widths)
    return _Attempt(lines, px, pitch, widths, top, bottom, stroke, fits)


def _place(
    a: _Attempt, region_w: float, region_h: float, direction: Direction, alignment: Alignment
) -> Layout:
    s = a.stroke
    region = (region_w, region_h)
    if direction == Direction.VERTICAL:
        n = len(a.lines)
        group_w = (n - 1) * a.pitch + a.px if n else 0.0
        left = (region_w - group_w) / 2
        tallest = max(a.extents, default=0.0)
        top = (region_h - tallest) / 2 if alignment == Alignment.CENTRE or a.fits is False else float(s)
        origins = tuple((left + group_w - a.px / 2 - i * a.pitch, top) for i in range(n))
        ink = (left - s, top - s, left + group_w + s, top + tallest + s)
        return Layout(a.lines, a.px, a.pitch, origins, "vertical", direction, ink, s, not a.fits, region)
    n = len(a.lines)
    height = (n - 1) * a.pitch + (a.ink_bottom - a.ink_top) if n else 0.0
    top = (region_h - height) / 2  # vertically centred, also when overflowing
    first_baseline = top - a.ink_top
    widest = max(a.extents, default=0.0)
    if alignment == Alignment.CENTRE:
        anchor, x = "ms", region_w / 2
        x0, x1 = x - widest / 2, x + widest / 2
    elif alignment == Alignment.RIGHT:
        anchor, x = "rs", region_w - s
        x0, x1 = x - widest, x
    else:
        anchor, x = "ls", float(s)
        x0, x1 = x, x + widest
    if not a.fits and widest > region_w - 2 * s:
        # Too wide even at the smallest size: centre on the region so it spills out evenly.
        shift = (region_w - widest) / 2 - x0
        x, x0, x1 = x + shift, x0 + shift, x1 + shift
    origins = tuple((x, first_baseline + i * a.pitch) for i in range(n))
    ink = (x0 - s, top - s, x1 + s, top + height + s)
    return Layout(a.lines, a.px, float(a.pitch), origins, anchor, direction, ink, s, not a.fits, region)


def line_ink(font: ImageFont.FreeTypeFont, language: str, lines: tuple[str, ...]) -> tuple[float, float]:
    """Top of the first line's ink and bottom of the last's, relative to their baselines.

    The top is at least the capital height (the ideograph height for CJK) and the bottom
    at least the baseline, so all-capital lettering is centred on its capitals and a line
    of small letters does not drift upwards; descenders and accents add their own extent.
    """
    top = _reference_top(font, "国H" if language in ("ja", "zh", "ko") else "H")
    bottom = 0.0
    if lines:
        # Measuring text is most of the fitting search's time: one call when first is last.
        first = _ink_box(font, lines[0])
        last = first if len(lines) == 1 else _ink_box(font, lines[-1])
        top = min(top, float(first[1]))
        bottom = max(bottom, float(last[3]))
    return top, bottom


@lru_cache(maxsize=16384)
def _length(font: ImageFont.FreeTypeFont, s: str) -> float:
    # The fit search measures the same words and lines at the same size again and again (each
    # rectangle of a bubble is tried); fonts come from fonts.py's cache, one object per size.
    return float(font.getlength(s))


@lru_cache(maxsize=16384)
def _ink_box(font: ImageFont.FreeTypeFont, s: str) -> tuple[float, float, float, float]:
    # As `_length`: each rectangle of a bubble measures the same lines at the same size again.
    return font.getbbox(s, anchor="ls")


@lru_cache(maxsize=1024)
def _reference_top(font: ImageFont.FreeTypeFont, ref: str) -> float:
    # Fonts come from fonts.py's cache (one object per file, face and size), so this is per size.
    return float(font.getbbox(ref, anchor="ls")[1])


def em_top(font: ImageFont.FreeTypeFont, px: int) -> float:
    """Top of the ideographic em box relative to the baseline (negative), from the ink of 国."""
    _, top, _, bottom = font.getbbox("国", anchor="ls")
    return (top + bottom) / 2 - px / 2


def vertical_cells(column: str, font: ImageFont.FreeTypeFont, px: int) -> list[VerticalCell]:
    """Cut a column's text into cells stacked top to bottom.

    Full-width characters (kana, ideographs, full-width punctuation, and … ― ～) take one
    em each and are drawn upright with their vertical forms. A narrow run (Latin letters,
    digits, ASCII punctuation) of one character is drawn upright in its own cell; two
    digits or a short !? set across the column (tate-chu-yoko); a longer run is turned
    90 degrees clockwise and takes its own length. Spaces take half an em.
    """
    cells: list[VerticalCell] = []
    y = 0.0
    for run, narrow in _runs(column):
        if not narrow:
            for ch in run:
                cells.append(VerticalCell(ch, "cjk", y, float(px)))
                y += px
            continue
        stripped = run.strip()
        if not stripped:
            cells.append(VerticalCell(run, "space", y, px / 2))
            y += px / 2
            continue
        if len(stripped) == 1:
            kind: CellKind = "upright"
            h = float(px)
        elif _is_tcy(stripped):
            kind, h = "tcy", float(px)
        else:
            kind, h = "rotated", float(font.getlength(stripped))
        cells.append(VerticalCell(stripped, kind, y, h))
        y += h
    return cells


def column_extent(column: str, font: ImageFont.FreeTypeFont, px: int) -> float:
    """Height of a column of text in pixels (the sum of its cells)."""
    cells = vertical_cells(column, font, px)
    return cells[-1].y + cells[-1].height if cells else 0.0


def is_fullwidth(ch: str) -> bool:
    """Whether `ch` is drawn upright in a full em cell in vertical text."""
    return unicodedata.east_asian_width(ch) in ("W", "F") or ch in _UPRIGHT_NARROW


def vertical_features() -> list[str] | None:
    """OpenType features for vertical glyph forms ('vert'), when Pillow has raqm to apply them."""
    return ["vert"] if _HAS_RAQM else None


def _is_tcy(run: str) -> bool:
    """Set across the column (tate-chu-yoko): two digits, or a short run of ! and ?."""
    return (len(run) == 2 and run.isdigit()) or (len(run) <= 3 and set(run) <= set("!?"))


def _runs(text: str) -> list[tuple[str, bool]]:
    """Split into maximal runs of full-width and of narrow characters; spaces at a run's ends split off."""
    runs: list[tuple[str, bool]] = []
    for ch in text:
        narrow = not is_fullwidth(ch)
        if runs and runs[-1][1] == narrow:
            runs[-1] = (runs[-1][0] + ch, narrow)
        else:
            runs.append((ch, narrow))
    # A narrow run that is just spaces stays a space cell; split spaces off the ends of other runs.
    out: list[tuple[str, bool]] = []
    for run, narrow in runs:
        if narrow and run.strip() and run != run.strip():
            lead = run[: len(run) - len(run.lstrip())]
            trail = run[len(run.rstrip()) :]
            if lead:
                out.append((lead, True))
            out.append((run.strip(), True))
            if trail:
                out.append((trail, True))
        else:
            out.append((run, narrow))
    return out
