"""Text detection with the PP-OCRv6 small detector that ships inside the rapidocr wheel."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import Field

from imtrans.detect.curves import curve_quads, curved_boxes, with_curves
from imtrans.detect.geometry import Box, add_unseen, merge_glyphs, merge_passes, order_quad, reading_order
from imtrans.errors import InputError, ModelMissingError
from imtrans.settings import DetectSettings
from imtrans.types import Line

#: The detector weights rapidocr 3.10 bundles (no download is ever attempted for them).
DET_MODEL_FILE = "PP-OCRv6_det_small.onnx"
#: The same detector quantized to int8 by scripts/quantize_detector.py, shipped with imtrans.
DET_INT8_MODEL = Path(__file__).resolve().parent / "models" / "PP-OCRv6_det_small_int8.onnx"

#: Small lettering on an arc (`_small_arcs`): boxes at most this thick (pixels) are looked
#: around again, in windows of at most `_ARC_WINDOW_PX` pixels, this many times enlarged, the
#: map binarised there at `_ARC_PIXEL_THRESHOLD`.
_ARC_SEED_PX = 16
_ARC_WINDOW_PX = 200 * 200
_ARC_ZOOM = 4
_ARC_PIXEL_THRESHOLD = 0.3

#: The coarser passes binarise at most here: they are there for very large glyphs, which break
#: into strokes at the main pass's threshold (see `_post_process`).
COARSE_PIXEL_THRESHOLD = 0.45

#: Passes smaller than this (longest side, pixels) are skipped: nothing readable is left.
_MIN_PASS_SIDE = 96

#: A fine window reaches this far around its weak spot (main-pass pixels; at least 1.5 times the
#: spot's height): the detector needs the text's surroundings to score it.
_FINE_REACH = 24
#: The fine windows together look at most at this share of the main pass's pixels (strongest
#: spots first), so a busy page cannot make the fine pass cost more than the main one.
_FINE_MAX_SHARE = 0.5


class PPOCRDetectSettings(DetectSettings):
    """Options of the PP-OCRv6 detector (`--set detect.KEY=VALUE`)."""

    precision: Literal["int8", "fp32"] = Field(
        "int8", description="Detector weights: int8 (shipped, about 3x faster on CPU) or the fp32 original."
    )
    max_side: int = Field(
        2048, ge=256, description="Longest side the detector sees; larger images are scaled down."
    )
    box_threshold: float = Field(0.5, ge=0, le=1, description="Minimum mean score inside a detected box.")
    pixel_threshold: float = Field(
        0.6,
        gt=0,
        lt=1,
        description="Text probability above which a pixel belongs to a line (DB's binarisation; "
        "higher keeps close lines and columns apart).",
    )
    extra_scales: list[float] = Field(
        default_factory=lambda: [0.5],
        description="Extra detection passes at these scales, merged in (finds large, widely spaced glyphs).",
    )
    fine_threshold: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Where the image was scaled down for the main pass, places its map scores at least "
        "this high but holds no box are detected again at full resolution (small text on large "
        "photos); 0 turns that off.",
    )
    curved: bool = Field(
        True,
        description="Lettering set along an arc (badges, logos, stamps) found as curved lines and "
        "read straightened (`detect/curves.py`).",
    )
    merge_glyphs: bool = Field(
        True,
        description="Chain glyph- and word-sized boxes on one baseline into lines (large, widely "
        "spaced lettering); never across a divider or a change of background colour.",
    )


def rapidocr_model_path(filename: str) -> Path:
    """Path of a model file bundled in the installed rapidocr package.

    Raises:
        ModelMissingError: rapidocr is not installed or its wheel lacks the file.
    """
    try:
        import rapidocr
    except ImportError:
        raise ModelMissingError(
            "rapidocr is not installed; pip install rapidocr==3.10.0 onnxruntime"
        ) from None
    path = Path(rapidocr.__file__).resolve().parent / "models" / filename
    if not path.is_file():
        raise ModelMissingError(f"{filename} not found in {path.parent}; reinstall rapidocr==3.10.0")
    return path


def rapidocr_config(task: str, model_path: Path) -> Any:
    """rapidocr's own configuration for one task ("Det" or "Rec"), pointed at a local model file.

    Setting `model_path` is what keeps rapidocr from resolving (and downloading) a model by name.
    """
    import rapidocr
    from rapidocr.utils.parse_parameters import ParseParams

    cfg = ParseParams.load(Path(rapidocr.__file__).resolve().parent / "config.yaml")
    section = cfg[task]
    section.engine_cfg = cfg.EngineConfig[section.engine_type.value]
    # A process given a CPU budget (an `imtrans batch` or Ray worker: OMP_NUM_THREADS) keeps
    # onnxruntime to it, so that parallel workers do not oversubscribe the cores.
    # rapidocr turns onnxruntime's memory arena off to save memory; with it on, the detector
    # pass is about 20% faster and the recogniser about 10% (the arena reuses buffers across
    # runs instead of allocating each one). The price is memory: the detector keeps its
    # largest buffers (about +300 MB at 2048 px; see detect/README.md).
    section.engine_cfg.enable_cpu_mem_arena = True
    threads = os.environ.get("OMP_NUM_THREADS", "")
    if threads.isdigit() and int(threads) > 0:
        section.engine_cfg.intra_op_num_threads = int(threads)
        section.engine_cfg.inter_op_num_threads = 1
    section.model_path = str(model_path)
    section.model_root_dir = str(model_path.parent)
    section.font_path = None
    return section


class PPOCRDetector:
    """Finds text lines with PP-OCRv6 (DB), at the main scale plus coarser passes for large lettering.

    The model loads on first use and stays loaded; one instance may be shared by threads.

    Args:
        settings: Detection settings (max_side, box_threshold, pixel_threshold, extra_scales).
        model_path: A different det ONNX file; default: the one inside the rapidocr wheel.
    """

    name = "ppocr"
    packages = ("rapidocr", "onnxruntime", "opencv-python-headless")
    Options = PPOCRDetectSettings

    def __init__(
        self, settings: PPOCRDetectSettings | None = None, *, model_path: Path | None = None
    ) -> None:
        self.settings = settings or PPOCRDetectSettings()
        self._model_path = model_path
        self._model: Any = None
        self._post: Any = None  # the main pass's post-processing
        self._coarse_post: Any = None  # the coarser passes'
        self._lut = _normalise_table([0.5] * 3, [0.5] * 3)
        self._unclip_ratio = 1.6
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: PPOCRDetectSettings) -> PPOCRDetector:
        return cls(settings)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from rapidocr.ch_ppocr_det import TextDetector

                path = self._model_path or self._default_model()
                if not Path(path).is_file():
                    raise ModelMissingError(f"detector model not found: {path}")
                cfg = rapidocr_config("Det", Path(path))
                # We resize ourselves (to multiples of 32); rapidocr must leave the image as given.
                cfg.limit_type = "max"
                cfg.limit_side_len = 1 << 30
                cfg.box_thresh = self.settings.box_threshold
                _quiet_rapidocr()
                self._model = TextDetector(cfg)
                self._post = _post_process(cfg, self.settings.box_threshold, self.settings.pixel_threshold)
                self._coarse_post = _post_process(
                    cfg,
                    self.settings.box_threshold,
                    min(self.settings.pixel_threshold, COARSE_PIXEL_THRESHOLD),
                )
                self._lut = _normalise_table(self._model.mean, self._model.std)
                self._unclip_ratio = float(cfg.unclip_ratio)
        return self._model

    def _default_model(self) -> Path:
        if self.settings.precision == "fp32":
            return rapidocr_model_path(DET_MODEL_FILE)
        if not DET_INT8_MODEL.is_file():
            raise ModelMissingError(
                f"{DET_INT8_MODEL.name} is missing from the package; reinstall imtrans or use --set detect.precision=fp32"
            )
        return DET_INT8_MODEL

    def detect(self, image: np.ndarray) -> list[Line]:
        """Detect lines in an RGB uint8 image of shape (H, W, 3).

        Returns:
            Lines with quad, direction and det_score, ids "l0", "l1", ... in reading order
            (rows top to bottom, then left to right).

        Raises:
            InputError: The array is not an RGB uint8 image.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or min(image.shape[:2]) < 1:
            raise InputError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
        boxes = self.detect_boxes(image)
        return [
            Line(
                id=f"l{i}",
                quad=b.to_quad(),
                direction=b.direction,
                det_score=round(b.score, 4),
                curve=() if b.curve is None else curve_quads(b.curve),
            )
            for i, b in enumerate(boxes)
        ]

    def detect_boxes(self, image: np.ndarray) -> list[Box]:
        """The detection itself, as `Box` records (also used by benchmarks and tests)."""
        model = self._load()
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        h, w = bgr.shape[:2]
        main_scale = min(1.0, self.settings.max_side / max(h, w))
        main, pred = self._run_pass(model, bgr, main_scale, self._post)
        if self.settings.curved:
            rh, rw = pred.shape
            curved = curved_boxes(pred, self.settings.pixel_threshold, self.settings.box_threshold,
                                  self._unclip_ratio, w / rw, h / rh)  # fmt: skip
            if main_scale == 1:
                curved += self._small_arcs(model, bgr, pred, main)
            main = with_curves(main, curved)
        if main_scale < 1 and self.settings.fine_threshold > 0:
            main = add_unseen(main, self._fine_boxes(model, bgr, pred, main, main_scale))
        factors = [
            f
            for f in self.settings.extra_scales
            if 0 < f < 1 and max(h, w) * main_scale * f >= _MIN_PASS_SIDE
        ]
        extra = [self._run_pass(model, bgr, main_scale * f, self._coarse_post)[0] for f in factors]
        boxes = merge_passes(main, extra, main_scale=main_scale) if extra else main
        if self.settings.merge_glyphs:
            boxes = merge_glyphs(boxes, image=image)
        return reading_order(boxes)

    def _run_pass(self, model: Any, bgr: np.ndarray, scale: float, post: Any) -> tuple[list[Box], np.ndarray]:
        """One detection pass on the image resized by `scale`: boxes in original pixels, and the
        pass's text-probability map (H', W') at the size it looked at."""
        h, w = bgr.shape[:2]
        rh = max(32, round(h * scale / 32) * 32)
        rw = max(32, round(w * scale / 32) * 32)
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(bgr, (rw, rh), interpolation=interp) if (rw, rh) != (w, h) else bgr
        pred = model.session(_blob(resized, self._lut))
        return self._boxes(pred, (rh, rw), post, scale, w / rw, h / rh), pred[0, 0]

    def _fine_boxes(
        self, model: Any, bgr: np.ndarray, pred: np.ndarray, found: list[Box], scale: float
    ) -> list[Box]:
        """Boxes found at full resolution where the scaled-down main pass saw weak text and no box.

        Small text on a large photo (a 20 px sticker on a 4000 px shop front) shrinks to a few
        pixels in the main pass: its map lights up (0.3-0.5) but no box passes the box threshold.
        Each such spot, not already inside a box, is detected again in a window of the original
        image around it. Windows are merged where they meet and taken strongest spot first, up to
        `_FINE_MAX_SHARE` of the main pass's pixels.
        """
        mh, mw = pred.shape
        h, w = bgr.shape[:2]
        sx, sy = mw / w, mh / h
        covered = np.zeros((mh, mw), np.uint8)
        for b in found:
            cv2.fillPoly(covered, [np.round(b.points * [sx, sy]).astype(np.int32)], 1)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (pred >= self.settings.fine_threshold).astype(np.uint8)
        )
        spots = []
        for i in range(1, count):
            x, y, ww, hh, area = (int(v) for v in stats[i])
            inside = labels[y : y + hh, x : x + ww] == i
            if area < 4 or covered[y : y + hh, x : x + ww][inside].mean() >= 0.5:
                continue
            reach = max(1.5 * hh, _FINE_REACH)
            window = [
                max(0.0, x - reach),
                max(0.0, y - reach),
                min(mw, x + ww + reach),
                min(mh, y + hh + reach),
            ]
            spots.append((float(pred[y : y + hh, x : x + ww][inside].max()), window))
        windows: list[list[float]] = []
        for _, win in sorted(spots, key=lambda s: -s[0]):
            _add_window(windows, win)
        budget = _FINE_MAX_SHARE * mh * mw
        out: list[Box] = []
        for x0, y0, x1, y1 in windows:
            X0, Y0, X1, Y1 = int(x0 / sx), int(y0 / sy), int(np.ceil(x1 / sx)), int(np.ceil(y1 / sy))
            rh, rw = max(32, round((Y1 - Y0) / 32) * 32), max(32, round((X1 - X0) / 32) * 32)
            if rh * rw > budget:
                continue
            budget -= rh * rw
            crop = cv2.resize(bgr[Y0:Y1, X0:X1], (rw, rh), interpolation=cv2.INTER_LINEAR)
            boxes = self._boxes(model.session(_blob(crop, self._lut)), (rh, rw), self._post, 1.0,
                                (X1 - X0) / rw, (Y1 - Y0) / rh)  # fmt: skip
            out += [Box(b.points + [X0, Y0], b.score, b.direction, scale) for b in boxes]
        return out

    def _small_arcs(self, model: Any, bgr: np.ndarray, pred: np.ndarray, found: list[Box]) -> list[Box]:
        """Curved lines of small lettering, looked for again around the main pass's small boxes.

        An 8 px name along a logo's arc (ko16's `REDROCK` on a 1920 px photo) lights the map
        only along its flat middle, which the main pass cuts into glyph-sized boxes. Around
        each box at most `_ARC_SEED_PX` thick (windows that meet are merged), the image is
        detected again `_ARC_ZOOM` times enlarged; enlarged, the arc's steep ends light up but
        its middle may fade, so the window's map is the greater of the enlarged pass's and the
        main pass's there. Its curved components (`curves.curved_boxes`, binarised at
        `_ARC_PIXEL_THRESHOLD`) are kept; straight ones are left to the main pass.
        """
        h, w = bgr.shape[:2]
        rh, rw = pred.shape
        windows: list[list[float]] = []
        for b in found:
            if b.short_side > _ARC_SEED_PX:
                continue
            x0, y0, x1, y1 = b.bbox
            reach = max(3 * b.short_side, 24.0)
            win = [
                max(0, int(x0 - reach)),
                max(0, int(y0 - reach)),
                min(w, int(x1 + reach) + 1),
                min(h, int(y1 + reach) + 1),
            ]
            _add_window(windows, win)
        out: list[Box] = []
        for x0, y0, x1, y1 in (map(int, win) for win in windows):
            if x1 - x0 < 8 or y1 - y0 < 8 or (x1 - x0) * (y1 - y0) > _ARC_WINDOW_PX:
                continue
            crop = cv2.resize(
                bgr[y0:y1, x0:x1], None, fx=_ARC_ZOOM, fy=_ARC_ZOOM, interpolation=cv2.INTER_CUBIC
            )
            zh, zw = crop.shape[:2]
            ph, pw = -(-zh // 32) * 32, -(-zw // 32) * 32
            padded = cv2.copyMakeBorder(crop, 0, ph - zh, 0, pw - zw, cv2.BORDER_REPLICATE)
            zoomed = model.session(_blob(padded, self._lut))[0, 0][:zh, :zw]
            # The same window of the main pass's map (its pixels are the image's times rw / w).
            my0, mx0 = round(y0 * rh / h), round(x0 * rw / w)
            my1, mx1 = max(round(y1 * rh / h), my0 + 1), max(round(x1 * rw / w), mx0 + 1)
            main_part = cv2.resize(pred[my0:my1, mx0:mx1], (zw, zh), interpolation=cv2.INTER_LINEAR)
            prob = np.maximum(zoomed, main_part)
            for b in curved_boxes(prob, _ARC_PIXEL_THRESHOLD, self.settings.box_threshold, self._unclip_ratio,
                                  1 / _ARC_ZOOM, 1 / _ARC_ZOOM):  # fmt: skip
                shift = np.array([x0, y0], np.float64)
                curve = None if b.curve is None else b.curve + shift
                out.append(Box(b.points + shift, b.score, b.direction, curve=curve))
        return out

    @staticmethod
    def _boxes(
        pred: np.ndarray, shape: tuple[int, int], post: Any, scale: float, sx: float, sy: float
    ) -> list[Box]:
        boxes, scores = post(pred, shape)
        out = []
        for pts, score in zip(boxes, scores):
            p = np.asarray(pts, dtype=np.float64) * np.array([sx, sy])
            ordered, direction = order_quad(p)
            out.append(Box(points=ordered, score=float(score), direction=direction, scale=scale))
        return out


def _add_window(windows: list[list[float]], win: list[float]) -> None:
    """Add window ``win`` (x0, y0, x1, y1) to ``windows``, merged into the first one it meets."""
    for o in windows:
        if win[0] < o[2] and o[0] < win[2] and win[1] < o[3] and o[1] < win[3]:
            o[:] = [min(o[0], win[0]), min(o[1], win[1]), max(o[2], win[2]), max(o[3], win[3])]
            return
    windows.append(win)


def _blob(bgr: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """The network input (1, 3, H, W) float32, through a per-channel table of the 256 byte values."""
    # cv2.LUT maps all three channels in one pass (about 10x faster than NumPy indexing).
    mapped = cv2.LUT(np.ascontiguousarray(bgr), np.ascontiguousarray(lut.T).reshape(1, 256, 3))
    return np.ascontiguousarray(mapped.transpose(2, 0, 1))[None]


def _normalise_table(mean: Any, std: Any) -> np.ndarray:
    """(3, 256) float32: rapidocr's normalisation, (pixel / 255 - mean) / std, of every byte value.

    Bit-identical to rapidocr's own float64 arithmetic (the int8 detector's input quantisation
    turns a 1e-7 difference on a flat colour into a different box), at a fraction of its cost.
    """
    levels = (np.arange(256, dtype=np.uint8).astype("float32") * (1 / 255.0)).astype(np.float64)
    return np.stack(
        [((levels - float(m)) / float(s)).astype(np.float32) for m, s in zip(mean, std, strict=True)]
    )


def _post_process(cfg: Any, box_threshold: float, pixel_threshold: float) -> Any:
    """rapidocr's DB post-processing (probability map to boxes) with our thresholds.

    rapidocr binarises the map at 0.3. The int8 detector's map spreads between close lines
    and columns, which at 0.3 fuse into one box (two columns of a menu, a label and its value);
    at 0.6 they stay apart. Reading CER, imtrans at 0.3 / 0.5 / 0.6 / 0.7 in one sitting:
    real photos dev 0.272 / 0.240 / 0.234 / 0.226 (Chinese lines found 0.625 / 0.646 / 0.708 /
    0.708), OpenMantra dev 0.053 / 0.047 / 0.043 / 0.046 (bubbles found 0.975 / 0.978 / 0.982 /
    0.971). The unclip step grows the smaller core back to the line's size. The coarser passes,
    there for very large glyphs, use at most `COARSE_PIXEL_THRESHOLD`: at 0.6 a big syllable
    breaks into strokes (a road sign's "부산"), at 0.3 the half-scale boxes fuse close manga
    columns again (OpenMantra CER 0.054 with coarse passes at 0.3, 0.043 at 0.45 or 0.6).
    """
    from rapidocr.ch_ppocr_det.utils import DBPostProcess

    return DBPostProcess(
        thresh=pixel_threshold,
        box_thresh=box_threshold,
        max_candidates=int(cfg.max_candidates),
        unclip_ratio=float(cfg.unclip_ratio),
        score_mode=str(cfg.score_mode),
        use_dilation=bool(cfg.use_dilation),
    )


def _quiet_rapidocr() -> None:
    """rapidocr logs every model load at INFO; keep that out of our users' terminals."""
    import logging

    from rapidocr.utils.log import logger

    logger.setLevel(logging.WARNING)
