"""Detection: find text lines in an image (see README.md)."""

from imtrans.detect.base import Detector
from imtrans.registry import DETECTORS
from imtrans.settings import DetectSettings, Settings


def make_detector(settings: DetectSettings | None = None) -> Detector:
    """The detector that ``settings.backend`` names (PP-OCRv6 from the rapidocr wheel by default)."""
    detector: Detector = DETECTORS.build(settings or Settings().detect)
    return detector


__all__ = ["Detector", "make_detector"]
