"""Learned inpainting: the project's gated U-Net (`imtrans.nets`), run through onnxruntime.

Cost follows the text, not the image: the mask is split into clusters as in `telea.py`
(masked pixels closer than 8 px join), and per cluster

1. if the ring of known pixels around it is smooth (residual std from a colour plane below
   ``flat_tolerance``, by default 4, against Telea's 12) the cluster is filled with that
   plane, as the Telea backend does: the network cannot beat an exact flat fill and it is
   free. The lower default keeps the fast path to truly plain backgrounds: over a star
   field or fine texture the ring looks flat once its few outliers are trimmed, but the
   network, which reads the background between the strokes, fills it far better;
2. otherwise a tile = the cluster's box plus a context margin is cut out. When the hole is
   thicker than the network was trained for (strokes of big text on a 12 MP photo), the tile
   is downscaled so that the hole is `_MAX_HOLE` px thick, and the fill upscaled back;
   tiles larger than `_MAX_TILE` px a side are split into overlapping ones. Each tile is
   reflect-padded to a multiple of 8 and run with every masked pixel in it marked unknown;
   tiles of equal shape run as one batch.

Only the cluster's masked pixels are written back (from the tile's core, for split tiles),
so pixels where mask == 0 come back bit for bit. torch is not needed: the model is an ONNX
file shipped in ``erase/models/`` (see MODEL_CARD.md there).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import Field

from imtrans.erase.background import flat_fill
from imtrans.erase.base import check_erase_input, mask_clusters
from imtrans.errors import ModelMissingError
from imtrans.settings import EraseSettings

#: The shipped model.
DEFAULT_MODEL = Path(__file__).parent / "models" / "eraser_gan.onnx"
#: Default ``flat_tolerance``, lower than Telea's 12: the network reads the background between
#: the strokes, which a flat plane paints over (a paragraph over a star field filled black).
FLAT_TOLERANCE = 4.0


class GanSettings(EraseSettings):
    """Options of the learned eraser (`--set erase.backend=gan --set erase.KEY=VALUE`)."""

    backend: str = "gan"

    flat_tolerance: float | None = Field(
        None,
        ge=0,
        description=f"Max background std-dev (0-255) for the flat-fill fast path (0: off; default {FLAT_TOLERANCE:g}).",
    )


# Ring width (px) for the flatness test.
_RING_PX = 3
# Context around a cluster: half its thickness, within these bounds (px, at network scale).
_MIN_MARGIN, _MAX_MARGIN = 16, 48
# Holes thicker than this (px) are downscaled to it: about the widest the network saw in
# training (line boxes of 128 px crops).
_MAX_HOLE = 48.0
# A tile's side at network scale is at most this; larger boxes are split (memory bound).
_MAX_TILE = 512
# Tiles per onnxruntime call.
_MAX_BATCH = 8


@dataclass(frozen=True)
class _Tile:
    """One network input: a window of the image and the part of it to write back."""

    label: int  # the cluster
    window: tuple[int, int, int, int]  # y0, y1, x0, x1 in the image: what the network sees
    core: tuple[int, int, int, int]  # y0, y1, x0, x1 in the image: where it may write
    scale: float  # network pixels per image pixel (<= 1)


class GanEraser:
    """Erase text with the learned inpainting network, on tiles around the mask.

    Attributes:
        name: ``"gan"``.
        model_path: The ONNX file.
    """

    Options = GanSettings
    packages = ("onnxruntime", "opencv-python-headless")

    def __init__(self, settings: GanSettings | None = None, model_path: Path | None = None) -> None:
        """Check the model file; the onnxruntime session is created on first use.

        Args:
            settings: Flat tolerance (0 disables the flat-fill fast path); defaults to
                ``GanSettings()``.
            model_path: The ONNX model; defaults to the one shipped in the package.

        Raises:
            ModelMissingError: the model file does not exist.
        """
        s = settings or GanSettings()
        self.name: str = "gan"
        self.flat_tolerance: float = FLAT_TOLERANCE if s.flat_tolerance is None else s.flat_tolerance
        self.model_path = Path(model_path) if model_path is not None else DEFAULT_MODEL
        if not self.model_path.is_file():
            raise ModelMissingError(
                f"eraser model not found: {self.model_path}; reinstall imtrans or use --set erase.backend=telea"
            )
        self._session: Any = None

    @classmethod
    def from_settings(cls, settings: GanSettings) -> GanEraser:
        return cls(settings)

    def _run(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The network on a batch: uint8 (N, H, W, 3) and bool (N, H, W) to uint8 (N, H, W, 3)."""
        if self._session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                            else (os.cpu_count() or 1))  # fmt: skip
            opts.inter_op_num_threads = 1
            self._session = ort.InferenceSession(
                str(self.model_path), opts, providers=["CPUExecutionProvider"]
            )
        x = image.astype(np.float32).transpose(0, 3, 1, 2) / np.float32(127.5) - np.float32(1.0)
        m = mask[:, None].astype(np.float32)
        (y,) = self._session.run(None, {"image": x, "mask": m})
        y = np.rint((np.clip(y, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
        return y.transpose(0, 2, 3, 1)

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
        check_erase_input(image, mask, rgb_only=True)
        out = image.copy()
        m = mask > 0
        if not m.any():
            return out
        rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
        labels, clusters = mask_clusters(m)
        filled = rgb.copy()
        tiles: list[_Tile] = []
        for k, (x, y, bw, bh, _) in enumerate(clusters, start=1):
            box = (y, y + bh, x, x + bw)
            if self._try_flat(rgb, m, labels, k, box, filled):
                continue
            tiles += _tiles(m, labels, k, box)
        self._fill_tiles(rgb, m, labels, tiles, filled)
        if image.ndim == 2:
            filled = filled.mean(axis=2).round().astype(np.uint8)
        elif _is_grey(image):  # a greyscale page stored as RGB (most scans and comics): no tint
            filled[m] = filled[m].mean(axis=1, keepdims=True).round().astype(np.uint8)
        out[m] = filled[m]
        return out

    def _try_flat(
        self, rgb: np.ndarray, m: np.ndarray, labels: np.ndarray, k: int, box: tuple[int, int, int, int],
        filled: np.ndarray,
    ) -> bool:  # fmt: skip
        """Fill cluster ``k`` with the colour plane of its ring if the ring is smooth."""
        if self.flat_tolerance <= 0:
            return False
        h, w = m.shape
        y0, y1 = max(0, box[0] - _RING_PX), min(h, box[1] + _RING_PX)
        x0, x1 = max(0, box[2] - _RING_PX), min(w, box[3] + _RING_PX)
        mine = (labels[y0:y1, x0:x1] == k) & m[y0:y1, x0:x1]
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _RING_PX + 1, 2 * _RING_PX + 1))
        ring = cv2.dilate(mine.astype(np.uint8), kernel).astype(bool) & ~m[y0:y1, x0:x1]
        values = flat_fill(rgb[y0:y1, x0:x1], mine, ring, self.flat_tolerance)
        if values is None:
            return False
        my, mx = np.nonzero(mine)
        filled[y0 + my, x0 + mx] = values
        return True

    def _fill_tiles(
        self, rgb: np.ndarray, m: np.ndarray, labels: np.ndarray, tiles: list[_Tile], filled: np.ndarray
    ) -> None:
        """Run the network on every tile (equal shapes batched) and write the fills into ``filled``."""
        inputs: dict[tuple[int, int], list[tuple[_Tile, np.ndarray, np.ndarray]]] = {}
        for t in tiles:
            y0, y1, x0, x1 = t.window
            crop, crop_mask = rgb[y0:y1, x0:x1], m[y0:y1, x0:x1]
            if t.scale < 1.0:
                size = (max(1, round((x1 - x0) * t.scale)), max(1, round((y1 - y0) * t.scale)))
                crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
                # Any coverage counts: the hole never shrinks off a glyph's fringe.
                crop_mask = cv2.resize(crop_mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
            ph, pw = -crop.shape[0] % 8, -crop.shape[1] % 8
            if ph or pw:
                # Reflect where the tile is large enough (always, but for images a few px wide).
                reflect = crop.shape[0] > ph and crop.shape[1] > pw
                border = cv2.BORDER_REFLECT_101 if reflect else cv2.BORDER_REPLICATE
                crop = cv2.copyMakeBorder(crop, 0, ph, 0, pw, border)
                crop_mask = np.pad(crop_mask, ((0, ph), (0, pw)), mode="reflect" if reflect else "edge")
            inputs.setdefault(crop.shape[:2], []).append((t, crop, crop_mask))
        for group in inputs.values():
            for i in range(0, len(group), _MAX_BATCH):
                chunk = group[i : i + _MAX_BATCH]
                result = self._run(np.stack([c for _, c, _ in chunk]), np.stack([cm for _, _, cm in chunk]))
                for (t, _, _), fill in zip(chunk, result, strict=True):
                    _write(t, fill, m, labels, filled)


def _is_grey(rgb: np.ndarray) -> bool:
    """Whether the three channels are equal everywhere. The network, trained on colour photos,
    tints the large fills of a black-and-white page faintly (seen on OpenMantra screentone)."""
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def _write(t: _Tile, fill: np.ndarray, m: np.ndarray, labels: np.ndarray, filled: np.ndarray) -> None:
    """Copy a tile's fill of its own cluster's masked pixels (inside its core) into ``filled``."""
    y0, y1, x0, x1 = t.window
    if t.scale < 1.0:
        sh, sw = round((y1 - y0) * t.scale), round((x1 - x0) * t.scale)
        fill = cv2.resize(
            fill[: max(1, sh), : max(1, sw)], (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR
        )
    else:
        fill = fill[: y1 - y0, : x1 - x0]
    cy0, cy1, cx0, cx1 = t.core
    view = (slice(cy0, cy1), slice(cx0, cx1))
    mine = (labels[view] == t.label) & m[view]
    filled[view][mine] = fill[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0][mine]


def _tiles(m: np.ndarray, labels: np.ndarray, k: int, box: tuple[int, int, int, int]) -> list[_Tile]:
    """The network tiles of cluster ``k`` (bounding box ``box``): scale, margin, split."""
    h, w = m.shape
    by0, by1, bx0, bx1 = box
    mine = ((labels[by0:by1, bx0:bx1] == k) & m[by0:by1, bx0:bx1]).astype(np.uint8)
    # Thickness of the hole: twice the largest distance from a hole pixel to the outside.
    thickness = 2.0 * float(cv2.distanceTransform(np.pad(mine, 1), cv2.DIST_L2, 3).max())
    scale = min(1.0, _MAX_HOLE / max(thickness, 1.0))
    margin = round(min(_MAX_MARGIN, max(_MIN_MARGIN, thickness / 2 * scale)) / scale)  # image px
    core_max = max(8, int((_MAX_TILE - 8) / scale) - 2 * margin)  # image px per tile core (room for padding)
    tiles = []
    for cy0 in range(by0, by1, core_max):
        for cx0 in range(bx0, bx1, core_max):
            cy1, cx1 = min(by1, cy0 + core_max), min(bx1, cx0 + core_max)
            window = (max(0, cy0 - margin), min(h, cy1 + margin), max(0, cx0 - margin), min(w, cx1 + margin))
            tiles.append(_Tile(k, window, (cy0, cy1, cx0, cx1), scale))
    return tiles
