"""Residue: source-script text still there after erasing.

Two steps, cheap first. `ink_left` compares the original and the erased image around a block's
lines: the share of the old lettering's pixels whose colour is still there (letters the mask
missed, or ghosts the fill kept). Only where it is high enough to matter is the erased region
read again with the page's recogniser (`read_residue`), and `residue_finding` fails the block
when source-script characters come back (counted as `evaluate.metrics.source_script_chars`
counts them, the figure `imtrans eval` reports as residue).
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from imtrans.check.findings import Finding
from imtrans.erase.mask import dilated
from imtrans.evaluate.metrics import source_script_chars
from imtrans.recognize.base import Recognizer
from imtrans.types import CheckCode, Line, Quad

#: A pixel belongs to the old lettering when the fill changed it by more than this (0-255, any channel).
LETTER_DIFFERENCE = 40
#: Lettering and background colours closer than this (Euclidean, 0-255) cannot be told apart.
MIN_SEPARATION = 40.0
#: `ink_left` above this share makes a block suspicious: its region is read again.
SUSPICIOUS_INK = 0.08
#: Fail when the characters read again reach this share of the line's own (at least one).
RESIDUE_SHARE = 0.3
#: The region searched around a line, in line heights (letters the detector cut off lie there).
REGION_GROWTH = 0.3


def ink_left(
    original: np.ndarray, erased: np.ndarray, mask: np.ndarray, near: np.ndarray, far: np.ndarray
) -> float:
    """The share of the old lettering's pixels whose colour is still found where it was.

    Lettering-coloured pixels of the erased image are counted in ``near`` (the lines' boxes and
    the mask's surroundings: letter parts the mask missed, ghosts the fill kept inside it); as
    many as ``near`` would hold at the density of such colours in ``far`` (the band around the
    lines) are taken off: a photo's texture may share the lettering's colour.

    Args:
        original: RGB uint8 window of the input image.
        erased: The same window after erasing.
        mask: bool, the text mask there.
        near: bool, where lettering left behind would be.
        far: bool, the band around it (its texture).

    Returns:
        Excess lettering-coloured pixels / lettering pixels erased (0 when the lettering cannot
        be told from its background, or nothing was erased).
    """
    letters = mask & near & (cv2.absdiff(original, erased).max(axis=2) > LETTER_DIFFERENCE)
    n = int(letters.sum())
    if n < 8:
        return 0.0
    letter = np.median(original[letters], axis=0)
    background = np.median(erased[letters], axis=0)  # what the fill put where the letters were
    separation = float(np.linalg.norm(letter - background))
    if separation < MIN_SEPARATION:
        return 0.0
    pixels = erased.astype(np.float32)
    to_letter = np.square(pixels - letter.astype(np.float32)).sum(axis=2)
    to_back = np.square(pixels - background.astype(np.float32)).sum(axis=2)
    like = (to_letter < (0.35 * separation) ** 2) & (to_letter < to_back)
    density = float(like[far].mean()) if far.sum() >= 16 else 0.0
    excess = float(like[near].sum()) - density * float(near.sum())
    return max(0.0, excess) / n


def residue_regions(
    mask: np.ndarray, lines: np.ndarray, region: np.ndarray, reach: int
) -> tuple[np.ndarray, np.ndarray]:
    """``near`` and ``far`` of `ink_left`: the lines' boxes (bool) and the mask grown by ``reach``
    px, inside ``region`` (the lines grown by `REGION_GROWTH`); and the rest of ``region``."""
    near = (dilated(mask, reach) | lines) & region
    return near, region & ~near


def read_residue(recognizer: Recognizer, erased: np.ndarray, lines: list[Line], language: str) -> int:
    """Source-script characters the recogniser reads in the erased image on ``lines``' boxes
    (each grown by `REGION_GROWTH` line heights), in ``language``'s script."""
    grown = [replace(ln, quad=grow_quad(ln.quad, REGION_GROWTH)) for ln in lines]
    read = recognizer.recognize(erased, grown, language)
    return sum(source_script_chars(ln.text, language) for ln in read)


def residue_finding(chars_read: int | None, source_chars: int, ink: float) -> Finding:
    """Fail when the characters read again reach `RESIDUE_SHARE` of the block's own (at least
    one). ``chars_read`` None: not read again (its ink left was below `SUSPICIOUS_INK`)."""
    values = {"ink_left": ink}
    if chars_read is None:
        return Finding(CheckCode.RESIDUE, True, 1.0 - min(0.5, ink), values)
    values["residue_chars"] = float(chars_read)
    limit = max(1, math.ceil(RESIDUE_SHARE * source_chars))
    share = chars_read / max(1, source_chars)
    return Finding(CheckCode.RESIDUE, chars_read < limit, 1.0 - min(1.0, share), values)


def grow_quad(quad: Quad, heights: float) -> Quad:
    """The quad grown on every side by ``heights`` times its height, along its own axes."""
    pts = np.asarray(quad.points, np.float64)
    ux = (pts[1] - pts[0]) + (pts[2] - pts[3])
    uy = (pts[3] - pts[0]) + (pts[2] - pts[1])
    ux = ux / (np.linalg.norm(ux) or 1.0)
    uy = uy / (np.linalg.norm(uy) or 1.0)
    pad = heights * quad.height
    signs = ((-1, -1), (1, -1), (1, 1), (-1, 1))
    grown = [p + sx * pad * ux + sy * pad * uy for p, (sx, sy) in zip(pts, signs, strict=True)]
    return Quad.from_list(grown)
