"""The web page in a real browser: `imtrans serve` on localhost, Debian's chromium driven by Playwright.

Screenshots go to $IMTRANS_ARTEFACTS when set, else to pytest's temporary folder; look at them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`imtrans serve` as a user starts it, on a free port, with its own job database."""
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    exe = Path(sys.executable).parent / "imtrans"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "imtrans.cli"]
    env = {k: v for k, v in os.environ.items() if k != "IMTRANS_API_TOKEN"}
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [
            *cmd,
            "serve",
            "--port",
            str(port),
            "--db",
            str(folder / "jobs.sqlite3"),
            "--workers",
            "1",
            "--set",
            f"translate.cache_path={folder / 'cache.sqlite3'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (folder / "server.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start in 120 s"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = (
        Path(os.environ["IMTRANS_ARTEFACTS"])
        if os.environ.get("IMTRANS_ARTEFACTS")
        else (tmp_path_factory.mktemp("artefacts"))
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Debian's chromium (scripts/install.sh installs it); Playwright never downloads a browser here.
    assert CHROMIUM, "chromium is not installed: run scripts/install.sh"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


def translate_sign(page, url: str) -> None:
    """Open the page, pick the Korean sign and the glossary, translate, wait for the result."""
    page.goto(url)
    page.set_input_files("#image", str(EXAMPLES / "sign_ko.png"))
    page.set_input_files("#glossary", str(EXAMPLES / "glossary.csv"))
    page.select_option("#target", "en")
    page.click("#go")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    page.wait_for_selector("#blocks .block")


def image_bytes(page, selector: str) -> bytes:
    return page.locator(selector).screenshot()


def test_translate_toggle_edit_rerender_and_download_in_the_browser(server, browser, artefacts, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    translate_sign(page, server)
    assert "Done" in page.inner_text("#status")
    translations = page.eval_on_selector_all("#blocks textarea", "els => els.map(e => e.value)")
    assert "Seoul Station" in translations
    page.screenshot(path=str(artefacts / "serve-desktop.png"), full_page=True)

    # One click shows the original, one more the translation again.
    translated = image_bytes(page, "#main-image")
    page.click("#toggle")
    assert page.get_attribute("#toggle", "aria-pressed") == "true"
    original = image_bytes(page, "#main-image")
    assert original != translated
    page.click("#toggle")
    assert image_bytes(page, "#main-image") == translated

    # Side by side shows both images.
    page.click("#side")
    assert page.is_visible("#view-original") and page.is_visible("#view-main")
    page.screenshot(path=str(artefacts / "serve-side-by-side.png"), full_page=True)
    page.click("#side")

    # Hovering a block shows what was read and its translation.
    page.hover("#view-main polygon[data-block='b0']")
    popover = page.locator("#view-main .popover")
    assert popover.is_visible()
    assert "서울역" in popover.inner_text() and "Seoul Station" in popover.inner_text()
    page.screenshot(path=str(artefacts / "serve-hover.png"))

    # Edit a block's translation and re-render: the image changes and the JSON has the edit.
    box = page.locator(".block[data-block='b0'] textarea")
    box.fill("Main Station")
    page.click("#rerender")
    # (wait_for_function would need 'unsafe-eval', which the page's CSP rightly forbids)
    page.wait_for_selector("#result[data-revision='1']", timeout=120_000)
    rerendered = image_bytes(page, "#main-image")
    assert rerendered != translated
    page.screenshot(path=str(artefacts / "serve-rerendered.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#download-json")
    saved = tmp_path / "page.json"
    download_info.value.save_as(saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    by_id = {b["id"]: b for b in data["blocks"]}
    assert by_id["b0"]["translation"]["text"] == "Main Station"
    assert by_id["b0"]["translation"]["translator"] == "edited"

    with page.expect_download() as download_info:
        page.click("#download-png")
    png = tmp_path / "translated.png"
    download_info.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Delete from server, after the confirmation: the result goes, and so does the job.
    job_id = page.get_attribute("#result", "data-job")
    assert httpx.get(f"{server}/v1/jobs/{job_id}").status_code == 200
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    page.wait_for_selector("#result[hidden]", state="attached")
    assert "Deleted" in page.inner_text("#status")
    assert httpx.get(f"{server}/v1/jobs/{job_id}").status_code == 404
    page.close()


def test_the_page_fits_a_phone_and_works_with_the_keyboard(server, browser, artefacts):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    translate_sign(page, server)
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artefacts / "serve-phone.png"), full_page=True)

    # Tab reaches the block boxes; focusing one shows its text, Enter jumps to its translation.
    page.focus("#side")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "polygon":
            break
    assert page.evaluate("document.activeElement.dataset.block") == "b0"
    assert page.locator("#view-main .popover").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Translation of block b0"
    page.close()
