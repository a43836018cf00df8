"""The whole pipeline on images the tests draw: real engines, glossary translation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fixtures import gradient_background, render_lines, render_vertical

from imtrans import translate_image
from imtrans.pipeline import Pipeline
from imtrans.settings import Settings
from imtrans.types import Direction, Page


def glossary(tmp_path, rows):
    p = tmp_path / "g.csv"
    p.write_text("source,target\n" + "".join(f'{s},"{t}"\n' for s, t in rows), encoding="utf-8")
    return p


def settings(tmp_path, rows, **more):
    return Settings().with_overrides(
        {"translate.glossary": str(glossary(tmp_path, rows)), "translate.cache": False, **more}
    )


@pytest.fixture(scope="module")
def vertical_ja():
    return render_vertical(["いったい", "何が起きたんだ"], "ja", size=44, width=420, height=480)


@pytest.mark.slow
def test_vertical_japanese_becomes_horizontal_english_in_place(tmp_path, vertical_ja):
    s = settings(tmp_path, [("いったい何が起きたんだ", "What on earth happened?")])
    result = Pipeline(s).translate(vertical_ja.image)
    (block,) = result.blocks
    assert block.direction is Direction.VERTICAL and block.language == "ja"
    assert result.page.translations[block.id].text == "What on earth happened?"
    x0, y0, x1, y1 = (int(v) for v in block.quad.bbox)
    changed = np.any(result.image != vertical_ja.image, axis=2)
    assert changed[y0:y1, x0:x1].any()
    # The bottom strip of the page holds no text: the drawing never reaches it.
    assert not changed[-40:].any()


@pytest.mark.slow
def test_vertical_japanese_stays_vertical_in_chinese(tmp_path, vertical_ja):
    s = settings(tmp_path, [("いったい何が起きたんだ", "到底发生了什么")], **{"translate.target": "zh"})
    result = Pipeline(s).translate(vertical_ja.image)
    ink = np.argwhere(np.any(result.image < 128, axis=2))
    height = ink[:, 0].max() - ink[:, 0].min()
    width = ink[:, 1].max() - ink[:, 1].min()
    assert height > 2 * width  # drawn as a column, not a row


@pytest.mark.slow
def test_paragraph_on_a_gradient_is_erased_and_redrawn_in_its_colour(tmp_path):
    bg = gradient_background(900, 300, seed=3)
    r = render_lines(
        ["오늘은 날씨가 좋습니다"], "ko", size=44, color=(180, 20, 20), background=bg, width=900, height=300
    )
    s = settings(tmp_path, [("오늘은 날씨가 좋습니다", "The weather is nice today")])
    result = Pipeline(s).translate(r.image)
    (block,) = result.blocks
    style = result.page.styles[block.id]
    assert np.abs(np.array(style.text_color) - (180, 20, 20)).max() < 40
    # Erased: inside the original text mask, the erased image is close to the clean background.
    inside = r.mask > 0
    err = np.abs(result.erased.astype(int) - r.background.astype(int))[inside].mean()
    assert err < 12
    # Drawn: reddish ink appears where the text was.
    red = (result.image[..., 0] > 120) & (result.image[..., 1] < 90)
    assert red.sum() > 300


@pytest.mark.slow
def test_rerender_draws_an_edited_translation_without_reading_again(tmp_path, vertical_ja):
    s = settings(tmp_path, [("いったい何が起きたんだ", "What happened?")])
    pipeline = Pipeline(s)
    first = pipeline.translate(vertical_ja.image)
    (block,) = first.blocks
    edited = {block.id: replace(first.page.translations[block.id], text="Nothing at all")}
    again = pipeline.rerender(vertical_ja.image, first.page.with_(translations=edited))
    assert again.page.translations[block.id].text == "Nothing at all"
    assert "detect" not in again.page.timings and "recognize" not in again.page.timings
    assert not np.array_equal(again.image, first.image)
    # The result says where the translation was drawn: the bounds of every changed pixel
    # there (eval reads the drawing back inside them, not inside the source column).
    for result in (first, again):
        x0, y0, x1, y1 = result.drawn[block.id]
        changed = np.any(result.image != result.erased, axis=2)
        ys, xs = np.nonzero(changed)
        assert (xs.min(), ys.min()) >= (x0 - 2, y0 - 2) and (xs.max(), ys.max()) < (x1 + 2, y1 + 2)
        assert x1 - x0 > block.quad.width  # a horizontal line wider than the column it replaces


@pytest.mark.slow
def test_result_json_loads_back_into_the_same_page(tmp_path):
    r = render_lines(["Fresh espresso daily"], "en", size=40)
    result = translate_image(
        r.image, target="fr", glossary=glossary(tmp_path, [("Fresh espresso daily", "Espresso frais")])
    )
    text = result.to_json()
    # JSON rounds coordinates and scores; loading and dumping again changes nothing more.
    assert Page.from_json(text).to_json() == text
    assert [b.text for b in Page.from_json(text).blocks] == [b.text for b in result.blocks]
    assert result.page.translations[result.blocks[0].id].text == "Espresso frais"


@pytest.mark.slow
def test_text_already_in_the_target_language_is_left_alone(tmp_path):
    r = render_lines(["Fresh espresso daily"], "en", size=40)
    result = Pipeline(settings(tmp_path, [])).translate(r.image)
    assert np.array_equal(result.image, r.image)
    assert [d.code for d in result.page.diagnostics] == ["already_target"]
