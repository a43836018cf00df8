"""The evaluation report: results.json for programs, index.html with pictures for people.

The HTML page is self-contained apart from the JPEG files beside it (img/): a summary
table with the run's signature, the failure taxonomy, reading against each baseline (per
language, failures) with the worst-read true regions shown as crops (original | erased |
translated) beside the truth and every reader's text, the worst samples per metric (with
true boxes (green), found lines (blue), missed truth (red) and false text (orange) drawn for
detection and recognition; the erased or translated picture for erase and render), and a
row of thumbnails (original | erased | translated) per sample.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from imtrans.errors import OutputError
from imtrans.evaluate.runner import FAILURE_CLASSES, SampleOutcome
from imtrans.imageio import atomic_writes
from imtrans.types import Quad

THUMB_WIDTH = 260
WORST_PER_METRIC = 5
WORST_REGIONS = 30
CROP_HEIGHT = 72
#: Per-sample metrics shown as "worst cases": (key, True when higher is worse).
WORST_METRICS = (
    ("detect.boxes_found", False),
    ("recognize.cer", True),
    ("erase.psnr_mask", False),
    ("erase.residue_rate", True),
    ("render.legibility_cer", True),
    ("e2e.delivered", False),
)
FAILURE_HELP = {
    "missed_text": "a true line (or box) less than half covered by detected lines",
    "false_text": "a detected line less than a quarter of which lies on true text",
    "split_block": "one true block read as two or more blocks",
    "merged_block": "one predicted block spanning two or more true blocks",
    "misread": "a matched line or block read with CER > 0.2",
    "residue": "a true block where source text is still found after erasing",
    "overflow": "a translation that did not fit its block at the minimum size",
    "illegible_render": "a rendered block read back with CER > 0.5",
}
_COLOURS = {"truth": (40, 200, 70), "found": (40, 110, 255), "missed": (230, 30, 30), "false": (255, 150, 0)}


def write_report(doc: dict[str, Any], outcomes: Sequence[SampleOutcome], out_dir: Path) -> Path:
    """Write results.json, index.html and img/*.jpg into `out_dir` (created); returns index.html."""
    out_dir = Path(out_dir)
    try:
        (out_dir / "img").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write the report to {out_dir}: {e.strerror}") from None
    by_id = {o.id: o for o in outcomes}
    thumbs: dict[str, dict[str, str]] = {}
    for o in outcomes:
        thumbs[o.id] = {}
        for kind in ("original", "erased", "translated"):
            if kind in o.images:
                thumbs[o.id][kind] = _save_jpeg(
                    out_dir, f"{_safe(o.id)}.{kind}.jpg", _thumbnail(o.images[kind])
                )
        if "original" in o.images:
            thumbs[o.id]["boxes"] = _save_jpeg(
                out_dir,
                f"{_safe(o.id)}.boxes.jpg",
                _thumbnail(_draw_boxes(o.images["original"], o.boxes), 520),
            )
    crops = _region_crops(doc, by_id, out_dir)
    page = _html(doc, by_id, thumbs, crops)
    with atomic_writes() as w:
        w.write_bytes(out_dir / "results.json", json.dumps(doc, ensure_ascii=False, indent=1).encode())
        w.write_bytes(out_dir / "index.html", page.encode())
    return out_dir / "index.html"


def _worst_regions(doc: dict[str, Any]) -> list[tuple[str, int]]:
    """(sample id, region index) of the regions imtrans read worst (most edits, then most chars)."""
    rows = [
        (r["edits"], r["chars"], s["id"], i)
        for s in doc["samples"]
        for i, r in enumerate(s.get("reading", {}).get("imtrans", []))
        if r["edits"]
    ]
    rows.sort(key=lambda x: (-x[0], -x[1]))
    return [(sid, i) for _, _, sid, i in rows[:WORST_REGIONS]]


def _region_crops(
    doc: dict[str, Any], by_id: dict[str, SampleOutcome], out_dir: Path
) -> dict[tuple[str, int], dict[str, str]]:
    """Crops of the worst-read regions, from each image the sample kept."""
    out: dict[tuple[str, int], dict[str, str]] = {}
    samples = {s["id"]: s for s in doc["samples"]}
    for sid, i in _worst_regions(doc):
        outcome = by_id.get(sid)
        if outcome is None:
            continue
        x0, y0, x1, y1 = samples[sid]["reading"]["imtrans"][i]["box"]
        pad = 0.15 * max(x1 - x0, y1 - y0, 10)
        out[(sid, i)] = {}
        for kind in ("original", "erased", "translated"):
            image = outcome.images.get(kind)
            if image is None:
                continue
            h, w = image.shape[:2]
            crop = image[
                max(0, int(y0 - pad)) : min(h, int(y1 + pad) + 1),
                max(0, int(x0 - pad)) : min(w, int(x1 + pad) + 1),
            ]
            if crop.size:
                scale = CROP_HEIGHT / crop.shape[0]
                size = (max(1, round(crop.shape[1] * scale)), CROP_HEIGHT)
                small = np.asarray(Image.fromarray(crop).resize(size, Image.LANCZOS))
                out[(sid, i)][kind] = _save_jpeg(out_dir, f"{_safe(sid)}.r{i}.{kind}.jpg", small)
    return out


def _reading_html(doc: dict[str, Any], crops: dict[tuple[str, int], dict[str, str]]) -> list[str]:
    e = html.escape
    reading = doc.get("reading") or {}
    if not reading:
        return []
    names = list(reading)
    parts = [
        (
            "<h2>Reading against the baselines</h2><p>Each reader's lines scored the same way "
            "(<code>evaluate/reading.py</code>): recall = true regions found, CER with missed text "
            "counted as deleted.</p>"
        ),
        "<table><tr><th>language</th><th>regions</th>"
        + "".join(f"<th>{e(n)} recall</th><th>{e(n)} CER</th>" for n in names)
        + "</tr>",
    ]
    fmt = lambda v: "-" if v is None else f"{v:.3f}"
    for lang, figures in reading[names[0]]["summary"].items():
        cells = "".join(
            f"<td>{fmt(reading[n]['summary'].get(lang, {}).get('recall'))}</td>"
            f"<td>{fmt(reading[n]['summary'].get(lang, {}).get('cer'))}</td>"
            for n in names
        )
        parts.append(f"<tr><td>{e(lang)}</td><td>{figures['regions']:.0f}</td>{cells}</tr>")
    parts.append("</table><table><tr><th>failure</th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>")
    for cls in reading[names[0]]["failures"]:
        parts.append(
            f"<tr><td>{e(cls)}</td>"
            + "".join(f"<td>{reading[n]['failures'][cls]}</td>" for n in names)
            + "</tr>"
        )
    parts.append("</table>")
    parts += [f"<p>{e(n)}: <code>{e(reading[n]['reader'])}</code></p>" for n in names]
    samples = {s["id"]: s for s in doc["samples"]}
    parts.append(
        "<h3>Worst-read regions (imtrans)</h3><table><tr><th>sample</th><th>original</th><th>erased</th>"
        "<th>translated</th><th>truth</th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"
    )
    for sid, i in _worst_regions(doc):
        row = samples[sid]["reading"]
        c = crops.get((sid, i), {})
        imgs = "".join(
            f"<td><img loading='lazy' src='{c[k]}' alt='{k}'></td>" if k in c else "<td></td>"
            for k in ("original", "erased", "translated")
        )
        texts = "".join(
            f"<td>{e(row[n][i]['read']) or '<i>not found</i>'}<br><small>{row[n][i]['edits']} edits</small></td>"
            for n in names
            if n in row
        )
        parts.append(f"<tr><td>{e(sid)}</td>{imgs}<td>{e(row['imtrans'][i]['truth'])}</td>{texts}</tr>")
    parts.append("</table>")
    return parts


def _html(
    doc: dict[str, Any],
    by_id: dict[str, SampleOutcome],
    thumbs: dict[str, dict[str, str]],
    crops: dict[tuple[str, int], dict[str, str]] | None = None,
) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        f"<title>imtrans eval: {e(doc['dataset']['name'])}</title>",
        (
            "<style>body{font:14px system-ui,sans-serif;margin:1.5em;max-width:1400px}"
            "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
            "text-align:left;vertical-align:top}code{font-size:12px;word-break:break-all}img{display:block;"
            "max-width:100%}figure{display:inline-block;margin:4px}.key span{padding:0 6px;color:#fff}</style>"
        ),
        f"<h1>imtrans eval: {e(doc['dataset']['name'])}</h1>",
        f"<p>Signature: <code>{e(doc['signature'])}</code></p>",
        f"<p>{doc['dataset']['samples']} samples in {doc['seconds']} s.</p>",
        "<h2>Summary</h2><table><tr><th>stage</th><th>metric</th><th>value</th></tr>",
    ]
    for stage, figures in doc["summary"].items():
        for name, value in figures.items():
            if name.endswith("_signature"):
                continue
            shown = "-" if value is None else (f"{value:.4g}" if isinstance(value, float) else e(str(value)))
            parts.append(f"<tr><td>{e(stage)}</td><td>{e(name)}</td><td>{shown}</td></tr>")
    parts.append("</table>")
    tr = doc["summary"].get("translation")
    if tr:
        parts.append(
            f"<p>BLEU: <code>{e(tr['bleu_signature'])}</code><br>chrF: <code>{e(tr['chrf_signature'])}</code></p>"
        )
    parts.append("<h2>Failures</h2><table><tr><th>class</th><th>count</th><th>meaning</th></tr>")
    for cls in FAILURE_CLASSES:
        parts.append(
            f"<tr><td>{cls}</td><td>{doc['failures'].get(cls, 0)}</td><td>{e(FAILURE_HELP[cls])}</td></tr>"
        )
    parts.append("</table>")
    parts += _reading_html(doc, crops or {})
    errors = [s for s in doc["samples"] if s["error"]]
    if errors:
        parts.append("<h2>Errors</h2><ul>")
        parts += [f"<li>{e(s['id'])}: {e(s['error'])}</li>" for s in errors]
        parts.append("</ul>")
    parts.append(
        "<h2>Worst cases</h2><p class='key'>Boxes: "
        + "".join(f"<span style='background:rgb{c}'>{k}</span>" for k, c in _COLOURS.items())
        + "</p>"
    )
    for key, higher_is_worse in WORST_METRICS:
        rows = [s for s in doc["samples"] if s["metrics"].get(key) is not None]
        if not rows:
            continue
        rows.sort(key=lambda s: s["metrics"][key], reverse=higher_is_worse)
        parts.append(f"<h3>{e(key)} ({'highest' if higher_is_worse else 'lowest'} first)</h3><div>")
        # Erasing and rendering are judged on the picture they made, not on the boxes.
        shown = {"erase": "erased", "render": "translated", "e2e": "translated"}.get(
            key.split(".")[0], "boxes"
        )
        for s in rows[:WORST_PER_METRIC]:
            src = thumbs.get(s["id"], {}).get(shown) or thumbs.get(s["id"], {}).get("boxes")
            img = f"<img src='{src}' alt='{e(s['id'])}: {shown}'>" if src else ""
            parts.append(
                f"<figure>{img}<figcaption>{e(s['id'])}: {s['metrics'][key]:.3g}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append(
        "<h2>Samples</h2><table><tr><th>sample</th><th>original</th><th>erased</th><th>translated</th>"
        "<th>metrics</th></tr>"
    )
    for s in doc["samples"]:
        t = thumbs.get(s["id"], {})
        cells = "".join(
            f"<td><img loading='lazy' src='{t[k]}' alt='{k}'></td>" if k in t else "<td></td>"
            for k in ("original", "erased", "translated")
        )
        metrics = "<br>".join(f"{e(k)}: {v:.3g}" for k, v in s["metrics"].items() if v is not None)
        fails = ", ".join(f"{k} {v}" for k, v in s["failures"].items() if v)
        parts.append(
            f"<tr><td>{e(s['id'])}<br><small>{e(fails)}</small></td>{cells}<td><small>{metrics}</small></td></tr>"
        )
    parts.append("</table></html>")
    return "\n".join(parts)


def _draw_boxes(image: np.ndarray, boxes: dict[str, list[Quad]]) -> np.ndarray:
    img = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(img)
    width = max(2, round(max(img.size) / 400))
    for kind in ("truth", "found", "missed", "false"):
        for q in boxes.get(kind, []):
            pts = [(float(x), float(y)) for x, y in q.points]
            draw.polygon(pts, outline=_COLOURS[kind], width=width + (1 if kind in ("missed", "false") else 0))
    return np.asarray(img)


def _thumbnail(image: np.ndarray, width: int = THUMB_WIDTH) -> np.ndarray:
    img = Image.fromarray(image)
    if img.width > width:
        img = img.resize((width, max(1, round(img.height * width / img.width))), Image.LANCZOS)
    return np.asarray(img)


def _save_jpeg(out_dir: Path, name: str, image: np.ndarray) -> str:
    Image.fromarray(image).save(out_dir / "img" / name, quality=82)
    return f"img/{name}"


def _safe(sample_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in sample_id)
