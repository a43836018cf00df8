"""Erase a dataset's pages with several backends and show them side by side (index.html, results.json).

    python training/eraser_report.py --data /work/shared/data/openmantra-dev --out /tmp/eraser_report/om
    python training/eraser_report.py --data /tmp/synth_ko /tmp/synth_ja --limit 10 --out /tmp/er
    python training/eraser_report.py --data DIR --backends telea,ns,gan --lines truth --set erase.dilate=3 --out /tmp/er

``--data`` takes anything `imtrans.evaluate.adapters.load_dataset` reads (an `imtrans synth`
manifest dir, the OpenMantra folder, ICDAR), one or more; ``--limit N`` keeps the first N
pages of each. Per page, top to bottom:

1. lines: detected, recognised and grouped by the default pipeline (`Pipeline.ocr`, as
   ``imtrans erase`` does), or with ``--lines truth`` the dataset's true line quads;
2. mask: `build_text_mask` once, so every backend fills exactly the same pixels;
3. erase: the image and that mask through each backend of ``--backends`` (`make_eraser`);
4. measure each result: residue = the pipeline reads the erased page again and the
   source-script characters it finds on true text (a block's readable lines, or its box) are counted
   (`metrics.residue_chars`, as ``imtrans eval`` does), and among them those centred on a
   line that was erased (*erased residue*: text the eraser left, not text the first read
   missed, which stays on the page whatever the backend and which a second read may or may
   not find); with a clean background (synth),
   PSNR / SSIM (`metrics.psnr`, `metrics.ssim`) inside the true text mask (the figure
   ``imtrans eval`` reports) and inside the filled pixels (the built mask), and the letters
   left in the fill (`metrics.ghost_slope` over the filled pixels);
5. find the window of the page where the backends differ most (for the zoomed crops).

Then ``OUT/index.html`` (summary, wins and losses against the first backend, the command,
settings and versions; zoomed crops of the ten pages that differ most; one row per page,
thumbnails linking to full PNGs), ``OUT/results.json`` (the same figures per page and in
total), ``OUT/img/`` and ``OUT/crops/``. Every file is written atomically; pictures of the
pages are written as each page is done, the report at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import json
import math
import platform
import re
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from imtrans.erase import make_eraser
from imtrans.erase.base import Eraser
from imtrans.erase.gan import DEFAULT_MODEL
from imtrans.erase.mask import build_text_mask
from imtrans.errors import ConfigError, ImtransError, OutputError
from imtrans.evaluate.adapters import load_dataset
from imtrans.evaluate.dataset import Dataset, Sample
from imtrans.evaluate.metrics import ghost_slope, psnr, quad_polygon, residue_chars, source_script_chars, ssim
from imtrans.evaluate.runner import residue_regions
from imtrans.imageio import atomic_writes, load_image
from imtrans.pipeline import Pipeline
from imtrans.registry import ERASERS
from imtrans.settings import Settings, resolve_settings, settings_hash
from imtrans.types import Line

THUMB_WIDTH = 400
JPEG_QUALITY = 85
#: Side (px) of the zoomed window around the largest difference, shown up to twice its size.
CROP_PX = 192
ZOOMED_PAGES = 10
#: Differences smaller than these count as ties in the wins / losses count.
TIES = {
    "psnr_mask": 0.05,
    "ssim_mask": 0.001,
    "psnr_filled": 0.05,
    "ssim_filled": 0.001,
    "ghost_filled": 0.01,
    "residue_chars": 0,
    "erased_residue_chars": 0,
}
#: Which way is better, per compared figure.
HIGHER_IS_BETTER = {key: key.startswith(("psnr", "ssim")) for key in TIES}


@dataclass
class PageRecord:
    """The figures of one page (per backend in ``backends``) and the files written for it."""

    id: str
    dataset: str
    image: str
    width: int = 0
    height: int = 0
    lines: int = 0
    fallback_lines: int = 0
    masked_px: int = 0
    truth_chars: int = 0
    textured: bool | None = None
    residue_before: int | None = None
    psnr_mask_input: float | None = None
    backends: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    difference: float = 0.0
    window: tuple[int, int, int, int] = (0, 0, 0, 0)
    files: dict[str, str] = field(default_factory=dict)
    error: str | None = None


# -- 1-5: one page ---------------------------------------------------------------------------------
def report_page(
    pipeline: Pipeline,
    erasers: dict[str, Eraser],
    data: Dataset,
    sample: Sample,
    lines_from: str,
    out: Path,
    pooled: dict[str, list[np.ndarray]],
) -> PageRecord:
    """Erase one page with every backend, measure each and write its pictures.

    ``pooled`` collects, for the pooled PSNR, the pixels inside the true mask (``"mask/<backend>"``,
    ``"mask/clean"``) and inside the filled mask (``"filled/..."``) of each result and of the
    clean background.
    """
    image = load_image(data.path(sample.image), pipeline.settings.image)
    name = f"{data.name}/{sample.id}"
    rec = PageRecord(
        name, data.name, str(data.path(sample.image)), width=image.shape[1], height=image.shape[0]
    )
    # Where each true block's text lies (its readable lines, or its box), as `imtrans eval` counts.
    truth = residue_regions(sample)
    regions = [(quads, lang) for quads, _, lang in truth]
    rec.truth_chars = sum(source_script_chars(text, lang) for _, text, lang in truth)

    # 1. lines
    if lines_from == "truth":
        lines = [Line(f"t{i}", gl.to_quad()) for i, gl in enumerate(sample.lines) if not gl.ignore]
    else:
        lines = pipeline.ocr(image).page.lines
        rec.residue_before = sum(residue_chars(regions, [(ln.quad, ln.text) for ln in lines]))
    rec.lines = len(lines)

    # 2. mask, once for every backend
    built = build_text_mask(image, lines, pipeline.settings.erase.dilate)
    mask = built.mask
    rec.fallback_lines, rec.masked_px = len(built.fallback_line_ids), int((mask > 0).sum())
    erased_areas = [quad_polygon(ln.quad).buffer(4) for ln in lines]  # the margin residue_chars uses

    clean = true_mask = None
    if sample.background:
        clean = load_image(data.path(sample.background), pipeline.settings.image)
        if sample.mask:
            true_mask = load_image(data.path(sample.mask), pipeline.settings.image)[..., 0] > 127
            if true_mask.any():
                from imtrans.nets.data import is_textured  # torch: only for sets with a clean background

                rec.textured = is_textured(clean, true_mask.astype(np.uint8) * 255)
                rec.psnr_mask_input = _finite(psnr(image, clean, true_mask))
                pooled.setdefault("mask/clean", []).append(clean[true_mask])
            else:
                true_mask = None
        if rec.masked_px:
            pooled.setdefault("filled/clean", []).append(clean[mask > 0])

    # 3-4. erase with each backend, measure
    results: dict[str, np.ndarray] = {}
    for backend, eraser in erasers.items():
        start = time.perf_counter()
        erased = eraser.erase(image, mask) if lines else image.copy()
        seconds = time.perf_counter() - start
        again = pipeline.ocr(erased).page.lines
        per_block = residue_chars(regions, [(ln.quad, ln.text) for ln in again])
        on_erased = [
            ln for ln in again if any(e.contains(quad_polygon(ln.quad).centroid) for e in erased_areas)
        ]
        figures: dict[str, float | int | None] = {
            "residue_chars": sum(per_block),
            "residue_blocks": sum(1 for n in per_block if n),
            "erased_residue_chars": sum(residue_chars(regions, [(ln.quad, ln.text) for ln in on_erased])),
            "seconds": round(seconds, 3),
        }
        if clean is not None:
            if true_mask is not None:
                figures["psnr_mask"] = _finite(psnr(erased, clean, true_mask))
                figures["ssim_mask"] = _finite(ssim(erased, clean, true_mask))
                pooled.setdefault(f"mask/{backend}", []).append(erased[true_mask])
            if rec.masked_px:
                figures["psnr_filled"] = _finite(psnr(erased, clean, mask))
                figures["ssim_filled"] = _finite(ssim(erased, clean, mask))
                figures["ghost_filled"] = _finite(ghost_slope(erased, clean, image, mask))
                pooled.setdefault(f"filled/{backend}", []).append(erased[mask > 0])
        rec.backends[backend] = figures
        results[backend] = erased

    # 5. where the backends differ most
    rec.window, rec.difference = most_different_window(image, mask, list(results.values()))
    crops = page_crops(image, mask, results, clean, rec.window)
    write_page_images(out, rec, image, results, crops)
    return rec


def most_different_window(
    image: np.ndarray, mask: np.ndarray, results: list[np.ndarray]
) -> tuple[tuple[int, int, int, int], float]:
    """The ``CROP_PX`` square where the results differ most from the first (or, alone, from the input).

    Where they differ nowhere (every cluster flat-filled alike), the square holding most of the mask.

    Returns:
        ``(x0, y0, x1, y1)`` and the mean absolute difference per channel value inside it.
    """
    base, others = (results[0], results[1:]) if len(results) > 1 else (image, results)
    diff = np.zeros(image.shape[:2], np.float32)
    for other in others:
        d = np.abs(other.astype(np.int16) - base.astype(np.int16)).reshape(*image.shape[:2], -1).mean(axis=2)
        np.maximum(diff, d.astype(np.float32), out=diff)
    h, w = diff.shape
    side_h, side_w = min(CROP_PX, h), min(CROP_PX, w)
    # Window means at every position (anchor at the window's centre).
    tie_break = (mask > 0).astype(np.float32) * np.float32(1e-3)
    means = cv2.boxFilter(
        diff + tie_break, -1, (side_w, side_h), normalize=True, borderType=cv2.BORDER_CONSTANT
    )
    cy, cx = np.unravel_index(int(np.argmax(means)), means.shape)
    x0 = int(np.clip(cx - side_w // 2, 0, w - side_w))
    y0 = int(np.clip(cy - side_h // 2, 0, h - side_h))
    score = float(diff[y0 : y0 + side_h, x0 : x0 + side_w].mean())
    return (x0, y0, x0 + side_w, y0 + side_h), score


def page_crops(
    image: np.ndarray,
    mask: np.ndarray,
    results: dict[str, np.ndarray],
    clean: np.ndarray | None,
    window: tuple[int, int, int, int],
) -> dict[str, np.ndarray]:
    """The window cut from the input (with the mask's outline), each result and the clean background."""
    x0, y0, x1, y1 = window
    cut = (slice(y0, y1), slice(x0, x1))
    outlined = image[cut].copy()
    contours, _ = cv2.findContours((mask[cut] > 0).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(outlined, contours, -1, (255, 0, 200), 1)
    crops = {"original": outlined} | {b: r[cut] for b, r in results.items()}
    if clean is not None:
        crops["clean"] = clean[cut]
    return crops


def write_page_images(
    out: Path,
    rec: PageRecord,
    image: np.ndarray,
    results: dict[str, np.ndarray],
    crops: dict[str, np.ndarray],
) -> None:
    """Full PNGs and ~400 px JPEG thumbnails of the input and each result; PNG crops (all or none)."""
    stem = _safe(rec.id)
    with atomic_writes() as w:
        for kind, picture in ({"original": image} | results).items():
            rec.files[kind] = f"img/{stem}.{kind}.png"
            rec.files[f"{kind}_thumb"] = f"img/{stem}.{kind}.jpg"
            w.write_bytes(out / rec.files[kind], _encode(picture, "PNG"))
            w.write_bytes(out / rec.files[f"{kind}_thumb"], _encode(_thumbnail(picture), "JPEG"))
        for kind, crop in crops.items():
            rec.files[f"{kind}_crop"] = f"crops/{stem}.{kind}.png"
            w.write_bytes(out / rec.files[f"{kind}_crop"], _encode(crop, "PNG"))


# -- totals ----------------------------------------------------------------------------------------
def totals(
    records: list[PageRecord], backends: list[str], pooled: dict[str, list[np.ndarray]]
) -> dict[str, Any]:
    """Per backend: residue totals, medians and pooled PSNR, SSIM; wins / losses against the first backend."""
    ok = [r for r in records if r.error is None]
    truth_chars = sum(r.truth_chars for r in ok)
    out: dict[str, Any] = {
        "pages": len(records),
        "errors": len(records) - len(ok),
        "lines": sum(r.lines for r in ok),
        "fallback_lines": sum(r.fallback_lines for r in ok),
        "truth_chars": truth_chars,
        "textured_pages": sum(1 for r in ok if r.textured),
        "backends": {},
        "versus": {},
    }
    if any(r.residue_before is not None for r in ok):
        out["residue_before"] = sum(r.residue_before or 0 for r in ok)
    floor = [r.psnr_mask_input for r in ok if r.psnr_mask_input is not None]
    if floor:
        out["psnr_mask_input_median"] = round(statistics.median(floor), 3)
    for b in backends:
        figs = [r.backends[b] for r in ok]
        residue = sum(int(f["residue_chars"] or 0) for f in figs)
        t: dict[str, Any] = {
            "residue_chars": residue,
            "residue_rate": round(residue / truth_chars, 4) if truth_chars else None,
            "residue_pages": sum(1 for f in figs if f["residue_chars"]),
            "residue_blocks": sum(int(f["residue_blocks"] or 0) for f in figs),
            "erased_residue_chars": sum(int(f["erased_residue_chars"] or 0) for f in figs),
            "seconds_median": _median([f["seconds"] for f in figs]),
        }
        for key in ("psnr_mask", "ssim_mask", "psnr_filled", "ssim_filled"):
            t[f"{key}_median"] = _median([f.get(key) for f in figs])
        t["ssim_mask_mean"] = _mean([f.get("ssim_mask") for f in figs])
        for region in ("mask", "filled"):
            if pooled.get(f"{region}/{b}"):
                ours, truth = (
                    np.concatenate(pooled[f"{region}/{b}"]),
                    np.concatenate(pooled[f"{region}/clean"]),
                )
                t[f"psnr_{region}_pooled"] = _finite(psnr(ours, truth))
        textured = [r.backends[b] for r in ok if r.textured]
        if textured:
            t["textured_psnr_mask_median"] = _median([f.get("psnr_mask") for f in textured])
            t["textured_ssim_mask_median"] = _median([f.get("ssim_mask") for f in textured])
            t["textured_ghost_filled_mean"] = _mean([f.get("ghost_filled") for f in textured])
        out["backends"][b] = t
    for b in backends[1:]:
        counts = {key: wins(ok, b, backends[0], key) for key in TIES}
        # Figures no page has (PSNR without a clean background) are left out.
        out["versus"][b] = {key: c for key, c in counts.items() if sum(c.values())}
    return out


def wins(records: list[PageRecord], backend: str, baseline: str, key: str) -> dict[str, int]:
    """Pages where ``backend`` is better, worse or level with ``baseline`` on one figure."""
    count = {"better": 0, "worse": 0, "tie": 0}
    for r in records:
        a, b = r.backends[backend].get(key), r.backends[baseline].get(key)
        if a is None or b is None:
            continue
        d = (a - b) if HIGHER_IS_BETTER[key] else (b - a)
        count["tie" if abs(d) <= TIES[key] else ("better" if d > 0 else "worse")] += 1
    return count


# -- the page --------------------------------------------------------------------------------------
_CSS = """body{font:14px system-ui,sans-serif;margin:1.5em;max-width:1700px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f3f3f3}code,pre{font-size:12px;white-space:pre-wrap;word-break:break-all}
img{display:block}.pages{width:100%}.thumb{width:100%;max-width:400px;height:auto}.zoom{display:grid;gap:6px;margin-bottom:1.2em}
.zoom img{width:100%;height:auto;image-rendering:pixelated}figure{margin:0}figcaption{font-size:12px;color:#333}
b.win{color:#060}.num{text-align:right}"""


def render_html(doc: dict[str, Any], records: list[PageRecord], backends: list[str]) -> str:
    """The report page: summary, provenance, zoomed crops, one row per page."""
    e = html.escape
    t = doc["totals"]
    kinds = ["original", *backends]
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        f"<title>Eraser report: {e(', '.join(doc['datasets']))}</title><style>{_CSS}</style>",
        f"<h1>Eraser report: {e(' vs '.join(backends))} on {e(', '.join(doc['datasets']))}</h1>",
        (
            f"<p>{t['pages']} pages ({t['errors']} errors), {t['lines']} lines ({t['fallback_lines']} masked as whole "
            f"boxes), lines from <b>{e(doc['settings']['lines'])}</b>. Every backend fills the same mask.</p>"
        ),
        "<h2>Summary</h2>",
        _summary_table(t, backends),
    ]
    if t["versus"]:
        parts.append(
            "<h3>Per page, against " + e(backends[0]) + "</h3><table><tr><th>backend</th><th>figure</th>"
            "<th>better</th><th>worse</th><th>tie</th><th>tie means</th></tr>"
        )
        for b, figs in t["versus"].items():
            for key, c in figs.items():
                parts.append(
                    f"<tr><td>{e(b)}</td><td>{key}</td><td class='num'>{c['better']}</td>"
                    f"<td class='num'>{c['worse']}</td><td class='num'>{c['tie']}</td>"
                    f"<td>|difference| &le; {TIES[key]}</td></tr>"
                )
        parts.append("</table>")
    parts += [
        "<h3>How this was made</h3>",
        f"<pre>{e(doc['command'])}</pre>",
        f"<p>Signature: <code>{e(doc['signature'])}</code></p>",
        (
            f"<p>Models: <code>{e(json.dumps(doc['models']))}</code><br>Versions: <code>{e(json.dumps(doc['versions']))}"
            f"</code><br>Erase settings: <code>{e(json.dumps(doc['settings']['erase']))}</code><br>Started "
            f"{e(doc['started'])}, {doc['seconds']} s on {e(doc['machine'])}.</p>"
        ),
        (
            "<p>Residue: source-script characters the pipeline reads again inside true text regions after erasing "
            "(as <code>imtrans eval</code>); <i>erased residue</i>: those of them centred on a line that was erased "
            "(text the first read missed was never erased, whatever the backend, and a second read may find it or "
            "not). PSNR / SSIM: against the clean background inside the true text mask "
            "(<i>mask</i>) or inside the pixels the eraser filled (<i>filled</i>); pooled PSNR is that of all "
            "masked pixels of all pages together. The true mask also holds text the first read missed, left as "
            "it is by every backend (it dominates the pooled figure); the filled pixels are the eraser's alone. <i>Textured</i>: the clean background around the text varies "
            "(<code>imtrans.nets.data.is_textured</code>).</p>"
        ),
    ]
    errors = [r for r in records if r.error]
    if errors:
        parts.append(
            "<h2>Errors</h2><ul>"
            + "".join(f"<li>{e(r.id)}: {e(r.error or '')}</li>" for r in errors)
            + "</ul>"
        )
    zoomed = sorted((r for r in records if r.error is None), key=lambda r: r.difference, reverse=True)[
        :ZOOMED_PAGES
    ]
    parts.append(
        f"<h2>Where the backends differ most ({len(zoomed)} pages)</h2><p>{CROP_PX} px windows, up to twice "
        "their size; the input shows the filled mask's outline in magenta. Click for the full page.</p>"
    )
    for r in zoomed:
        x0, y0, x1, y1 = r.window
        panels = [k for k in [*kinds, "clean"] if f"{k}_crop" in r.files]
        parts.append(
            f"<h3 id='zoom-{_safe(r.id)}'>{e(r.id)}: window x {x0}-{x1}, y {y0}-{y1}; mean difference "
            f"{r.difference:.2f}/255 per channel</h3>"
            f"<div class='zoom' style='grid-template-columns:repeat({len(panels)},minmax(0,{2 * CROP_PX}px))'>"
        )
        for kind in panels:
            full = r.files.get(kind, r.files[f"{kind}_crop"])
            parts.append(
                f"<figure><a href='{e(full)}'><img src='{e(r.files[kind + '_crop'])}' alt='{e(kind)}'></a>"
                f"<figcaption>{e(kind)} {_figures_line(r, kind)}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append(
        "<h2>Pages</h2><table class='pages'><tr><th>page</th>"
        + "".join(f"<th>{e(k)}</th>" for k in kinds)
        + "</tr>"
    )
    for r in records:
        parts.append(
            f"<tr><td>{e(r.id)}<br>{r.lines} lines, {r.masked_px} px filled"
            + (f"<br>textured: {'yes' if r.textured else 'no'}" if r.textured is not None else "")
            + (f"<br>error: {e(r.error)}" if r.error else "")
            + "</td>"
        )
        for kind in kinds:
            if f"{kind}_thumb" not in r.files:
                parts.append("<td></td>")
                continue
            parts.append(
                f"<td><a href='{e(r.files[kind])}'><img class='thumb' src='{e(r.files[kind + '_thumb'])}' "
                f"alt='{e(r.id)} {e(kind)}' loading='lazy'></a>{_figures_line(r, kind)}</td>"
            )
        parts.append("</tr>")
    parts.append("</table></html>")
    return "\n".join(parts)


def _summary_table(t: dict[str, Any], backends: list[str]) -> str:
    rows = [
        ("residue_chars", "residue: characters read again (total)"),
        ("residue_rate", "residue: share of the true characters"),
        ("residue_pages", "pages with residue"),
        ("residue_blocks", "true blocks with residue"),
        ("erased_residue_chars", "erased residue: characters read again on erased lines (total)"),
        ("psnr_mask_median", "PSNR in mask, median per page (dB)"),
        ("psnr_mask_pooled", "PSNR in mask, pooled (dB)"),
        ("ssim_mask_median", "SSIM in mask, median per page"),
        ("ssim_mask_mean", "SSIM in mask, mean per page"),
        ("textured_psnr_mask_median", f"PSNR in mask, median of {t['textured_pages']} textured pages (dB)"),
        ("textured_ssim_mask_median", f"SSIM in mask, median of {t['textured_pages']} textured pages"),
        ("psnr_filled_median", "PSNR in filled pixels, median per page (dB)"),
        ("psnr_filled_pooled", "PSNR in filled pixels, pooled (dB)"),
        ("ssim_filled_median", "SSIM in filled pixels, median per page"),
        (
            "textured_ghost_filled_mean",
            f"letters left in the fill (ghost slope: 0 none, 1 all), mean of {t.get('textured_pages')} textured pages",
        ),
        ("seconds_median", "erase time, median per page (s; shared machine)"),
    ]
    out = ["<table><tr><th>figure</th>" + "".join(f"<th>{html.escape(b)}</th>" for b in backends) + "</tr>"]
    for key, label in rows:
        values = [t["backends"][b].get(key) for b in backends]
        if all(v is None for v in values):
            continue
        out.append(
            f"<tr><td>{label}</td>" + "".join(f"<td class='num'>{_fmt(v)}</td>" for v in values) + "</tr>"
        )
    extra = []
    if "residue_before" in t:
        extra.append(
            f"before erasing, the same reading finds {t['residue_before']} source characters in true "
            f"regions (of {t['truth_chars']} true)"
        )
    if "psnr_mask_input_median" in t:
        extra.append(
            f"the unerased input scores {t['psnr_mask_input_median']:.2f} dB in mask (median): the floor"
        )
    out.append("</table>" + ("<p>" + "; ".join(extra) + ".</p>" if extra else ""))
    return "".join(out)


def _figures_line(r: PageRecord, kind: str) -> str:
    """Residue, PSNR and SSIM of one backend on one page; the best value among backends in bold."""
    if kind == "original":
        before = [] if r.residue_before is None else [f"read before erasing: {r.residue_before}"]
        floor = [] if r.psnr_mask_input is None else [f"PSNR {_fmt(r.psnr_mask_input)}"]
        return "<br>" + " &middot; ".join(before + floor) if before or floor else ""
    figs = r.backends.get(kind)
    if not figs:
        return ""
    shown = []
    shown_figures = (
        ("residue_chars", "residue"),
        ("erased_residue_chars", "on erased lines"),
        ("psnr_mask", "PSNR"),
        ("ssim_mask", "SSIM"),
    )
    for key, label in shown_figures:
        v = figs.get(key)
        if v is None:
            continue
        others = [f.get(key) for f in r.backends.values() if f.get(key) is not None]
        best = (max if HIGHER_IS_BETTER[key] else min)(others)
        text = f"{label} {_fmt(v)}"
        shown.append(
            f"<b class='win'>{text}</b>"
            if len(others) > 1 and v == best and others.count(best) == 1
            else text
        )
    return "<br>" + " &middot; ".join(shown)


# -- small helpers ---------------------------------------------------------------------------------
def _encode(image: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **({"quality": JPEG_QUALITY} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _thumbnail(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    if w <= THUMB_WIDTH:
        return image
    return cv2.resize(image, (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w))), interpolation=cv2.INTER_AREA)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _finite(v: float) -> float | None:
    return None if math.isnan(v) or math.isinf(v) else round(float(v), 4)


def _median(values: list[Any]) -> float | None:
    vs = [v for v in values if v is not None]
    return round(statistics.median(vs), 4) if vs else None


def _mean(values: list[Any]) -> float | None:
    vs = [v for v in values if v is not None]
    return round(statistics.fmean(vs), 4) if vs else None


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 1 else f"{v:.2f}"
    return str(v)


def _model_info() -> dict[str, Any]:
    """The gan model file as it is now (a training run may replace it): size, time, sha256."""
    if not DEFAULT_MODEL.is_file():
        return {"path": str(DEFAULT_MODEL), "present": False}
    stat = DEFAULT_MODEL.stat()
    return {
        "path": str(DEFAULT_MODEL),
        "bytes": stat.st_size,
        "modified": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds"),
        "sha256": hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest(),
    }


def _versions(pipeline: Pipeline) -> dict[str, str]:
    out = dict(pipeline.versions)
    for pkg in ("numpy", "scikit-image", "shapely"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    out["python"] = platform.python_version()
    return out


# -- main ------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--data",
        type=Path,
        nargs="+",
        required=True,
        action="extend",
        help="dataset dirs (synth manifest dir, OpenMantra folder, ICDAR)",
    )
    p.add_argument("--out", type=Path, required=True, help="report folder (created)")
    p.add_argument(
        "--backends", default="telea,gan", help="comma-separated erase backends; the first is the baseline"
    )
    p.add_argument("--limit", type=int, default=None, help="at most N pages of each dataset")
    p.add_argument(
        "--lines",
        choices=("detected", "truth"),
        default="detected",
        help="detected: the default pipeline reads each page; truth: the dataset's true line quads",
    )
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a pipeline setting, e.g. erase.dilate=3 (repeatable)",
    )
    p.add_argument(
        "--language", default=None, help="source language for OpenMantra / ICDAR (default ja / en)"
    )
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> Path:
    """Check everything that can fail before the long work, then report every page; returns index.html."""
    started, start = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    settings: Settings = resolve_settings(None, args.sets)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or len(set(backends)) != len(backends):
        raise ConfigError(f"--backends needs distinct backend names, got {args.backends!r}")
    known = ERASERS.names()
    unknown = [b for b in backends if b not in known]
    if unknown:
        raise ConfigError(f"unknown erase backend(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {args.limit}")
    erasers = {b: make_eraser(settings.with_overrides({"erase.backend": b}).erase) for b in backends}
    datasets = [load_dataset(d, language=args.language) for d in args.data]
    samples = [(d, s) for d in datasets for s in d.samples[: args.limit]]
    if args.lines == "truth":
        bare = [d.name for d in datasets if not any(s.lines for s in d.samples)]
        if bare:
            raise ConfigError(
                f"--lines truth: {', '.join(bare)} has no line-level truth; use --lines detected"
            )
    try:
        for sub in ("img", "crops"):
            (args.out / sub).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write the report to {args.out}: {e.strerror or e}") from None

    pipeline = Pipeline(settings)
    models = {"gan": _model_info()} if "gan" in backends else {}
    records: list[PageRecord] = []
    pooled: dict[str, list[np.ndarray]] = {}
    for i, (data, sample) in enumerate(samples, 1):
        t0 = time.perf_counter()
        try:
            rec = report_page(pipeline, erasers, data, sample, args.lines, args.out, pooled)
        except ImtransError as e:
            rec = PageRecord(
                f"{data.name}/{sample.id}", data.name, sample.image, error=f"{type(e).__name__}: {e}"
            )
        records.append(rec)
        summary = " ".join(
            f"{b}: residue {f['residue_chars']}" + (f" psnr {f['psnr_mask']}" if "psnr_mask" in f else "")
            for b, f in rec.backends.items()
        )
        print(
            f"[{i}/{len(samples)}] {rec.id} {time.perf_counter() - t0:.1f} s {rec.error or summary}",
            file=sys.stderr,
            flush=True,
        )

    total = totals(records, backends, pooled)
    erase_settings = settings.to_dict()["erase"]
    doc = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "signature": "|".join(
            [
                *(f"data:{d.name}@{d.fingerprint}" for d in datasets),
                f"n:{len(samples)}",
                f"lines:{args.lines}",
                f"backends:{','.join(backends)}",
                f"settings:{settings_hash(settings)[:8]}",
                *([f"gan_model:{models['gan'].get('sha256', 'missing')[:12]}"] if models else []),
                *(f"{k}:{v}" for k, v in _versions(pipeline).items()),
            ]
        ),
        "datasets": [f"{d.name} ({d.root})" for d in datasets],
        "settings": {
            "lines": args.lines,
            "limit": args.limit,
            "backends": backends,
            "erase": erase_settings,
            "overrides": args.sets,
        },
        "models": models,
        "versions": _versions(pipeline),
        "machine": f"{platform.machine()}, {platform.system()}",
        "started": started,
        "seconds": round(time.perf_counter() - start, 1),
        "totals": total,
        "pages": [_record_dict(r) for r in records],
    }
    page = render_html(doc, records, backends)
    with atomic_writes() as w:
        w.write_bytes(args.out / "results.json", json.dumps(doc, ensure_ascii=False, indent=1).encode())
        w.write_bytes(args.out / "index.html", page.encode())
    return args.out / "index.html"


def _record_dict(r: PageRecord) -> dict[str, Any]:
    d = dict(r.__dict__)
    d["window"] = list(r.window)
    d["difference"] = round(r.difference, 4)
    return d


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        index = run(args)
    except ImtransError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
