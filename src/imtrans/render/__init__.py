"""The render stage: read the source lettering's style, then draw translations in it."""

from imtrans.render.colours import estimate_style
from imtrans.render.draw import draw_patches, paste_patches, render_page

__all__ = ["draw_patches", "estimate_style", "paste_patches", "render_page"]
