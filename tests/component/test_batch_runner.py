"""run_batch on real engines: each input kind, resume, a corrupt page, an unwritable folder.

Pages are translated by the bundled glossary (no machine-translation model is needed);
detection, recognition, erasing and drawing run for real.
"""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest
from batch_inputs import NOTICE, comic_archive, glossary_settings, image_folder, two_page_pdf
from PIL import Image

from imtrans.batch import BatchOptions, run_batch
from imtrans.batch.manifest import Manifest
from imtrans.errors import ConfigError, OutputError

pytestmark = pytest.mark.slow


def _texts(page_json: dict) -> list[str]:
    return [b["translation"]["text"] for b in page_json["blocks"] if b["translation"]]


def test_a_folder_an_archive_and_a_pdf_in_one_batch(tmp_path):
    image_folder(tmp_path / "photos")
    archive = comic_archive(tmp_path / "ch1.cbz")
    pdf = two_page_pdf(tmp_path / "manual.pdf")
    out = tmp_path / "out"
    summary = run_batch(
        [tmp_path / "photos", archive, pdf],
        glossary_settings(tmp_path),
        BatchOptions(out, workers=2, text_layer=True),
    )
    # 2 images + 3 archive pages (one corrupt) + 2 PDF pages
    assert (summary.pages, summary.translated, summary.failed, summary.skipped) == (7, 6, 1, 0)
    assert summary.failures[0]["key"] == "ch1.cbz!002.png"
    assert "002.png" in summary.failures[0]["error"]

    # images: translated picture and its page JSON, at the folder's relative path
    sign = json.loads((out / "photos/sign_0.png.json").read_text())
    assert "Seoul Station" in _texts(sign)
    assert Image.open(out / "photos/notices/notice_0.png").size == Image.open(NOTICE).size
    assert not (out / "photos/README.txt").exists()

    # archive: same members in the same order; the corrupt page kept as it was
    with zipfile.ZipFile(out / "ch1.cbz") as zf, zipfile.ZipFile(archive) as src:
        assert zf.namelist() == src.namelist()
        assert zf.read("002.png") == src.read("002.png")
        assert zf.read("ComicInfo.xml") == src.read("ComicInfo.xml")
        assert zf.read("001.png") != src.read("001.png")
    pages = json.loads((out / "ch1.cbz.json").read_text())["pages"]
    assert [p["status"] for p in pages] == ["done", "failed", "done"]
    assert "Opening hours: 10 a.m. to 8 p.m." in _texts(pages[2]["result"])

    # PDF: two pages, translated, searchable
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(out / "manual.pdf")
    assert len(doc) == 2
    assert "Seoul Station" in doc[0].get_textpage().get_text_range()
    assert "Opening hours" in doc[1].get_textpage().get_text_range()

    # the manifest records every page once
    manifest = Manifest.load(out / ".imtrans-batch/manifest.json")
    assert len(manifest.pages) == 7
    assert manifest.pages["ch1.cbz!002.png"].status == "failed"


def test_a_rerun_skips_what_is_done_and_redoes_only_what_changed(tmp_path):
    image_folder(tmp_path / "in", copies=2)
    settings, options = glossary_settings(tmp_path), BatchOptions(tmp_path / "out")
    first = run_batch([tmp_path / "in"], settings, options)
    assert (first.translated, first.skipped) == (4, 0)
    manifest = tmp_path / "out/.imtrans-batch/manifest.json"
    finished = {k: r.finished for k, r in Manifest.load(manifest).pages.items()}

    again = run_batch([tmp_path / "in"], settings, options)
    assert (again.translated, again.skipped, again.failed) == (0, 4, 0)

    shutil.copy(NOTICE, tmp_path / "in/sign_1.png")  # one input changes
    third = run_batch([tmp_path / "in"], settings, options)
    assert (third.translated, third.skipped) == (1, 3)
    now = {k: r.finished for k, r in Manifest.load(manifest).pages.items()}
    assert [k for k in now if now[k] != finished[k]] == ["in/sign_1.png"]
    assert "Opening hours: 10 a.m. to 8 p.m." in _texts(
        json.loads((tmp_path / "out/in/sign_1.png.json").read_text())
    )

    other_target = run_batch([tmp_path / "in"], settings.with_overrides({"translate.target": "ko"}), options)
    assert other_target.skipped == 0  # new settings: everything again


def test_a_failed_page_is_retried_and_its_archive_rebuilt_when_fixed(tmp_path):
    archive = comic_archive(tmp_path / "ch.cbz")
    settings, options = glossary_settings(tmp_path), BatchOptions(tmp_path / "out")
    assert run_batch([archive], settings, options).failed == 1
    # the same archive with the corrupt page replaced by a real one
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(tmp_path / "fixed.cbz", "w") as dst:
        for info in src.infolist():
            dst.writestr(info, NOTICE.read_bytes() if info.filename == "002.png" else src.read(info))
    shutil.move(tmp_path / "fixed.cbz", archive)
    summary = run_batch([archive], settings, options)
    assert (summary.translated, summary.skipped, summary.failed) == (1, 2, 0)
    with zipfile.ZipFile(tmp_path / "out/ch.cbz") as zf:
        assert zf.read("002.png") != NOTICE.read_bytes()  # now translated
    pages = json.loads((tmp_path / "out/ch.cbz.json").read_text())["pages"]
    assert [p["status"] for p in pages] == ["done", "done", "done"]


def test_a_deleted_archive_output_is_assembled_again_without_translating(tmp_path):
    archive = comic_archive(tmp_path / "ch.cbz", corrupt=False)
    settings, options = glossary_settings(tmp_path), BatchOptions(tmp_path / "out")
    run_batch([archive], settings, options)
    first = (tmp_path / "out/ch.cbz").read_bytes()
    (tmp_path / "out/ch.cbz").unlink()
    summary = run_batch([archive], settings, options)
    assert (summary.translated, summary.skipped) == (0, 2)
    assert (tmp_path / "out/ch.cbz").read_bytes() == first


def test_an_unwritable_output_folder_stops_the_batch_before_any_work(tmp_path):
    image_folder(tmp_path / "in")
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(OutputError, match="cannot write to output folder"):
        run_batch([tmp_path / "in"], glossary_settings(tmp_path), BatchOptions(tmp_path / "taken" / "out"))


def test_a_page_without_text_comes_back_unchanged(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    blank = np.full((200, 300, 3), 230, np.uint8) + rng.integers(0, 3, (200, 300, 3), dtype=np.uint8)
    Image.fromarray(blank).save(tmp_path / "in/blank.png")
    summary = run_batch([tmp_path / "in"], glossary_settings(tmp_path), BatchOptions(tmp_path / "out"))
    assert summary.translated == 1
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out/in/blank.png")), blank)


def test_a_set_up_error_every_page_would_hit_stops_the_batch_with_it(tmp_path):
    image_folder(tmp_path / "in", copies=2)
    settings = glossary_settings(tmp_path, **{"translate.glossary": None})  # glossary translator, no file
    with pytest.raises(ConfigError, match="needs a glossary file"):
        run_batch([tmp_path / "in"], settings, BatchOptions(tmp_path / "out"))
    assert Manifest.load(tmp_path / "out/.imtrans-batch/manifest.json").pages == {}  # no page blamed for it
