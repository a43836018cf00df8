"""An example recogniser: rapidocr's own recogniser with its defaults, one line crop at a time.

It reads what PP-OCRv6 reads (Chinese, Japanese, Latin; no Hangul); a line's language is the
one asked for, or with ``auto`` the one its script implies. It also offers `read_lines`, so the routing recogniser could
take it as its Korean reader (`recognize.korean`) were it to read Korean.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from imtrans.recognize.crop import crop_line
from imtrans.recognize.route import language_of
from imtrans.settings import RecognizeSettings
from imtrans.types import Line


class RapidOCRLineRecognizer:
    """Reads each detected line with `rapidocr.RapidOCR` (recognition only)."""

    name = "rapidocr-lines"
    Options = RecognizeSettings
    packages = ("rapidocr", "onnxruntime")

    def __init__(self, settings: RecognizeSettings) -> None:
        from rapidocr import RapidOCR

        self.settings = settings
        self._engine = RapidOCR()

    @classmethod
    def from_settings(cls, settings: RecognizeSettings) -> RapidOCRLineRecognizer:
        return cls(settings)

    def read_lines(self, image: np.ndarray, lines: list[Line], language: str) -> list[tuple[str, float]]:
        """(text, confidence) per line, in order."""
        out = []
        for line in lines:
            found = self._engine(crop_line(image, line, pad=0.05), use_det=False, use_cls=False, use_rec=True)
            texts, scores = found.txts or ("",), found.scores or (0.0,)
            out.append((str(texts[0]).strip(), float(scores[0])))
        return out

    def recognize(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        """Read every line; lines read below `min_confidence` come back with empty text."""
        read = self.read_lines(image, lines, language)
        return [
            replace(ln, text=text if conf >= self.settings.min_confidence else "", confidence=conf,
                    language=language_of(text) if language == "auto" else language, recognizer=self.name)
            for ln, (text, conf) in zip(lines, read, strict=True)
        ]  # fmt: skip
