"""The pipeline's own logic on small stages of our Protocols, in milliseconds.

These stages read a table instead of pixels: they test what the pipeline does with what the
stages say (which blocks it translates, erases and draws, what it reports), never whether a
model works; the component and e2e tiers run the real engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

import imtrans
from imtrans.pipeline import Pipeline
from imtrans.settings import Settings
from imtrans.translate.base import Translated
from imtrans.types import Line, Quad

# What the page "says": line id -> (box, text, language). Two rows far apart make two blocks.
PAGE = {
    "l0": ((20, 20, 220, 60), "출구", "ko"),
    "l1": ((20, 200, 220, 240), "Exit", "en"),
    "l2": ((20, 380, 220, 420), "1,500", ""),
    "l3": ((300, 20, 520, 60), "화장실", "ko"),
}


class TableDetector:
    name = "table"

    def detect(self, image: np.ndarray) -> list[Line]:
        return [Line(i, Quad.from_rect(*box), det_score=0.9) for i, (box, _, _) in PAGE.items()]


class TableRecognizer:
    name = "table"

    def recognize(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        return [
            replace(ln, text=PAGE[ln.id][1], language=PAGE[ln.id][2], confidence=0.95, recognizer=self.name)
            for ln in lines
        ]


class DictTranslator:
    """Knows two words; the pipeline must send each block once and keep the order."""

    name = "dict"
    model = "two-words"

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        self.asked.append(list(texts))
        return Translated([{"출구": "Way out", "화장실": "Toilet"}.get(t, t) for t in texts])


class WhiteEraser:
    name = "white"

    def erase(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = image.copy()
        out[mask > 0] = 255
        return out


def _image() -> np.ndarray:
    img = np.full((460, 560, 3), 255, np.uint8)
    for box, _, _ in PAGE.values():
        x0, y0, x1, y1 = box
        img[y0 + 12 : y1 - 12, x0 + 10 : x1 - 10 : 6] = 0  # strokes to erase
    return img


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline(
        Settings().with_overrides({"translate.cache": False}),
        detector=TableDetector(),
        recognizer=TableRecognizer(),
        translator=DictTranslator(),
        eraser=WhiteEraser(),
    )


def test_only_blocks_in_another_language_with_letters_are_translated(pipeline: Pipeline) -> None:
    result = pipeline.translate(_image())
    by_text = {b.text: b for b in result.blocks}
    assert set(by_text) == {"출구", "Exit", "1,500", "화장실"}
    text_of = {b.id: b.text for b in result.blocks}
    translated = {text_of[k]: v.text for k, v in result.page.translations.items()}
    assert translated == {"출구": "Way out", "화장실": "Toilet"}
    # One request for the Korean blocks, in reading order.
    assert pipeline.translator("ko").asked == [["출구", "화장실"]]
    codes = {(d.code, d.block_id) for d in result.page.diagnostics}
    assert ("already_target", by_text["Exit"].id) in codes
    assert ("no_letters", by_text["1,500"].id) in codes


def test_what_is_left_alone_is_not_erased(pipeline: Pipeline) -> None:
    image = _image()
    result = pipeline.translate(image)
    assert result.mask is not None
    for b in result.blocks:
        x0, y0, x1, y1 = (int(v) for v in b.quad.bbox)
        erased = result.mask[y0:y1, x0:x1].any()
        assert erased == (b.id in result.page.translations), b.text


def test_the_ready_stages_are_used_and_nothing_is_built(pipeline: Pipeline) -> None:
    pipeline.ocr(_image())
    assert pipeline.detector.name == "table" and pipeline.recognizer.name == "table"
    assert pipeline.eraser.name == "white" and pipeline.translator("ja").name == "dict"


def test_rerender_draws_an_edited_translation_without_reading_again(pipeline: Pipeline) -> None:
    image = _image()
    first = pipeline.translate(image)
    block_id = next(k for k, v in first.page.translations.items() if v.text == "Toilet")
    edited = first.page.with_(
        translations={
            **first.page.translations,
            block_id: replace(first.page.translations[block_id], text="WC"),
        }
    )
    again = pipeline.rerender(image, edited)
    assert again.page.translations[block_id].text == "WC"
    assert not np.array_equal(again.image, first.image)


def test_the_api_keeps_the_languages_of_the_settings_it_is_given(monkeypatch) -> None:
    seen: list[Settings] = []

    class Recording(Pipeline):
        def translate(self, image: np.ndarray):  # type: ignore[override]
            seen.append(self.settings)

        def ocr(self, image: np.ndarray):  # type: ignore[override]
            seen.append(self.settings)

    monkeypatch.setattr(imtrans, "Pipeline", Recording)
    s = Settings().with_overrides({"translate.target": "ko", "recognize.source": "ja"})
    imtrans.translate_image(_image(), settings=s)
    imtrans.ocr_image(_image(), settings=s)
    assert [(x.translate.target, x.recognize.source) for x in seen] == [("ko", "ja")] * 2
    imtrans.translate_image(_image(), target="zh", settings=s)
    assert (seen[-1].translate.target, seen[-1].recognize.source) == ("zh", "ja")
