"""imtrans: translate the text inside images, offline first.

The Python API::

    import imtrans
    result = imtrans.translate_image("sign.jpg", target="en", glossary="terms.csv")
    result.image          # RGB numpy array with the translation drawn in
    result.blocks         # blocks > lines, with text, polygons, language, confidence
    result.to_json()      # everything, including timings and the resolved settings
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imtrans.imageio import load_image
from imtrans.pipeline import PageResult, Pipeline
from imtrans.settings import Settings
from imtrans.types import Block, Diagnostic, Direction, Line, Page, Quad, Style, Translation

__all__ = [
    "Block",
    "Diagnostic",
    "Direction",
    "Line",
    "Page",
    "PageResult",
    "Pipeline",
    "Quad",
    "Settings",
    "Style",
    "Translation",
    "erase_image",
    "ocr_image",
    "translate_image",
]

__version__ = "0.1.0"

ImageInput = str | Path | bytes | np.ndarray


def _image(image: ImageInput, settings: Settings) -> np.ndarray:
    if isinstance(image, np.ndarray):
        return image
    return load_image(image, settings.image)


def _settings(settings: Settings | None, **overrides: Any) -> Settings:
    base = settings or Settings()
    return base.with_overrides({k: v for k, v in overrides.items() if v is not None})


def translate_image(
    image: ImageInput,
    target: str | None = None,
    source: str | None = None,
    *,
    translator: str | None = None,
    glossary: str | Path | None = None,
    settings: Settings | None = None,
) -> PageResult:
    """Translate the text of an image in place.

    Args:
        image: a path, encoded bytes, or an RGB uint8 array.
        target: target language code; default: the settings' (``en``).
        source: source language code, or "auto" to decide per line; default: the settings' (``auto``).
        translator: backend name (`imtrans.registry.TRANSLATORS.names()`); default: the settings'.
        glossary: CSV or JSON file of fixed translations.
        settings: full settings; the arguments given (not None) override it.

    Returns:
        The page result: output image, erased image, blocks with translations, JSON.
    """
    s = _settings(
        settings,
        **{
            "translate.target": target,
            "recognize.source": source,
            "translate.translator": translator,
            "translate.glossary": str(glossary) if glossary else None,
        },
    )
    return Pipeline(s).translate(_image(image, s))


def ocr_image(
    image: ImageInput, source: str | None = None, *, settings: Settings | None = None
) -> PageResult:
    """Detect, recognise and group the text of an image (no translation); ``source`` overrides the settings'."""
    s = _settings(settings, **{"recognize.source": source})
    return Pipeline(s).ocr(_image(image, s))


def erase_image(image: ImageInput, *, settings: Settings | None = None) -> PageResult:
    """Remove the text of an image; `result.image` is the cleaned picture."""
    s = settings or Settings()
    return Pipeline(s).erase(_image(image, s))
