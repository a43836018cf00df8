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
    from imtrans.recognize.route import _mostly_hangul_syllables

    assert _mostly_hangul_syllables(text) is expected
