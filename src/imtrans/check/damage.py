"""Damage: pixels the page lost that it should have kept.

An eraser may only write masked pixels, and the renderer only its own ink: every other pixel of
the block's window must come back as it was. `damage_finding` counts those that did not.
`whole_box_finding` reports a block with a line erased as its whole box on busy ground: its mask
is the box, so `damage_finding` cannot see the fill that replaced whatever else the box held.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from imtrans.check.findings import Finding
from imtrans.erase.background import ring_plane
from imtrans.erase.mask import dilated
from imtrans.erase.telea import FLAT_TOLERANCE
from imtrans.types import CheckCode, Quad

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
    could not tell their lettering from the background) on anything but a plain plate
    (`on_a_plain_plate` counts those apart).

    The fill then replaces everything in the box, and on anything but a flat plate it smears:
    of the 17 such lines of both dev sets looked at (2026-12-06), 16 were visibly smeared (grey
    or blurred patches, a manga panel's art, a barcode's bars); the one clean was a name on a
    flat wall, and of the 16 such lines in a later run it is the only one on a plain plate. No
    repair is tried: no measure here tells a smear from a clean fill, so another eraser's
    attempt could not be ranked.
    """
    ok = lines == 0
    return Finding(CheckCode.WHOLE_BOX, ok, 1.0 if ok else 0.5, {"whole_box_lines": float(lines)})


def on_a_plain_plate(
    original: np.ndarray, mask: np.ndarray, quad: Quad, tolerance: float = FLAT_TOLERANCE
) -> bool:
    """Whether a line erased as its whole box lies on a plain plate: the unmasked ring around
    its box's mask is smooth (`erase.background.ring_plane`), so the eraser filled the box with
    the plate's own colours and nothing else was in it to lose.

    Args:
        original: The input image, RGB uint8.
        mask: The erase mask of the page (non-zero where erased).
        quad: The line's quad.
        tolerance: The flatness the eraser's plane fill asks of a ring (std, 0-255).
    """
    x0, y0, x1, y1 = (int(v) for v in quad.bbox)
    reach = max(8, round(0.3 * (y1 - y0)))
    h, w = mask.shape[:2]
    X0, Y0, X1, Y1 = max(0, x0 - reach), max(0, y0 - reach), min(w, x1 + reach), min(h, y1 + reach)
    if X1 <= X0 or Y1 <= Y0:
        return False
    masked = mask[Y0:Y1, X0:X1] > 0
    box = quads_mask([quad], (X0, Y0, X1, Y1)).astype(np.uint8)
    region = cv2.dilate(box, np.ones((9, 9), np.uint8)).astype(bool) & masked
    ring = dilated(region, 3) & ~masked  # the ring the eraser's plane fill reads (telea's 3 px)
    return ring_plane(original[Y0:Y1, X0:X1], ring, tolerance) is not None


def quads_mask(quads: Sequence[Quad], win: tuple[int, int, int, int]) -> np.ndarray:
    """The quads filled (corners rounded to pixels), as a bool mask of the window (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = win
    out = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for q in quads:
        pts = np.round(np.asarray(q.points, np.float64) - (x0, y0)).astype(np.int32)
        cv2.fillPoly(out, [pts], 1)
    return out > 0
