"""What an eraser does: fill the masked pixels of an image with plausible background."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Eraser(Protocol):
    """Removes text. Pixels where mask == 0 must come back bit-for-bit unchanged."""

    name: str

    def erase(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """`image` RGB uint8 (H, W, 3); `mask` uint8 (H, W), 255 where text pixels are."""
        ...
