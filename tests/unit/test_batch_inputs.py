"""Expanding batch INPUTS: folders, archives and PDFs into documents and page jobs."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest
from batch_inputs import NOTICE, SIGN, comic_archive, image_folder, two_page_pdf

from imtrans.batch.inputs import expand_inputs, output_name, read_page, source_bytes
from imtrans.errors import InputError
from imtrans.imageio import load_image
from imtrans.settings import ImageSettings


def test_a_folder_is_searched_recursively_and_keys_start_with_its_name(tmp_path):
    folder = tmp_path / "chapter"
    image_folder(folder, copies=2)
    (folder / ".hidden").mkdir()
    shutil.copy(SIGN, folder / ".hidden" / "skip.png")
    docs = expand_inputs([folder])
    assert [d.rel for d in docs] == [
        "chapter/notices/notice_0.png",
        "chapter/notices/notice_1.png",
        "chapter/sign_0.png",
        "chapter/sign_1.png",
    ]
    assert all(d.kind == "image" and len(d.jobs) == 1 and d.jobs[0].key == d.rel for d in docs)


def test_an_output_folder_inside_an_input_folder_is_not_read(tmp_path):
    image_folder(tmp_path / "in")
    (tmp_path / "in/out/in").mkdir(parents=True)
    shutil.copy(SIGN, tmp_path / "in/out/in/sign_0.png")  # what a first run wrote
    docs = expand_inputs([tmp_path / "in"], exclude=tmp_path / "in" / "out")
    assert [d.rel for d in docs] == ["in/notices/notice_0.png", "in/sign_0.png"]


def test_a_changed_image_changes_its_input_hash_and_nothing_else(tmp_path):
    image_folder(tmp_path / "in")
    before = {d.rel: d.jobs[0].input_hash for d in expand_inputs([tmp_path / "in"])}
    shutil.copy(NOTICE, tmp_path / "in" / "sign_0.png")
    after = {d.rel: d.jobs[0].input_hash for d in expand_inputs([tmp_path / "in"])}
    assert before["in/sign_0.png"] != after["in/sign_0.png"]
    assert before["in/notices/notice_0.png"] == after["in/notices/notice_0.png"]


def test_an_archive_has_one_job_per_image_member(tmp_path):
    (doc,) = expand_inputs([comic_archive(tmp_path / "ch1.cbz")])
    assert doc.kind == "archive" and doc.rel == "ch1.cbz"
    assert [j.key for j in doc.jobs] == ["ch1.cbz!001.png", "ch1.cbz!002.png", "ch1.cbz!003.png"]
    assert source_bytes(doc.jobs[0]) == SIGN.read_bytes()


def test_a_corrupt_member_fails_to_read_as_that_page_alone(tmp_path):
    (doc,) = expand_inputs([comic_archive(tmp_path / "ch1.cbz")])
    with pytest.raises(InputError, match=r"ch1\.cbz!002\.png"):
        read_page(doc.jobs[1], ImageSettings())
    assert read_page(doc.jobs[0], ImageSettings()).shape == load_image(SIGN).shape


def test_an_archive_that_is_not_a_zip_is_a_document_error_not_a_crash(tmp_path):
    bad = tmp_path / "broken.cbz"
    bad.write_bytes(b"PK\x03\x04 not really")
    (doc,) = expand_inputs([bad])
    assert doc.jobs == () and "not a readable ZIP" in (doc.error or "")


def test_pdf_pages_render_at_the_chosen_dpi(tmp_path):
    pdf = two_page_pdf(tmp_path / "doc.pdf", dpi=150)
    (doc,) = expand_inputs([pdf], dpi=150)
    assert [j.key for j in doc.jobs] == ["doc.pdf#page=1", "doc.pdf#page=2"]
    page = read_page(doc.jobs[0], ImageSettings())
    sign = load_image(SIGN)
    assert abs(page.shape[0] - sign.shape[0]) <= 1 and abs(page.shape[1] - sign.shape[1]) <= 1
    (half,) = expand_inputs([pdf], dpi=75)
    assert read_page(half.jobs[0], ImageSettings()).shape[1] == pytest.approx(sign.shape[1] / 2, abs=1)
    assert half.jobs[0].input_hash != doc.jobs[0].input_hash  # dpi changes the page


def test_a_pdf_page_over_the_pixel_limit_is_refused(tmp_path):
    (doc,) = expand_inputs([two_page_pdf(tmp_path / "doc.pdf")], dpi=600)
    with pytest.raises(InputError, match="lower --dpi"):
        read_page(doc.jobs[0], ImageSettings(max_pixels=1_000_000))


def test_read_page_uses_shipped_bytes_when_given(tmp_path):
    (doc,) = expand_inputs([comic_archive(tmp_path / "c.cbz")])
    page = read_page(doc.jobs[0], ImageSettings(), data=NOTICE.read_bytes())
    assert np.array_equal(page, load_image(NOTICE))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing.png", "no such file or folder"),
        (
            lambda p: (p / "notes.txt").write_text("x") and p / "notes.txt",
            "not an image, CBZ/ZIP archive or PDF",
        ),
    ],
)
def test_bad_inputs_are_refused_with_one_line(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        expand_inputs([make(tmp_path)])


def test_two_inputs_writing_the_same_output_are_refused(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(SIGN, tmp_path / sub / "page.png")
    with pytest.raises(InputError, match="would both be written to page.png"):
        expand_inputs([tmp_path / "a" / "page.png", tmp_path / "b" / "page.png"])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a/b.png", "a/b.png"),
        ("x.JPG", "x.JPG"),
        ("anim.gif", "anim.png"),
        ("scan.tiff", "scan.tiff"),
        ("scan.TIF", "scan.TIF"),
    ],
)
def test_output_names_keep_writable_suffixes(name, expected):
    assert output_name(name) == expected


def test_members_that_cannot_be_read_still_get_a_job(tmp_path):
    path = tmp_path / "c.cbz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(SIGN, "001.png")
    data = bytearray(path.read_bytes())
    start = data.index(b"001.png") + len("001.png") + 20  # inside the compressed data
    data[start : start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    (doc,) = expand_inputs([path])
    assert len(doc.jobs) == 1
    with pytest.raises(InputError, match="cannot read|corrupt"):
        read_page(doc.jobs[0], ImageSettings())
