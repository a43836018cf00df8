"""Fit: the translation inside its region at a legible size near its source's, clear of other text.

`fit_finding` reads the layout the renderer chose (did the text fit its bubble, caption or
box at `render.min_font_px` or more?); `collision_finding` compares pixels: the block's ink
against the ink of the other drawn blocks and the boxes of text left as it was (already in
the target language, numbers, glossary misses).
"""

from __future__ import annotations

import numpy as np

from imtrans.check.findings import Finding
from imtrans.types import CheckCode

#: Fail when more than this share of a block's ink lies on other text.
COLLISION_SHARE = 0.02
#: A pixel is ink where the drawing's alpha is above this.
INK_ALPHA = 0.5
#: Text that overflowed its region still fits when less than this share of its ink lies on
#: anything but the plain background under it (a bubble's outline, art, other lettering).
SPILL_SHARE = 0.03
#: A background pixel this far (0-255, any channel) from the background's median is not plain.
PLAIN_DIFFERENCE = 48
#: Text drawn below this share of its source lettering's size no longer matches it (a shop's
#: title redrawn as a caption); lettering under `SHRUNK_FROM_PX` is left to the size floor.
SHRUNK_SHARE = 0.45
SHRUNK_FROM_PX = 40.0


def spill(under: np.ndarray) -> float:
    """The share of ink pixels over anything but the plain background: ``under`` (N, 3) is the
    erased image under the ink; pixels far from its median colour are art, outlines, lettering."""
    if len(under) == 0:
        return 0.0
    median = np.median(under, axis=0)
    far = np.abs(under.astype(np.int16) - median.astype(np.int16)).max(axis=1) > PLAIN_DIFFERENCE
    return float(far.mean())


def fit_finding(overflow: bool, font_px: int, min_px: int, spilled: float = 1.0) -> Finding:
    """Fail when the text is drawn below the smallest legible size, or spilled out of its region
    onto something else than its plain background (``spilled``: `spill` of its ink; an overflow
    that stays on the bubble's or plate's own colour is not seen as one)."""
    ok = font_px >= min_px and not (overflow and spilled >= SPILL_SHARE)
    score = 1.0 if ok else 0.25
    values = {"font_px": float(font_px), "overflow": float(overflow)}
    if overflow:
        values["spill"] = spilled
    return Finding(CheckCode.OVERFLOW, ok, score, values)


def size_finding(font_px: int, source_px: float) -> Finding:
    """Fail when the text is drawn below `SHRUNK_SHARE` of its source lettering's size
    (``source_px``, at least `SHRUNK_FROM_PX`): the size cap or a long translation left a title
    as small print. Reported for a person to look at; no repair makes room for it."""
    ok = not (source_px >= SHRUNK_FROM_PX and font_px < SHRUNK_SHARE * source_px)
    return Finding(CheckCode.SHRUNK, ok, 1.0 if ok else 0.5, {"source_px": float(source_px)})


def collision_finding(ink: np.ndarray, others: np.ndarray, pair_share: float = 0.0) -> Finding:
    """Fail when more than `COLLISION_SHARE` of the block's ink (bool) lies on ``others`` (bool,
    the same window: other blocks' ink and text left as it was), or of the smaller of it and
    another drawing it touches (``pair_share``: a pair is one collision for both)."""
    n = int(ink.sum())
    share = max(float((ink & others).sum()) / n if n else 0.0, pair_share)
    return Finding(
        CheckCode.COLLISION, share <= COLLISION_SHARE, 1.0 - min(1.0, 5 * share), {"collision": share}
    )
