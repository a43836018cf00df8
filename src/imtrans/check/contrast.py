"""Contrast: the drawn text against its new background, and against the old lettering's contrast.

WCAG 2 contrast ratios (1..21). The drawn text's contrast is the median, over the pixels its
ink covers, of the ratio between the text colour and the erased background under each pixel
(an outline at least `MIN_OUTLINE_PX` wide counts: then the outline against the background,
or the fill against the outline, whichever is larger). The old lettering's contrast is the
same median between the original pixels of its letters and the erased background there.
"""

from __future__ import annotations

import numpy as np

from imtrans.check.findings import Finding
from imtrans.types import RGB, CheckCode

#: Below this ratio text is hard to read for people and for OCR (mid-grey on grey).
MIN_CONTRAST = 1.8
#: Above this ratio the text passes whatever the old lettering had (WCAG's 3 for large text).
GOOD_CONTRAST = 3.0
#: Between the two, the text passes when it keeps at least this share of the old lettering's contrast.
KEEP_SHARE = 0.5
#: An outline at least this wide sets the fill off from any background.
MIN_OUTLINE_PX = 2


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB colours (last axis = RGB, 0..255)."""
    c = np.asarray(rgb, np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """WCAG contrast ratio (1..21) between colours a and b (broadcast over leading axes)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)


def text_contrast(
    text_color: RGB, under: np.ndarray, outline_color: RGB | None = None, outline_px: int = 0
) -> float:
    """The drawn text's contrast with the background under its ink.

    Args:
        text_color: The fill colour.
        under: (N, 3) background pixels under the ink (the erased image there).
        outline_color: The outline's colour, if it has one.
        outline_px: The outline's width at the drawn size.

    Returns:
        The median WCAG ratio (1.0 when there are no pixels).
    """
    if len(under) == 0:
        return 1.0
    ratio = float(np.median(contrast_ratio(under, np.float64(text_color))))
    if outline_color is not None and outline_px >= MIN_OUTLINE_PX:
        outer = float(np.median(contrast_ratio(under, np.float64(outline_color))))
        ratio = max(
            ratio, min(outer, 21.0), float(contrast_ratio(np.float64(text_color), np.float64(outline_color)))
        )
    return ratio


def lettering_contrast(letters: np.ndarray, background: np.ndarray) -> float:
    """The old lettering's contrast: median ratio of its pixels (N, 3) to the background (N, 3)
    erased under them; NaN when there are none."""
    if len(letters) == 0:
        return float("nan")
    return float(np.median(contrast_ratio(letters, background)))


def contrast_finding(contrast: float, source_contrast: float = float("nan")) -> Finding:
    """Pass when the text stands out: at least `GOOD_CONTRAST`, or at least `MIN_CONTRAST`
    and `KEEP_SHARE` of the old lettering's contrast (a design of low contrast may stay low)."""
    need = GOOD_CONTRAST
    if not np.isnan(source_contrast):
        need = max(MIN_CONTRAST, min(GOOD_CONTRAST, KEEP_SHARE * source_contrast))
    values = {"contrast": contrast}
    if not np.isnan(source_contrast):
        values["source_contrast"] = source_contrast
    score = min(1.0, (contrast - 1.0) / max(1e-6, 2 * (need - 1.0)))
    return Finding(CheckCode.LOW_CONTRAST, contrast >= need, max(0.0, score), values)
