"""The web page's layered downloads in a real browser: `imtrans serve` on localhost, Debian's
chromium (Playwright) clicks "Layers (SVG)" and "Layers (PSD)"; the files are reopened by
ElementTree, chromium itself and psd-tools.

Screenshots go to $IMTRANS_ARTEFACTS when set, else to pytest's temporary folder; look at them.
``layers-svg-beside-png.png`` is the one in docs/layers-svg.png.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from psd_tools import PSDImage

from imtrans.export.svg import INKSCAPE_NS, SVG_NS
from tests.e2e import test_layers_browser, test_serve_browser

pytestmark = pytest.mark.slow
# The web page's browser tests' fixtures: a server, Debian's chromium, where screenshots go.
server = test_serve_browser.server
browser = test_serve_browser.browser
artefacts = test_serve_browser.artefacts


def download(page, button: str, to: Path) -> Path:
    with page.expect_download() as info:
        page.click(button)
    assert info.value.suggested_filename.endswith(to.suffix)
    info.value.save_as(to)
    return to


def test_the_page_downloads_the_edited_job_as_svg_and_psd_layers(server, browser, artefacts, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    test_serve_browser.translate_sign(page, server)
    assert page.is_visible("#download-svg") and page.inner_text("#download-svg") == "Layers (SVG)"
    assert page.inner_text("#download-psd") == "Layers (PSD)"
    # An edit and a re-render first: the layers are the latest revision's.
    page.locator(".block[data-block='b0'] textarea").fill("Main Station")
    page.click("#rerender")
    page.wait_for_selector("#result[data-revision='1']", timeout=120_000)
    job = httpx.get(f"{server}/v1/jobs/{page.get_attribute('#result', 'data-job')}").json()
    drawn = [b for b in job["page"]["blocks"] if b["translation"]]
    names = [f"{b['id']}: {b['translation']['text']}" for b in drawn]
    assert "b0: Main Station" in names

    svg = download(page, "#download-svg", tmp_path / "sign.svg")
    psd = download(page, "#download-psd", tmp_path / "sign.psd")
    page.close()
    png = np.asarray(Image.open(httpx.get(f"{server}{job['files']['translated_png']}")).convert("RGB"))
    png_path = tmp_path / "sign.png"
    Image.fromarray(png).save(png_path)
    erased = np.asarray(Image.open(httpx.get(f"{server}{job['files']['erased_png']}")).convert("RGB")).astype(
        int
    )

    # The SVG parses: the two images, then a layer holding a <text> per drawn block.
    root = ET.parse(svg).getroot()
    layers = {g.get(f"{{{INKSCAPE_NS}}}label"): g for g in root.findall(f"{{{SVG_NS}}}g")}
    assert list(layers) == ["original", "erased", *names]
    for block, name in zip(drawn, names, strict=True):
        text = layers[name].find(f"{{{SVG_NS}}}text")
        assert " ".join(s.text for s in text) == block["translation"]["text"]
    # It reopens in chromium as text, and looks like the PNG render.
    shot = test_layers_browser.screenshot(browser, svg, (png.shape[1], png.shape[0]), tmp_path / "shot.png")
    iou, f1, mad = test_layers_browser.compare(shot, png, erased)
    print(f"downloaded svg: ink IoU {iou:.3f}, ink F1 within 1 px {f1:.3f}, mean abs diff {mad:.2f}")
    assert f1 > 0.98 and mad < 1.5
    side_by_side(browser, svg, png_path, artefacts / "layers-svg-beside-png.png")

    # The PSD reopens with psd-tools: original, erased, a layer per block; it shows the PNG.
    document = PSDImage.open(psd)
    assert [layer.name for layer in document] == ["original", "erased", *names]
    assert not document[0].visible
    assert np.abs(np.asarray(document.composite().convert("RGB")).astype(int) - png).max() <= 2


def side_by_side(browser, svg: Path, png: Path, out: Path) -> None:
    """Chromium showing the SVG (its first translation selected, as text is) beside the PNG render."""
    html = out.with_suffix(".html")
    w, h = Image.open(png).size
    html.write_text(
        f"""<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; padding: 12px; font: 15px sans-serif; display: flex; gap: 12px; background: #fff }}
figure {{ margin: 0 }} figcaption {{ padding: 4px 0 }} iframe, img {{ border: 1px solid #999; display: block }}
</style>
<figure><iframe src="{svg.resolve().as_uri()}" width="{w}" height="{h}" style="border-width:1px"></iframe>
<figcaption>Layered SVG in Chromium: each translation is a &lt;text&gt; (one selected)</figcaption></figure>
<figure><img src="{png.resolve().as_uri()}" width="{w}" height="{h}">
<figcaption>The PNG render</figcaption></figure>""",
        encoding="utf-8",
    )
    page = browser.new_page(viewport={"width": 2 * w + 40, "height": h + 60})
    page.goto(html.resolve().as_uri())
    frame = page.frames[1]
    frame.evaluate("document.fonts.ready")
    frame.evaluate(
        "() => { const t = document.querySelector('text');"
        " const r = document.createRange(); r.selectNodeContents(t);"
        " const s = getSelection(); s.removeAllRanges(); s.addRange(r); }"
    )
    page.screenshot(path=str(out))
    page.close()
