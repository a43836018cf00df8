"""The render stage: read the source lettering's style, then draw translations in it."""

from imtrans.render.colours import estimate_style, estimate_styles
from imtrans.render.draw import render_page

__all__ = ["estimate_style", "estimate_styles", "render_page"]
