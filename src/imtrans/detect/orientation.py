"""Page orientation: is the page turned by 90, 180 or 270 degrees, and how to map it back.

A page photographed sideways or upside down gives the detector boxes it finds fine (the DB
detector barely cares about rotation), but every line then reads as nonsense: sideways Korean
becomes vertical columns restacked glyph by glyph, upside-down text becomes junk. The check is
made on what the first read already gives, so an upright page that reads well costs nothing:

1. `needs_check`: the page's text reads poorly (`score` below `CHECK_BELOW`): lines unread,
   read far shorter than they are long, or vertical columns read as Latin letters (a
   sideways Latin line, not a column of CJK). Real vertical Japanese or Chinese reads well
   as columns, so comic pages are seldom checked.
2. `find_rotation`: the longest lines (up to `SAMPLE_LINES`) are read again, as they are and
   as if the page were turned by 90, 180 and 270 degrees: only their quads change
   (`turn_quad_reading`), the image is not turned. A rotation wins when its readings are
   clearly better than the page's as it is (`MIN_SCORE`, `MIN_GAIN`, `MIN_LETTERS`). A
   column's crop read turned by 270 is the crop it is read from upright, so real CJK
   columns read no better turned and stay as they are.

Angles are the clockwise turn that makes the stored image upright: `turn_image(image, 90)`
is the upright page, and a page whose text runs from bottom to top needs 90. Lines read on
the turned image go back to the stored frame with `line_to_stored` / `block_to_stored`:
every point is mapped and their order is kept, so a quad still starts at the text's own
top-left corner (on a page that needs 90, its first edge points up).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from imtrans.languages import script_counts
from imtrans.types import Block, Direction, Line, Point, Quad

ANGLES = (0, 90, 180, 270)
#: Lines read again under each candidate rotation (the longest ones carry the most evidence).
SAMPLE_LINES = 8
#: Rotations are tried only on pages whose text reads worse than this (see `score`). Turned
#: pages read by korean-ctc score 0.55-0.70, upright real photos 0.59 and up, so the check
#: looks at some upright pages too; `find_rotation` leaves them as they are.
CHECK_BELOW = 0.8
#: A rotation must score at least this (length-weighted mean confidence of plausible readings)...
MIN_SCORE = 0.5
#: ... and this much more than the page as it is.
MIN_GAIN = 0.2
#: ... on at least this many letters read plausibly (one junk box read as 'cd' is no evidence).
MIN_LETTERS = 6
#: A line that is a column under a candidate rotation counts this much (a turned page of
#: columns is rarer than a turned page of lines, and the same crop reads as both).
_TURNED_COLUMN_WEIGHT = 0.5
#: A PP-OCR reading at least this plausible is not read again by Tesseract.
_GOOD_ENOUGH = 0.8

#: Reads lines of an image: one line back per line given, text empty when not read.
Reader = Callable[[np.ndarray, list[Line]], list[Line]]


@dataclass(frozen=True)
class Orientation:
    """The decision and what it was made on: score per angle tried (0 is the page as it is)."""

    angle: int
    scores: dict[int, float]
    checked: bool


def turn_image(image: np.ndarray, angle: int) -> np.ndarray:
    """The image turned clockwise by `angle` (0, 90, 180 or 270) degrees."""
    _check_angle(angle)
    return np.ascontiguousarray(np.rot90(image, k=-(angle // 90)))


def to_stored(point: Point, angle: int, width: int, height: int) -> Point:
    """A point of the turned image (`turn_image(stored, angle)`) in the stored image's frame.

    Coordinates are pixel indices as OpenCV reads them (the top-left pixel's centre is (0, 0)),
    so that a quad mapped back crops, erases and draws exactly the pixels it covered upright.

    Args:
        point: (x, y) in the turned image.
        angle: The clockwise turn that made the turned image.
        width: The stored image's width.
        height: The stored image's height.
    """
    _check_angle(angle)
    u, v = point
    if angle == 90:
        return (v, height - 1 - u)
    if angle == 180:
        return (width - 1 - u, height - 1 - v)
    if angle == 270:
        return (width - 1 - v, u)
    return (u, v)


def quad_to_stored(quad: Quad, angle: int, width: int, height: int) -> Quad:
    """A quad of the turned image in the stored frame; the points keep their order (text's top-left first)."""
    p = tuple(to_stored(pt, angle, width, height) for pt in quad.points)
    return Quad((p[0], p[1], p[2], p[3]))


def line_to_stored(line: Line, angle: int, width: int, height: int) -> Line:
    """A line read on the turned image, placed in the stored frame (direction stays the text's own)."""
    return replace(
        line,
        quad=quad_to_stored(line.quad, angle, width, height),
        curve=tuple(quad_to_stored(q, angle, width, height) for q in line.curve),
        grid_rows=tuple(quad_to_stored(q, angle, width, height) for q in line.grid_rows),
    )


def block_to_stored(block: Block, angle: int, width: int, height: int) -> Block:
    """A block and its lines read on the turned image, placed in the stored frame."""
    return replace(
        block,
        quad=quad_to_stored(block.quad, angle, width, height),
        lines=tuple(line_to_stored(ln, angle, width, height) for ln in block.lines),
    )


def turn_quad_reading(line: Line, angle: int) -> Line:
    """The same box read as if the page needed turning by `angle`: its corners start elsewhere.

    A detected quad's first edge runs roughly left to right (a line's top, or across a column's
    top). On a page that needs 90 degrees the text runs bottom to top, so its own top-left is the
    box's bottom-left corner; 180 starts at the bottom-right, 270 at the top-right. The direction
    is the text's own: along the box's long side is a line, across it a column.
    """
    _check_angle(angle)
    start = (4 - angle // 90) % 4
    pts = line.quad.points
    quad = Quad((pts[start], pts[(start + 1) % 4], pts[(start + 2) % 4], pts[(start + 3) % 4]))
    vertical = quad.height > quad.width * 1.5
    return replace(
        line,
        quad=quad,
        direction=Direction.VERTICAL if vertical else Direction.HORIZONTAL,
        text="",
        language="",
        confidence=0.0,
        recognizer="",
        curve=(),  # a curved line read turned is read as its bounding box
        grid_rows=(),
    )


def plausibility(line: Line) -> float:
    """How much a reading counts as evidence: its confidence when the text fits the line, else 0.

    Not plausible: no letters; far fewer characters than the line's length holds (Latin letters
    are about half as wide as CJK glyphs are); a vertical column read as Latin letters only
    (a sideways Latin line, since Latin is not written in columns of turned letters).
    """
    from imtrans.recognize.route import too_short

    c = script_counts(line.text)
    if not any(c.values()):
        return 0.0
    latin_only = not (c["hangul"] or c["kana"] or c["han"])
    if (latin_only and line.direction is Direction.VERTICAL) or too_short(line.text, line):
        return 0.0
    return float(line.confidence)


def score(lines: Sequence[Line], turned: bool = False) -> float:
    """Length-weighted mean plausibility of read lines (0 for none).

    With `turned`, columns count `_TURNED_COLUMN_WEIGHT` as much: on a candidate rotation the
    same crop that reads as a sideways line also reads as an upside-down column.
    """
    weights = [_length(ln) for ln in lines]
    total = sum(weights)
    if not total:
        return 0.0
    factor = [_TURNED_COLUMN_WEIGHT if turned and ln.direction is Direction.VERTICAL else 1.0 for ln in lines]
    return sum(w * f * plausibility(ln) for w, f, ln in zip(weights, factor, lines, strict=True)) / total


def needs_check(lines: Sequence[Line]) -> bool:
    """Whether a read page may be turned: its text reads poorly (see the module docstring)."""
    return bool(lines) and score(lines) < CHECK_BELOW


def sample(lines: Sequence[Line], n: int = SAMPLE_LINES) -> list[Line]:
    """The `n` longest lines (by their long side), in their original order."""
    ranked = sorted(range(len(lines)), key=lambda i: -_length(lines[i]))[:n]
    return [lines[i] for i in sorted(ranked)]


def find_rotation(image: np.ndarray, lines: Sequence[Line], read: Reader) -> Orientation:
    """The clockwise turn (0, 90, 180, 270) that makes the page upright, judged from its read lines.

    Args:
        image: The stored RGB image.
        lines: Its lines as read upright (text, confidence and direction set).
        read: Reads lines of `image` (the pipeline's recogniser, with its source language).

    Returns:
        The angle, with the score of every angle tried; `checked` is false when the page read
        well enough that no rotation was tried (nothing was read again).
    """
    if not needs_check(lines):
        return Orientation(0, {}, checked=False)
    chosen = sample(lines)
    n = len(chosen)
    # The page as it is is read again by the same reader, so that every angle is judged alike.
    candidates = [ln if a == 0 else turn_quad_reading(ln, a) for a in ANGLES for ln in chosen]
    read_back = read(image, candidates)
    by_angle = {a: read_back[k * n : (k + 1) * n] for k, a in enumerate(ANGLES)}
    scores = {a: score(got, turned=a != 0) for a, got in by_angle.items()}
    best = max(ANGLES[1:], key=lambda a: scores[a])
    letters = sum(_letters(ln) for ln in by_angle[best] if plausibility(ln) > 0)
    if scores[best] >= MIN_SCORE and scores[best] >= scores[0] + MIN_GAIN and letters >= MIN_LETTERS:
        return Orientation(best, scores, checked=True)
    return Orientation(0, scores, checked=True)


def engines_reader(recognizer: Any, language: str) -> Reader:
    """The reader `find_rotation` uses with the pipeline's recogniser.

    With the routing recogniser and `auto`, each line gets the more plausible of PP-OCR's
    reading and (when that is not good enough) Tesseract kor's (`_turn_sensitive`), if it is Hangul syllables:
    the routing rule itself prefers a confident PP-OCR reading of a Latin prefix ('#ENFP')
    over Tesseract's Korean reading of the whole line, which says nothing about orientation.
    Any other recogniser or language reads with `recognizer.recognize`.
    """
    ppocr, korean = getattr(recognizer, "ppocr", None), getattr(recognizer, "korean", None)
    if language != "auto" or ppocr is None or korean is None:
        return lambda image, lines: recognizer.recognize(image, lines, language)
    from imtrans.recognize.route import mostly_hangul_syllables

    korean = _turn_sensitive(korean)

    def read(image: np.ndarray, lines: list[Line]) -> list[Line]:
        first = [
            replace(ln, text=text, confidence=conf, recognizer="ppocr")
            for ln, (text, conf) in zip(lines, ppocr.read_lines(image, lines, "auto"), strict=True)
        ]
        retry = [i for i, ln in enumerate(first) if plausibility(ln) < _GOOD_ENOUGH]
        readings = korean.read_lines(image, [lines[i] for i in retry], "ko")
        for i, (text, conf) in zip(retry, readings, strict=True):
            ko = replace(lines[i], text=text, confidence=conf, recognizer=korean.name)
            if mostly_hangul_syllables(text) and plausibility(ko) > plausibility(first[i]):
                first[i] = ko
        return first

    return read


def _turn_sensitive(korean: Any) -> Any:
    """The Korean reader the check judges with: Tesseract kor, whatever reads the page.

    A reader trained on upright lines only (korean-ctc) reads Hangul turned upside down as
    plausible syllables at 0.6-0.8 confidence, so its readings cannot tell a turned line from
    an upright one; Tesseract's confidence falls on turned text.
    """
    if korean.name == "tesseract":
        return korean
    return _tesseract()


@functools.cache
def _tesseract() -> Any:
    from imtrans.recognize.tesseract import TesseractRecognizer

    return TesseractRecognizer()


def _letters(line: Line) -> int:
    return sum(script_counts(line.text).values())


def _length(line: Line) -> float:
    return max(line.quad.width, line.quad.height)


def _check_angle(angle: int) -> None:
    if angle not in ANGLES:
        raise ValueError(f"angle must be one of {ANGLES}, got {angle}")
