"""What a text recogniser does: read the text of detected lines."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from imtrans.types import Line


class Recognizer(Protocol):
    """Reads lines. Returns one line per input line, in order, with text, language and confidence set."""

    name: str

    def recognize(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        """Read each line of `image` (RGB uint8); `language` is ko, en, ja, zh or auto."""
        ...
