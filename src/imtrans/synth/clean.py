"""Checks that drop samples whose text is illegible by construction.

Each check returns a reason (a short code counted in the data card) or None:

- ``missing_glyph``: a character the block's font has no glyph for (fontTools cmap);
  it would be drawn as a box (.notdef) or not at all.
- ``clipped``: a line's quad leaves the image (the photo cut the sign).
- ``low_contrast``: the text's outer colour (the outline's, else the fill's) differs
  too little in luminance from the background under it, and no outline sets the fill off.
- ``no_room``: not one block could be placed without overlapping another.
"""

from __future__ import annotations

import numpy as np
from fontTools.ttLib import TTFont

from imtrans.check.contrast import contrast_ratio
from imtrans.render.fonts import FontSpec
from imtrans.synth.draw import PlacedBlock
from imtrans.synth.layouts import BlockPlan

#: Smallest WCAG contrast ratio between text and the background under it. WCAG asks 4.5
#: for body text on screens; photographed signs are often lower and still legible, while
#: below ~1.5 (e.g. mid-grey on grey) people and OCR both fail.
MIN_CONTRAST = 1.5
#: An outline at least this wide, in a colour this far from the fill, makes text legible on any background.
MIN_OUTLINE_PX = 2


class GlyphChecker:
    """Which characters each font can draw, read once per font from its cmap."""

    def __init__(self) -> None:
        self._cmaps: dict[tuple[str, int], frozenset[int]] = {}

    def covers(self, font: FontSpec, text: str) -> bool:
        key = (str(font.path), font.index)
        if key not in self._cmaps:
            with TTFont(str(font.path), fontNumber=font.index, lazy=True) as tt:
                self._cmaps[key] = frozenset(tt.getBestCmap() or {})
        cmap = self._cmaps[key]
        return all(ord(ch) in cmap for ch in text if not ch.isspace())

    def missing(self, plan: BlockPlan) -> str | None:
        return None if self.covers(plan.style.font, "".join(plan.lines)) else "missing_glyph"


def block_contrast(block: PlacedBlock, background: np.ndarray) -> float:
    """Median contrast between the text's outer colour and the clean background under its ink."""
    st = block.plan.style
    x0, y0, x1, y1 = block.region
    ink = block.warped["cover"] > 0.5
    if not ink.any():
        return 1.0
    under = background[y0:y1, x0:x1][ink]
    outer = np.float64(st.outline if st.outline is not None and st.outline_width else st.fill)
    ratio = float(np.median(contrast_ratio(under, outer)))
    if st.outline is not None and st.outline_width >= MIN_OUTLINE_PX:
        ratio = max(ratio, float(contrast_ratio(np.float64(st.fill), np.float64(st.outline))))
    return ratio


def low_contrast(block: PlacedBlock, background: np.ndarray) -> str | None:
    return "low_contrast" if block_contrast(block, background) < MIN_CONTRAST else None


def clipped(block: PlacedBlock, width: int, height: int) -> str | None:
    for q in block.line_quads:
        x0, y0, x1, y1 = q.bbox
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
            return "clipped"
    return None
