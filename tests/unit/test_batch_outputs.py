"""Output folder checks, stale temp files, and archives and PDFs assembled from pages."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from batch_inputs import NOTICE, SIGN, comic_archive, two_page_pdf

from imtrans.batch.inputs import expand_inputs
from imtrans.batch.outputs import OutputDir, assemble_archive, assemble_pdf
from imtrans.errors import OutputError
from imtrans.imageio import encode_image
from imtrans.types import Block, Line, Page, Quad, Translation


def test_an_output_folder_under_a_file_is_refused_with_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot write to output folder") as e:
        OutputDir(tmp_path / "file" / "out").prepare()
    assert "\n" not in str(e.value)


def test_stale_temp_files_of_our_targets_are_removed_and_nothing_else(tmp_path):
    image = tmp_path / "in" / "a.png"
    image.parent.mkdir()
    image.write_bytes(SIGN.read_bytes())
    docs = expand_inputs([image])
    out = OutputDir(tmp_path / "out")
    out.prepare()
    ours = out.root / ".a.png.x1y2.part"
    manifest_tmp = out.work / ".manifest.json.abc.part"
    theirs = out.root / ".notes.txt.abc.part"
    for p in (ours, manifest_tmp, theirs):
        p.write_bytes(b"half")
    assert out.remove_stale_temps(docs) == 2
    assert not ours.exists() and not manifest_tmp.exists() and theirs.exists()


def test_an_archive_is_assembled_in_order_with_failed_pages_and_other_members_kept(tmp_path):
    (doc,) = expand_inputs([comic_archive(tmp_path / "ch.cbz")])
    page = tmp_path / "001-translated.png"
    page.write_bytes(encode_image(np.zeros((4, 4, 3), np.uint8)))
    target = tmp_path / "out" / "ch.cbz"
    assemble_archive(target, doc, {"001.png": page})
    with zipfile.ZipFile(target) as zf, zipfile.ZipFile(doc.path) as src:
        assert zf.namelist() == ["001.png", "002.png", "003.png", "ComicInfo.xml"]
        assert zf.read("001.png") == page.read_bytes()
        for name in ("002.png", "003.png", "ComicInfo.xml"):
            assert zf.read(name) == src.read(name)
    assert [p.name for p in target.parent.iterdir()] == ["ch.cbz"]  # no temp file left


def _page_with_text(width: int, height: int) -> Page:
    line = Line("l0", Quad.from_rect(100, 200, 500, 260), text="서울역", language="ko")
    block = Block("b0", line.quad, (line,), language="ko")
    other = Line("l1", Quad.from_rect(100, 400, 300, 430), text="EXIT", language="en")
    kept = Block("b1", other.quad, (other,), language="en")
    translation = Translation("b0", "Seoul Station", "ko", "en", "glossary")
    return Page(width, height, (block, kept), translations={"b0": translation}, target_lang="en")


@pytest.mark.slow
def test_a_pdf_keeps_page_sizes_and_gets_a_searchable_invisible_text_layer(tmp_path):
    import pypdfium2 as pdfium

    source = two_page_pdf(tmp_path / "doc.pdf")
    (doc,) = expand_inputs([source], dpi=150)
    translated = tmp_path / "p1.png"
    translated.write_bytes(NOTICE.read_bytes())  # any image will do as "the translated page"
    target = tmp_path / "out.pdf"
    assemble_pdf(target, doc, {0: (translated, _page_with_text(900, 600))}, text_layer=True)
    out, src = pdfium.PdfDocument(target), pdfium.PdfDocument(source)
    assert len(out) == 2
    assert [out[i].get_size() for i in range(2)] == [src[i].get_size() for i in range(2)]
    text = out[0].get_textpage().get_text_range()
    assert "Seoul Station" in text and "EXIT" in text  # translation, and the untranslated block as read
    assert out[1].get_textpage().get_text_range() == ""  # page 2 was not translated: original, no text
    # Invisible: the page renders like the image alone.
    plain = tmp_path / "plain.pdf"
    assemble_pdf(plain, doc, {0: (translated, _page_with_text(900, 600))}, text_layer=False)
    with_text = np.asarray(out[0].render(scale=1).to_pil())
    without = np.asarray(pdfium.PdfDocument(plain)[0].render(scale=1).to_pil())
    assert np.array_equal(with_text, without)
    assert pdfium.PdfDocument(plain)[0].get_textpage().get_text_range() == ""


def test_a_failed_pdf_page_is_the_original_page_rendered(tmp_path):
    import pypdfium2 as pdfium

    source = two_page_pdf(tmp_path / "doc.pdf")
    (doc,) = expand_inputs([source], dpi=150)
    target = tmp_path / "out.pdf"
    assemble_pdf(target, doc, {}, text_layer=True)
    a = np.asarray(pdfium.PdfDocument(target)[1].render(scale=150 / 72).to_pil().convert("L"), dtype=int)
    b = np.asarray(pdfium.PdfDocument(source)[1].render(scale=150 / 72).to_pil().convert("L"), dtype=int)
    assert a.shape == b.shape and np.abs(a - b).mean() < 2
