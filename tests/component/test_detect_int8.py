"""The shipped int8 detector (scripts/quantize_detector.py) finds what the fp32 original finds."""

from __future__ import annotations

import pytest
from fixtures import gradient_background, render_lines
from shapely.geometry import Polygon

from imtrans.detect import ppocr
from imtrans.detect.ppocr import PPOCRDetector, PPOCRDetectSettings
from imtrans.errors import ModelMissingError


def _iou(a, b) -> float:
    pa, pb = Polygon(a.points), Polygon(b.points)
    return pa.intersection(pb).area / pa.union(pb).area


@pytest.mark.parametrize(
    ("lang", "lines"),
    [
        ("ko", ["오늘의 추천 메뉴", "영업 시간 안내"]),
        ("en", ["Fresh bread daily", "Platform 3"]),
        ("ja", ["本日のおすすめ", "いらっしゃいませ"]),
        ("zh", ["欢迎光临本店", "禁止吸烟"]),
    ],
)
def test_int8_boxes_match_fp32_boxes(lang, lines):
    page = render_lines(lines, lang, size=30, width=640, background=gradient_background(640, 400, seed=3))
    fp32 = PPOCRDetector(PPOCRDetectSettings(precision="fp32")).detect(page.image)
    int8 = PPOCRDetector(PPOCRDetectSettings(precision="int8")).detect(page.image)
    assert len(int8) == len(fp32) == len(lines)
    for a, b in zip(fp32, int8, strict=True):
        assert _iou(a.quad, b.quad) > 0.8  # int8 box edges move by a few pixels


def test_missing_int8_model_names_the_way_out(monkeypatch, tmp_path):
    monkeypatch.setattr(ppocr, "DET_INT8_MODEL", tmp_path / "gone.onnx")
    with pytest.raises(ModelMissingError, match="detect.precision=fp32"):
        PPOCRDetector().detect(render_lines(["text"], "en").image)
