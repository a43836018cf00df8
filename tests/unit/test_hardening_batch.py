"""Hardening of the batch (issue 20): oversized PDF pages, zip bombs, bad CRCs, dead workers, frames."""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from imtrans.batch import BatchOptions, run_batch
from imtrans.batch.inputs import PageJob, expand_inputs, read_page, source_bytes
from imtrans.batch.local import WORKER_DIED, LocalEngine
from imtrans.batch.outputs import assemble_archive, assemble_frames, assemble_pdf
from imtrans.batch.worker import PageOutcome
from imtrans.errors import InputError, ModelMissingError, OutputError
from imtrans.imageio import current_umask
from imtrans.settings import ImageSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
SIGN = ROOT / "examples" / "sign_ko.png"


# -- item 1: a refused PDF page is not rendered past the pixel limit when the PDF is assembled ----
def huge_page_pdf(path: Path) -> Path:
    """The issue's PDF: one 120-inch square page, then a letter page."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(8640, 8640))
    c.drawString(99, 99, "x")
    c.showPage()
    c.setPageSize((612, 792))
    c.showPage()
    c.save()
    return path


def _embedded_image_pixels(pdf_path: Path) -> list[int]:
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        sizes = []
        for page in pdf:
            for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]):
                meta = obj.get_metadata()
                sizes.append(meta.width * meta.height)
        return sizes
    finally:
        pdf.close()


def test_a_refused_oversized_pdf_page_is_kept_but_rendered_within_the_pixel_limit(tmp_path):
    limits = ImageSettings(max_pixels=2_000_000)
    (doc,) = expand_inputs([huge_page_pdf(tmp_path / "h.pdf")], dpi=150, limits=limits)
    with pytest.raises(InputError, match="over the limit"):
        read_page(doc.jobs[0], limits)  # the page itself is refused, as before
    target = tmp_path / "out.pdf"
    assemble_pdf(target, doc, {}, text_layer=False, limits=limits)
    pixels = _embedded_image_pixels(target)
    assert len(pixels) == 2  # both pages kept, in place
    assert max(pixels) <= limits.max_pixels  # at 150 dpi the first would be 324 MP


# -- items 3 and 8: archive members are streamed, bombs refused by their declared size, bad CRCs kept -
def bomb_archive(path: Path, member_bytes: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SIGN, "001.png")
        with zf.open("002.png", "w") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(member_bytes >> 20):
                f.write(chunk)
    return path


def test_a_zip_bomb_member_is_refused_by_its_declared_size_and_never_held_in_memory(tmp_path):
    limits = ImageSettings(max_bytes=5_000_000)
    archive = bomb_archive(tmp_path / "bomb.cbz", 48 << 20)
    tracemalloc.start()
    try:
        (doc,) = expand_inputs([archive], limits=limits)
        with pytest.raises(InputError, match="uncompressed, over the limit"):
            read_page(doc.jobs[1], limits)
        target = tmp_path / "out.cbz"
        lost = assemble_archive(target, doc, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 << 20  # the member is 48 MiB
    assert doc.jobs[1].input_hash.startswith("too-large:")
    assert lost == []
    with zipfile.ZipFile(target) as zf:
        assert zf.namelist() == ["001.png", "002.png"]
        assert zf.getinfo("002.png").file_size == 48 << 20  # the original is kept


def crc_broken_archive(path: Path) -> tuple[Path, bytes]:
    """Four stored pages; one data byte of the third changed after the CRC was written."""
    pages = [Image.new("RGB", (8, 8), c) for c in ("red", "lime", "blue", "white")]
    encoded = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i, page in enumerate(pages):
            buf = io.BytesIO()
            page.save(buf, "PNG")
            encoded.append(buf.getvalue())
            zf.writestr(f"{i + 1:03d}.png", buf.getvalue())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("003.png")
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename)
    raw[start + 40] ^= 0xFF
    path.write_bytes(bytes(raw))
    bad = bytearray(encoded[2])
    bad[40] ^= 0xFF
    return path, bytes(bad)


def test_a_member_with_a_bad_crc_is_kept_in_the_output_archive(tmp_path):
    archive, bad_bytes = crc_broken_archive(tmp_path / "crc.cbz")
    (doc,) = expand_inputs([archive])
    assert doc.jobs[2].input_hash.startswith("unreadable:")
    with pytest.raises(InputError, match="cannot read"):
        source_bytes(doc.jobs[2])
    translated = tmp_path / "page.png"
    translated.write_bytes(SIGN.read_bytes())
    target = tmp_path / "out.cbz"
    assert assemble_archive(target, doc, {"001.png": translated}) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~current_umask()  # not always 0600
    with zipfile.ZipFile(target) as zf:
        assert zf.namelist() == ["001.png", "002.png", "003.png", "004.png"]  # 4 in, 4 out
        assert zf.read("003.png") == bad_bytes  # the original's bytes, a checksum of its own
        assert zf.read("001.png") == SIGN.read_bytes()


# -- item 4: a worker that dies fails its page only; workers die with their parent -----------------
def _no_models(settings: Settings, threads: int) -> None:
    """A worker set-up that loads nothing (the engine's recovery is under test, not the pipeline)."""


def _die_on_bad_pages(job: PageJob) -> PageOutcome:
    if "kill" in job.key:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
    return PageOutcome(job.key, image=b"x", page_json="{}")


def _hang(job: PageJob) -> PageOutcome:
    Path(job.path).write_text(str(os.getpid()))
    time.sleep(600)
    return PageOutcome(job.key)


def test_a_page_that_kills_its_worker_is_failed_and_the_batch_goes_on():
    engine = LocalEngine(2, initializer=_no_models, task=_die_on_bad_pages)
    keys = ["a", "b", "kill-1", "c", "d", "e", "kill-2", "f"]
    outcomes = list(engine.run([PageJob(k, "") for k in keys], Settings()))
    by_key = {o.key: o for o in outcomes}
    assert sorted(by_key) == sorted(keys) and len(outcomes) == len(keys)
    assert {k for k, o in by_key.items() if not o.ok} == {"kill-1", "kill-2"}
    assert WORKER_DIED in (by_key["kill-1"].error or "")


def run_hanging_batch(pid_file: str) -> None:
    """Run in a child process by the next test: one worker that hangs on its page."""
    list(LocalEngine(1, initializer=_no_models, task=_hang).run([PageJob("p", pid_file)], Settings()))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_the_batch_process_is_killed(tmp_path):
    pid_file = tmp_path / "worker.pid"
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from tests.unit.test_hardening_batch import run_hanging_batch; "
        f"run_hanging_batch({str(pid_file)!r})"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = int(pid_file.read_text())
        assert _alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker)
    finally:
        parent.kill()


# -- item 9: every page of a multi-page TIFF, every frame of a GIF -------------------------------
COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


@pytest.mark.parametrize("fmt", ["TIFF", "GIF"])
def test_every_page_or_frame_is_a_job_and_the_file_is_written_back_whole(tmp_path, fmt):
    frames = [Image.new("RGB", (32, 24), c) for c in COLOURS]
    source = tmp_path / f"multi.{fmt.lower()}"
    frames[0].save(source, fmt, save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0)
    (doc,) = expand_inputs([source])
    assert doc.kind == "frames" and [j.key for j in doc.jobs] == [
        f"{source.name}#frame={i}" for i in (1, 2, 3)
    ]
    assert read_page(doc.jobs[2], ImageSettings())[0, 0].tolist() == [0, 0, 255]
    translated = tmp_path / "frame1.png"
    Image.new("RGB", (32, 24), "white").save(translated)
    target = tmp_path / f"out.{fmt.lower()}"
    assert assemble_frames(target, doc, {1: translated}, ImageSettings()) == []
    with Image.open(target) as out:
        assert out.format == fmt and out.n_frames == 3
        got = []
        for i in range(3):
            out.seek(i)
            got.append(tuple(out.convert("RGB").getpixel((0, 0))))
            if fmt == "GIF":
                assert out.info["duration"] == 100 * (i + 1)
    assert got == [COLOURS[0], (255, 255, 255), COLOURS[2]]


# -- item 14: -o over the inputs; --engine ray without Ray -----------------------------------------
def test_an_output_folder_that_would_overwrite_an_input_is_refused(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(SIGN.read_bytes())
    with pytest.raises(OutputError, match="is the input file"):
        run_batch([image], Settings(), BatchOptions(tmp_path))
    assert image.read_bytes() == SIGN.read_bytes()
    assert not (tmp_path / ".imtrans-batch").exists()


def test_the_ray_engine_without_ray_fails_before_making_the_output_folder(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    out = tmp_path / "out"
    with pytest.raises(ModelMissingError, match="needs Ray"):
        run_batch([SIGN], Settings(), BatchOptions(out, engine="ray"))
    assert not out.exists()


def test_a_dead_worker_page_is_recorded_in_the_manifest_and_a_rerun_goes_past_it(tmp_path, monkeypatch):
    """Through run_batch: the killed page is a failure in the summary and the manifest, the rest are done."""
    from imtrans.batch import engines

    monkeypatch.setattr(
        engines, "make_engine", lambda *a, **k: LocalEngine(1, initializer=_no_models, task=_die_on_bad_pages)
    )
    from imtrans.batch import runner

    monkeypatch.setattr(runner, "make_engine", engines.make_engine)
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "kill.png", "b.png"):
        Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(folder / name)
    summary = run_batch([folder], Settings(), BatchOptions(tmp_path / "out"))
    assert (summary.translated, summary.failed) == (2, 1)
    assert WORKER_DIED in summary.failures[0]["error"]
    again = run_batch([folder], Settings(), BatchOptions(tmp_path / "out"))
    assert (again.skipped, again.failed) == (2, 1)  # a rerun reaches past it again, and records it again
