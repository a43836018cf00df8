"""The `imtrans` command as a user runs it: real engines, real files, real exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def imtrans(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "imtrans"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "imtrans.cli"]
    full_env = {**os.environ, "IMTRANS_HUB_URL": "http://127.0.0.1:9", **(env or {})}
    return subprocess.run(
        [*cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=full_env, check=False
    )


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.mark.slow
def test_translates_the_bundled_korean_sign_offline_with_its_glossary(tmp_path):
    proc = imtrans(
        "translate",
        str(EXAMPLES / "sign_ko.png"),
        "--to",
        "en",
        "--glossary",
        str(EXAMPLES / "glossary.csv"),
        "-o",
        "out.png",
        "--json",
        "out.json",
        "--erased",
        "clean.png",
        "--set",
        f"translate.cache_path={tmp_path / 'cache.sqlite3'}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1].endswith("wrote out.png, clean.png, out.json")
    assert "; 3 of 3 passed the checks;" in proc.stderr.splitlines()[-1]
    page = json.loads((tmp_path / "out.json").read_text())
    assert page["check"]["passed"] == 3 and all(b["quality"]["passed"] for b in page["blocks"])
    translations = [b["translation"]["text"] for b in page["blocks"] if b["translation"]]
    assert "Seoul Station" in translations
    assert all(b["language"] == "ko" for b in page["blocks"])
    assert set(page["timings"]) >= {"detect", "recognize", "group", "translate", "erase", "render", "check"}
    assert page["settings"]["translate"]["target"] == "en"
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    src = np.asarray(Image.open(EXAMPLES / "sign_ko.png").convert("RGB"))
    assert out.shape == src.shape and not np.array_equal(out, src)
    # Far from any text (the brick wall at the top-left corner) nothing changed.
    assert np.array_equal(out[:60, :100], src[:60, :100])


@pytest.mark.slow
def test_an_image_without_text_comes_back_unchanged_with_no_blocks(tmp_path):
    rng = np.random.default_rng(0)
    smooth = np.clip(rng.normal(128, 3, (120, 160, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(smooth).save(tmp_path / "blank.png")
    proc = imtrans(
        "translate",
        "blank.png",
        "--to",
        "en",
        "--glossary",
        str(EXAMPLES / "glossary.csv"),
        "-o",
        "out.png",
        "--json",
        "out.json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "out.json").read_text())["blocks"] == []
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out.png")), smooth)


@pytest.mark.slow
def test_ocr_prints_a_table_or_json(tmp_path):
    proc = imtrans("ocr", str(EXAMPLES / "notice_ja.png"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "営業時間" in proc.stdout and "block" in proc.stdout and "{" not in proc.stdout
    proc = imtrans("ocr", str(EXAMPLES / "notice_ja.png"), "--json", "-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = json.loads(proc.stdout)
    text = "".join(b["text"] for b in page["blocks"])
    assert "営業時間" in text
    assert {b["language"] for b in page["blocks"]} == {"ja"}


@pytest.mark.slow
def test_erase_writes_an_image_without_the_text(tmp_path):
    proc = imtrans(
        "erase", str(EXAMPLES / "sign_ko.png"), "-o", "clean.png", "--json", "e.json", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    page = json.loads((tmp_path / "e.json").read_text())
    assert page["blocks"]
    clean = np.asarray(Image.open(tmp_path / "clean.png").convert("RGB"))
    # Inside the sign panel, the white lettering is gone: no near-white pixels remain.
    x0, y0, x1, y1 = (int(v) for v in _bbox(page["blocks"][0]["quad"]))
    panel = clean[y0:y1, x0:x1].astype(int)
    assert (panel.min(axis=2) > 200).mean() < 0.01


def _bbox(quad):
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return min(xs), min(ys), max(xs), max(ys)


# -- bad input: one line on stderr, a non-zero exit, no output file -------------------------


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (b"", 3, "empty"),
        (b"plain text, not a picture", 3, "not an image"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x14\x00\x00", 3, "image"),
    ],
)
def test_bad_image_files_fail_cleanly(tmp_path, content, code, message):
    (tmp_path / "in.png").write_bytes(content)
    proc = imtrans("translate", "in.png", "--to", "en", "-o", "out.png", "--json", "out.json", cwd=tmp_path)
    assert proc.returncode == code
    assert message in one_error_line(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def test_image_over_the_pixel_limit_fails_cleanly(tmp_path):
    shutil.copy(EXAMPLES / "sign_ko.png", tmp_path / "in.png")
    proc = imtrans("erase", "in.png", "-o", "out.png", "--set", "image.max_pixels=1000", cwd=tmp_path)
    assert proc.returncode == 3
    assert "over the limit" in one_error_line(proc)
    assert not (tmp_path / "out.png").exists()


def test_unknown_language_fails_cleanly(tmp_path):
    proc = imtrans("translate", str(EXAMPLES / "sign_ko.png"), "--to", "xx", cwd=tmp_path)
    assert proc.returncode == 4
    assert "unknown language code 'xx'" in one_error_line(proc)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_path_fails_before_any_work(tmp_path):
    (tmp_path / "a-file").write_text("x")
    proc = imtrans(
        "translate",
        str(EXAMPLES / "sign_ko.png"),
        "--to",
        "en",
        "-o",
        str(tmp_path / "a-file" / "out.png"),
        cwd=tmp_path,
    )
    assert proc.returncode == 7
    assert "cannot write" in one_error_line(proc)


@pytest.mark.slow
def test_missing_local_model_names_the_ways_out_and_writes_the_erased_image(tmp_path):
    # No translator is not an error (issue 21): the page is read and erased, with a warning.
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "IMTRANS_HUB_URL": "http://127.0.0.1:9/hub/"}
    proc = imtrans(
        "translate", str(EXAMPLES / "sign_ko.png"), "--to", "en", "-o", "out.png", cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr
    warning = next(ln for ln in proc.stderr.splitlines() if "translate/no_translator" in ln)
    assert "imtrans models pull" in warning and "--glossary" in warning and "--translator" in warning
    assert "out.png is the erased image" in proc.stderr.splitlines()[-1]
    assert (tmp_path / "out.png").exists()


@pytest.mark.slow
def test_missing_service_key_is_named(tmp_path):
    env = {k: "" for k in ("IMTRANS_PAPAGO_CLIENT_ID", "IMTRANS_PAPAGO_CLIENT_SECRET")}
    proc = imtrans(
        "translate",
        str(EXAMPLES / "sign_ko.png"),
        "--to",
        "en",
        "--translator",
        "papago",
        "-o",
        "out.png",
        "--set",
        f"translate.cache_path={tmp_path / 'c.sqlite3'}",
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 6
    assert "IMTRANS_PAPAGO_CLIENT_ID" in one_error_line(proc)
    assert not (tmp_path / "out.png").exists()


def test_unknown_setting_fails_cleanly(tmp_path):
    proc = imtrans("config", "--set", "detect.bogus=1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown setting" in one_error_line(proc)


def test_version_and_help_show_what_a_user_needs(tmp_path):
    proc = imtrans("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("imtrans 0.")
    helptext = imtrans("translate", "--help", cwd=tmp_path).stdout
    assert "LANG" in helptext and "(en)" in helptext and "(auto)" in helptext
    assert "<str>" not in helptext and "<list[str]>" not in helptext


def test_a_page_with_nothing_to_draw_says_nothing_about_checks(tmp_path: Path) -> None:
    # Every block is already in the target language: nothing is erased or drawn, so no block
    # was checked, and "0 of 0 passed the checks" would only be noise.
    proc = imtrans("translate", str(EXAMPLES / "sign_ko.png"), "--to", "ko", "-o", "out.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1].endswith("; wrote out.png")
    assert "passed the checks" not in proc.stderr
