"""`imtrans batch --layers svg|psd` through run_batch on the local engine: a layers file beside
each translated image, a folder of them for an archive, resumed like the other outputs; the
files reopened by ElementTree and psd-tools. Pages are translated by the bundled glossary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from batch_inputs import comic_archive, glossary_settings, image_folder
from psd_tools import PSDImage

from imtrans.batch import BatchOptions, run_batch
from imtrans.errors import ConfigError
from imtrans.export.svg import INKSCAPE_NS, SVG_NS

pytestmark = pytest.mark.slow


def layer_names(page_json: dict) -> list[str]:
    drawn = [b for b in page_json["blocks"] if b["translation"]]
    return ["original", "erased", *(f"{b['id']}: {b['translation']['text']}" for b in drawn)]


def svg_layers(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    return {g.get(f"{{{INKSCAPE_NS}}}label"): g for g in root.findall(f"{{{SVG_NS}}}g")}


def test_batch_layers_are_written_beside_each_page_and_resumed_like_the_other_outputs(tmp_path):
    image_folder(tmp_path / "in")
    archive = comic_archive(tmp_path / "ch.cbz", corrupt=False)
    settings, out = glossary_settings(tmp_path), tmp_path / "out"
    first = run_batch([tmp_path / "in", archive], settings, BatchOptions(out, layers="svg"))
    assert (first.translated, first.failed) == (4, 0)

    # An image's layers beside it; an archive's in a folder named after it, one file per page.
    svgs = sorted(str(p.relative_to(out)) for p in out.rglob("*.svg"))
    assert svgs == [
        "ch.cbz.layers/00001.svg",
        "ch.cbz.layers/00002.svg",
        "in/notices/notice_0.png.svg",
        "in/sign_0.png.svg",
    ]
    sign = json.loads((out / "in/sign_0.png.json").read_text())
    layers = svg_layers(out / "in/sign_0.png.svg")
    assert list(layers) == layer_names(sign)
    texts = ["".join(t.itertext()) for t in layers["b0: Seoul Station"].iter(f"{{{SVG_NS}}}text")]
    assert texts == ["Seoul Station"]
    pages = json.loads((out / "ch.cbz.json").read_text())["pages"]
    assert list(svg_layers(out / "ch.cbz.layers/00002.svg")) == layer_names(pages[1]["result"])

    # Resume: nothing to do while every layers file is there; a missing one redoes its page only.
    again = run_batch([tmp_path / "in", archive], settings, BatchOptions(out, layers="svg"))
    assert (again.translated, again.skipped) == (0, 4)
    (out / "ch.cbz.layers/00001.svg").unlink()
    redo = run_batch([tmp_path / "in", archive], settings, BatchOptions(out, layers="svg"))
    assert (redo.translated, redo.skipped) == (1, 3)
    assert (out / "ch.cbz.layers/00001.svg").is_file()

    # Another format: every page again, PSDs that psd-tools reopens, no SVG left to go stale.
    psd_run = run_batch([tmp_path / "in", archive], settings, BatchOptions(out, layers="psd"))
    assert (psd_run.translated, psd_run.skipped) == (4, 0)
    assert not list(out.rglob("*.svg"))
    psd = PSDImage.open(out / "in/sign_0.png.psd")
    assert [layer.name for layer in psd] == layer_names(sign)
    assert [layer.name for layer in PSDImage.open(out / "ch.cbz.layers/00002.psd")] == layer_names(
        pages[1]["result"]
    )


def test_an_unknown_layers_format_is_refused_before_any_work(tmp_path):
    image_folder(tmp_path / "in")
    with pytest.raises(ConfigError, match="unknown --layers format 'pdf'; use svg or psd"):
        run_batch(
            [tmp_path / "in"], glossary_settings(tmp_path), BatchOptions(tmp_path / "out", layers="pdf")
        )
    assert not (tmp_path / "out").exists()
