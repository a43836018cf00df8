"""Detection: find text lines in an image (see README.md)."""

from imtrans.detect.base import Detector
from imtrans.settings import DetectSettings


def make_detector(settings: DetectSettings | None = None) -> Detector:
    """The detector for these settings (PP-OCRv6 from the rapidocr wheel)."""
    from imtrans.detect.ppocr import PPOCRDetector

    return PPOCRDetector(settings)


__all__ = ["Detector", "make_detector"]
