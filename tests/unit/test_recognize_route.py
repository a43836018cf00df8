"""Which language a line's script implies (golden table)."""

import pytest

from imtrans.recognize.route import expected_chars, language_of
from imtrans.types import Direction, Line, Quad


@pytest.mark.parametrize(
    ("text", "page_has_kana", "expected"),
    [
        ("서울역", False, "ko"),
        ("출구 3번", False, "ko"),
        ("営業時間", False, "zh"),  # Han only, no kana on the page: Chinese
        ("営業時間", True, "ja"),  # ... unless the page has kana
        ("午前十時から", False, "ja"),
        ("欢迎光临", False, "zh"),
        ("Exit 3", False, "en"),
        ("Bonjour tout le monde, comment allez-vous", False, "fr"),
        ("12:30", False, ""),
        ("", False, ""),
    ],
)
def test_language_of_script_golden(text, page_has_kana, expected):
    assert language_of(text, page_has_kana) == expected


def test_expected_chars_uses_length_over_glyph_size():
    h = Line("a", Quad.from_rect(0, 0, 400, 40))
    v = Line("b", Quad.from_rect(0, 0, 40, 400), direction=Direction.VERTICAL)
    assert expected_chars(h) == 10
    assert expected_chars(v) == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [("서울역", True), ("출구 3번", True), ("5ㄷ6ㄷ040Ｌ", False), ("ㅇㅇ", False), ("", False)],
)
def test_only_readings_made_of_hangul_syllables_count_as_korean(text, expected):
    from imtrans.recognize.route import mostly_hangul_syllables

    assert mostly_hangul_syllables(text) is expected


class _Engine:
    """A recogniser that answers from a table (its Protocol's shape), for the routing logic only."""

    def __init__(self, answers, name):
        self.answers = answers
        self.name = name
        self.asked = []

    def read(self, image, lines):
        self.asked += [ln.id for ln in lines]
        return [self.answers[ln.id] for ln in lines]

    def read_lines(self, image, lines, language):
        return self.read(image, lines)


def _router(ppocr, tesseract):
    from imtrans.recognize.route import RoutingRecognizer

    return RoutingRecognizer(ppocr=_Engine(ppocr, "ppocr"), korean=_Engine(tesseract, "tesseract"))


def _lines(*ids):
    from imtrans.types import Line, Quad

    return [Line(i, Quad.from_rect(0, 40 * k, 200, 40 * k + 36)) for k, i in enumerate(ids)]


def test_a_confident_han_reading_on_a_korean_page_is_asked_of_tesseract_too():
    # "전시홀 A" read by PP-OCR as "人A" (0.91) on a wayfinding board whose other Korean line
    # PP-OCR could not read at all.
    router = _router(
        ppocr={"hall": ("人A", 0.91), "door": ("", 0.1), "zh": ("休闲酒吧", 0.95)},
        tesseract={"hall": ("전시홀 A", 0.85), "door": ("데블스도어", 0.9), "zh": ("ㅅ|ㅠ", 0.4)},
    )
    read = {ln.id: ln.text for ln in router.recognize(None, _lines("hall", "door", "zh"), "auto")}
    assert read == {"hall": "전시홀 A", "door": "데블스도어", "zh": "休闲酒吧"}


def test_han_readings_on_a_page_without_korean_are_not_asked_again():
    router = _router(ppocr={"zh": ("休闲酒吧", 0.95)}, tesseract={"zh": ("휴한", 0.99)})
    (line,) = router.recognize(None, _lines("zh"), "auto")
    assert line.text == "休闲酒吧" and router.korean.asked == []
