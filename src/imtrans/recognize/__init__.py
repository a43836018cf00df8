"""Recognition: read the text of detected lines (see README.md)."""

from imtrans.recognize.base import Recognizer
from imtrans.recognize.route import RoutingRecognizer
from imtrans.settings import RecognizeSettings


def make_recognizer(settings: RecognizeSettings | None = None) -> Recognizer:
    """The recogniser for these settings (per-line routing between PP-OCR and Tesseract)."""
    return RoutingRecognizer(settings)


__all__ = ["Recognizer", "RoutingRecognizer", "make_recognizer"]
