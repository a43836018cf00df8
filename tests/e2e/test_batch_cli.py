"""`imtrans batch` as a user runs it: exit codes, the summary, and a batch killed halfway."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from batch_inputs import EXAMPLES, comic_archive, image_folder, two_page_pdf

from imtrans.batch.manifest import Manifest

pytestmark = pytest.mark.slow


def _command(*args: str, cache: Path) -> list[str]:
    exe = Path(sys.executable).parent / "imtrans"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "imtrans.cli"]
    glossary = ["--glossary", str(EXAMPLES / "glossary.csv"), "--set", f"translate.cache_path={cache}"]
    return [*cmd, "batch", *args, "--to", "en", *glossary]


def imtrans_batch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(*args, cache=cwd / "cache.sqlite3"),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_a_batch_with_a_corrupt_page_finishes_and_exits_1_with_a_json_summary(tmp_path):
    image_folder(tmp_path / "in")
    comic_archive(tmp_path / "ch.cbz")
    two_page_pdf(tmp_path / "doc.pdf")
    proc = imtrans_batch(
        "in", "ch.cbz", "doc.pdf", "-o", "out", "--workers", "2", "--text-layer", "--json", "summary.json",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "failed: ch.cbz!002.png" in proc.stderr
    assert "7 page(s): 6 translated, 0 already done, 1 failed" in proc.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["pages"], summary["translated"], summary["failed"]) == (7, 6, 1)
    assert summary["engine"] == "local" and summary["workers"] == 2
    assert summary["failures"][0]["key"] == "ch.cbz!002.png"
    assert summary["pages_per_second"] > 0
    assert {"out/ch.cbz", "out/doc.pdf", "out/in/sign_0.png"} <= set(summary["outputs"])

    again = imtrans_batch("in", "ch.cbz", "doc.pdf", "-o", "out", "--text-layer", cwd=tmp_path)
    assert again.returncode == 1  # the corrupt page is tried again, and fails again
    assert "7 page(s): 0 translated, 6 already done, 1 failed" in again.stderr


def test_a_batch_killed_halfway_completes_on_rerun_with_nothing_lost_or_doubled(tmp_path):
    image_folder(tmp_path / "in", copies=3)
    comic_archive(tmp_path / "ch.cbz", corrupt=False)
    args = ("in", "ch.cbz", "-o", "out", "--workers", "1")
    proc = subprocess.Popen(
        _command(*args, cache=tmp_path / "cache.sqlite3"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )
    out = tmp_path / "out"
    manifest = out / ".imtrans-batch/manifest.json"
    try:
        deadline = time.monotonic() + 300
        # Kill as soon as the first page is through: its files are in place and the manifest says so.
        while not (manifest.exists() and Manifest.load(manifest).pages) and time.monotonic() < deadline:
            assert proc.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert 1 <= len(Manifest.load(manifest).pages) < 8  # killed halfway

    rerun = imtrans_batch(*args, "--json", "summary.json", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["pages"] == 8 and summary["failed"] == 0
    assert summary["translated"] + summary["skipped"] == 8 and summary["skipped"] >= 1

    images = {f"in/sign_{i}.png" for i in range(3)} | {f"in/notices/notice_{i}.png" for i in range(3)}
    expected = images | {f"{p}.json" for p in images} | {"ch.cbz", "ch.cbz.json"}
    kept_pages = {f".imtrans-batch/pages/ch.cbz/0000{i}.png{s}" for i in (1, 2) for s in ("", ".json")}
    assert _files(out) == expected | kept_pages | {".imtrans-batch/manifest.json"}  # no temp file left
    pages = Manifest.load(manifest).pages
    assert sorted(pages) == sorted(images | {"ch.cbz!001.png", "ch.cbz!003.png"})
    assert all(r.status == "done" for r in pages.values())
    with zipfile.ZipFile(out / "ch.cbz") as zf:
        assert zf.namelist() == ["001.png", "003.png", "ComicInfo.xml"]
        assert zf.testzip() is None


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_an_output_folder_that_cannot_be_written_is_one_line_and_exit_7(tmp_path):
    image_folder(tmp_path / "in")
    (tmp_path / "taken").write_text("a file")
    proc = imtrans_batch("in", "-o", "taken/out", cwd=tmp_path)
    assert proc.returncode == 7
    assert _one_error_line(proc).startswith("imtrans: error: cannot write to output folder taken/out")


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (("missing", "-o", "out"), 3, "no such file or folder: missing"),
        (("in", "-o", "out", "--engine", "spark"), 2, "unknown engine 'spark'"),
        (("in", "-o", "out", "--workers", "0"), 2, "--workers must be 1 or more"),
        (("in", "-o", "out", "--address", "auto"), 2, "--address is for --engine ray"),
        (("in", "-o", "out", "--dpi", "5"), 2, "--dpi must be between 36 and 1200"),
        (("in", "-o", "out", "--layers", "pdf"), 2, "unknown --layers format 'pdf'; use svg or psd"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, args, code, fragment):
    image_folder(tmp_path / "in")
    proc = imtrans_batch(*args, cwd=tmp_path)
    assert proc.returncode == code
    assert fragment in _one_error_line(proc)
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_a_summary_json_inside_a_new_output_folder_is_written(tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(EXAMPLES / "sign_ko.png", tmp_path / "in" / "sign.png")
    proc = imtrans_batch("in", "-o", "out", "--json", "out/report/summary.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "out" / "report" / "summary.json").read_text())
    assert (summary["pages"], summary["translated"]) == (1, 1)
    assert (tmp_path / "out" / "in" / "sign.png").is_file()


def test_a_batch_without_a_translator_stops_with_one_line_and_writes_no_page(tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(EXAMPLES / "sign_ko.png", tmp_path / "in" / "a.png")
    shutil.copy(EXAMPLES / "sign_ko.png", tmp_path / "in" / "b.png")
    exe = Path(sys.executable).parent / "imtrans"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "imtrans.cli"]
    # No glossary, the default local translator, no model installed and no hub to download from.
    env = {
        **os.environ,
        "IMTRANS_HUB_URL": "http://127.0.0.1:9/hub/",
        "IMTRANS_CACHE_DIR": str(tmp_path / "c"),
    }
    proc = subprocess.run(
        [*cmd, "batch", "in", "-o", "out", "--to", "en", "--json", "out/summary.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 5, proc.stderr
    assert "Traceback" not in proc.stderr
    # One error line, before any page was read (no progress bar).
    assert proc.stderr.strip().startswith("imtrans: error: no ko->en translation model here"), proc.stderr
    assert proc.stderr.count("imtrans: error") == 1
    assert not list((tmp_path / "out").glob("in/*.png"))


def test_review_list_names_the_pages_whose_blocks_failed_their_checks(tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(EXAMPLES / "sign_ko.png", tmp_path / "in" / "sign.png")
    shutil.copy(EXAMPLES / "notice_ja.png", tmp_path / "in" / "notice.png")
    glossary = (EXAMPLES / "glossary.csv").read_text(encoding="utf-8")
    # The exit sign's translation is far too long for its plate: it cannot fit, even repaired.
    long_exit = "Exit number three, towards the city hall " * 40
    (tmp_path / "long.csv").write_text(
        glossary.replace("출구 3번,Exit 3", f'출구 3번,"{long_exit}"'), "utf-8"
    )
    exe = Path(sys.executable).parent / "imtrans"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "imtrans.cli"]
    proc = subprocess.run(
        [*cmd, "batch", "in", "-o", "out", "--to", "en", "--glossary", "long.csv", "--review-list", "review.txt",
         "--set", f"translate.cache_path={tmp_path / 'cache.sqlite3'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "page(s) to review" in proc.stderr and "passed their checks" in proc.stderr
    assert (tmp_path / "review.txt").read_text().splitlines() == ["in/sign.png"]
    page = json.loads(next((tmp_path / "out").rglob("sign.png.json")).read_text())
    failed = {b["id"]: b["quality"]["failed"] for b in page["blocks"] if b.get("quality")}
    assert "overflow" in failed["b2"]
