"""Editable outputs as a user makes them: `imtrans translate --layers`, `imtrans render`, and the
SVG drawn by Debian's chromium (Playwright) compared with the PNG render.

Screenshots go to $IMTRANS_ARTEFACTS when set, else to pytest's temporary folder; look at them.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from psd_tools import PSDImage

from tests.component.test_layers_files import drawn_page
from tests.e2e import test_serve_browser
from tests.e2e.test_cli import EXAMPLES, imtrans, one_error_line

#: A pixel is ink where it differs from the erased background by more than this (any channel).
INK = 48

pytestmark = pytest.mark.slow
# The web page's browser tests' fixtures: Debian's chromium, and where screenshots go.
browser = test_serve_browser.browser
artefacts = test_serve_browser.artefacts


@pytest.fixture(scope="module")
def sign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sign translated by the CLI with --json, --erased and --layers (SVG and PSD)."""
    folder = tmp_path_factory.mktemp("sign")
    common = ["--to", "en", "--glossary", str(EXAMPLES / "glossary.csv")]
    common += ["--set", f"translate.cache_path={folder / 'cache.sqlite3'}"]
    for suffix in ("svg", "psd"):
        proc = imtrans(
            "translate", str(EXAMPLES / "sign_ko.png"), *common, "-o", "sign.png",
            "--json", "sign.json", "--erased", "erased.png", "--layers", f"sign.{suffix}", cwd=folder,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    return folder


def screenshot(browser, svg: Path, size: tuple[int, int], out: Path) -> np.ndarray:
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(svg.resolve().as_uri())
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(out))
    page.close()
    return np.asarray(Image.open(out).convert("RGB"))


def compare(shot: np.ndarray, png: np.ndarray, erased: np.ndarray) -> tuple[float, float, float]:
    """How alike the text's ink is in the screenshot and in the PNG.

    Returns:
        The IoU of the two ink masks; their F1 within one pixel (the share of each mask's ink
        within 1 px of the other's, harmonic mean: a 1 px shift of a thin stroke costs the IoU
        much and this little); the mean absolute difference per channel over the whole image.
    """
    ink_shot = np.abs(shot.astype(int) - erased).max(axis=2) > INK
    ink_png = np.abs(png.astype(int) - erased).max(axis=2) > INK
    iou = (ink_shot & ink_png).sum() / max(1, (ink_shot | ink_png).sum())
    kernel = np.ones((3, 3), np.uint8)
    near_png = cv2.dilate(ink_png.astype(np.uint8), kernel).astype(bool)
    near_shot = cv2.dilate(ink_shot.astype(np.uint8), kernel).astype(bool)
    precision = (ink_shot & near_png).sum() / max(1, ink_shot.sum())
    recall = (ink_png & near_shot).sum() / max(1, ink_png.sum())
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    return float(iou), float(f1), float(np.abs(shot.astype(int) - png).mean())


def test_the_sign_svg_in_chromium_looks_like_the_png_render(sign, browser, artefacts):
    png = np.asarray(Image.open(sign / "sign.png").convert("RGB"))
    erased = np.asarray(Image.open(sign / "erased.png").convert("RGB"))
    shot = screenshot(browser, sign / "sign.svg", (png.shape[1], png.shape[0]), artefacts / "layers-sign.png")
    iou, f1, mad = compare(shot, png, erased)
    print(f"sign: ink IoU {iou:.3f}, ink F1 within 1 px {f1:.3f}, mean abs diff {mad:.2f}")
    assert iou > 0.9
    assert f1 > 0.98
    assert mad < 1.5
    # The translations are text in the page, not pixels: the browser's DOM has them.
    page = browser.new_page()
    page.goto((sign / "sign.svg").resolve().as_uri())
    texts = page.eval_on_selector_all("text", "els => els.map(e => e.textContent)")
    page.close()
    assert texts == ["Seoul Station", "To City Hall", "Exit 3"]


@pytest.mark.parametrize("target", ["en", "ja"])
def test_rotated_outlined_and_vertical_text_in_chromium_matches_the_png(browser, artefacts, tmp_path, target):
    original, result = drawn_page(target)
    svg = tmp_path / "page.svg"
    result.save_layers(svg, original=original)
    h, w = result.image.shape[:2]
    shot = screenshot(browser, svg, (w, h), artefacts / f"layers-drawn-{target}.png")
    Image.fromarray(result.image).save(artefacts / f"layers-drawn-{target}.render.png")
    iou, f1, mad = compare(shot, result.image, result.erased)
    print(f"{target}: ink IoU {iou:.3f}, ink F1 within 1 px {f1:.3f}, mean abs diff {mad:.2f}")
    # ja: one vertical column; chromium sets it about 1 px lower than the PNG (thin strokes: IoU 0.6).
    # en: the perspective block is drawn as its closest affine in SVG, so it matches less.
    assert f1 > (0.95 if target == "ja" else 0.8)


def test_the_cli_psd_reopens_with_a_layer_per_block(sign):
    psd = PSDImage.open(sign / "sign.psd")
    page = json.loads((sign / "sign.json").read_text())
    names = [f"{b['id']}: {b['translation']['text']}" for b in page["blocks"] if b["translation"]]
    assert [layer.name for layer in psd] == ["original", "erased", *names]
    assert np.array_equal(
        np.asarray(psd[0].topil().convert("RGB")),
        np.asarray(Image.open(EXAMPLES / "sign_ko.png").convert("RGB")),
    )
    png = np.asarray(Image.open(sign / "sign.png").convert("RGB")).astype(int)
    assert np.abs(np.asarray(psd.composite().convert("RGB")).astype(int) - png).max() <= 2


def test_render_draws_a_page_json_again_in_another_font_and_size(sign):
    args = ["render", "sign.json", str(EXAMPLES / "sign_ko.png")]
    serif = "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf"
    proc = imtrans(*args, "-o", "same.png", "--json", "same.json", cwd=sign)
    assert proc.returncode == 0, proc.stderr
    same = np.asarray(Image.open(sign / "same.png")).astype(int)
    # The page JSON rounds quads and sizes to 0.01 px: the same picture within 2 levels.
    assert np.abs(same - np.asarray(Image.open(sign / "sign.png"))).max() <= 2
    proc = imtrans(*args, "--font", serif, "--scale", "0.6", "-o", "small.png", "--json", "small.json",
                   "--layers", "small.svg", cwd=sign)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    small = json.loads((sign / "small.json").read_text())
    assert small["settings"]["render"]["font_path"] == serif
    svg = (sign / "small.svg").read_text()
    assert "font-family=\"'Noto Serif'\"" in svg and 'font-weight="bold"' in svg
    erased = np.asarray(Image.open(sign / "erased.png")).astype(int)
    ink = {
        name: (np.abs(np.asarray(Image.open(sign / name)).astype(int) - erased).max(axis=2) > INK).sum()
        for name in ("same.png", "small.png")
    }
    assert 0.2 < ink["small.png"] / ink["same.png"] < 0.6  # about 0.6 squared of the ink


def test_render_refuses_bad_input_in_one_line_and_writes_nothing(sign, tmp_path):
    (tmp_path / "not_page.json").write_text('{"hello": 1}')
    small = tmp_path / "small.png"
    Image.new("RGB", (20, 10)).save(small)
    cases = [
        (["render", "not_page.json", str(EXAMPLES / "sign_ko.png")], "not a page JSON"),
        (["render", str(sign / "sign.json"), str(small)], "is 20x10, but the page JSON describes a 900x600"),
        (["render", str(sign / "sign.json"), str(EXAMPLES / "sign_ko.png"), "--font", "none.ttf"], "font"),
        (
            ["render", str(sign / "sign.json"), str(EXAMPLES / "sign_ko.png"), "--layers", "x.pdf"],
            ".psd or .svg",
        ),
    ]
    for args, message in cases:
        proc = imtrans(*args, "-o", "out.png", cwd=tmp_path)
        assert proc.returncode != 0
        assert message in one_error_line(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_page.json", "small.png"]
