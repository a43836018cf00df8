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


class LineReader(Recognizer, Protocol):
    """A recogniser the routing recogniser can ask for readings alone (`recognize.korean`)."""

    def read_lines(self, image: np.ndarray, lines: list[Line], language: str) -> list[tuple[str, float]]:
        """(text, confidence in 0-1) per line, in order."""
        ...
