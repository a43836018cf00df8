"""Classical inpainting (OpenCV Telea or Navier-Stokes), region by region, with a flat-fill fast path.

The mask is split into clusters (connected regions after joining pixels closer than a
few px, so one glyph's strokes, or one line's glyphs, go together). Per cluster, on a
crop around it only:

- if the ring of unmasked pixels around the cluster is smooth (the std of its residual
  from a robust colour plane is below ``flat_tolerance``), the cluster is filled with
  that plane: the median-like background colour on a flat background, the ramp on a
  gradient, with no inpainting at all;
- otherwise ``cv2.inpaint`` runs on the crop plus a margin (never the whole image); a hole
  thicker than ``WIDE_HOLE_PX`` (a whole box of huge lettering) is filled at a smaller scale,
  so that it becomes a smooth blend of its surroundings instead of streaks.

Only masked pixels are ever written: where mask == 0 the output is the input, bit for bit.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from pydantic import Field

from imtrans.erase.background import flat_fill
from imtrans.erase.base import check_erase_input, mask_clusters
from imtrans.erase.threads import workers
from imtrans.settings import EraseSettings

_METHODS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
#: Default ``flat_tolerance``: the std-dev (0-255) of the ring around its colour plane.
FLAT_TOLERANCE = 12.0
#: A hole thicker than this (px from its middle to its border) is inpainted at a smaller scale.
WIDE_HOLE_PX = 8.0


class TeleaSettings(EraseSettings):
    """Options of the OpenCV erasers, ``telea`` and ``ns`` (`--set erase.KEY=VALUE`)."""

    inpaint_radius: int = Field(3, ge=1, le=20, description="OpenCV's inpainting radius (px).")
    flat_tolerance: float | None = Field(
        None,
        ge=0,
        description=f"Max background std-dev (0-255) for the flat-fill fast path (0: off; default {FLAT_TOLERANCE:g}).",
    )


class TeleaEraser:
    """Erase text by filling flat surroundings directly and inpainting the rest with OpenCV.

    Attributes:
        name: ``"telea"`` or ``"ns"``.
    """

    Options = TeleaSettings
    packages = ("opencv-python-headless",)

    def __init__(self, settings: TeleaSettings | None = None) -> None:
        """Build an eraser.

        Args:
            settings: Backend (``telea`` or ``ns``), inpaint radius and flat tolerance;
                defaults to ``TeleaSettings()``.

        Raises:
            ValueError: if the backend is not one this eraser implements.
        """
        s = settings or TeleaSettings()
        if s.backend not in _METHODS:
            raise ValueError(f"TeleaEraser does not implement backend {s.backend!r}")
        self.name: str = s.backend
        self.radius: int = s.inpaint_radius
        self.flat_tolerance: float = FLAT_TOLERANCE if s.flat_tolerance is None else s.flat_tolerance
        self._method: int = _METHODS[s.backend]

    @classmethod
    def from_settings(cls, settings: TeleaSettings) -> TeleaEraser:
        return cls(settings)

    def erase(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Fill the masked pixels of ``image`` with plausible background.

        Args:
            image: RGB uint8 (H, W, 3) (greyscale (H, W) works too). Not modified.
            mask: uint8 (H, W), non-zero where text pixels are.

        Returns:
            A new uint8 image of the same shape; pixels where ``mask == 0`` are unchanged.

        Raises:
            ValueError: on a dtype or shape mismatch.
        """
        check_erase_input(image, mask)
        out = image.copy()
        m = mask > 0
        if not m.any():
            return out
        h, w = m.shape
        labels, clusters = mask_clusters(m)
        margin = max(3, self.radius) + 2 * self.radius + 2
        boxes = [
            (k, max(0, y - margin), min(h, y + bh + margin), max(0, x - margin), min(w, x + bw + margin))
            for k, (x, y, bw, bh, _) in enumerate(clusters, start=1)
        ]

        def fill(job: tuple[int, int, int, int, int]) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
            k, y0, y1, x0, x1 = job
            window = (slice(y0, y1), slice(x0, x1))
            mine = (labels[window] == k) & m[window]
            return window, mine, self._fill_cluster(image[window], m[window], mine)

        # OpenCV releases the GIL: clusters are filled in parallel, each from the input alone.
        with ThreadPoolExecutor(max_workers=workers(len(boxes))) as pool:
            for window, mine, values in pool.map(fill, boxes):
                out[window][mine] = values
        return out

    def _fill_cluster(self, crop: np.ndarray, crop_mask: np.ndarray, mine: np.ndarray) -> np.ndarray:
        """New values for one cluster's pixels (``mine``) from a crop of the input around it.

        Args:
            crop: The input image around the cluster (cluster box plus a margin).
            crop_mask: Every masked pixel of the crop (other clusters' too: never a source).
            mine: The cluster's own pixels, the only ones the caller writes back.
        """
        ring_px = max(3, self.radius)
        ring_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring_px + 1, 2 * ring_px + 1))
        ring = cv2.dilate(mine.astype(np.uint8), ring_kernel).astype(bool) & ~crop_mask
        values = flat_fill(crop, mine, ring, self.flat_tolerance)
        if values is None:
            values = self._inpaint(crop, crop_mask)[mine]
        return values

    def _inpaint(self, crop: np.ndarray, crop_mask: np.ndarray) -> np.ndarray:
        """OpenCV inpainting of the crop; a hole thicker than `WIDE_HOLE_PX` is filled at a smaller scale.

        Inpainting carries the hole's border inwards along its edges: over a glyph's stroke
        that is a clean fill, over a whole box of huge lettering it drags streaks of whatever
        touches the border across the box. Filled where the hole is `WIDE_HOLE_PX` thick and
        scaled back up, the fill is a smooth blend of the surroundings instead.
        """
        holes = crop_mask.astype(np.uint8)
        thick = float(cv2.distanceTransform(holes, cv2.DIST_L2, 3).max())
        if thick <= WIDE_HOLE_PX:
            return cv2.inpaint(np.ascontiguousarray(crop), holes, self.radius, self._method)
        f = WIDE_HOLE_PX / thick
        h, w = holes.shape
        size = (max(1, round(w * f)), max(1, round(h * f)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        small_holes = (cv2.resize(holes, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        filled = cv2.inpaint(np.ascontiguousarray(small), small_holes, self.radius, self._method)
        return cv2.resize(filled, (w, h), interpolation=cv2.INTER_CUBIC)
