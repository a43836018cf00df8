"""Recognition with the real engines on text the tests draw in real fonts."""

from __future__ import annotations

import pytest
from fixtures import render_lines, render_vertical
from rapidfuzz.distance import Levenshtein

from imtrans.errors import ModelMissingError
from imtrans.recognize import make_recognizer
from imtrans.recognize.tesseract import TesseractRecognizer
from imtrans.settings import RecognizeSettings
from imtrans.types import Direction, Line


def cer(got: str, want: str) -> float:
    got, want = got.replace(" ", ""), want.replace(" ", "")
    return Levenshtein.distance(got, want) / max(1, len(want))


def lines_of(rendered, direction=Direction.HORIZONTAL) -> list[Line]:
    return [Line(f"l{i}", q, direction) for i, q in enumerate(rendered.quads)]


SAMPLES = {
    "ko": ["오늘은 날씨가 좋습니다", "서울역 시청 방면", "출구는 왼쪽에 있습니다"],
    "en": ["Fresh espresso daily", "Opening hours 10 to 8", "Please keep the door closed"],
    "ja": ["本日のおすすめ", "営業時間は午前十時から", "カタカナもひらがなも読めます"],
    "zh": ["欢迎光临本店", "今天天气很好", "请勿在此吸烟"],
}


@pytest.fixture(scope="module")
def recognizer():
    return make_recognizer(RecognizeSettings())


@pytest.mark.parametrize("lang", sorted(SAMPLES))
@pytest.mark.parametrize("size", [28, 48])
def test_reads_each_language_with_a_fixed_source(recognizer, lang, size):
    r = render_lines(SAMPLES[lang], lang, size=size, width=1100)
    read = recognizer.recognize(r.image, lines_of(r), lang)
    for line, want in zip(read, SAMPLES[lang], strict=True):
        assert cer(line.text, want) <= 0.1, (line.text, want)
        assert line.language == lang


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_auto_assigns_each_line_its_language(recognizer, lang):
    r = render_lines(SAMPLES[lang], lang, size=40, width=1100)
    read = recognizer.recognize(r.image, lines_of(r), "auto")
    for line, want in zip(read, SAMPLES[lang], strict=True):
        assert cer(line.text, want) <= 0.1, (line.text, want)
        # Japanese lines of Han only can pass for Chinese alone; the page has kana, so not here.
        assert line.language == lang, line.text


def test_auto_on_a_mixed_page_routes_korean_to_tesseract(recognizer):
    texts = ["서울역 시청 방면", "Fresh espresso daily", "本日のおすすめ"]
    import numpy as np

    parts = [
        render_lines([t], lang, size=40, width=900) for t, lang in zip(texts, ["ko", "en", "ja"], strict=True)
    ]
    image = np.concatenate([p.image for p in parts], axis=0)
    lines, offset = [], 0
    for i, p in enumerate(parts):
        (q,) = p.quads
        lines.append(Line(f"l{i}", type(q).from_list([(x, y + offset) for x, y in q.points])))
        offset += p.image.shape[0]
    read = recognizer.recognize(image, lines, "auto")
    assert [ln.language for ln in read] == ["ko", "en", "ja"]
    assert read[0].recognizer == "korean-ctc" and read[1].recognizer == "ppocr"
    assert cer(read[0].text, texts[0]) <= 0.1


def test_reads_a_vertical_japanese_column(recognizer):
    r = render_vertical(["縦書きの文章", "日本語です"], "ja")
    read = recognizer.recognize(r.image, lines_of(r, Direction.VERTICAL), "auto")
    assert [ln.language for ln in read] == ["ja", "ja"]
    assert cer(read[0].text, "縦書きの文章") <= 0.2
    assert cer(read[1].text, "日本語です") <= 0.2


def test_missing_tessdata_names_the_debian_package(tmp_path):
    r = render_lines(["서울역"], "ko")
    with pytest.raises(ModelMissingError, match="tesseract-ocr-kor"):
        TesseractRecognizer(tessdata=tmp_path).recognize(r.image, lines_of(r), "ko")


def test_low_confidence_lines_come_back_empty(recognizer):
    import numpy as np

    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (80, 400, 3), dtype=np.uint8)
    from imtrans.types import Quad

    (line,) = recognizer.recognize(noise, [Line("l0", Quad.from_rect(10, 10, 390, 70))], "auto")
    assert line.text == "" or line.confidence >= RecognizeSettings().min_confidence


@pytest.mark.parametrize(
    ("lang", "texts"), [("en", ["OK", "No!", "Go"]), ("ja", ["本", "はい", "東京"]), ("zh", ["好", "出口"])]
)
def test_short_lines_are_read_at_their_own_width(recognizer, lang, texts):
    # Crops are no longer padded to 320 px: a one- or two-glyph crop is read at its own width.
    r = render_lines(texts, lang, size=36, width=400)
    read = recognizer.recognize(r.image, lines_of(r), lang)
    assert [ln.text for ln in read] == texts
