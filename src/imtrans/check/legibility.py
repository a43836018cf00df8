"""Legibility: the drawn translation read back by the recogniser of the target script.

`read_back` finds and reads the text inside a box of the drawn image (the detector and the
recogniser of the page, in the target language); `legibility_finding` compares what came back
with the text meant (`legibility_cer`: CER on letters and digits, after
`evaluate.metrics.normalise_text`). `imtrans eval` measures
legibility with the same two functions.
"""

from __future__ import annotations

import math
import unicodedata

import cv2
import numpy as np

from imtrans.check.contrast import MIN_CONTRAST, contrast_ratio
from imtrans.check.findings import Finding
from imtrans.detect.base import Detector
from imtrans.detect.curves import bounding_quad, curve_quads
from imtrans.evaluate.metrics import cer
from imtrans.languages import NO_SPACE_LANGUAGES
from imtrans.recognize.base import Recognizer
from imtrans.render.draw import DrawnInk
from imtrans.types import CheckCode, Line, Quad

#: A drawn block read back with a higher CER than this is illegible (eval's `illegible_render`).
ILLEGIBLE_CER = 0.5
#: Room read around the box, as a share of its longer side.
READ_PAD = 0.15
#: Drawn text smaller than this (px) is read enlarged to it, at most `MAX_ENLARGE` times.
READ_PX, MAX_ENLARGE = 24.0, 3.0
#: Drawn text larger than this (px) is read shrunk to it: the detector's time grows with the
#: crop (a stall's 600 px title took 0.3 s to find, each time a repair drew it again).
READ_MAX_PX = 96.0


def read_back(
    detector: Detector,
    recognizer: Recognizer,
    image: np.ndarray,
    box: tuple[float, float, float, float],
    language: str,
    pad: float = READ_PAD,
    turns: int = 0,
    min_pad: float = 0.0,
    centred_inside: bool = False,
    alone: tuple[DrawnInk, np.ndarray] | None = None,
) -> str:
    """The text found and read inside ``box`` (x0, y0, x1, y1) of ``image``, grown by ``pad``
    of its longer side (at least ``min_pad`` px); lines joined in the order the detector gives
    them ("" for a box under 8 px).

    Args:
        turns: Quarter turns clockwise that set the text upright (text drawn at 90 degrees
            reads upright after one): the crop is turned before it is read.
        centred_inside: Keep only the lines whose centre lies inside ``box`` itself: the
            room around it is for the detector, and text drawn beside it there (a
            neighbour's) is not what was drawn in it.
        alone: The drawing's ink and the image under it (the erased page): the drawing is read
            alone, its own ink (grown by a pixel) over the erased page, so that its neighbours'
            drawings are not read with it (the detector joins a menu's packed lines into one);
            where their ink lies on its own, it is read as it is. Text drawn smaller than
            `READ_PX` is then read enlarged (at most `MAX_ENLARGE` times): the recogniser
            misreads 10-16 px text that a person reads ("no ..." as "no m"). Where the
            detector's lines read as nothing, the ink's own rows are read (`ink_lines`), if
            the ink stands out from the page under it (`MIN_CONTRAST`).
    """
    x0, y0, x1, y1 = box
    grow = max(pad * max(x1 - x0, y1 - y0, 10), min_pad)
    h, w = image.shape[:2]
    xa, ya = max(0, int(x0 - grow)), max(0, int(y0 - grow))
    xb, yb = min(w, math.ceil(x1 + grow)), min(h, math.ceil(y1 + grow))
    if yb - ya < 8 or xb - xa < 8:
        return ""
    inner = np.zeros((yb - ya, xb - xa), bool)
    inner[
        max(0, int(y0) - ya) : max(0, math.ceil(y1) - ya),
        max(0, int(x0) - xa) : max(0, math.ceil(x1) - xa),
    ] = True
    crop = image[ya:yb, xa:xb]
    own, visible = np.zeros(inner.shape, bool), False
    if alone is not None:
        ink, under = alone
        raw = ink.within(xa, ya, xb, yb)
        # The recogniser reads text a person cannot see (250 on 255): ink read where it is must
        # stand out from the page under it.
        ratios = contrast_ratio(crop[raw], under[ya:yb, xa:xb][raw])
        visible = ratios.size > 0 and float(np.percentile(ratios, 75)) >= MIN_CONTRAST
        crop, own = _drawing_alone(crop, raw, under[ya:yb, xa:xb])
    text_px = alone[0].font_px if alone is not None else 0
    scale = 1.0
    if 0 < text_px < READ_PX or text_px > READ_MAX_PX:
        scale = min(MAX_ENLARGE, READ_PX / text_px) if text_px < READ_PX else READ_MAX_PX / text_px
        size = (max(8, round(crop.shape[1] * scale)), max(8, round(crop.shape[0] * scale)))
        interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        crop = cv2.resize(crop, size, interpolation=interpolation)
        inner = cv2.resize(inner.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        own = cv2.resize(own.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    # Turned as the text was drawn (the box turns with it).
    crop = np.ascontiguousarray(np.rot90(crop, -(turns % 4)))
    inner = np.rot90(inner, -(turns % 4))
    lines = detector.detect(crop)
    if centred_inside:
        lines = [ln for ln in lines if _centre_in(ln.quad.centre, inner)]
    lines = [ln for ln in recognizer.recognize(crop, lines, language) if ln.text]
    if not lines and visible:
        # The detector misses or mis-cuts short isolated text ("I...", "OK") that a person reads
        # at once; where the drawing is, is known: its ink's rows are read as lines.
        lines = recognizer.recognize(crop, ink_lines(np.rot90(own, -(turns % 4)), text_px * scale), language)
    joiner = "" if language in NO_SPACE_LANGUAGES else " "
    return joiner.join(ln.text for ln in lines if ln.text)


def read_along(
    recognizer: Recognizer,
    image: np.ndarray,
    curve: np.ndarray,
    language: str,
    alone: tuple[DrawnInk, np.ndarray] | None = None,
) -> str:
    """The text drawn along an arc (`BlockDrawing.curve`: its quads in ``image``'s pixels), read
    on the arc straightened, as the detector's curved lines are read (no detection: where it was
    drawn is known, and a small arc's map may not bend enough to come out curved).

    Args:
        alone: As `read_back`'s: the drawing's ink and the page under it; the drawing is read
            alone over that page.
    """
    h, w = image.shape[:2]
    pts = curve.reshape(-1, 2)
    x0, y0 = max(0, math.floor(pts[:, 0].min()) - 2), max(0, math.floor(pts[:, 1].min()) - 2)
    x1, y1 = min(w, math.ceil(pts[:, 0].max()) + 3), min(h, math.ceil(pts[:, 1].max()) + 3)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return ""
    crop = image[y0:y1, x0:x1]
    if alone is not None:
        ink, under = alone
        crop, _ = _drawing_alone(crop, ink.within(x0, y0, x1, y1), under[y0:y1, x0:x1])
    segments = curve - np.array([x0, y0], np.float64)
    line = Line(
        "arc",
        Quad.from_list(bounding_quad(segments)),
        curve=curve_quads(segments),
    )
    read = recognizer.recognize(np.ascontiguousarray(crop), [line], language)
    return read[0].text if read else ""


def _drawing_alone(crop: np.ndarray, ink: np.ndarray, under: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The drawing alone: its ``ink`` (bool, grown by a pixel) as ``crop`` has it, elsewhere the
    page ``under`` it; and that grown ink."""
    own = cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return np.where(own[..., None], crop, under), own


def ink_lines(own: np.ndarray, text_px: float) -> list[Line]:
    """Horizontal lines of drawn ink (bool): bands of rows holding ink, split where more than a
    quarter of the text size is empty, each its ink's box grown by a quarter of its height. Bands
    taller than wide (a column) are left out: they are not lines of horizontal text."""
    rows = np.flatnonzero(own.any(axis=1))
    if rows.size == 0:
        return []
    gap = max(2, round(0.25 * text_px))
    cuts = np.flatnonzero(np.diff(rows) > gap)
    lines = []
    for i, band in enumerate(np.split(rows, cuts + 1)):
        cols = np.flatnonzero(own[band[0] : band[-1] + 1].any(axis=0))
        y0, y1, x0, x1 = float(band[0]), float(band[-1] + 1), float(cols[0]), float(cols[-1] + 1)
        if x1 - x0 < y1 - y0:
            continue
        m = 0.25 * (y1 - y0)
        quad = Quad.from_rect(
            max(0, x0 - m), max(0, y0 - m), min(own.shape[1], x1 + m), min(own.shape[0], y1 + m)
        )
        lines.append(Line(f"ink{i}", quad))
    return lines


def read_language(meant: str, target: str) -> str:
    """The language to read a drawing back in: the target's; with target "auto" (each block
    drawn in its own text, as eval's reference translator does without references) the one the
    drawn text's script implies, a block at a time (a sign's block mixes Korean, English and
    Chinese lines)."""
    if target != "auto":
        return target
    from imtrans.recognize.route import language_of

    return language_of(meant) or target


def _centre_in(centre: tuple[float, float], inside: np.ndarray) -> bool:
    x, y = int(centre[0]), int(centre[1])
    return 0 <= y < inside.shape[0] and 0 <= x < inside.shape[1] and bool(inside[y, x])


def legibility_cer(read: str, meant: str) -> float:
    """CER of the text read back against the text meant, on their letters and digits.

    Punctuation is left out: the recogniser drops the dots of "I..." and "...?" drawn at a
    comic's small sizes and reads brackets that are not there, which says nothing about
    whether a reader can read the words (all 7 drawings of OpenMantra dev above the illegible
    line on 2026-12-05 were such). A text with neither letters nor digits ("....") reads as 0.
    """
    words = _letters_and_digits(meant)
    if not words.strip():
        return 0.0
    return cer(_letters_and_digits(read), words)


def _letters_and_digits(text: str) -> str:
    """The text with everything but letters, digits and spaces dropped (marks of a letter kept)."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNM" or ch.isspace())


def legibility_finding(read: str, meant: str) -> Finding:
    """Fail when the text read back differs from the text meant by a CER (`legibility_cer`)
    above `ILLEGIBLE_CER`."""
    c = legibility_cer(read, meant)
    return Finding(CheckCode.ILLEGIBLE, c <= ILLEGIBLE_CER, 1.0 - min(1.0, c), {"legibility_cer": c})
