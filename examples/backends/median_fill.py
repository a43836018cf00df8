"""An example eraser: each piece of the mask filled with the median colour just around it.

Right for text on flat panels (labels, buttons, speech bubbles); on photos it leaves flat
patches where the default (Telea inpainting) continues the texture.
"""

from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from imtrans.erase.base import check_erase_input, mask_clusters
from imtrans.settings import EraseSettings


class MedianFillSettings(EraseSettings):
    """Options of the example eraser (`--set erase.KEY=VALUE`)."""

    backend: str = "median-fill"
    ring: int = Field(
        3, ge=1, le=20, description="Width (px) of the band around each piece whose median fills it."
    )


class MedianFillEraser:
    """Fills every cluster of masked pixels with the median colour of a ring around it."""

    name = "median-fill"
    Options = MedianFillSettings
    packages = ("opencv-python-headless",)

    def __init__(self, settings: MedianFillSettings) -> None:
        self.ring = settings.ring

    @classmethod
    def from_settings(cls, settings: MedianFillSettings) -> MedianFillEraser:
        return cls(settings)

    def erase(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        check_erase_input(image, mask)
        out = image.copy()
        labels, _ = mask_clusters(mask > 0)
        kernel = np.ones((2 * self.ring + 1, 2 * self.ring + 1), np.uint8)
        for label in range(1, int(labels.max()) + 1):
            piece = (labels == label) & (mask > 0)
            if not piece.any():
                continue
            ring = cv2.dilate(piece.astype(np.uint8), kernel).astype(bool) & (mask == 0)
            if ring.any():
                out[piece] = np.median(image[ring], axis=0).astype(np.uint8)
        return out
