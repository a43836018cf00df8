"""Reading scores: what a reader (imtrans, or a raw engine as a baseline) found and read on a page.

One scoring for every reader, so that imtrans and the engine it wraps are compared on equal
terms in the same run. The unit of truth is a *region*: a true line where the dataset has line
truth (synthetic sets, real photos, ICDAR), a true block where it has only boxes (OpenMantra
bubbles). Each found line goes to the region holding most of its area (at least half; a true
line inside an ignored region, holding half of it, before that region); a region
is *found* when a line went to it, and its *reading* is the text of those lines joined in
reading order (columns right to left, rows top to bottom). CER counts a missed region as all
of its characters deleted, so one figure says how much of the page's text came out right.

Failure classes, per region: `missed` (no line went to it), `misread` (found, CER above
`MISREAD_CER`), `merged` (half or more of it lies under a found line that also covers half of
another region: two panels, a price and its item, read as one line), `split` (line truth only:
two or more found lines went to it). Per page: `unmatched` found lines that went to no region
(not always false: truth may leave sound effects or logos out).

Grouping (line truth with blocks, for a reader that groups): over the pairs of found true lines
of a page, `precision` is the share of pairs put in one block that truly share a block, and
`recall` the share of pairs truly sharing a block that were put in one. A found line's block
is the block of the first found line that went to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from imtrans.evaluate.dataset import Sample
from imtrans.evaluate.metrics import edit_distance, normalise_text, quad_polygon
from imtrans.languages import NO_SPACE_LANGUAGES
from imtrans.types import Direction, Line, Quad

#: A found line (or a predicted block, in the runner) belongs to the true region holding at
#: least this share of its area.
OWN_SHARE = 0.5
#: A found region read with a higher CER than this is `misread`.
MISREAD_CER = 0.2
#: A found line covering at least this share of two regions merged them.
MERGE_SHARE = 0.5
#: A true line lies inside an ignored region when this share of it does.
_INSIDE = 0.9
READING_FAILURES = ("missed", "misread", "merged", "split", "unmatched")


@dataclass(frozen=True)
class TruthRegion:
    """One true line (or box) to be read."""

    quad: Quad
    text: str
    language: str
    ignore: bool = False
    block: int = -1  # index of its true block


def truth_regions(sample: Sample) -> tuple[list[TruthRegion], bool]:
    """The regions a sample is scored on, and whether they are lines (True) or boxes."""
    if sample.lines:
        regions = [
            TruthRegion(ln.to_quad(), ln.text, ln.language or sample.source_language, ln.ignore, k)
            for k, b in enumerate(sample.blocks)
            for ln in b.lines
        ]
        return regions, True
    regions = [TruthRegion(b.to_quad(), b.text, b.language or sample.source_language) for b in sample.blocks]
    return regions, False


@dataclass(frozen=True)
class RegionReading:
    """How one true region was read."""

    truth: str
    language: str
    reading: str
    found: bool
    edits: int
    chars: int
    parts: int = 0
    merged: bool = False
    block: int = -1  # true block
    found_block: str = ""  # block the reader put it in ("" when not found or not grouped)
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # the true region's bounds

    @property
    def cer(self) -> float:
        return self.edits / self.chars if self.chars else float(self.edits > 0)


@dataclass
class PageReading:
    """One reader on one page: a reading per scored region, and the found lines that went nowhere."""

    regions: list[RegionReading] = field(default_factory=list)
    unmatched: int = 0
    line_truth: bool = True

    def grouping(self) -> Counter[str]:
        """Pair counts: `joined` (put in one block), `together` (truly in one), `both`."""
        found = [r for r in self.regions if r.found_block and r.block >= 0]
        out: Counter[str] = Counter()
        for i, a in enumerate(found):
            for b in found[i + 1 :]:
                joined, together = a.found_block == b.found_block, a.block == b.block
                out["joined"] += joined
                out["together"] += together
                out["both"] += joined and together
        return out

    def failures(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for r in self.regions:
            out["missed"] += not r.found
            out["misread"] += r.found and r.cer > MISREAD_CER
            out["merged"] += r.merged
            out["split"] += self.line_truth and r.parts > 1
        out["unmatched"] += self.unmatched
        return out


def read_order(lines: Sequence[Line]) -> list[Line]:
    """Lines in reading order: vertical columns right to left, else rows top to bottom, left to
    right, in the text's own frame (a page photographed sideways reads along its lines' quads,
    the nearest of the four axes to their top edges: `_text_frame`)."""
    if not lines:
        return []
    right, down = _text_frame(lines)

    def at(ln: Line) -> tuple[float, float]:
        x, y = ln.quad.centre
        return x * right[0] + y * right[1], x * down[0] + y * down[1]

    vertical = sum(ln.direction is Direction.VERTICAL for ln in lines) * 2 > len(lines)
    if vertical:
        return sorted(lines, key=lambda ln: (-at(ln)[0], at(ln)[1]))
    # Rows: a line starts a new row when its centre is below the previous row by half its height.
    items = sorted(lines, key=lambda ln: at(ln)[1])
    rows: list[list[Line]] = []
    for ln in items:
        if rows and abs(at(ln)[1] - at(rows[-1][0])[1]) < 0.5 * max(ln.quad.height, 1.0):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: at(ln)[0])]


def _text_frame(lines: Sequence[Line]) -> tuple[tuple[int, int], tuple[int, int]]:
    """(right, down) of the lines' text as page axes: their quads' top edges summed, snapped to
    the nearest axis (a page turned by 90, 180 or 270 degrees; slanted lines keep the page's)."""
    sx = sum(ln.quad.points[1][0] - ln.quad.points[0][0] for ln in lines)
    sy = sum(ln.quad.points[1][1] - ln.quad.points[0][1] for ln in lines)
    if abs(sx) >= abs(sy):
        right = (1, 0) if sx >= 0 else (-1, 0)
    else:
        right = (0, 1) if sy > 0 else (0, -1)
    return right, (-right[1], right[0])


def score_reading(
    found: Sequence[Line],
    regions: Sequence[TruthRegion],
    line_truth: bool = True,
    block_of: dict[str, str] | None = None,
) -> PageReading:
    """Score one reader's found lines (with text) against a page's true regions.

    Args:
        found: The reader's lines; lines with empty text are not counted (not read is not found).
        regions: The page's true regions (`truth_regions`).
        line_truth: Whether regions are lines (a region read as two lines is then `split`).
        block_of: Found line id -> the id of the block the reader put it in (grouping).

    Returns:
        A `PageReading` with one `RegionReading` per region not marked ignore.
    """
    lines = [ln for ln in found if ln.text.strip()]
    polys = [quad_polygon(r.quad) for r in regions]
    owned: dict[int, list[Line]] = {}
    merged: set[int] = set()
    unmatched = 0
    for ln in lines:
        mine = quad_polygon(ln.quad)
        area = max(mine.area, 1e-9)
        shares = [mine.intersection(p).area for p in polys]
        best = max(range(len(regions)), key=lambda i: shares[i], default=None)
        if best is not None and regions[best].ignore:
            # A "don't care" region (a mural, a shop front's clutter) may hold a true line whole:
            # that line, holding enough of the found line, takes it.
            inside = [
                i
                for i, r in enumerate(regions)
                if not r.ignore and shares[i] >= OWN_SHARE * area
                and polys[i].intersection(polys[best]).area >= _INSIDE * polys[i].area
            ]  # fmt: skip
            if inside:
                best = max(inside, key=lambda i: shares[i])
        if best is not None and shares[best] / area >= OWN_SHARE:
            owned.setdefault(best, []).append(ln)
        else:
            unmatched += 1
        covered = [i for i, p in enumerate(polys) if p.area > 0 and shares[i] >= MERGE_SHARE * p.area]
        covered = [i for i in covered if not regions[i].ignore]
        if len(covered) > 1:
            merged.update(covered)
    out = PageReading(line_truth=line_truth, unmatched=unmatched)
    for i, r in enumerate(regions):
        if r.ignore:
            continue
        mine = read_order(owned.get(i, []))
        joiner = "" if r.language in NO_SPACE_LANGUAGES else " "
        reading = joiner.join(ln.text.strip() for ln in mine)
        ref = normalise_text(r.text)
        out.regions.append(
            RegionReading(
                truth=r.text,
                language=r.language,
                reading=reading,
                found=bool(mine),
                edits=edit_distance(normalise_text(reading), ref),
                chars=len(ref),
                parts=len(mine),
                merged=i in merged,
                block=r.block,
                box=r.quad.bbox,
                found_block=(block_of or {}).get(mine[0].id, "") if mine else "",
            )
        )
    return out


class ReadingAccumulator:
    """Sums `PageReading`s of one reader over a dataset; `summary()` per language and overall."""

    def __init__(self) -> None:
        self._sums: dict[str, Counter[str]] = {}
        self._failures: Counter[str] = Counter()
        self._grouping: Counter[str] = Counter()

    def update(self, page: PageReading) -> None:
        for r in page.regions:
            for key in ("all", r.language):
                s = self._sums.setdefault(key, Counter())
                s["regions"] += 1
                s["found"] += r.found
                s["edits"] += r.edits
                s["chars"] += r.chars
                s["edits_found"] += r.edits if r.found else 0
                s["chars_found"] += r.chars if r.found else 0
                s["exact"] += r.found and r.edits == 0
        self._failures.update(page.failures())
        self._grouping.update(page.grouping())

    def summary(self) -> dict[str, dict[str, float]]:
        """Per language (and "all"): regions, recall, cer (missed text counted as deleted),
        cer_found (on found regions only) and exact (share of regions read exactly)."""
        out: dict[str, dict[str, float]] = {}
        for key in sorted(self._sums, key=lambda k: (k != "all", k)):
            s = self._sums[key]
            n = s["regions"]
            out[key] = {
                "regions": float(n),
                "recall": s["found"] / n if n else float("nan"),
                "cer": s["edits"] / s["chars"] if s["chars"] else float("nan"),
                "cer_found": s["edits_found"] / s["chars_found"] if s["chars_found"] else float("nan"),
                "exact": s["exact"] / n if n else float("nan"),
            }
        return out

    def failures(self) -> dict[str, int]:
        return {k: int(self._failures[k]) for k in READING_FAILURES}

    def grouping(self) -> dict[str, float]:
        """Pairwise grouping precision and recall (empty when the reader does not group)."""
        g = self._grouping
        if not g["joined"] and not g["both"]:
            return {}
        return {
            "precision": g["both"] / g["joined"] if g["joined"] else float("nan"),
            "recall": g["both"] / g["together"] if g["together"] else float("nan"),
            "pairs": float(g["together"]),
        }
