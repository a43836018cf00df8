"""The trained Korean recogniser (`korean-ctc`) shipped in the package: reads Korean lines,
prices and mixed Latin; vertical columns restacked; missing model named; routed by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from imtrans.errors import ModelMissingError
from imtrans.evaluate.metrics import cer
from imtrans.recognize.korean import MODEL_PATH, KoreanRecognizer
from imtrans.types import Direction, Line, Quad

FONT = "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf"


def _page(texts: list[str], size: int = 40) -> tuple[np.ndarray, list[Line]]:
    font = ImageFont.truetype(FONT, size)
    page = Image.new("RGB", (900, 80 * len(texts) + 20), (245, 240, 230))
    draw = ImageDraw.Draw(page)
    lines = []
    for i, text in enumerate(texts):
        x0, y0, x1, y1 = draw.textbbox((30, 20 + 80 * i), text, font=font)
        draw.text((30, 20 + 80 * i), text, font=font, fill=(30, 30, 30))
        m = 0.2 * (y1 - y0)
        lines.append(Line(id=str(i), quad=Quad.from_rect(x0 - m, y0 - m, x1 + m, y1 + m)))
    return np.asarray(page), lines


def test_the_shipped_model_is_small_enough_to_ship() -> None:
    assert MODEL_PATH.is_file()
    assert MODEL_PATH.stat().st_size <= 20 * 1024 * 1024


def test_reads_korean_lines_prices_phone_numbers_and_latin() -> None:
    texts = ["김치찌개 8,000원", "영업시간 11:00~22:00", "주차장 입구", "CAFE 커피", "02-123-4567", "화장실"]
    image, lines = _page(texts)
    out = KoreanRecognizer().recognize(image, lines, "ko")
    assert [ln.language for ln in out] == ["ko"] * len(texts)
    assert all(ln.recognizer == "korean-ctc" and 0 < ln.confidence <= 1 for ln in out)
    errors = [cer(ln.text, t) for ln, t in zip(out, texts, strict=True)]
    assert float(np.mean(errors)) <= 0.05, [ln.text for ln in out]


def test_a_vertical_column_is_read_top_to_bottom() -> None:
    font = ImageFont.truetype(FONT, 44)
    page = Image.new("RGB", (120, 330), "white")
    draw = ImageDraw.Draw(page)
    for i, ch in enumerate("냉면집"):
        draw.text((35, 20 + 95 * i), ch, font=font, fill="black")
    line = Line(id="v", quad=Quad.from_rect(22, 8, 98, 310), direction=Direction.VERTICAL)
    ((text, _conf),) = KoreanRecognizer().read_lines(np.asarray(page), [line])
    assert text.replace(" ", "") == "냉면집"


def test_a_missing_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="korean"):
        KoreanRecognizer(tmp_path / "korean_missing.onnx").read_crops([np.zeros((32, 64, 3), np.uint8)])


def test_the_router_reads_korean_with_it_by_default_and_tesseract_stays_available_by_name() -> None:
    from imtrans.recognize import make_recognizer
    from imtrans.registry import RECOGNIZERS
    from imtrans.settings import Settings

    assert {"korean-ctc", "tesseract"} <= set(RECOGNIZERS.names())
    texts = ["주차장 입구", "화장실"]
    image, lines = _page(texts)
    router = make_recognizer(Settings().with_overrides({"recognize.korean": "korean-ctc"}).recognize)
    out = router.recognize(image, lines, "auto")
    assert [ln.recognizer for ln in out] == ["korean-ctc"] * 2
    assert [ln.language for ln in out] == ["ko", "ko"]
    assert float(np.mean([cer(ln.text, t) for ln, t in zip(out, texts, strict=True)])) <= 0.05
    assert make_recognizer(Settings().recognize).korean.name == "korean-ctc"  # type: ignore[attr-defined]
    tess = make_recognizer(Settings().with_overrides({"recognize.korean": "tesseract"}).recognize)
    assert tess.korean.name == "tesseract"  # type: ignore[attr-defined]
