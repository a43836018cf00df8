"""Golden tables for line breaking. The measure is `len`: one unit per character."""

from __future__ import annotations

import pytest

from imtrans.render.breaking import (
    NO_END,
    NO_START,
    break_text,
    break_vertical,
    can_break_between,
    paragraphs,
)

BREAK_TEXT = [
    # English: spaces only while every word fits on a line.
    (
        "en",
        "the quick brown fox jumps over the lazy dog",
        10,
        ["the quick", "brown fox", "jumps over", "the lazy", "dog"],
    ),
    ("en", "hi", 10, ["hi"]),
    ("en", "", 10, []),
    ("en", "  spaced   out  ", 20, ["spaced out"]),
    ("en", "first line\nsecond", 20, ["first line", "second"]),
    # A number stays with its unit: the pair moves to the next line whole.
    ("en", "Open daily from 10 a.m.", 18, ["Open daily from", "10\u00a0a.m."]),  # not "...from 10"
    ("en", "Only 25 km to Busan", 9, ["Only", "25\u00a0km to", "Busan"]),
    ("en", "Save 30 % today", 8, ["Save", "30\u00a0%", "today"]),
    ("en", "Gate 3 opens at 7", 9, ["Gate 3", "opens at", "7"]),  # a word, not a unit, before it
    ("en", "blank\n\n\nlines", 20, ["blank", "lines"]),
    # English: a word longer than a line is hyphenated (pyphen), filling the current line first.
    ("en", "a supercalifragilistic word", 8, ["a super-", "cal-", "ifrag-", "ilistic", "word"]),
    ("en", "well-known extraordinarily", 7, ["well-", "known", "ex-", "traor-", "dinari-", "ly"]),
    ("en", "Wait a moment, please!", 6, ["Wait a", "mo-", "ment,", "pleas-", "e!"]),
    # ... and split between letters when no syllable fits.
    ("en", "WWWW", 2, ["W-", "W-", "WW"]),
    ("fr", "extraordinairement", 8, ["extraor-", "dinaire-", "ment"]),
    # Korean: spaces first, then between syllables; punctuation never starts a line.
    ("ko", "안녕하세요 여러분 반갑습니다", 6, ["안녕하세요", "여러분", "반갑습니다"]),
    ("ko", "가나다라마바사아자차카타파하.", 5, ["가나다라마", "바사아자차", "카타파하."]),
    ("ko", "정말? 그래요!", 4, ["정말?", "그래요!"]),
    # Japanese: per character with kinsoku (no 」、。っ ょ ー at a line start, no 「 at an end).
    (
        "ja",
        "「こんにちは」と言った。ちょっと待って、ください！",
        5,
        ["「こんにち", "は」と言っ", "た。ちょっ", "と待って、", "ください！"],
    ),
    ("ja", "ラーメンを食べた", 3, ["ラーメ", "ンを食", "べた"]),
    ("ja", "あっ、そうか……わかった。", 4, ["あっ、そ", "うか……", "わかっ", "た。"]),
    ("ja", "これはiPhoneです", 6, ["これは", "iPhone", "です"]),
    # ... and a paragraph does not end on a line of one glyph: the line above gives it a piece.
    ("ja", "テスト「あ」", 4, ["テス", "ト「あ」"]),
    ("ja", "ありがとう", 4, ["ありが", "とう"]),
    # Chinese: the same rules with Chinese punctuation.
    ("zh", "我们今天去公园玩，好不好？", 6, ["我们今天去公", "园玩，好", "不好？"]),
    ("zh", "他说：“你好。”", 3, ["他说：", "“你", "好。”"]),
]


@pytest.mark.parametrize(("language", "text", "width", "expected"), BREAK_TEXT)
def test_break_text_golden(language: str, text: str, width: int, expected: list[str]) -> None:
    assert break_text(text, language, width, len) == expected


def test_whole_words_are_not_split_when_splitting_is_off() -> None:
    lines = break_text("Wait a moment, please!", "en", 6, len, split_words=False)
    assert lines == ["Wait a", "moment,", "please!"]


def test_lines_fit_whenever_a_glyph_fits() -> None:
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt"
    for width in range(3, 30):
        assert all(len(line) <= width for line in break_text(text, "en", width, len))


def test_a_piece_wider_than_the_line_overflows_instead_of_looping() -> None:
    assert break_text("ab", "en", 0, len) == ["a-", "b"]
    assert break_text("あい", "ja", 0, len) == ["あ", "い"]
    assert break_text("当？」", "ja", 1, len) == ["当？」"]


@pytest.mark.parametrize("language", ["ja", "zh"])
def test_kinsoku_holds_for_every_width(language: str) -> None:
    text = "「えっ、本当？」と彼女は言った。（ちょっと待ってね）……ラーメン、食べよう！"
    # Kinsoku is never broken: a cluster wider than the line overflows it instead.
    for width in range(1, 20):
        lines = break_text(text, language, width, len)
        assert "".join(lines) == text
        for line in lines[1:]:
            assert line[0] not in NO_START, (width, lines)
        for line in lines[:-1]:
            assert line[-1] not in NO_END, (width, lines)


def test_no_break_inside_latin_words_or_doubled_ellipsis() -> None:
    assert not can_break_between("a", "b")
    assert not can_break_between("…", "…")
    assert not can_break_between("「", "あ")
    assert not can_break_between("あ", "。")
    assert can_break_between("あ", "い")


BREAK_VERTICAL = [
    ("ja", "あっ、そうか……わかった。", 4, ["あっ、そ", "うか……", "わかっ", "た。"]),
    ("zh", "你好，世界！", 3, ["你好，", "世界！"]),
    ("zh", "你好，世界！", 2, ["你", "好，", "世", "界！"]),
    ("ja", "「あっ」", 1, ["「あっ」"]),
    ("ja", "一二三\n四", 9, ["一二三", "四"]),
]


@pytest.mark.parametrize(("language", "text", "height", "expected"), BREAK_VERTICAL)
def test_break_vertical_golden(language: str, text: str, height: int, expected: list[str]) -> None:
    assert break_vertical(text, language, height, len) == expected


def test_a_bulleted_list_joined_into_one_line_keeps_one_item_a_line() -> None:
    # A product page's list, read as one block and joined: each item starts a line again.
    text = "· 매일매일 진해지는 다크서클 · 축축 처지는 피부 · 나날이 늘어가는 주름"
    assert break_text(text, "ko", 1000, len) == [
        "· 매일매일 진해지는 다크서클",
        "· 축축 처지는 피부",
        "· 나날이 늘어가는 주름",
    ]


def test_a_middle_dot_between_words_is_not_a_list() -> None:
    assert paragraphs("Price · 3,000 · tax") == ["Price · 3,000 · tax"]
    assert paragraphs("クラフトビア・パブ・バー") == ["クラフトビア・パブ・バー"]
