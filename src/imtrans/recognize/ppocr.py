"""Line recognition with the PP-OCRv6 small recogniser shipped in the rapidocr wheel (ja, zh, en, Latin)."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from imtrans.recognize.crop import crop_line
from imtrans.settings import RecognizeSettings
from imtrans.types import Line

REC_MODEL_FILE = "PP-OCRv6_rec_small.onnx"
#: The recogniser's input height, and the narrowest width a batch is padded to.
REC_HEIGHT = 48
REC_MIN_WIDTH = 48
#: Margin added around a detector box, as a share of the line's thickness. DB boxes already
#: carry a margin (the unclip step); more brings in the next column or line. Measured in one
#: run (reading CER, imtrans with pad 0.15 / 0.05 / 0): OpenMantra dev 0.067 / 0.053 / 0.051,
#: real photos 0.302 / 0.274 / 0.277 (English lines 0.280 / 0.188 / 0.176).
CROP_PAD = 0.05


class PPOCRRecognizer:
    """Reads lines with PP-OCRv6 in batches. Its dictionary covers Chinese, Japanese and Latin, not Hangul."""

    name = "ppocr"
    packages = ("rapidocr", "onnxruntime")
    Options = RecognizeSettings

    def __init__(self, batch_size: int = 8) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: RecognizeSettings) -> PPOCRRecognizer:
        return cls()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from rapidocr.ch_ppocr_rec import TextRecognizer

                from imtrans.detect.ppocr import _quiet_rapidocr, rapidocr_config, rapidocr_model_path

                cfg = rapidocr_config("Rec", rapidocr_model_path(REC_MODEL_FILE))
                cfg.rec_batch_num = self.batch_size
                # rapidocr pads every batch to at least 320 px wide (PaddleOCR's training
                # shape); lines are cut to their own width instead, which reads the same
                # and spends about 40% less on typical short lines (see the README).
                cfg.rec_img_shape = [3, REC_HEIGHT, REC_MIN_WIDTH]
                _quiet_rapidocr()
                self._model = TextRecognizer(cfg)
        return self._model

    def read(self, image: np.ndarray, lines: list[Line]) -> list[tuple[str, float]]:
        """(text, confidence) per line, in order."""
        if not lines:
            return []
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        crops = [cv2.cvtColor(crop_line(image, ln, pad=CROP_PAD), cv2.COLOR_RGB2BGR) for ln in lines]
        out = self._load()(TextRecInput(img=crops))
        return [(str(t).strip(), float(s)) for t, s in zip(out.txts, out.scores, strict=True)]

    def read_lines(self, image: np.ndarray, lines: list[Line], language: str) -> list[tuple[str, float]]:
        """`read`; one model serves every language it knows."""
        return self.read(image, lines)

    def recognize(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        """Read every line; `language` is recorded as given (ja, zh or en)."""
        return [
            replace(ln, text=text, confidence=conf, language=language, recognizer=self.name)
            for ln, (text, conf) in zip(lines, self.read(image, lines), strict=True)
        ]
