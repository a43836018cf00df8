"""Erase stage: find the text pixels of each line, then fill them with background."""

from imtrans.erase.base import Eraser
from imtrans.erase.factory import make_eraser
from imtrans.erase.mask import TextMask, build_text_mask, text_mask

__all__ = ["Eraser", "TextMask", "build_text_mask", "make_eraser", "text_mask"]
