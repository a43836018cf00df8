"""Glossary matching: golden tables for normalisation and lookup, file formats, and the two translators."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from imtrans.errors import ConfigError
from imtrans.translate.base import Translated
from imtrans.translate.glossary import (
    Glossary,
    GlossaryEntry,
    GlossaryFront,
    GlossaryTranslator,
    normalize_key,
)
from imtrans.types import Severity


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Exit", "exit"),
        ("  EXIT  ", "exit"),
        ("Emergency\n  Exit", "emergency exit"),
        ("ＥＸＩＴ", "exit"),  # (full-width Latin folds under NFKC)
        ("ｶﾀｶﾅ", "カタカナ"),  # half-width katakana
        ("비상\u3000구", "비상 구"),  # ideographic space
        ("Straße", "strasse"),  # casefold, not lower
        ("위 험", "위험"),  # letter-spaced sign lettering closes up
        ("出 口", "出口"),
        ("이 길 로", "이길로"),
        ("이 길로", "이 길로"),  # words of several glyphs keep their spaces
        ("A B", "a b"),  # Latin letters are words of their own
        ("", ""),
    ],
)
def test_normalize_key_folds_width_space_and_case(text: str, key: str) -> None:
    assert normalize_key(text) == key


GLOSSARY = Glossary(
    [
        GlossaryEntry("비상구", "Emergency exit"),
        GlossaryEntry("출구", "Exit"),
        GlossaryEntry("출구", "Sortie", target_lang="fr"),
        GlossaryEntry("화장실", "Restroom"),
        GlossaryEntry("Push", "미세요", source_lang="en", target_lang="ko"),
        GlossaryEntry("営業中", "Open"),
        GlossaryEntry("지하철 2호선 강남역", "Gangnam Station, Line 2"),
    ],
    fuzzy_threshold=90,
)


@pytest.mark.parametrize(
    ("text", "source", "target", "expected", "exact"),
    [
        ("비상구", "ko", "en", "Emergency exit", True),
        (" 비상구 ", "ko", "en", "Emergency exit", True),
        ("출구", "ko", "en", "Exit", True),
        ("출구", "ko", "fr", "Sortie", True),  # the entry naming the target language wins
        ("출구", "auto", "fr", "Sortie", True),
        ("PUSH", "en", "ko", "미세요", True),
        ("push", "ja", "ko", None, None),  # entry is for en->ko only
        ("営業中", "ja", "en", "Open", True),
        ("지하철 2호선 강남억", "ko", "en", "Gangnam Station, Line 2", False),  # one OCR slip: fuzzy
        ("지하철 2호선", "ko", "en", None, None),  # a part is not the whole segment
        ("비상구 계단", "ko", "en", None, None),  # whole-segment only: no substitution inside
        ("입구", "ko", "en", None, None),
        ("", "ko", "en", None, None),
    ],
)
def test_lookup_golden_table(
    text: str, source: str, target: str, expected: str | None, exact: bool | None
) -> None:
    match = GLOSSARY.lookup(text, source, target)
    if expected is None:
        assert match is None
    else:
        assert match is not None
        assert (match.translation, match.exact) == (expected, exact)


def test_fuzzy_threshold_100_disables_fuzzy_matching() -> None:
    strict = Glossary(GLOSSARY.entries, fuzzy_threshold=100)
    assert strict.lookup("지하철 2호선 강남억", "ko", "en") is None
    assert strict.lookup("비상구", "ko", "en") is not None


def test_later_entry_wins_between_equally_specific_duplicates() -> None:
    g = Glossary([GlossaryEntry("open", "A"), GlossaryEntry("Open", "B")])
    match = g.lookup("OPEN", "en", "ko")
    assert match is not None and match.translation == "B"


def test_csv_with_header_bom_languages_and_quoted_newline(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text(
        '\ufeffSource,Target,source_lang,target_lang\n비상구,Emergency exit,,\n출구,Sortie,KO,fr\n\n"두 줄\n텍스트",Two lines,,\n',
        encoding="utf-8",
    )
    g = Glossary.load(path)
    assert len(g) == 3
    assert g.entries[1] == GlossaryEntry("출구", "Sortie", "ko", "fr")
    assert g.lookup("두 줄 텍스트", "ko", "en") is not None


def test_json_mapping_and_list_forms(tmp_path: Path) -> None:
    mapping = tmp_path / "a.json"
    mapping.write_text(json.dumps({"출구": "Exit", "입구": "Entrance"}, ensure_ascii=False), encoding="utf-8")
    listed = tmp_path / "b.json"
    listed.write_text(
        json.dumps([{"source": "출구", "target": "Sortie", "target_lang": "fr"}], ensure_ascii=False),
        encoding="utf-8",
    )
    assert Glossary.load(mapping).lookup("입구", "ko", "en").translation == "Entrance"  # type: ignore[union-attr]
    assert Glossary.load(listed).lookup("출구", "ko", "en") is None
    assert Glossary.load(listed).lookup("출구", "ko", "fr").translation == "Sortie"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("a.csv", "from,to\nx,y\n", "first row must name the columns"),
        ("b.csv", "source,target\n,y\n", "line 2"),
        ("c.csv", "source,target,target_lang\nx,y,klingon\n", "unknown language code"),
        ("d.json", "{not json", "not valid JSON"),
        ("e.json", "[1, 2]", "item 0"),
        ("f.json", '"text"', "expected an object"),
    ],
)
def test_bad_glossary_files_give_one_line_config_errors(
    tmp_path: Path, name: str, content: str, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Glossary.load(path)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_glossary_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read glossary"):
        Glossary.load(tmp_path / "none.csv")


def test_glossary_translator_keeps_source_text_and_reports_misses() -> None:
    t = GlossaryTranslator(GLOSSARY)
    texts = ["비상구", "입구", "", "지하철 2호선 강남억"]
    answer = t.translate(texts, "ko", "en")
    assert answer.texts == ["Emergency exit", "입구", "", "Gangnam Station, Line 2"]
    assert [(n.index, n.code, n.severity) for n in answer.notes] == [
        (1, "glossary_miss", Severity.WARNING),
        (3, "glossary_fuzzy", Severity.INFO),
    ]
    # The answer carries its own notes: a second call starts with none of the first's.
    assert t.translate(["비상구"], "ko", "en").notes == ()


class RecordingTranslator:
    """A fake backend: upper-cases, and records each call."""

    name = "fake"
    model = "m1"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        self.calls.append(list(texts))
        return Translated([t.upper() for t in texts])


def test_glossary_front_sends_the_rest_in_one_batch_and_keeps_order() -> None:
    inner = RecordingTranslator()
    front = GlossaryFront(GLOSSARY, inner)
    out = front.translate(["hello", "출구", "world", "화장실", "bye"], "ko", "en").texts
    assert out == ["HELLO", "Exit", "WORLD", "Restroom", "BYE"]
    assert inner.calls == [["hello", "world", "bye"]]
    assert (front.name, front.model) == ("glossary+fake", "m1")


def test_glossary_front_does_not_call_inner_when_everything_matches() -> None:
    inner = RecordingTranslator()
    assert GlossaryFront(GLOSSARY, inner).translate(["출구", "화장실"], "ko", "en").texts == [
        "Exit",
        "Restroom",
    ]
    assert inner.calls == []


def test_glossary_front_keeps_its_answers_when_the_model_behind_it_is_missing(tmp_path: Path) -> None:
    from imtrans.errors import ModelMissingError
    from imtrans.translate.blocks import translate_blocks
    from imtrans.translate.local import LocalTranslator
    from imtrans.types import Block, Line, Quad, TranslateCode

    front = GlossaryFront(GLOSSARY, LocalTranslator(model_dir=tmp_path / "no-model"))
    answer = front.translate(["출구", "어서 오세요"], "ko", "en")
    assert answer.texts == ["Exit", ""]
    assert [(n.index, n.code) for n in answer.notes] == [(1, TranslateCode.NO_TRANSLATOR)]
    assert "does not exist" in answer.notes[0].message
    # On a page: the glossary's block is translated, the other has no translation and a diagnostic.
    box = Quad.from_rect(0, 0, 10, 10)
    blocks = [
        Block(f"b{i}", box, (Line(f"l{i}", box, text=text),), language="ko")
        for i, text in enumerate(["출구", "어서 오세요"])
    ]
    translations, diags = translate_blocks(front, blocks, "ko", "en")
    assert {k: t.text for k, t in translations.items()} == {"b0": "Exit"}
    assert [(d.code, d.block_id) for d in diags] == [("no_translator", "b1")]
    # With no glossary answer at all, the missing model is the page's error, as before.
    with pytest.raises(ModelMissingError):
        front.translate(["어서 오세요"], "ko", "en")
