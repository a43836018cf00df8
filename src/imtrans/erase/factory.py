"""Map an erase backend name to its eraser."""

from __future__ import annotations

from imtrans.erase.base import Eraser
from imtrans.registry import ERASERS
from imtrans.settings import EraseSettings, Settings


def make_eraser(settings: EraseSettings | None = None) -> Eraser:
    """Build the eraser that ``settings.backend`` names (`registry.ERASERS`).

    Args:
        settings: Erase settings (the options model of their backend); defaults to Telea's.

    Raises:
        ConfigError: for a backend no eraser implements.
        ModelMissingError: ``gan`` without its model file.
    """
    eraser: Eraser = ERASERS.build(settings or Settings().erase)
    return eraser
