"""What a translator does: N segments in, N strings out, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from imtrans.errors import TranslatorError


class Translator(Protocol):
    """A translation backend. `name` and `model` key the cache."""

    name: str
    model: str

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate each text from `source` to `target` (ISO 639-1 codes)."""
        ...


def check_aligned(texts: Sequence[str], out: Sequence[str], backend: str) -> list[str]:
    """Every backend's output passes through here: N segments in must give N strings out."""
    if len(out) != len(texts):
        raise TranslatorError(f"{backend} returned {len(out)} translations for {len(texts)} segments")
    return list(out)
