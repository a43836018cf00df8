"""What a text detector does: find text lines in an RGB image."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from imtrans.types import Line


class Detector(Protocol):
    """Finds text lines. Returned lines have a quad, a direction and det_score; no text yet."""

    name: str

    def detect(self, image: np.ndarray) -> list[Line]:
        """Detect lines in an RGB uint8 image of shape (H, W, 3)."""
        ...
