"""The settings model: validation, overrides, language codes."""

import pytest

from imtrans.errors import ConfigError, LanguageError
from imtrans.languages import source_language, target_language
from imtrans.settings import Settings


@pytest.mark.parametrize(
    ("code", "expected"),
    [("ko", "ko"), ("KOR", "ko"), ("ja_JP", "ja"), ("zh-Hans", "zh"), ("english", "en"), ("auto", "auto")],
)
def test_source_language_aliases(code, expected):
    assert source_language(code) == expected


@pytest.mark.parametrize("code", ["xx", "", "klingon", "auto-detect"])
def test_unknown_language_is_a_one_line_error(code):
    with pytest.raises(LanguageError, match="unknown language code"):
        source_language(code)


def test_target_cannot_be_auto():
    with pytest.raises(LanguageError):
        target_language("auto")


def test_overrides_are_validated_and_dotted():
    s = Settings().with_overrides({"detect.max_side": 1024, "translate.target": "KO"})
    assert s.detect.max_side == 1024
    assert s.translate.target == "ko"
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings().with_overrides({"detect.nope": 1})
    with pytest.raises(ConfigError, match="detect.max_side"):
        Settings().with_overrides({"detect.max_side": 3})
    with pytest.raises(LanguageError):
        Settings().with_overrides({"translate.target": "xx"})


def test_settings_round_trip_through_a_file(tmp_path):
    s = Settings().with_overrides({"erase.dilate": 4, "translate.glossary": "g.csv"})
    p = tmp_path / "s.json"
    p.write_text(s.model_dump_json())
    assert Settings.load(p) == s


def test_translator_defaults_to_glossary_when_a_glossary_is_given():
    assert Settings().translate.resolved_translator == "local"
    assert (
        Settings().with_overrides({"translate.glossary": "g.csv"}).translate.resolved_translator == "glossary"
    )


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("Seoul Station", "en", "en"),
        ("서울역", "en", "ko"),
        ("カフェ", "en", "ja"),
        ("北京", "en", "zh"),
        ("東京", "ja", "ja"),
        ("Exit 3 (출구)", "fr", "ko"),
    ],
)
def test_language_of_script_picks_a_font_language_that_has_the_glyphs(text, default, expected):
    from imtrans.languages import language_of_script

    assert language_of_script(text, default) == expected


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("忙碌中忘了微笑", "en", "en"),  # a translation is laid out in its target
        ("忙碌中忘了微笑", "auto", "zh"),  # a page's own text drawn again: its script's
        ("って", "auto", "ja"),
        ("전시홀 A", "auto", "ko"),
        ("Hall A", "auto", "auto"),
    ],
)
def test_the_language_a_drawing_is_laid_out_in(text, target, expected):
    from imtrans.languages import drawn_language

    assert drawn_language(text, target) == expected


def test_settings_load_from_a_result_json(tmp_path):
    import json

    s = Settings().with_overrides({"detect.max_side": 1536})
    p = tmp_path / "out.json"
    p.write_text(json.dumps({"width": 1, "height": 1, "blocks": [], "settings": s.to_dict()}))
    assert Settings.load(p) == s


def test_unreadable_settings_file_is_a_config_error(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read settings file"):
        Settings.load(p)
