"""Damage: pixels the page lost that it should have kept.

An eraser may only write masked pixels, and the renderer only its own ink: every other pixel of
the block's window must come back as it was. `damage_finding` counts those that did not.
"""

from __future__ import annotations

import numpy as np

from imtrans.check.findings import Finding
from imtrans.types import CheckCode

#: A pixel changed by more than this (0-255, any channel) is changed (below: rounding, blending).
CHANGED = 12
#: Fail when more than this share of the window's kept pixels changed.
DAMAGE_SHARE = 0.01


def damage_finding(original: np.ndarray, final: np.ndarray, allowed: np.ndarray) -> Finding:
    """Fail when more than `DAMAGE_SHARE` of the pixels outside ``allowed`` changed.

    Args:
        original: RGB uint8 window of the input image.
        final: The same window of the output.
        allowed: bool, where changes are expected: the text mask, the drawn ink, and the
            other blocks' masks and ink.
    """
    kept = ~allowed
    n = int(kept.sum())
    changed = np.abs(original.astype(np.int16) - final.astype(np.int16)).max(axis=2) > CHANGED
    share = float((changed & kept).sum()) / n if n else 0.0
    return Finding(CheckCode.DAMAGE, share <= DAMAGE_SHARE, 1.0 - min(1.0, 10 * share), {"damage": share})
