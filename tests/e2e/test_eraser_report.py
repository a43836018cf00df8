"""`training/eraser_report.py` as a user runs it: a tiny `imtrans synth` set erased by telea and gan, side by side."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import imtrans, one_error_line

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "training" / "eraser_report.py"


def report(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "ko"
    proc = imtrans("synth", "--lang", "ko", "--layout", "mixed", "--count", "3", "--seed", "4", "--out", str(out),
                   cwd=out.parent)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


def test_report_shows_every_page_erased_by_each_backend_with_its_figures(synth_set, tmp_path):
    out = tmp_path / "report"
    proc = report("--data", str(synth_set), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))

    # Every picture the page shows or links to was written.
    refs = re.findall(r"(?:src|href)='([^']+)'", page)
    assert refs and not [r for r in refs if not (out / r).is_file()]
    assert "http" not in " ".join(refs)  # static files only, nothing fetched
    for backend in ("original", "telea", "gan"):
        assert len([r for r in refs if r.endswith(f".{backend}.png") and r.startswith("img/")]) >= 3
    assert "eraser_report.py --data" in page  # the command that made it

    assert doc["settings"]["backends"] == ["telea", "gan"]
    assert len(doc["pages"]) == 3 and all(p["error"] is None for p in doc["pages"])
    assert doc["models"]["gan"]["sha256"]
    for p in doc["pages"]:
        assert p["lines"] > 0 and p["masked_px"] > 0
        for backend in ("telea", "gan"):
            figs = p["backends"][backend]
            assert isinstance(figs["residue_chars"], int) and figs["residue_chars"] >= 0
            assert isinstance(figs["residue_blocks"], int)
            assert isinstance(figs["erased_residue_chars"], int)
            assert 0 <= figs["erased_residue_chars"] <= figs["residue_chars"]
            # Synth sets have a clean background: PSNR is finite and above the unerased input's.
            assert math.isfinite(figs["psnr_mask"]) and figs["psnr_mask"] > p["psnr_mask_input"]
            assert 0.0 < figs["ssim_mask"] <= 1.0
            # Letters left in the fill: far less than all of them (1.0) for either backend.
            assert -0.5 < figs["ghost_filled"] < 0.5
    totals = doc["totals"]
    for backend in ("telea", "gan"):
        t = totals["backends"][backend]
        assert isinstance(t["residue_chars"], int)
        assert t["residue_chars"] == sum(p["backends"][backend]["residue_chars"] for p in doc["pages"])
        assert math.isfinite(t["psnr_mask_pooled"]) and 0.0 < t["ssim_mask_median"] <= 1.0
        assert math.isfinite(t["psnr_filled_pooled"])
    assert sum(totals["versus"]["gan"]["psnr_mask"].values()) == 3  # every page counted once


def test_report_with_true_lines_names_them_and_fills_the_same_mask_for_each_backend(synth_set, tmp_path):
    out = tmp_path / "report"
    proc = report("--data", str(synth_set), "--out", str(out), "--lines", "truth", "--backends", "telea,ns",
                  "--limit", "1", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["settings"]["lines"] == "truth" and "lines:truth" in doc["signature"]
    assert "models" in doc and doc["models"] == {}  # no gan, no model recorded
    (p,) = doc["pages"]
    assert p["residue_before"] is None  # nothing was read before erasing
    assert set(p["backends"]) == {"telea", "ns"}
    assert "<b>truth</b>" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backends", "telea,magic"], "magic"),
        (["--backends", "telea,telea"], "distinct"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_bad_options_fail_with_one_line_before_any_work(synth_set, tmp_path, args, message):
    out = tmp_path / "report"
    proc = report("--data", str(synth_set), "--out", str(out), *args, cwd=tmp_path)
    assert proc.returncode != 0
    assert message in one_error_line(proc)
    assert not out.exists()


def test_a_folder_that_is_no_dataset_fails_with_one_line(tmp_path):
    proc = report("--data", str(tmp_path), "--out", str(tmp_path / "report"), cwd=tmp_path)
    assert proc.returncode == 3
    assert "not a dataset" in one_error_line(proc)
