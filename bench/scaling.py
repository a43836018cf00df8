"""How pipeline time and memory grow with image size (0.5, 1, 4, 12 MP) and with the number of text lines.

    python bench/scaling.py [--runs 3] [--json scaling.json] [--set detect.max_side=1024]

The images are made here, the same on every run: scikit-image's coffee photo (CC0, 600x400)
scaled to each size at 3:2, with lines of Korean, English, Japanese and Chinese (the lines of
bench/pipeline.py) drawn on light panels. The text is scaled with the image (26 px at 1 MP,
times sqrt(MP)), so it stays as readable, relative to the picture, at every size.
Translation is done by a glossary built from the drawn lines, with the translation cache
off, so machine translation is left out.

Every case (one size, one line count) runs in a fresh `python bench/scaling.py --one MP
--n-lines N` subprocess that prints one JSON object, so each case's peak resident memory
(ru_maxrss) is its own and model loading is not shared between cases. Each case makes one
warm-up call (loads the models) and then `--runs` timed calls; the figures are medians.

Printed: per-stage median seconds, images per second (1 / median total) and peak memory per
size; the exponent b of time = a * MP**b per stage (least squares in log-log); and at 1 MP
with 0, 5, 10, 20 and 40 lines, per-stage medians and the seconds each extra line costs
(least-squares slope). `--json PATH` saves every figure.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from imtrans.pipeline import Pipeline
from imtrans.render.fonts import font_for
from imtrans.settings import Settings

BENCH = Path(__file__).resolve().parent


def _load_bench_pipeline() -> Any:
    """bench/pipeline.py as a module (bench/ is not a package): its LINES and median_timings are reused."""
    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH / "pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_bp = _load_bench_pipeline()
LINES: list[tuple[str, str, str]] = _bp.LINES
median_timings = _bp.median_timings

STAGES = ("detect", "recognize", "group", "translate", "erase", "style", "render")
SIZES_MP = (0.5, 1.0, 4.0, 12.0)
LINE_COUNTS = (0, 5, 10, 20, 40)
SIZE_SWEEP_LINES = 20  # lines drawn in the size sweep (as in bench/pipeline.py's 1 MP case)
LINE_SLOPE_STAGES = ("recognize", "erase", "render")

# Layout at 1 MP (1224x816), multiplied by sqrt(MP) at other sizes: a grid of 4 columns
# x 10 rows filled column by column, so 20 lines fill the left half and 40 the whole photo
# (see line_index for which line goes where).
# Rows 80 px apart at 26 px text keep every line its own block (one glossary entry each);
# columns 300 px apart leave >= 50 px (2 line heights) between the widest lines of a row.
BASE_FONT_PX = 26
ROW_PITCH, COL_PITCH, ROWS, COLS = 80, 300, 10, 4
PANEL_WIDTH = 270  # the widest line is 247 px at 26 px
MAX_LINES = ROWS * COLS


def line_index(i: int) -> int:
    """Which of LINES the i-th drawn line is: down a column as in bench/pipeline.py, shifted by two per
    column so that neighbours in a row differ in language and are not read as fragments of one line."""
    col, row = divmod(i, ROWS)
    return (row + 2 * col) % len(LINES)


def image_size(mp: float) -> tuple[int, int]:
    """Width and height of a 3:2 image of `mp` megapixels."""
    width = round(math.sqrt(mp * 1e6 * 1.5))
    return width, round(width / 1.5)


def photo_with_lines(n_lines: int = 20, mp: float = 1.0) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """bench/pipeline.py's photo_with_lines at any size: the coffee photo at `mp` megapixels with
    `n_lines` (<= 40) lines of text scaled by sqrt(mp), and the glossary rows of those lines."""
    from skimage import data

    if not 0 <= n_lines <= MAX_LINES:
        raise SystemExit(f"--n-lines must be 0..{MAX_LINES}")
    width, height = image_size(mp)
    s = math.sqrt(width * height / 1e6) / math.sqrt(1224 * 816 / 1e6)  # linear scale vs the 1 MP image
    img = Image.fromarray(data.coffee()).resize((width, height), Image.LANCZOS)
    draw = ImageDraw.Draw(img)
    rows = []
    for i in range(n_lines):
        col, row = divmod(i, ROWS)
        lang, text, target = LINES[line_index(i)]
        x, y = round((20 + col * COL_PITCH) * s), round((15 + row * ROW_PITCH) * s)
        font = font_for(lang).load(round(BASE_FONT_PX * s))
        # The panel of bench/pipeline.py (6 px left, 4 px above, 38 px down), 270 px wide to fit 4 columns.
        draw.rectangle(
            (x - round(6 * s), y - round(4 * s), x + round(PANEL_WIDTH * s), y + round(38 * s)),
            fill=(245, 242, 235),
        )
        draw.text((x, y), text, font=font, fill=(30, 30, 30))
        rows.append((text, target))
    return np.asarray(img), rows


# Glossary translation, no cache; a loose fuzzy match so that a line the recogniser misreads
# slightly ('명업' for '영업') still finds its entry and goes through erase and render like the rest.
BENCH_SETTINGS: dict[str, Any] = {"translate.cache": False, "translate.fuzzy_threshold": 70.0}


def settings_for(glossary: Path, overrides: dict[str, Any]) -> Settings:
    return Settings().with_overrides({**BENCH_SETTINGS, "translate.glossary": str(glossary), **overrides})


# -- one case, in this process (the --one subprocess) -------------------------------------------
def measure_one(mp: float, n_lines: int, runs: int, overrides: dict[str, Any]) -> dict[str, Any]:
    image, rows = photo_with_lines(n_lines, mp)
    with tempfile.TemporaryDirectory() as tmp:
        glossary = Path(tmp) / "bench.csv"
        with glossary.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([("source", "target"), *rows])
        settings = settings_for(glossary, overrides)
        pipeline = Pipeline(settings)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        warm = pipeline.translate(image)  # warm-up: loads the models
        warmup_s = time.perf_counter() - start
        stages, total, blocks = median_timings(pipeline, image, runs)
    height, width = image.shape[:2]
    max_side = settings.detect.max_side
    scale = min(1.0, max_side / max(width, height))
    return {
        "mp": round(width * height / 1e6, 3),
        "nominal_mp": mp,
        "width": width,
        "height": height,
        "lines_drawn": n_lines,
        "font_px": round(BASE_FONT_PX * math.sqrt(width * height / (1224 * 816))),
        "detector_input": [round(width * scale), round(height * scale)],
        "blocks": blocks,
        "translated": len(warm.page.translations),
        # Lines already in the target language (en) are left as they are, not translated.
        "expected_translated": sum(
            LINES[line_index(i)][0] != settings.translate.target for i in range(n_lines)
        ),
        "runs": runs,
        "stages": {k: stages.get(k, 0.0) for k in STAGES},
        "total": total,
        "images_per_s": 1.0 / total if total > 0 else None,
        "warmup_s": warmup_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_pipeline_mb": rss_before / 1024,
        "settings": {k: v for k, v in settings.to_dict().items() if k in ("detect", "erase", "render")},
    }


# -- the driver: one subprocess per case ----------------------------------------------------------
def run_case(mp: float, n_lines: int, runs: int, sets: list[str]) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one",
        str(mp),
        "--n-lines",
        str(n_lines),
        "--runs",
        str(runs),
    ]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"case {mp} MP / {n_lines} lines failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fit_power(mps: list[float], times: list[float]) -> tuple[float, float] | None:
    """(a, b) of time = a * MP**b, least squares on log time vs log MP; None if a time is 0."""
    if len(mps) < 2 or min(times) <= 0:
        return None
    b, log_a = np.polyfit(np.log(mps), np.log(times), 1)
    return float(math.exp(log_a)), float(b)


def fit_slope(xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """(slope, intercept) of the least-squares line through (xs, ys)."""
    if len(set(xs)) < 2:
        return None
    slope, intercept = np.polyfit(xs, ys, 1)
    return float(slope), float(intercept)


def _parse_sets(sets: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set wants key=value, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _stage_header(first: str) -> str:
    return first + " ".join(f"{s:>9}" for s in STAGES) + f" {'total':>7}"


def _stage_cells(case: dict[str, Any]) -> str:
    return " ".join(f"{case['stages'][s]:9.3f}" for s in STAGES) + f" {case['total']:7.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="timed runs per case, after one warm-up (default 3)"
    )
    parser.add_argument(
        "--sizes",
        type=float,
        nargs="+",
        default=list(SIZES_MP),
        metavar="MP",
        help="megapixels of the size sweep (default 0.5 1 4 12)",
    )
    parser.add_argument(
        "--lines",
        type=int,
        nargs="+",
        default=list(LINE_COUNTS),
        metavar="N",
        help="line counts of the 1 MP line sweep (default 0 5 10 20 40)",
    )
    parser.add_argument("--no-lines", action="store_true", help="skip the line sweep")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also save every figure here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a settings override for every case, e.g. detect.max_side=1024 (repeatable)",
    )
    parser.add_argument("--one", type=float, metavar="MP", help=argparse.SUPPRESS)
    parser.add_argument("--n-lines", type=int, default=SIZE_SWEEP_LINES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    overrides = _parse_sets(args.set)

    if args.one is not None:  # a single case, in the subprocess: JSON on stdout
        print(json.dumps(measure_one(args.one, args.n_lines, args.runs, overrides)))
        return

    settings = Settings().with_overrides({**BENCH_SETTINGS, **overrides})
    det = settings.detect
    load_start = os.getloadavg()
    started = time.perf_counter()
    out = sys.stdout
    print(
        f"imtrans scaling benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average at start "
        f"{load_start[0]:.2f}",
        file=out,
    )
    print(f"median of {args.runs} run(s) after one warm-up, each case in a fresh process; seconds", file=out)
    print(
        f"settings: detect.precision={det.precision}, detect.max_side={det.max_side}, "
        f"detect.extra_scales={det.extra_scales}, erase.backend={settings.erase.backend}, "
        f"translator=glossary, translate.cache=false, translate.fuzzy_threshold=70 (a slightly "
        f"misread line still matches its entry)" + (f"; overrides {overrides}" if overrides else ""),
        file=out,
    )
    print(
        f"note: detect.max_side={det.max_side} scales larger images down before detection, so "
        f"detection cost stops growing past it (a 12 MP 4243x2828 image is detected at "
        f"{det.max_side}x{round(2828 * det.max_side / 4243)}); recognition, erasing and "
        f"rendering still work on full-resolution pixels.",
        file=out,
    )
    print(
        "image: scikit-image coffee photo (CC0, 600x400) resized at 3:2; lines of ko/en/ja/zh on "
        f"light panels, {BASE_FONT_PX} px at 1 MP times sqrt(MP). Photos above 0.24 MP are "
        "upscaled, so they are smoother than a real photo of that size.",
        file=out,
    )

    # -- size sweep --------------------------------------------------------------------------------
    sizes = []
    print(
        f"\n== time vs pixels ({SIZE_SWEEP_LINES} lines; detector: the size the detector sees) ==", file=out
    )
    print(
        _stage_header(f"{'MP':>5} {'size':>9} {'detector':>9} {'font':>4} {'blocks':>6} ")
        + f" {'img/s':>6} {'peak MB':>8}",
        file=out,
    )
    for mp in args.sizes:
        case = run_case(mp, SIZE_SWEEP_LINES, args.runs, args.set)
        sizes.append(case)
        dw, dh = case["detector_input"]
        print(
            f"{case['mp']:5.2f} {case['width']:>4}x{case['height']:<4} {dw:>4}x{dh:<4} {case['font_px']:4d} "
            f"{case['translated']:>2}/{case['blocks']:<3} "
            + _stage_cells(case)
            + f" {case['images_per_s']:6.2f} {case['peak_rss_mb']:8.0f}",
            file=out,
            flush=True,
        )
    expected = sizes[0]["expected_translated"] if sizes else 0
    print(
        f"blocks: translated / found; {SIZE_SWEEP_LINES} lines drawn, {expected} to translate "
        "(English lines are already in the target language and stay)",
        file=out,
    )

    pixel_fits: dict[str, Any] = {}
    if len(sizes) >= 2:
        mps = [c["mp"] for c in sizes]
        print(
            "\ngrowth with pixels: time = a * MP^b (least squares in log-log; b=1 is linear in pixels)",
            file=out,
        )
        print(f"{'stage':>10} {'a (s @1MP)':>11} {'b':>6}", file=out)
        for stage in (*STAGES, "total"):
            times = [c["total"] if stage == "total" else c["stages"][stage] for c in sizes]
            fit = fit_power(mps, times)
            pixel_fits[stage] = None if fit is None else {"a": fit[0], "b": fit[1]}
            if fit is not None:
                print(f"{stage:>10} {fit[0]:11.3f} {fit[1]:6.2f}", file=out)
            else:
                print(f"{stage:>10} {'-':>11} {'-':>6}  (a time was 0)", file=out)
        if any(c["width"] > det.max_side for c in sizes) and any(c["width"] <= det.max_side for c in sizes):
            small = [c for c in sizes if max(c["width"], c["height"]) <= det.max_side]
            if len(small) >= 2:
                fit = fit_power([c["mp"] for c in small], [c["stages"]["detect"] for c in small])
                if fit is not None:
                    pixel_fits["detect_below_max_side"] = {"a": fit[0], "b": fit[1]}
                    print(
                        f"{'detect':>10} {fit[0]:11.3f} {fit[1]:6.2f}  (only sizes at most "
                        f"{det.max_side} px long, detected at full size)",
                        file=out,
                    )

    # -- line sweep ----------------------------------------------------------------------------------
    lines: list[dict[str, Any]] = []
    line_fits: dict[str, Any] = {}
    if not args.no_lines and args.lines:
        print(
            "\n== time vs text lines (1 MP, {}x{}, {} px text) ==".format(*image_size(1.0), BASE_FONT_PX),
            file=out,
        )
        print(_stage_header(f"{'lines':>5} {'blocks':>6} ") + f" {'img/s':>6} {'peak MB':>8}", file=out)
        for n in args.lines:
            case = run_case(1.0, n, args.runs, args.set)
            lines.append(case)
            print(
                f"{n:5d} {case['translated']:>2}/{case['blocks']:<3} "
                + _stage_cells(case)
                + f" {case['images_per_s']:6.2f} {case['peak_rss_mb']:8.0f}",
                file=out,
                flush=True,
            )
        print("blocks: translated / found (English lines stay); img/s = 1 / median total", file=out)
        if len(lines) >= 2:
            ns = [c["lines_drawn"] for c in lines]
            print(
                "\ngrowth with lines: least-squares slope, ms per extra line (intercept: s at 0 lines)",
                file=out,
            )
            print(f"{'stage':>10} {'ms/line':>8} {'intercept':>10}", file=out)
            for stage in (*STAGES, "total"):
                ys = [c["total"] if stage == "total" else c["stages"][stage] for c in lines]
                fit = fit_slope(ns, ys)
                line_fits[stage] = None if fit is None else {"s_per_line": fit[0], "intercept_s": fit[1]}
                if fit is not None:
                    mark = "  <-" if stage in LINE_SLOPE_STAGES else ""
                    print(f"{stage:>10} {fit[0] * 1000:8.1f} {fit[1]:10.3f}{mark}", file=out)

    load_end = os.getloadavg()
    elapsed = time.perf_counter() - started
    print(
        f"\nwall time {elapsed:.0f} s; load average at end {load_end[0]:.2f} on {os.cpu_count()} CPUs "
        "(above the CPU count means other processes competed for the CPU and times are inflated)",
        file=out,
    )

    if args.json:
        record = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "loadavg_start": load_start,
                "loadavg_end": load_end,
            },
            "runs": args.runs,
            "settings": settings.to_dict(),
            "overrides": overrides,
            "size_sweep": {"lines": SIZE_SWEEP_LINES, "cases": sizes, "fit_time_vs_mp": pixel_fits},
            "line_sweep": {"mp": 1.0, "cases": lines, "fit_time_vs_lines": line_fits},
            "wall_s": elapsed,
        }
        args.json.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"saved {args.json}", file=out)


if __name__ == "__main__":
    main()
