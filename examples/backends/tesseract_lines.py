"""An example detector: Tesseract's own page layout analysis, one box per text line.

Register it and name it (see docs/extending.md)::

    from imtrans.registry import DETECTORS
    DETECTORS.register("tesseract-lines", TesseractLineDetector)
    imtrans.translate_image("scan.png", settings=Settings().with_overrides({"detect.backend": "tesseract-lines"}))

Tesseract finds the lines of clean scans and screenshots well and those of photos and comics
poorly; the default detector (PP-OCRv6) is the better choice there.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from imtrans.recognize.tesseract import tessdata_dir
from imtrans.settings import DetectSettings
from imtrans.types import Line, Quad


class TesseractLineSettings(DetectSettings):
    """Options of the example detector (`--set detect.KEY=VALUE`)."""

    backend: str = "tesseract-lines"
    language: str = Field("eng", description="Tesseract model whose layout analysis finds the lines.")
    min_height: int = Field(8, ge=1, description="Lines lower than this (px) are left out.")


class TesseractLineDetector:
    """Finds text lines with Tesseract's layout analysis (tesserocr, RIL.TEXTLINE)."""

    name = "tesseract-lines"
    Options = TesseractLineSettings
    packages = ("tesserocr",)

    def __init__(self, settings: TesseractLineSettings) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: TesseractLineSettings) -> TesseractLineDetector:
        return cls(settings)

    def detect(self, image: np.ndarray) -> list[Line]:
        """Lines of an RGB uint8 image, in Tesseract's reading order."""
        import tesserocr
        from PIL import Image

        with tesserocr.PyTessBaseAPI(path=str(tessdata_dir()), lang=self.settings.language) as api:
            api.SetImage(Image.fromarray(image))
            boxes = api.GetComponentImages(tesserocr.RIL.TEXTLINE, True)
        return [
            Line(f"l{i}", Quad.from_rect(b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]), det_score=1.0)
            for i, (_, b, _, _) in enumerate(boxes)
            if b["h"] >= self.settings.min_height
        ]
