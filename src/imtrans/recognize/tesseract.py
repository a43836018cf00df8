"""Line recognition with Tesseract (via tesserocr) and Debian's tessdata: Korean first, any language as a fallback."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from imtrans.errors import ModelMissingError
from imtrans.recognize.crop import crop_line
from imtrans.types import Direction, Line

#: Our language code -> (Tesseract model for horizontal lines, for vertical columns, Debian package).
TESS_MODELS = {
    "ko": ("kor", "kor_vert", "tesseract-ocr-kor"),
    "ja": ("jpn", "jpn_vert", "tesseract-ocr-jpn tesseract-ocr-jpn-vert"),
    "zh": ("chi_sim", "chi_sim_vert", "tesseract-ocr-chi-sim tesseract-ocr-chi-sim-vert"),
    "en": ("eng", "eng", "tesseract-ocr-eng"),
}

_TESSDATA_CANDIDATES = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata")

#: Tesseract reads best when capitals are ~30-40 px tall; crops are scaled so the line is this high.
_TARGET_HEIGHT = 64


def tessdata_dir() -> Path:
    """Where the traineddata files are: $TESSDATA_PREFIX, else Debian's folder."""
    env = os.environ.get("TESSDATA_PREFIX")
    if env:
        return Path(env)
    for c in _TESSDATA_CANDIDATES:
        if Path(c).is_dir():
            return Path(c)
    return Path(_TESSDATA_CANDIDATES[0])


class TesseractRecognizer:
    """Reads one line at a time (page segmentation mode 7, or 5 for vertical columns).

    Lines are read by a small thread pool (tesserocr releases the GIL while Tesseract works),
    one engine per model per thread, each loaded on first use and kept: a Tesseract handle
    is not thread-safe, so no two threads share one.
    """

    name = "tesseract"

    def __init__(self, tessdata: Path | None = None) -> None:
        self.tessdata = Path(tessdata) if tessdata else tessdata_dir()
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def check(self, language: str) -> None:
        """Raise ModelMissingError naming the Debian package when the language's data is missing."""
        model, _, package = TESS_MODELS[language]
        if not (self.tessdata / f"{model}.traineddata").is_file():
            raise ModelMissingError(
                f"Tesseract data {model}.traineddata not found in {self.tessdata}; "
                f"install the Debian package {package} (or set TESSDATA_PREFIX)"
            )

    def _api(self, model: str, vertical: bool) -> Any:
        import tesserocr

        apis: dict[str, Any] = self._local.__dict__.setdefault("apis", {})
        key = f"{model}/{vertical}"
        if key not in apis:
            psm = tesserocr.PSM.SINGLE_BLOCK_VERT_TEXT if vertical else tesserocr.PSM.SINGLE_LINE
            apis[key] = tesserocr.PyTessBaseAPI(path=str(self.tessdata), lang=model, psm=psm)
        return apis[key]

    def read_line(self, image: np.ndarray, line: Line, language: str) -> tuple[str, float]:
        """(text, confidence 0-1) of one line."""
        self.check(language)
        model, vert_model, _ = TESS_MODELS[language]
        vertical = line.direction is Direction.VERTICAL
        if vertical and (self.tessdata / f"{vert_model}.traineddata").is_file():
            model, upright = vert_model, True
        else:
            upright = False
        crop = crop_line(image, line, pad=0.2, horizontal=not upright)
        gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        short = gray.shape[1] if upright else gray.shape[0]
        scale = _TARGET_HEIGHT / max(1, short)
        if abs(scale - 1) > 0.1:
            interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp)
        api = self._api(model, upright)
        api.SetImage(Image.fromarray(gray))
        text = api.GetUTF8Text()
        conf = api.MeanTextConf()
        text = " ".join(text.split())
        if language in ("ja", "zh"):
            text = text.replace(" ", "")  # Tesseract spaces out CJK glyphs
        return text, max(0.0, conf) / 100.0

    def read_lines(self, image: np.ndarray, lines: list[Line], language: str) -> list[tuple[str, float]]:
        """(text, confidence) per line, in order, read in parallel."""
        self.check(language)
        if len(lines) < 2:
            return [self.read_line(image, ln, language) for ln in lines]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)))
        return list(self._pool.map(lambda ln: self.read_line(image, ln, language), lines))

    def recognize(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        """Read every line in `language` (ko, ja, zh or en)."""
        return [
            replace(ln, text=text, confidence=conf, language=language, recognizer=self.name)
            for ln, (text, conf) in zip(lines, self.read_lines(image, lines, language), strict=True)
        ]
