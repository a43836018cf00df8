"""The coarse detection passes: large, widely spaced lettering on big sign photos, and no harm elsewhere.

Without the coarse pass (extra_scales=[]) the PP-OCRv6 detector finds none, or only strokes, of
the big syllables in these images (measured: 46 of 116 lines on such scenes, 114 with [0.5]).
"""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import gradient_background, render_lines
from PIL import Image, ImageDraw

from imtrans.detect.geometry import Box
from imtrans.detect.ppocr import PPOCRDetector, PPOCRDetectSettings
from imtrans.recognize import make_recognizer
from imtrans.render.fonts import font_for
from imtrans.types import Direction

GREEN, BLUE = (0, 100, 60), (20, 60, 160)


def sign_scene(items, *, width, height, panel):
    """A photo-like frame around a flat sign panel; items are (text, lang, size, letter spacing, x, y).

    Returns the image and, per item, the exact box of each glyph drawn.
    """
    bg = gradient_background(width, height, seed=3)
    bg[60 : height - 60, 60 : width - 60] = panel
    img = Image.fromarray(bg)
    draw = ImageDraw.Draw(img)
    glyphs = []
    for text, lang, size, spacing, x, y in items:
        font = font_for(lang, bold=True).load(size)
        boxes = []
        for ch in text:
            if ch != " ":
                draw.text((x, y), ch, font=font, fill=(255, 255, 255))
                boxes.append(draw.textbbox((x, y), ch, font=font))
            x += draw.textlength(ch, font=font) + spacing
        glyphs.append(boxes)
    return np.asarray(img), glyphs


def covered(glyph, box: Box) -> float:
    """Share of a glyph's box inside a detected box (axis-aligned, as the boxes here are upright)."""
    x0, y0, x1, y1 = glyph
    bx0, by0, bx1, by1 = box.bbox
    inter = max(0.0, min(x1, bx1) - max(x0, bx0)) * max(0.0, min(y1, by1) - max(y0, by0))
    return inter / ((x1 - x0) * (y1 - y0))


def one_line_holds(glyphs, others, boxes) -> bool:
    """Some horizontal box covers every glyph of the line and none of the other lines' glyphs."""
    return any(
        b.direction is Direction.HORIZONTAL
        and all(covered(g, b) > 0.8 for g in glyphs)
        and not any(covered(g, b) > 0.3 for o in others for g in o)
        for b in boxes
    )


@pytest.fixture(scope="module")
def detector():
    return PPOCRDetector(PPOCRDetectSettings())


# (big Korean name, size, letter spacing, image width, panel colour); English name below it.
SIGNS = [
    ("서울", "Seoul", 150, 150, 3000, BLUE),  # the main pass alone finds nothing at all here
    ("서울", "Seoul", 300, 300, 1600, BLUE),
    ("대전", "Daejeon", 400, 250, 1600, GREEN),
    ("인천공항", "Incheon Airport", 150, 150, 1600, GREEN),
    ("부산 광역시", "Busan", 200, 200, 3000, BLUE),
]


@pytest.mark.slow
@pytest.mark.parametrize(("korean", "english", "size", "spacing", "width", "panel"), SIGNS)
def test_big_widely_spaced_hangul_on_a_large_sign_photo_is_one_line(
    detector, korean, english, size, spacing, width, panel
):
    items = [
        (korean, "ko", size, spacing, 150, 150),
        (english, "en", size // 3, 0, 150, 150 + int(size * 1.6)),
    ]
    image, glyphs = sign_scene(items, width=width, height=width * 2 // 3, panel=panel)
    boxes = detector.detect_boxes(image)
    assert one_line_holds(glyphs[0], glyphs[1:], boxes), [b.bbox for b in boxes]
    assert one_line_holds(glyphs[1], glyphs[:1], boxes), [b.bbox for b in boxes]


@pytest.mark.slow
def test_the_big_sign_is_read_back_in_korean_and_english(detector):
    items = [("부산 광역시", "ko", 200, 200, 150, 150), ("Busan", "en", 66, 0, 150, 470)]
    image, _ = sign_scene(items, width=3000, height=2000, panel=BLUE)
    read = [ln for ln in make_recognizer().recognize(image, detector.detect(image), "auto") if ln.text]
    assert [(ln.text.replace(" ", ""), ln.language) for ln in read] == [("부산광역시", "ko"), ("Busan", "en")]


PAGE = {
    "en": ["The quick brown fox jumps", "Exit 12 to Seoul Station"],
    "ko": ["서울특별시 중구 세종대로", "대전역 방면으로 가세요"],
    "ja": ["東京都千代田区丸の内", "お手洗いはこちらです"],
    "zh": ["北京市朝阳区建国路", "欢迎光临我们的商店"],
}


@pytest.mark.parametrize("size", [14, 24, 48])
def test_coarse_passes_leave_ordinary_text_as_the_main_pass_found_it(size):
    lines = [t for texts in PAGE.values() for t in texts]
    width = size * 16 + 80
    page = render_lines(
        lines, "ko", size=size, width=width, background=gradient_background(width, 2000, seed=size)
    )
    main_only = PPOCRDetector(PPOCRDetectSettings(extra_scales=[])).detect(page.image)
    with_coarse = PPOCRDetector(PPOCRDetectSettings(extra_scales=[0.5, 0.25])).detect(page.image)
    assert len(with_coarse) == len(lines)
    assert [ln.quad for ln in with_coarse] == [ln.quad for ln in main_only]


def test_small_text_on_a_large_photo_is_found_again_at_full_resolution():
    # 20 px lettering on a 4000 px photo is 10 px in the main pass (read at 2048 px): its map
    # lights up but no box passes the threshold. The fine pass reads that spot at full size.
    img = Image.fromarray(gradient_background(4000, 3000, seed=3))
    draw = ImageDraw.Draw(img)
    font = font_for("en", bold=True).load(20)
    draw.text((1400, 1200), "CCTV camera", font=font, fill=(20, 20, 20))
    glyphs = [draw.textbbox((1400, 1200), "CCTV camera", font=font)]
    image = np.asarray(img)
    without = PPOCRDetector(PPOCRDetectSettings(fine_threshold=0)).detect_boxes(image)
    with_fine = PPOCRDetector(PPOCRDetectSettings()).detect_boxes(image)
    assert not any(covered(glyphs[0], b) > 0.5 for b in without)
    assert one_line_holds(glyphs, [], with_fine)
    # Nothing else on the page changes: the fine pass only adds boxes where none was.
    assert len(with_fine) == len(without) + 1
