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


class Server(str):
    """The server's URL, with its process id and data folder."""

    pid: int
    data_dir: Path


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
    env = {k: v for k, v in os.environ.items() if k not in ("IMTRANS_API_TOKEN", "IMTRANS_DATA_DIR")}
    # No translation model and no hub to fetch one from: the state of a fresh offline machine.
    env.update(IMTRANS_HUB_URL="http://127.0.0.1:9/hub/", IMTRANS_CACHE_DIR=str(folder / "cache"))
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [
            *cmd,
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(folder),
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
        server = Server(url)
        server.pid, server.data_dir = proc.pid, folder
        yield server
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


def shot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)


def record_statuses(page) -> None:
    """Keep every text the status line shows (the page's CSP allows no eval; this runs over CDP)."""
    page.evaluate(
        """() => {
        window.seen = [];
        new MutationObserver(() => window.seen.push(document.querySelector('#status').textContent))
          .observe(document.querySelector('#status'), {childList: true, characterData: true, subtree: true});
    }"""
    )


def translate_without_glossary(page, url: str, image: Path) -> None:
    page.goto(url)
    page.set_input_files("#image", str(image))
    page.select_option("#target", "en")
    record_statuses(page)
    page.click("#go")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    page.wait_for_selector("#blocks .block")


def test_without_a_translator_the_page_shows_what_was_read_and_draws_typed_translations(
    server, browser, artefacts
):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    translate_without_glossary(page, server, EXAMPLES / "sign_ko.png")
    status = page.inner_text("#status")
    assert status.startswith("Nothing was translated: no translator."), status
    assert "Done" not in status
    # The worker was idle: the page never said it waited for one.
    assert not [t for t in page.evaluate("window.seen") if "Waiting for a free worker" in t]
    assert page.eval_on_selector_all("#blocks .block", "els => els.map(e => e.dataset.block)") == [
        "b0",
        "b1",
        "b2",
    ]
    assert page.locator("#blocks .block.untranslated").count() == 3
    assert "no_translator" in page.text_content("#diagnostics")
    erased = image_bytes(page, "#main-image")
    page.click("#toggle")
    assert image_bytes(page, "#main-image") != erased  # the shown result is erased, not the original
    page.click("#toggle")
    assert page.inner_text("#main-caption") == "Erased (nothing translated yet)"
    shot(page, artefacts / "serve-no-translator-desktop.png")

    # Type a translation and re-render: it is drawn; the status is beside the button; the
    # popover of the block being edited shows the new translation.
    page.fill(".block[data-block='b0'] textarea", "Seoul Station")
    assert "Seoul Station" not in page.locator("#view-main .popover").inner_text()
    page.click("#rerender")
    page.wait_for_selector("#result[data-revision='1']", timeout=120_000)
    page.wait_for_selector("#render-status:has-text('Re-rendered')")
    assert "1 block(s) drawn" in page.inner_text("#render-status")
    assert image_bytes(page, "#main-image") != erased
    popover = page.locator("#view-main .popover")
    assert popover.is_visible() and "Seoul Station" in popover.inner_text()
    # Translated blocks go after the untranslated ones.
    assert page.eval_on_selector_all("#blocks .block", "els => els.map(e => e.dataset.block)") == [
        "b1",
        "b2",
        "b0",
    ]
    shot(page, artefacts / "serve-no-translator-rerendered.png")
    page.close()


def _many_blocks(path: Path, words: int = 14) -> Path:
    """A poster with `words` short Korean words well apart, one block each."""
    from PIL import Image, ImageDraw

    from imtrans.render.fonts import font_for

    names = [
        "서울역",
        "시청",
        "출구",
        "명동",
        "종로",
        "강남",
        "홍대",
        "이태원",
        "신촌",
        "을지로",
        "동대문",
        "잠실",
        "광화문",
        "여의도",
    ]
    canvas = Image.new("RGB", (900, 1260), "white")
    draw = ImageDraw.Draw(canvas)
    font = font_for("ko").load(44)
    for i, word in enumerate(names[:words]):
        draw.text((60 + (i % 2) * 460, 40 + (i // 2) * 175), word, fill="black", font=font)
    canvas.save(path)
    return path


@pytest.mark.parametrize("width, height, most", [(1280, 900, 900), (390, 844, 1500)])
def test_a_14_block_page_lists_its_blocks_compactly_and_copies_them_all(
    server, browser, artefacts, tmp_path, width, height, most
):
    page = browser.new_page(viewport={"width": width, "height": height}, is_mobile=width < 800)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    translate_without_glossary(page, server, _many_blocks(tmp_path / "stations.png"))
    blocks = page.locator("#blocks .block").count()
    assert blocks == 14
    box = page.locator("#blocks").bounding_box()
    assert box["height"] < most, box
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.click("#copy-all")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.splitlines()[0] == "서울역" and len(copied.splitlines()) == 14
    shot(page, artefacts / f"serve-14-blocks-{width}.png")
    page.close()


def test_on_a_phone_the_result_is_scrolled_into_view(server, browser, artefacts):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    translate_without_glossary(page, server, EXAMPLES / "sign_ko.png")
    top = page.evaluate("document.querySelector('#result').getBoundingClientRect().top")
    # Scrolled down to the result (as far as the page goes): its top is in the upper third of the screen.
    assert page.evaluate("window.scrollY") > 0 and 0 <= top < 844 / 3, top
    page.screenshot(path=str(artefacts / "serve-no-translator-phone.png"))
    page.close()


def test_a_second_server_on_the_same_data_folder_is_refused_with_one_line(server):
    exe = Path(sys.executable).parent / "imtrans"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "imtrans.cli"]
    env = {**os.environ, "IMTRANS_DATA_DIR": str(server.data_dir)}
    proc = subprocess.run(
        [*cmd, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "is in use by another imtrans server" in lines[0]
    assert f"pid {server.pid}, {server}/" in lines[0]


def test_a_glossary_without_the_pages_words_says_so_instead_of_done(server, browser, tmp_path):
    glossary = tmp_path / "other.csv"
    glossary.write_text("source,target\n부산역,Busan Station\n", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server)
    page.set_input_files("#image", str(EXAMPLES / "sign_ko.png"))
    page.set_input_files("#glossary", str(glossary))
    page.select_option("#target", "en")
    page.click("#go")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    status = page.inner_text("#status")
    # A glossary miss keeps the original lettering: read, not erased.
    assert status.startswith("Nothing was translated: no glossary entry. 3 block(s) read;"), status
    assert page.inner_text("#main-caption") == "Nothing translated"
    page.close()


def test_a_block_that_fails_its_checks_is_marked_on_the_image_and_in_the_list(server, browser, artefacts):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    translate_sign(page, server)
    assert "3 of 3 passed the checks" in page.inner_text("#status")
    assert page.locator("#view-main polygon.failed").count() == 0
    # A translation far too long for the small exit sign cannot fit at the smallest legible size.
    page.locator(".block[data-block='b2'] textarea").fill("Exit number three, towards the city hall " * 40)
    page.click("#rerender")
    page.wait_for_selector("#result[data-revision='1']", timeout=120_000)
    assert "to review, marked" in page.inner_text("#render-status")
    shape = page.locator("#view-main polygon[data-block='b2']")
    assert "failed" in (shape.get_attribute("class") or "")
    assert "failed its checks: overflow" in (shape.get_attribute("aria-label") or "")
    mark = page.locator(".block[data-block='b2'] .block-checks")
    assert mark.is_visible() and "overflow" in mark.inner_text()
    page.hover("#view-main polygon[data-block='b2']")
    assert "failed its checks" in page.locator("#view-main .popover").inner_text()
    page.screenshot(path=str(artefacts / "serve-failed-check.png"), full_page=True)
    page.close()
