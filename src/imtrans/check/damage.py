"""Damage: pixels the page lost that it should have kept.

An eraser may only write masked pixels, and the renderer only its own ink: every other pixel of
the block's window must come back as it was. `damage_finding` counts those that did not.
`whole_box_finding` reports a block with a line erased as its whole box: its mask is the box, so
`damage_finding` cannot see the fill that replaced whatever else the box held.
"""

from __future__ import annotations

import cv2
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
    changed = cv2.absdiff(original, final).max(axis=2) > CHANGED
    share = float((changed & kept).sum()) / n if n else 0.0
    return Finding(CheckCode.DAMAGE, share <= DAMAGE_SHARE, 1.0 - min(1.0, 10 * share), {"damage": share})


def whole_box_finding(lines: int) -> Finding:
    """Fail when ``lines`` of the block were erased as their whole boxes (`erase.build_text_mask`
    could not tell their lettering from the background).

    The fill then replaces everything in the box, and on anything but a flat plate it smears:
    of the 17 such lines of both dev sets (2026-12-06), 16 were visibly smeared when looked at
    (grey or blurred patches, a manga panel's art, a barcode's bars); the one clean was a name on
    a flat wall. No repair is tried: no measure here tells a smear from a clean fill, so another
    eraser's attempt could not be ranked.
    """
    ok = lines == 0
    return Finding(CheckCode.WHOLE_BOX, ok, 1.0 if ok else 0.5, {"whole_box_lines": float(lines)})
