"""Batch throughput: images per second with 1 and 2 local workers and with Ray, and the 2/1 ratio.

    python bench/batch.py [--count 40] [--runs 3] [--lang ko] [--json batch.json]

The images are made here, the same on every run: `imtrans synth --lang ko --layout mixed
--count 40 --seed 1` (real sentences on real photos, signs, paragraphs and bubbles). They
are translated to English by a glossary built from the synthetic text (each block's true
text maps to an English stand-in of about twice its length), with the translation cache
off and fuzzy matching down to score 0 (a misread block takes the nearest entry), so
machine translation is left out and every block read is erased and redrawn.

Each run is a whole `run_batch` into a fresh output folder, so nothing is skipped; it
includes starting the workers and loading their models (as a user's batch does). The
engines take turns in each round. Ray runs on a local instance started once at the start
(`ray.init(num_cpus=2)`, idle while the local engine runs); starting Ray itself is printed
apart and not counted, since a cluster is already running. Printed per engine: median
images/s over the runs for the whole batch, and after the first page (the steady rate, from
the manifest's finish times, leaving out start-up), and for the local engine the workers'
CPU seconds per image (all processes, start-up included); then the 2-worker / 1-worker
ratio of both rates. The load average before and after is printed too: on a shared machine
the rates are lower than on an idle one, and the ratio is not the idle machine's either
(two workers get a larger share of a contended CPU than one); CPU seconds per image are
less affected.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from imtrans.batch import BatchOptions, run_batch
from imtrans.batch.manifest import Manifest
from imtrans.batch.worker import threads_per_worker
from imtrans.settings import Settings

#: English stand-in text; each block's translation is a slice of it about twice the source's length.
STAND_IN = (
    "The quick brown fox jumps over the lazy dog while the river runs past the old mill "
    "and the bells ring out across the quiet town at the end of a long summer day"
)


def make_images(folder: Path, lang: str, count: int) -> tuple[Path, Path]:
    """Synthetic images in folder/images and a glossary of their block texts in folder/glossary.csv."""
    from imtrans.synth import generate

    generate(lang, "mixed", count, 1, folder)
    glossary = folder / "glossary.csv"
    with glossary.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["source", "target"])
        seen = set()
        for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            for block in json.loads(line)["blocks"]:
                text = block["text"]
                if text and text not in seen:
                    seen.add(text)
                    writer.writerow([text, STAND_IN[: max(4, 2 * len(text))].strip()])
    return folder / "images", glossary


def one_run(images: Path, settings: Settings, options: BatchOptions) -> dict[str, float]:
    """Images/s of one batch: over the whole run, and from the first page finished to the last.

    Also the CPU seconds per image of the worker processes (local engine only: they are this
    process's children, reaped when the pool shuts down), a figure the machine's load does not
    inflate the way it inflates wall time.
    """
    children_before = _children_cpu()
    summary = run_batch([images], settings, options)
    cpu = _children_cpu() - children_before
    if summary.failed or summary.translated == 0:
        raise SystemExit(f"bench batch failed: {summary.failures[:3]}")
    finished = sorted(
        r.finished for r in Manifest.load(options.out_dir / ".imtrans-batch/manifest.json").pages.values()
    )
    steady = (len(finished) - 1) / (finished[-1] - finished[0]) if len(finished) > 1 else 0.0
    pages = [json.loads(p.read_text(encoding="utf-8")) for p in options.out_dir.rglob("*.png.json")]
    blocks = sum(len(p["blocks"]) for p in pages)
    translated = sum(1 for p in pages for b in p["blocks"] if b["translation"])
    return {
        "whole": summary.translated / summary.seconds,
        "steady": steady,
        "seconds": summary.seconds,
        "blocks": blocks,
        "blocks_translated": translated,
        "cpu_s_per_image": cpu / summary.translated if options.engine == "local" else float("nan"),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="images in the batch")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per engine (median reported)")
    parser.add_argument("--lang", default="ko", help="language of the synthetic text")
    parser.add_argument("--no-ray", action="store_true", help="leave the Ray engine out")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    load_start = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        images, glossary = make_images(Path(tmp) / "synth", args.lang, args.count)
        settings = Settings().with_overrides(
            {
                "translate.target": "en",
                "translate.glossary": str(glossary),
                "translate.cache": False,
                # Misread blocks take the nearest entry, so that every block is erased and redrawn.
                "translate.fuzzy_threshold": 0,
            }
        )
        cases = [("local, 1 worker", "local", 1), ("local, 2 workers", "local", 2)]
        ray_start = None
        if not args.no_ray:
            import ray

            cases.append(("ray, 2 actors", "ray", 2))
            start = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
            ray_start = time.perf_counter() - start
        runs: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in cases}
        try:
            # Engines take turns within each round, so a change in the machine's load hits them alike.
            for run in range(args.runs):
                for label, engine, workers in cases:
                    out = Path(tmp) / f"out-{engine}-{workers}-{run}"
                    runs[label].append(
                        one_run(images, settings, BatchOptions(out, engine=engine, workers=workers))
                    )
                    last = runs[label][-1]
                    print(
                        f"  {label} run {run + 1}: {last['whole']:.3f} images/s ({last['seconds']:.1f} s)",
                        file=sys.stderr,
                    )
        finally:
            if ray_start is not None:
                ray.shutdown()
        for label, engine, workers in cases:
            results[label] = {
                "images_per_s": statistics.median(r["whole"] for r in runs[label]),
                "steady_images_per_s": statistics.median(r["steady"] for r in runs[label]),
                "runs": runs[label],
                "threads_per_worker": threads_per_worker(workers) if engine == "local" else 1,
                "cpu_s_per_image": statistics.median(r["cpu_s_per_image"] for r in runs[label]),
            }
    load_end = os.getloadavg()

    print(
        f"{args.count} synthetic {args.lang} images (seed 1) -> en by glossary, cache off; median of {args.runs} run(s)"
    )
    first = results["local, 1 worker"]["runs"][0]
    print(
        f"blocks read: {first['blocks']}, translated and redrawn: {first['blocks_translated']} (the rest: already English, or misses)"
    )
    print(f"{'engine':<18} {'images/s':>9} {'after 1st page':>15} {'threads/worker':>15} {'cpu s/image':>12}")
    for label, r in results.items():
        cpu = (
            "-" if r["cpu_s_per_image"] != r["cpu_s_per_image"] else f"{r['cpu_s_per_image']:.2f}"
        )  # NaN: Ray
        print(
            f"{label:<18} {r['images_per_s']:>9.3f} {r['steady_images_per_s']:>15.3f} "
            f"{r['threads_per_worker']:>15} {cpu:>12}"
        )
    one, two = results["local, 1 worker"], results["local, 2 workers"]
    ratio = two["images_per_s"] / one["images_per_s"]
    steady_ratio = two["steady_images_per_s"] / one["steady_images_per_s"]
    print(
        f"2 workers / 1 worker: {ratio:.2f} (whole batch), {steady_ratio:.2f} (after the first page); aim >= 1.7"
    )
    if ray_start is not None:
        print(f"starting the local Ray instance: {ray_start:.1f} s (not counted)")
    print(
        f"cpus {os.cpu_count()}, load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end; {platform.processor() or platform.machine()}"
    )
    if args.json:
        data = {
            "count": args.count,
            "runs": args.runs,
            "lang": args.lang,
            "results": results,
            "ratio_2_to_1": ratio,
            "steady_ratio_2_to_1": steady_ratio,
            "ray_start_s": ray_start,
            "loadavg_start": load_start,
            "loadavg_end": load_end,
        }
        args.json.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
