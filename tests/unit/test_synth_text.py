"""Cleaning and splitting of the synthetic generator's sentences: golden tables, no files read."""

from __future__ import annotations

import pytest

from imtrans.synth.text import LENGTHS, Source, build_corpus, clauses, clean_text, split_sentences

CLEAN = [
    # Kept, with whitespace collapsed (and removed for ja/zh).
    ("ko", "국회의원은  청렴의 의무가 있다.", "국회의원은 청렴의 의무가 있다."),
    ("en", "Cats are   smarter than dogs.", "Cats are smarter than dogs."),
    ("ja", "空行は 無視されます。", "空行は無視されます。"),
    ("zh", "江上柳如烟，雁飞残月天。", "江上柳如烟，雁飞残月天。"),
    # Other scripts, brackets and numbering are dropped.
    ("ko", "대법원 (안 제63조)", None),
    ("ko", "민주공화국 Korea", None),
    ("ko", "제1조 대한민국", None),  # digits are article numbers in these sources
    ("ko", "기본 계획 가.", None),  # a bill's list marker
    ("ko", "비용추계 요약 가", None),  # ... after the clause split took its period
    ("en", "Use ls(1) to list", None),
    ("en", "or is it just me", None),  # a clause from mid-sentence
    ("en", "Café au lait", None),
    ("ja", "ls コマンドを使う", None),
    ("ja", "を実行する。", None),  # starts with a particle: a removed word stood before it
    ("ja", "漢字だけ", "漢字だけ"),
    ("ja", "漢字漢字", None),  # no kana: Chinese, not Japanese
    ("zh", "邦君諸侯", None),  # traditional characters are outside GB2312
    ("zh", "これは日本語", None),
    ("zh", "「未闭合", None),  # unbalanced quote: a cut-off fragment
    ("zh", "，开头", None),  # starts with punctuation
    ("en", "", None),
]


@pytest.mark.parametrize(("lang", "raw", "expected"), CLEAN)
def test_clean_text_keeps_only_the_language_script(lang: str, raw: str, expected: str | None) -> None:
    assert clean_text(raw, lang) == expected


def test_split_sentences_at_sentence_ends() -> None:
    assert split_sentences("Go home. Now! Why? ok", "en") == ["Go home.", "Now!", "Why? ok"]
    assert split_sentences("雨が降る。晴れる！", "ja") == ["雨が降る。", "晴れる！"]
    assert split_sentences("국회는 열린다. 대통령은 선서한다.", "ko") == [
        "국회는 열린다.",
        "대통령은 선서한다.",
    ]


def test_clauses_split_at_commas_without_closing_punctuation() -> None:
    assert clauses("斜月沉沉藏海雾，碣石潇湘无限路。", "zh") == ["斜月沉沉藏海雾", "碣石潇湘无限路"]
    assert clauses("Eat, drink and be merry.", "en") == ["Eat", "drink and be merry"]


def test_build_corpus_sorts_by_length_and_drops_duplicates() -> None:
    src = (Source("t", "p", "pypi", "x", "/"),)
    corpus = build_corpus("en", ["Stop here. Stop here. Keep out of reach, children."], src)
    assert corpus.texts["short"].count("Stop here.") == 1
    assert "Keep out of reach" in corpus.texts["short"]
    for kind, texts in corpus.texts.items():
        lo, hi = LENGTHS["en"][kind]
        assert all(lo <= len(t) <= hi for t in texts)
    assert corpus.raw_count >= 3
