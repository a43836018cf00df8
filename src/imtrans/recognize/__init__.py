"""Recognition: read the text of detected lines (see README.md)."""

from imtrans.recognize.base import LineReader, Recognizer
from imtrans.registry import RECOGNIZERS
from imtrans.settings import RecognizeSettings, Settings


def make_recognizer(settings: RecognizeSettings | None = None) -> Recognizer:
    """The recogniser that ``settings.backend`` names (default ``auto``: per-line routing
    between PP-OCR and a Korean reader, Tesseract by default)."""
    recognizer: Recognizer = RECOGNIZERS.build(settings or Settings().recognize)
    return recognizer


__all__ = ["LineReader", "Recognizer", "make_recognizer"]
