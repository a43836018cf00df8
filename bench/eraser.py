"""Erase-stage time of `gan` against `telea`, and their quality inside the mask on held-out synth data.

    python bench/eraser.py [--runs 7] [--data DIR [DIR ...]] [--max-samples 200]

Speed: the 1 MP photo with 20 lines of `bench/pipeline.py`, masked by the pipeline's own
text mask over the drawn lines' boxes; median of ``--runs`` erase calls per backend (after
one warm-up call, so model loading is not counted), printed with the difference. The lines
sit on flat panels, where both backends take the flat-fill fast path, so it is also timed
with ``flat_tolerance=0`` (every cluster through OpenCV / the network): the worst case.

Quality (``--data``): `imtrans synth` dataset directories (use held-out ones: another seed,
and the split of `imtrans.nets.data.SplitRule`); per image, the sample's mask grown by 2 px
is erased by each backend and PSNR (of the pooled squared error) / mean SSIM inside that
mask are taken against the clean background, for all images and for the textured ones
(`imtrans.nets.data.is_textured`). The split rule is not applied here: pass directories
made with a held-out seed, and read the figures as "held-out seed", not "unseen fonts".
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import LINES, photo_with_lines

from imtrans.erase import make_eraser, text_mask
from imtrans.registry import ERASERS
from imtrans.render.fonts import font_for
from imtrans.types import Line, Quad


def bench_mask(image: np.ndarray, n_lines: int = 20) -> np.ndarray:
    """The pipeline's text mask (dilate 2) over the boxes of the lines `photo_with_lines` draws."""
    lines = []
    for i in range(n_lines):
        lang, text, _ = LINES[i % len(LINES)]
        col, row = divmod(i, 10)
        x, y = 20 + col * 620, 15 + row * 80
        left, top, right, bottom = font_for(lang).load(26).getbbox(text)
        quad = Quad.from_list(
            [[x + left, y + top], [x + right, y + top], [x + right, y + bottom], [x + left, y + bottom]]
        )
        lines.append(Line(id=f"l{i}", quad=quad))
    return text_mask(image, lines, 2)


def time_erase(
    backend: str, flat_tolerance: float | None, image: np.ndarray, mask: np.ndarray, runs: int
) -> float:
    eraser = make_eraser(ERASERS.options(backend)(backend=backend, flat_tolerance=flat_tolerance))
    eraser.erase(image, mask)  # warm-up: loads the model
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        eraser.erase(image, mask)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def quality(dirs: list[Path], max_samples: int) -> None:
    from imtrans.evaluate.dataset import read_manifest
    from imtrans.evaluate.metrics import PSNR_CAP, ssim
    from imtrans.nets.data import grow_mask, is_textured

    erasers = {b: make_eraser(ERASERS.options(b)(backend=b)) for b in ("telea", "gan")}
    # Per backend and subset: summed squared error, masked values, SSIMs.
    acc = {b: {k: [0.0, 0, []] for k in ("all", "textured")} for b in erasers}
    n = n_textured = 0
    for d in dirs:
        data = read_manifest(d)
        for s in data.samples:
            if n >= max_samples or s.background is None or s.mask is None:
                continue
            image = cv2.cvtColor(cv2.imread(str(data.path(s.image))), cv2.COLOR_BGR2RGB)
            clean = cv2.cvtColor(cv2.imread(str(data.path(s.background))), cv2.COLOR_BGR2RGB)
            mask = grow_mask(cv2.imread(str(data.path(s.mask)), cv2.IMREAD_GRAYSCALE), 2)
            textured = is_textured(clean, mask)
            n += 1
            n_textured += textured
            for b, eraser in erasers.items():
                out = eraser.erase(image, mask)
                diff = out[mask > 0].astype(np.float64) - clean[mask > 0]
                for key in ("all", "textured") if textured else ("all",):
                    acc[b][key][0] += float((diff * diff).sum())
                    acc[b][key][1] += diff.size
                    acc[b][key][2].append(ssim(out, clean, mask))
    print(f"inside the mask on {n} images ({n_textured} textured) from {', '.join(map(str, dirs))}")
    print("(PSNR of the pooled squared error, mean SSIM):")
    for b, sub in acc.items():
        cells = []
        for key, (sq, count, ssims) in sub.items():
            p = 10 * math.log10(255.0**2 * count / sq) if sq > 0 else PSNR_CAP
            cells.append(
                f"{key}: PSNR {p:6.2f} dB  SSIM {statistics.fmean(ssims) if ssims else math.nan:.4f}"
            )
        print(f"  {b:6s} " + "   ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data", type=Path, nargs="*", default=[], help="held-out synth dataset dirs")
    parser.add_argument("--max-samples", type=int, default=200)
    args = parser.parse_args()

    image, _ = photo_with_lines()
    mask = bench_mask(image)
    print(f"1 MP photo ({image.shape[1]}x{image.shape[0]}), 20 lines, {int((mask > 0).sum())} masked px; "
          f"median of {args.runs} runs:")  # fmt: skip
    for tol, label in (
        (None, "defaults (telea 12, gan 4)"),
        (0.0, "flat_tolerance=0"),
    ):
        t_telea = time_erase("telea", tol, image, mask, args.runs)
        t_gan = time_erase("gan", tol, image, mask, args.runs)
        print(f"  {label:28s} telea {t_telea:.3f} s  gan {t_gan:.3f} s  gan - telea {t_gan - t_telea:+.3f} s")
    if args.data:
        quality(args.data, args.max_samples)


if __name__ == "__main__":
    main()
