"""What an eraser does: fill the masked pixels of an image with plausible background."""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

# Masked pixels closer than this (px) belong to one cluster.
JOIN_PX = 8


class Eraser(Protocol):
    """Removes text. Pixels where mask == 0 must come back bit-for-bit unchanged."""

    name: str

    def erase(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """`image` RGB uint8 (H, W, 3); `mask` uint8 (H, W), 255 where text pixels are."""
        ...


def check_erase_input(image: np.ndarray, mask: np.ndarray, *, rgb_only: bool = False) -> None:
    """Raise ValueError unless `image` is uint8 (H, W) or (H, W, C) (C = 3 if `rgb_only`) and
    `mask` is (H, W)."""
    if (
        image.dtype != np.uint8
        or image.ndim not in (2, 3)
        or (rgb_only and image.ndim == 3 and image.shape[2] != 3)
    ):
        shape = "(H, W, 3)" if rgb_only else "(H, W, C)"
        raise ValueError(f"expected a uint8 (H, W) or {shape} image, got {image.dtype} {image.shape}")
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match image shape {image.shape[:2]}")


def mask_clusters(masked: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
    """Group masked pixels closer than `JOIN_PX` into clusters, each erased as one piece.

    Returns:
        The label image (0 = background, k = cluster k) and, per cluster k >= 1 in order,
        its bounding box and area as [x, y, width, height, area].
    """
    joined = cv2.dilate(masked.astype(np.uint8), np.ones((JOIN_PX, JOIN_PX), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    return labels, stats[1:].tolist()
