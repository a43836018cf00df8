"""Map an erase backend name to its eraser."""

from __future__ import annotations

from imtrans.erase.base import Eraser
from imtrans.settings import EraseSettings


def make_eraser(settings: EraseSettings | None = None) -> Eraser:
    """Build the eraser that ``settings.backend`` names.

    Args:
        settings: Erase settings; defaults to ``EraseSettings()`` (Telea).

    Returns:
        An object following the `Eraser` protocol.

    Raises:
        ValueError: for a backend no eraser implements.
        ModelMissingError: ``gan`` without its model file.
    """
    s = settings or EraseSettings()
    if s.backend in ("telea", "ns"):
        from imtrans.erase.telea import TeleaEraser

        return TeleaEraser(s)
    if s.backend == "gan":
        from imtrans.erase.gan import GanEraser

        return GanEraser(s)
    raise ValueError(f"unknown erase backend {s.backend!r}")
