"""`imtrans translate` on a machine without a translator (no model, no hub): read, erase, say so, exit 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SIGN = ROOT / "examples" / "sign_ko.png"

pytestmark = pytest.mark.slow


def imtrans(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "imtrans"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "imtrans.cli"]
    env = {
        **os.environ,
        "IMTRANS_HUB_URL": "http://127.0.0.1:9/hub/",
        "IMTRANS_CACHE_DIR": str(tmp_path / "c"),
    }
    return subprocess.run(
        [*cmd, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_translate_without_a_translator_writes_the_erased_page_and_a_typed_translation_renders(tmp_path):
    proc = imtrans(
        "translate", str(SIGN), "--to", "en", "-o", "out.png", "--json", "page.json", "--erased", "erased.png",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "imtrans: warning: no translator, so nothing was translated; out.png is the erased image"
    )
    assert "imtrans render page.json" in last
    page = json.loads((tmp_path / "page.json").read_text(encoding="utf-8"))
    assert [d["code"] for d in page["diagnostics"]].count("no_translator") == 1
    assert all(b["translation"] is None for b in page["blocks"])
    source = np.asarray(Image.open(SIGN).convert("RGB"))
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    erased = np.asarray(Image.open(tmp_path / "erased.png").convert("RGB"))
    assert np.array_equal(out, erased) and not np.array_equal(out, source)

    # The user types a translation into the JSON and draws it.
    page["blocks"][0]["translation"] = {"block_id": "b0", "text": "Seoul Station"}
    (tmp_path / "page.json").write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    proc = imtrans("render", "page.json", str(SIGN), "-o", "typed.png", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "-> Seoul Station" in proc.stderr
    typed = np.asarray(Image.open(tmp_path / "typed.png").convert("RGB"))
    assert not np.array_equal(typed, source) and not np.array_equal(typed, erased)


def test_a_glossary_in_front_of_a_missing_model_still_draws_its_entries(tmp_path):
    (tmp_path / "g.csv").write_text("source,target\n서울역,Seoul Station\n", encoding="utf-8")
    proc = imtrans(
        "translate", str(SIGN), "--to", "en", "-o", "out.png", "--json", "page.json", "--erased", "erased.png",
        "--translator", "local", "--glossary", "g.csv", tmp_path=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "only the glossary's 1 block(s) were translated; the others are erased in out.png" in proc.stderr
    page = json.loads((tmp_path / "page.json").read_text(encoding="utf-8"))
    drawn = [b["translation"]["text"] for b in page["blocks"] if b["translation"]]
    assert drawn == ["Seoul Station"]
    untranslated = {d["block_id"] for d in page["diagnostics"] if d["code"] == "no_translator"}
    assert len(untranslated) == len(page["blocks"]) - 1
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    erased = np.asarray(Image.open(tmp_path / "erased.png").convert("RGB"))
    assert not np.array_equal(out, erased)  # the glossary's entry is drawn
