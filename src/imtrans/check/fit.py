"""Fit: the translation inside its region at a legible size, and clear of other text.

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


def fit_finding(overflow: bool, font_px: int, min_px: int) -> Finding:
    """Fail when the text spilled out of its region, or is drawn below the smallest legible size."""
    ok = not overflow and font_px >= min_px
    score = 1.0 if ok else 0.25
    return Finding(CheckCode.OVERFLOW, ok, score, {"font_px": float(font_px), "overflow": float(overflow)})


def collision_finding(ink: np.ndarray, others: np.ndarray) -> Finding:
    """Fail when more than `COLLISION_SHARE` of the block's ink (bool) lies on ``others`` (bool,
    the same window: other blocks' ink and text left as it was)."""
    n = int(ink.sum())
    share = float((ink & others).sum()) / n if n else 0.0
    return Finding(
        CheckCode.COLLISION, share <= COLLISION_SHARE, 1.0 - min(1.0, 5 * share), {"collision": share}
    )
