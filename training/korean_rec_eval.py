"""Korean lines of a real-photo set (`realphotos-dev` format), read from their true boxes by the
trained recogniser and by Tesseract `kor` in one run; CER of each, and a side-by-side sheet.

    python training/korean_rec_eval.py --data ../shared/data/realphotos-dev
    python training/korean_rec_eval.py --data DIR --model runs/korean_rec/best.onnx --sheet /tmp/worst.png --worst 30
    python training/korean_rec_eval.py --data DIR --model new.onnx --synthetic 200   # + the training's held-out sets
    python training/korean_rec_eval.py --data DIR --reports CTC_REPORT TESS_REPORT --sheet worst.png   # through detection

Each true box is cut with a margin of 0.1 of its thickness. Boxes much taller than wide with
more than one character are columns: in an image whose notes say it was photographed rotated,
the crop is turned 90 degrees clockwise (the text reads bottom to top); otherwise it is cut into
its glyphs (runs of inked rows) laid out in a row (upright Korean columns, as korean-ctc reads them). Both readers get the same crop.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from imtrans.evaluate.metrics import cer, edit_distance, normalise_text
from imtrans.recognize.tesseract import restack_column as glyphs_in_a_row
from imtrans.types import Line, Quad


@dataclass
class RealLine:
    image: str
    text: str
    crop: np.ndarray  # BGR


def real_korean_lines(data: Path) -> list[RealLine]:
    """The legible Korean lines of every ``*.json`` in `data`, cut from their images."""
    out = []
    for meta_path in sorted(data.glob("*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        lines = [ln for ln in meta.get("lines", []) if ln.get("lang") == "ko" and ln.get("text")]
        if not lines:
            continue
        img = cv2.imread(str(data / meta["file"]), cv2.IMREAD_COLOR)
        if img is None:
            continue
        rotated = "rotated" in meta.get("notes", "").lower() or "rotated" in meta["file"]
        for ln in lines:
            x0, y0, x1, y1 = ln["box"]
            w, h = x1 - x0, y1 - y0
            column = h > 1.2 * w and len(ln["text"].replace(" ", "")) > 1
            m = 0.1 * (w if column else h)
            xa, ya = max(0, int(x0 - m)), max(0, int(y0 - m))
            xb, yb = min(img.shape[1], int(x1 + m)), min(img.shape[0], int(y1 + m))
            crop = img[ya:yb, xa:xb]
            if crop.size == 0:
                continue
            if column and rotated:
                crop = cv2.rotate(crop, cv2.ROTATE_90_CLOCKWISE)
            elif column:  # glyphs found by their ink, laid out in a row (as korean-ctc does)
                gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
                margin = round(gray.shape[1] * 0.1 / 1.2)
                crop = cv2.cvtColor(glyphs_in_a_row(gray, margin), cv2.COLOR_GRAY2BGR)
            out.append(RealLine(meta["file"], ln["text"], np.ascontiguousarray(crop)))
    return out


def pooled_cer(hyps: list[str], refs: list[str]) -> float:
    """Edits over all lines / characters over all lines (after `normalise_text`)."""
    edits = sum(edit_distance(normalise_text(h), normalise_text(r)) for h, r in zip(hyps, refs, strict=True))
    return edits / max(1, sum(len(normalise_text(r)) for r in refs))


def read_tesseract(crops: list[np.ndarray]) -> list[str]:
    """Tesseract `kor` as imtrans runs it (`TesseractRecognizer`), one crop at a time."""
    from imtrans.recognize.tesseract import TesseractRecognizer

    tess = TesseractRecognizer()
    out = []
    for crop in crops:
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        line = Line(id="0", quad=Quad.from_rect(0, 0, w, h))
        out.append(tess.recognize(rgb, [line], "ko")[0].text)
    return out


def time_ppocr(crops: list[np.ndarray], batch: int = 8) -> float:
    """Seconds per line of PP-OCRv6's recogniser (imtrans's settings) on the same crops, batched
    as `KoreanRecognizer.read_crops` batches them (sorted by aspect, 8 a call)."""
    from rapidocr.ch_ppocr_rec.typings import TextRecInput

    from imtrans.recognize.ppocr import PPOCRRecognizer

    engine = PPOCRRecognizer(batch_size=batch)._load()
    engine(TextRecInput(img=crops[:1]))
    order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / max(1, crops[i].shape[0]))
    t = time.perf_counter()
    for s in range(0, len(order), batch):
        engine(TextRecInput(img=[crops[i] for i in order[s : s + batch]]))
    return (time.perf_counter() - t) / max(1, len(crops))


def sheet(rows: list[tuple[np.ndarray, str, str, str]], path: Path) -> None:
    """A PNG of (crop, truth, new reading, Tesseract) rows, text drawn with a Korean font."""
    from PIL import Image, ImageDraw, ImageFont

    from imtrans.nets.recdata import korean_fonts

    face = next(f for f in korean_fonts() if "NanumGothic.ttf" in f.path)
    font = ImageFont.truetype(face.path, 18)
    row_h, crop_w, text_w = 64, 420, 900
    canvas = Image.new("RGB", (crop_w + text_w, row_h * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (crop, truth, new, tess) in enumerate(rows):
        h, w = crop.shape[:2]
        f = min((row_h - 4) / h, crop_w / w)
        small = cv2.resize(crop, (max(1, int(w * f)), max(1, int(h * f))))
        canvas.paste(Image.fromarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB)), (0, i * row_h + 2))
        y = i * row_h
        draw.text((crop_w + 6, y + 2), f"truth: {truth}", fill="black", font=font)
        draw.text((crop_w + 6, y + 22), f"new:   {new}", fill="blue", font=font)
        draw.text((crop_w + 6, y + 42), f"tess:  {tess}", fill="red", font=font)
    canvas.save(path)


def synthetic_cer(rec: object, n: int) -> dict[str, float]:
    """Pooled CER of `rec` (a `KoreanRecognizer`) on the training script's fixed validation sets,
    drawn as `train_recognizer.py` draws them: `heldout` (held-out fonts over held-out photos,
    seed 10,000) and `faces` (brush, pen and serif faces over held-out photos, seed 20,000)."""
    from train_recognizer import fixed_set

    from imtrans.nets.recdata import LineMaker, TextSource

    texts = TextSource.load()
    train = LineMaker("train", texts=texts)
    out = {}
    for name, seed in (("heldout", 10_000), ("faces", 20_000)):
        crops, refs = fixed_set(LineMaker("test" if name == "heldout" else name, texts=texts, photos=train.photos),
                                n, seed)  # fmt: skip
        hyps = [r[0] for r in rec.read_crops(crops)]  # type: ignore[attr-defined]
        out[name] = pooled_cer(hyps, refs)
    return out


def pipeline_rows(
    data: Path, new_report: Path, tess_report: Path, worst: int
) -> list[tuple[np.ndarray, str, str, str]]:
    """The `worst` Korean lines of two `imtrans eval --stages detect,recognize` reports of `data`
    (korean-ctc, then Tesseract as the Korean reader), by korean-ctc's CER through detection
    (a missed line reads as empty): (true-box crop, truth, korean-ctc, Tesseract) rows."""

    def reading(report: Path) -> dict[tuple[str, int], dict]:
        samples = json.loads((report / "results.json").read_text(encoding="utf-8"))["samples"]
        return {(s["id"], i): r for s in samples for i, r in enumerate(s["reading"]["imtrans"])}

    new, tess = reading(new_report), reading(tess_report)
    keys = [k for k, r in new.items() if r["language"] == "ko"]
    keys.sort(key=lambda k: -new[k]["edits"] / max(1, new[k]["chars"]))
    rows = []
    for key in keys[:worst]:
        image = next(
            p for p in data.iterdir() if p.stem == key[0] and p.suffix.lower() in (".jpg", ".jpeg", ".png")
        )
        img = cv2.imread(str(image), cv2.IMREAD_COLOR)
        x0, y0, x1, y1 = (int(v) for v in new[key]["box"])
        rows.append((img[y0:y1, x0:x1], new[key]["truth"], new[key]["read"], tess[key]["read"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="ONNX file (default: the one in the package)")
    parser.add_argument("--sheet", type=Path, help="write the worst lines side by side here (PNG)")
    parser.add_argument("--worst", type=int, default=30)
    parser.add_argument("--json", type=Path, help="write every line's readings here")
    parser.add_argument("--reports", type=Path, nargs=2, metavar=("CTC", "TESSERACT"),
                        help="only draw --sheet from two eval reports (detect,recognize) of --data")  # fmt: skip
    parser.add_argument("--synthetic", type=int, default=0,
                        help="also read N lines of each of the training's held-out sets (200 as in training)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.reports:
        sheet(pipeline_rows(args.data, *args.reports, args.worst), args.sheet or Path("worst_pipeline.png"))
        return 0

    from imtrans.recognize.korean import KoreanRecognizer

    lines = real_korean_lines(args.data)
    crops = [ln.crop for ln in lines]
    refs = [ln.text for ln in lines]
    rec = KoreanRecognizer(args.model)
    rec.read_crops(crops[:1])  # load
    t = time.perf_counter()
    new = [r[0] for r in rec.read_crops(crops)]
    t_new = (time.perf_counter() - t) / max(1, len(crops))
    t_pp = time_ppocr(crops)
    t = time.perf_counter()
    tess = read_tesseract(crops)
    t_tess = (time.perf_counter() - t) / max(1, len(crops))
    c_new, c_tess = pooled_cer(new, refs), pooled_cer(tess, refs)
    mean_new = float(np.mean([cer(h, r) for h, r in zip(new, refs, strict=True)]))
    mean_tess = float(np.mean([cer(h, r) for h, r in zip(tess, refs, strict=True)]))
    exact_new = float(
        np.mean([normalise_text(h) == normalise_text(r) for h, r in zip(new, refs, strict=True)])
    )
    exact_tess = float(
        np.mean([normalise_text(h) == normalise_text(r) for h, r in zip(tess, refs, strict=True)])
    )
    print(f"{len(lines)} Korean lines from true boxes of {args.data}")
    print(f"{'reader':<12} {'pooled CER':>10} {'mean CER':>9} {'exact':>6} {'s/line':>7}")
    print(f"{rec.name:<12} {c_new:>10.3f} {mean_new:>9.3f} {exact_new:>6.3f} {t_new:>7.4f}")
    print(f"{'tesseract':<12} {c_tess:>10.3f} {mean_tess:>9.3f} {exact_tess:>6.3f} {t_tess:>7.4f}")
    print(f"PP-OCRv6 (no Hangul; time only) on the same crops, same batching: {t_pp:.4f} s/line")
    if args.synthetic:
        for name, value in synthetic_cer(rec, args.synthetic).items():
            print(f"{rec.name} on {args.synthetic} synthetic '{name}' lines: pooled CER {value:.3f}")
    if args.json:
        rows = [{"image": ln.image, "truth": r, "new": h, "tesseract": tt}
                for ln, r, h, tt in zip(lines, refs, new, tess, strict=True)]  # fmt: skip
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.sheet:
        order = sorted(range(len(lines)), key=lambda i: -cer(new[i], refs[i]))[: args.worst]
        sheet([(crops[i], refs[i], new[i], tess[i]) for i in order], args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
