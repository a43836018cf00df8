"""A backend is one file: the four examples of docs/extending.md, registered here, run the pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures import render_lines

from imtrans.pipeline import Pipeline
from imtrans.registry import DETECTORS, ERASERS, RECOGNIZERS, TRANSLATORS
from imtrans.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "backends"


@pytest.fixture
def examples(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from median_fill import MedianFillEraser
    from rapidocr_lines import RapidOCRLineRecognizer
    from tesseract_lines import TesseractLineDetector
    from word_dictionary import WordDictionaryTranslator

    added = [
        (DETECTORS, "tesseract-lines", TesseractLineDetector),
        (RECOGNIZERS, "rapidocr-lines", RapidOCRLineRecognizer),
        (TRANSLATORS, "word-dictionary", WordDictionaryTranslator),
        (ERASERS, "median-fill", MedianFillEraser),
    ]
    for registry, name, backend in added:
        registry.register(name, backend)
    yield
    for registry, name, _ in added:
        registry.unregister(name)


@pytest.mark.slow
def test_the_four_example_backends_translate_a_page(examples, tmp_path: Path) -> None:
    words = tmp_path / "words.tsv"
    words.write_text("EXIT\t출구\nOPEN\t영업\nDAILY\t매일\n", encoding="utf-8")
    page = render_lines(["EXIT NOW", "OPEN DAILY"], "en", size=44, width=520, spacing=2.2)
    settings = Settings().with_overrides(
        {
            "detect.backend": "tesseract-lines",
            "detect.language": "eng",
            "recognize.backend": "rapidocr-lines",
            "translate.translator": "word-dictionary",
            "translate.dictionary": str(words),
            "translate.cache": False,
            "translate.target": "ko",
            "erase.backend": "median-fill",
        }
    )
    result = Pipeline(settings).translate(page.image)
    read = [b.text for b in result.blocks]
    assert read == ["EXIT NOW", "OPEN DAILY"]
    assert sorted(t.text for t in result.page.translations.values()) == ["영업 매일", "출구 NOW"]
    misses = [d for d in result.page.diagnostics if d.code == "untranslated_words"]
    assert len(misses) == 1 and "NOW" in misses[0].message
    # Erased and drawn where the text was, nowhere else.
    changed = np.any(result.image != page.image, axis=2)
    inside = np.zeros_like(changed)
    for block in result.blocks:
        x0, y0, x1, y1 = (int(v) for v in block.quad.bbox)
        inside[max(0, y0 - 12) : y1 + 12, max(0, x0 - 12) : x1 + 12] = True
    assert changed[inside].any() and not changed[~inside].any()
    assert "tesserocr" in result.page.versions and "rapidocr" in result.page.versions
    assert result.page.settings["erase"] == {"backend": "median-fill", "dilate": 2, "ring": 3}


def test_an_entry_point_of_an_installed_package_adds_a_backend(tmp_path: Path, monkeypatch) -> None:
    # What `pip install` of a package declaring [project.entry-points."imtrans.erasers"] leaves behind.
    dist = tmp_path / "imtrans_median_fill-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: imtrans-median-fill\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[imtrans.erasers]\nmedian-fill = median_fill:MedianFillEraser\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLES))
    assert "median-fill" in ERASERS.names()
    s = Settings().with_overrides({"erase.backend": "median-fill", "erase.ring": 5})
    eraser = ERASERS.build(s.erase)
    image = np.full((60, 80, 3), 200, np.uint8)
    image[20:40, 30:50] = 0
    mask = np.zeros((60, 80), np.uint8)
    mask[18:42, 28:52] = 255
    out = eraser.erase(image, mask)
    assert (out == 200).all()
