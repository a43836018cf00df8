"""The Ray engine on a local Ray instance gives the same outputs and manifest as the local engine."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from batch_inputs import comic_archive, glossary_settings, image_folder, two_page_pdf

from imtrans.batch import BatchOptions, run_batch
from imtrans.batch.manifest import Manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A light Ray instance on this machine, for this module's tests."""
    import ray  # the [test] extra installs it

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


def _without_timings(path: Path) -> dict:
    page = json.loads(path.read_text())
    page.pop("timings")
    return page


def test_ray_and_local_engines_write_the_same_files(tmp_path, local_ray):
    image_folder(tmp_path / "in")
    inputs = [tmp_path / "in", comic_archive(tmp_path / "ch.cbz"), two_page_pdf(tmp_path / "doc.pdf")]
    settings = glossary_settings(tmp_path)
    local = run_batch(inputs, settings, BatchOptions(tmp_path / "local", workers=2, text_layer=True))
    ray = run_batch(
        inputs, settings, BatchOptions(tmp_path / "ray", engine="ray", workers=2, text_layer=True)
    )

    assert (ray.engine, ray.workers) == ("ray", 2)
    for field in ("pages", "translated", "failed", "skipped"):
        assert getattr(ray, field) == getattr(local, field)
    assert [f["key"] for f in ray.failures] == [f["key"] for f in local.failures] == ["ch.cbz!002.png"]

    files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "ray") for p in (tmp_path / "ray").rglob("*") if p.is_file()
    )
    for rel in files:
        a, b = tmp_path / "local" / rel, tmp_path / "ray" / rel
        if rel.suffix == ".png":
            assert a.read_bytes() == b.read_bytes(), rel  # byte-identical pictures
        elif rel.name.endswith(".png.json"):
            assert _without_timings(a) == _without_timings(b), rel
    with zipfile.ZipFile(tmp_path / "local/ch.cbz") as za, zipfile.ZipFile(tmp_path / "ray/ch.cbz") as zb:
        assert za.namelist() == zb.namelist()
        assert all(za.read(n) == zb.read(n) for n in za.namelist())
    assert (tmp_path / "local/doc.pdf").read_bytes() == (tmp_path / "ray/doc.pdf").read_bytes()

    pages_local = Manifest.load(tmp_path / "local/.imtrans-batch/manifest.json").pages
    pages_ray = Manifest.load(tmp_path / "ray/.imtrans-batch/manifest.json").pages
    assert {k: (r.input_hash, r.settings_hash, r.status) for k, r in pages_local.items()} == {
        k: (r.input_hash, r.settings_hash, r.status) for k, r in pages_ray.items()
    }


def test_a_ray_rerun_skips_what_the_local_engine_did(tmp_path, local_ray):
    image_folder(tmp_path / "in")
    settings = glossary_settings(tmp_path)
    run_batch([tmp_path / "in"], settings, BatchOptions(tmp_path / "out"))
    again = run_batch([tmp_path / "in"], settings, BatchOptions(tmp_path / "out", engine="ray"))
    assert (again.translated, again.skipped) == (0, 2)
