"""Raw engines as baselines: what a user gets from the engine alone, without imtrans around it.

Each baseline reads a whole image and returns `Line`s (quad, text, direction), so that
`imtrans.evaluate.reading.score_reading` scores it exactly as it scores imtrans. They use the
engines' own defaults on purpose: a baseline is the engine as its users run it.

- `rapidocr`: `rapidocr.RapidOCR()` with the models its wheel ships (PP-OCRv6 det and rec
  small, the mobile angle classifier), its default configuration. It has no Hangul.
- `tesseract`: Tesseract on the whole page (automatic page segmentation), every language the
  dataset names at once (e.g. `kor+eng`), one line per Tesseract text line.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

import numpy as np

from imtrans.detect.geometry import order_quad
from imtrans.errors import ConfigError
from imtrans.types import Line, Quad


class Baseline(Protocol):
    """A raw engine that reads a whole image."""

    name: str

    def read(self, image: np.ndarray, languages: Sequence[str]) -> list[Line]: ...

    def describe(self) -> str: ...


class RapidOCRBaseline:
    """rapidocr's own pipeline (det, cls, rec) with its defaults and bundled models."""

    name = "rapidocr"

    def __init__(self) -> None:
        self._engine: Any = None

    def read(self, image: np.ndarray, languages: Sequence[str]) -> list[Line]:
        if self._engine is None:
            from rapidocr import RapidOCR

            self._engine = RapidOCR(params={"Global.log_level": "warning"})
        result = self._engine(np.ascontiguousarray(image[..., ::-1]))  # it takes BGR arrays
        if result.boxes is None:
            return []
        out = []
        for i, (pts, text, score) in enumerate(zip(result.boxes, result.txts, result.scores, strict=True)):
            ordered, direction = order_quad(np.asarray(pts, dtype=np.float64))
            out.append(
                Line(f"r{i}", Quad.from_list(ordered), direction, text=str(text), confidence=float(score))
            )
        return out

    def describe(self) -> str:
        return f"rapidocr:{package_version('rapidocr')}|defaults"


class TesseractBaseline:
    """Tesseract alone: the whole page, automatic page segmentation, all the dataset's languages."""

    name = "tesseract"

    def __init__(self) -> None:
        self._apis: dict[str, Any] = {}

    def read(self, image: np.ndarray, languages: Sequence[str]) -> list[Line]:
        import tesserocr
        from PIL import Image

        from imtrans.recognize.tesseract import TESS_MODELS, tessdata_dir

        models = "+".join(dict.fromkeys(TESS_MODELS[lang][0] for lang in languages if lang in TESS_MODELS))
        models = models or "eng"
        if models not in self._apis:
            self._apis[models] = tesserocr.PyTessBaseAPI(
                path=str(tessdata_dir()), lang=models, psm=tesserocr.PSM.AUTO
            )
        api = self._apis[models]
        api.SetImage(Image.fromarray(image))
        out: list[Line] = []
        for i, (_, box, _, _) in enumerate(api.GetComponentImages(tesserocr.RIL.TEXTLINE, True)):
            x, y, w, h = box["x"], box["y"], box["w"], box["h"]
            api.SetRectangle(x, y, w, h)
            text = " ".join(api.GetUTF8Text().split())
            conf = api.MeanTextConf() / 100
            if text:
                out.append(Line(f"t{i}", Quad.from_rect(x, y, x + w, y + h), text=text, confidence=conf))
        return out

    def describe(self) -> str:
        return f"tesseract:{_tesseract_version()}|psm:auto"


BASELINES = {"rapidocr": RapidOCRBaseline, "tesseract": TesseractBaseline}


def make_baseline(name: str) -> Baseline:
    """A baseline by name (`BASELINES`).

    Raises:
        ConfigError: The name is unknown.
    """
    try:
        return BASELINES[name]()
    except KeyError:
        raise ConfigError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}") from None


def package_version(pkg: str) -> str:
    """The installed version of a package, or "none"."""
    try:
        return version(pkg)
    except PackageNotFoundError:
        return "none"


def _tesseract_version() -> str:
    try:
        import tesserocr

        return str(tesserocr.tesseract_version().split()[1])
    except (ImportError, IndexError):
        return "none"
