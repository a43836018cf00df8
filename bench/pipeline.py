"""Per-stage median times and peak memory of the pipeline on the bundled examples and a 1 MP photo.

    .venv/bin/python bench/pipeline.py [--runs 5] [--check off|report|repair]

The 1-megapixel case is a real photo (scikit-image's CC0 coffee picture, scaled to 1 MP)
with 20 lines of Korean, English, Japanese and Chinese drawn on it. Translation is done by
a glossary built from the drawn lines, so the figures leave machine translation out, as the
target (<= 1.0 s median end to end, peak memory < 1.5 GB on 2 cores) asks.
"""

from __future__ import annotations

import argparse
import csv
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from imtrans.imageio import load_image
from imtrans.pipeline import Pipeline
from imtrans.render.fonts import font_for
from imtrans.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
#: The timed stages, as the columns of the table.
STAGES = ("detect", "recognize", "group", "translate", "erase", "style", "render", "check", "repair")

LINES = [
    ("ko", "오늘의 커피 한 잔", "Today's cup of coffee"),
    ("en", "Fresh espresso daily", "Espresso frais tous les jours"),
    ("ja", "本日のおすすめ", "Today's recommendation"),
    ("zh", "欢迎光临本店", "Welcome to our shop"),
    ("ko", "영업 시간 안내", "Opening hours"),
]


def photo_with_lines(n_lines: int = 20) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """A 1 MP real photo with `n_lines` lines of text in four languages, and their glossary rows."""
    from skimage import data

    img = Image.fromarray(data.coffee()).resize((1224, 816), Image.LANCZOS)  # 0.999 MP
    draw = ImageDraw.Draw(img)
    rows = []
    for i in range(n_lines):
        lang, text, target = LINES[i % len(LINES)]
        col, row = divmod(i, 10)
        x, y = 20 + col * 620, 15 + row * 80
        # Lines 80 px apart at 26 px: far enough apart to be separate blocks, one glossary entry each.
        draw.rectangle((x - 6, y - 4, x + 420, y + 38), fill=(245, 242, 235))
        draw.text((x, y), text, font=font_for(lang).load(26), fill=(30, 30, 30))
        rows.append((text, target))
    return np.asarray(img), rows


def median_timings(pipeline: Pipeline, image: np.ndarray, runs: int) -> tuple[dict[str, float], float, int]:
    per_stage: dict[str, list[float]] = {}
    totals = []
    blocks = 0
    for _ in range(runs):
        start = time.perf_counter()
        result = pipeline.translate(image)
        totals.append(time.perf_counter() - start)
        blocks = len(result.blocks)
        for stage, t in result.page.timings.items():
            per_stage.setdefault(stage, []).append(t)
    return {k: statistics.median(v) for k, v in per_stage.items()}, statistics.median(totals), blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--check",
        choices=("off", "report", "repair"),
        default=None,
        help="check.mode (default: the setting's)",
    )
    args = parser.parse_args()
    check = {"check.mode": args.check} if args.check else {}

    image, rows = photo_with_lines()
    with tempfile.TemporaryDirectory() as tmp:
        glossary = Path(tmp) / "bench.csv"
        with glossary.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([("source", "target"), *rows])
        cases = [
            (
                "photo 1MP, 20 lines",
                image,
                Settings().with_overrides(
                    {"translate.glossary": str(glossary), "translate.cache": False, **check}
                ),
            ),
            (
                "  same, fp32 detector",
                image,
                Settings().with_overrides(
                    {
                        "translate.glossary": str(glossary),
                        "translate.cache": False,
                        "detect.precision": "fp32",
                        **check,
                    }
                ),
            ),
            ("examples/sign_ko.png", load_image(ROOT / "examples/sign_ko.png"), _example_settings(check)),
            ("examples/notice_ja.png", load_image(ROOT / "examples/notice_ja.png"), _example_settings(check)),
        ]
        print(f"median of {args.runs} runs after one warm-up; seconds", file=sys.stderr)
        header = (
            f"{'case':26} {'MP':>5} {'blocks':>6} " + " ".join(f"{s:>9}" for s in STAGES) + f" {'total':>7}"
        )
        print(header)
        for name, img, settings in cases:
            pipeline = Pipeline(settings)
            pipeline.translate(img)  # warm-up: loads models
            stages, total, blocks = median_timings(pipeline, img, args.runs)
            cells = " ".join(f"{stages.get(s, 0.0):9.3f}" for s in STAGES)
            mp = img.shape[0] * img.shape[1] / 1e6
            print(f"{name:26} {mp:5.2f} {blocks:6d} {cells} {total:7.3f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB (target < 1536 MB)")


def _example_settings(check: dict[str, str]) -> Settings:
    return Settings().with_overrides(
        {"translate.glossary": str(ROOT / "examples/glossary.csv"), "translate.cache": False, **check}
    )


if __name__ == "__main__":
    main()
