"""Public datasets read into the manifest types (`Dataset` > `Sample` > `GTBlock` > `GTLine`).

Each adapter reads a dataset in its original layout, in place, without copying it: the returned
`Dataset.root` is the dataset's own directory and every `Sample.image` is relative to it.
`load_dataset` picks the reader from what a directory holds.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from imtrans.detect.geometry import order_quad
from imtrans.errors import InputError
from imtrans.evaluate.dataset import MANIFEST_NAME, Dataset, GTBlock, GTLine, Sample, read_manifest
from imtrans.languages import NO_SPACE_LANGUAGES
from imtrans.types import Direction, Quad

#: OpenMantra boxes at least this many times wider than tall hold horizontal text (titles,
#: captions); every other Japanese box is a vertical speech bubble. Checked by eye on
#: openmantra-dev: horizontal boxes run 2.6 to 3.1 wide, vertical ones at most 1.46.
OPENMANTRA_HORIZONTAL_ASPECT = 2.0

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")

#: ICDAR 2017/2019 MLT script names, and the language imtrans reads them as ("" when none).
_MLT_SCRIPTS = {
    "latin": None,  # the adapter's `language`
    "korean": "ko",
    "japanese": "ja",
    "chinese": "zh",
    "arabic": "",
    "bangla": "",
    "hindi": "",
    "symbols": "",
    "mixed": "",
    "none": "",
}


def image_size(path: Path) -> tuple[int, int]:
    """Width and height of an image as `imtrans.imageio.load_image` will see it (EXIF rotation
    applied), from its header only.

    Raises:
        InputError: The file is missing or not an image.
    """
    if not path.is_file():
        raise InputError(f"no such image file: {path}")
    try:
        with Image.open(path) as im:
            w, h = im.size
            if im.getexif().get(0x0112) in (5, 6, 7, 8):  # EXIF orientation: rotated by 90 degrees
                w, h = h, w
    except (UnidentifiedImageError, OSError) as e:
        raise InputError(f"{path}: not a readable image ({e})") from None
    return w, h


def _flat(text: str, sep: str) -> str:
    """Newlines replaced by `sep`, runs of spaces collapsed, ends stripped."""
    t = text.replace("\r", "").replace("\n", sep)
    return re.sub(r" {2,}", " ", t).strip()


# ---------------------------------------------------------------------------------------------
# OpenMantra


def from_openmantra(root: Path, language: str = "ja") -> Dataset:
    """Read OpenMantra (`annotation.json`: books > pages > text boxes) as a dataset.

    One sample per page (id `<book title>-<image file stem>`), one block per text box, with
    block-level truth only (no lines). The block's text is `text_<language>` without its
    newlines (Japanese and Chinese wrap without spaces; other languages get a space); the other
    languages' texts are its reference translations, newlines turned into spaces. Japanese and Chinese boxes are vertical unless
    they are `OPENMANTRA_HORIZONTAL_ASPECT` times wider than tall. Boxes with no text keep an
    empty text: they still count for detection.

    Args:
        root: The directory holding `annotation.json` and the images.
        language: The language of the page images and of the source text (OpenMantra: ja).

    Raises:
        InputError: annotation.json is missing or malformed, or an image is missing.
    """
    root = Path(root)
    ann = root / "annotation.json"
    try:
        books = json.loads(ann.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no OpenMantra annotation.json in {root}") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{ann}: not readable JSON ({e})") from None
    try:
        samples = [_openmantra_page(root, b["book_title"], p, language) for b in books for p in b["pages"]]
    except (KeyError, TypeError) as e:
        raise InputError(f"{ann}: not in the OpenMantra format (missing {e})") from None
    titles = "+".join(dict.fromkeys(str(b["book_title"]) for b in books))
    return Dataset(name=f"openmantra-{titles}", root=root, samples=samples)


def _openmantra_page(root: Path, title: str, page: dict[str, Any], language: str) -> Sample:
    image = page["image_paths"][language]
    w, h = image_size(root / image)
    index = int(page["page_index"])
    blocks = []
    for n, t in enumerate(page["text"]):
        x, y, bw, bh = (float(t[k]) for k in ("x", "y", "w", "h"))
        vertical = language in NO_SPACE_LANGUAGES and bw < OPENMANTRA_HORIZONTAL_ASPECT * bh
        translations = {
            key[len("text_") :]: _flat(value, " ")
            for key, value in t.items()
            if key.startswith("text_") and key != f"text_{language}" and isinstance(value, str)
        }
        blocks.append(
            GTBlock(
                id=f"b{n}",
                quad=list(Quad.from_rect(x, y, x + bw, y + bh).points),
                text=_flat(t.get(f"text_{language}", ""), "" if language in NO_SPACE_LANGUAGES else " "),
                language=language,
                direction="vertical" if vertical else "horizontal",
                translations=translations,
            )
        )
    return Sample(
        id=f"{title}-{Path(image).stem}",
        image=image,
        source_language=language,
        width=w,
        height=h,
        blocks=blocks,
        meta={"source": "openmantra", "book": title, "page_index": index, "frames": page.get("frame", [])},
    )


# ---------------------------------------------------------------------------------------------
# ICDAR


def from_icdar(images: Path, gt: Path, language: str = "en") -> Dataset:
    """Read an ICDAR Robust Reading dataset (images and one ground-truth text file per image).

    Ground-truth files are `gt_<image stem>.txt` or `<image stem>.txt`, UTF-8 (a BOM is allowed),
    one text region a line, in any of these forms:

        x1,y1,x2,y2,x3,y3,x4,y4,transcript          ICDAR 2015 (the transcript may hold commas)
        x1,y1,x2,y2,x3,y3,x4,y4,script,transcript   ICDAR 2017/2019 MLT
        x0, y0, x1, y1, "transcript"                ICDAR 2013 (commas or spaces)

    A transcript "###" marks a "don't care" region: its line has `ignore=True` and an empty text.
    Each region becomes one block holding one line with the same quad (ICDAR has no grouping).
    Corners are reordered to the `Quad` convention (clockwise from the text's top-left), keeping
    the annotated points. Images without a ground-truth file are skipped.

    Args:
        images: The folder of images.
        gt: The folder of ground-truth files.
        language: Language of the text (MLT lines of a known script take that script's language).

    Raises:
        InputError: A folder is missing, or a ground-truth line cannot be read.
    """
    images, gt = Path(images), Path(gt)
    for folder in (images, gt):
        if not folder.is_dir():
            raise InputError(f"no such folder: {folder}")
    root = images.parent
    samples = []
    for img in sorted(p for p in images.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES):
        gt_file = next((f for f in (gt / f"gt_{img.stem}.txt", gt / f"{img.stem}.txt") if f.is_file()), None)
        if gt_file is None:
            continue
        w, h = image_size(img)
        blocks: list[GTBlock] = []
        text = gt_file.read_text(encoding="utf-8-sig", errors="replace")
        for n, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue
            parsed = parse_icdar_line(raw, language)
            if parsed is None:
                raise InputError(f"{gt_file}:{n}: not an ICDAR ground-truth line: {raw[:60]!r}")
            blocks.append(_icdar_block(f"b{len(blocks)}", *parsed))
        samples.append(
            Sample(
                id=img.stem,
                image=img.relative_to(root).as_posix(),
                source_language=language,
                width=w,
                height=h,
                blocks=blocks,
                meta={"source": "icdar", "gt": gt_file.name},
            )
        )
    return Dataset(name=f"icdar-{root.name}", root=root, samples=samples)


_NUM = r"\s*(-?\d+(?:\.\d+)?)\s*"
_ICDAR13 = re.compile(rf"^{_NUM}[,\s]{_NUM}[,\s]{_NUM}[,\s]{_NUM}[,\s]\s*\"(.*)\"\s*$")


def parse_icdar_line(raw: str, language: str = "en") -> tuple[Quad, str, str, bool, bool] | None:
    """One ground-truth line as (quad, text, language, ignore, vertical); None if it is not one.

    See `from_icdar` for the accepted forms. The quad is in the `Quad` convention.
    """
    line = raw.strip().lstrip("\ufeff")
    m = _ICDAR13.match(line)
    if m:
        x0, y0, x1, y1 = (float(v) for v in m.groups()[:4])
        pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        text, lang = m.group(5), language
    else:
        parts = line.split(",", 9)
        try:
            pts = np.array([float(v) for v in parts[:8]]).reshape(4, 2)
        except ValueError:
            return None
        if len(parts) < 9:
            return None
        rest = ",".join(parts[8:])
        lang = language
        script, sep, after = rest.partition(",")
        if sep and script.strip().lower() in _MLT_SCRIPTS:
            mapped = _MLT_SCRIPTS[script.strip().lower()]
            lang = language if mapped is None else mapped
            rest = after
        text = rest
    ignore = text.strip() == "###"
    quad, direction = _ordered(pts)
    return quad, "" if ignore else text, lang, ignore, direction is Direction.VERTICAL


def _ordered(pts: np.ndarray) -> tuple[Quad, Direction]:
    """The annotated corners, clockwise (image y down), rotated to start at the text's top-left.

    `order_quad` says where the top-left is (its corners are those of the minimum-area rectangle);
    the annotated corner nearest to it, in clockwise order, starts the quad.
    """
    p = np.asarray(pts, dtype=np.float64)
    x, y = p[:, 0], p[:, 1]
    signed = float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    if signed < 0:  # counter-clockwise on screen: reverse, keeping the first point
        p = p[[0, 3, 2, 1]]
    ref, direction = order_quad(p)
    best = min(range(4), key=lambda k: float(np.linalg.norm(np.roll(p, -k, axis=0) - ref, axis=1).sum()))
    return Quad.from_list(np.roll(p, -best, axis=0)), direction


def _icdar_block(block_id: str, quad: Quad, text: str, lang: str, ignore: bool, vertical: bool) -> GTBlock:
    direction: Literal["horizontal", "vertical"] = "vertical" if vertical else "horizontal"
    line = GTLine(quad=list(quad.points), text=text, language=lang, direction=direction, ignore=ignore)
    return GTBlock(
        id=block_id, quad=list(quad.points), text=text, language=lang, direction=direction, lines=[line]
    )


# ---------------------------------------------------------------------------------------------
# Real photos (one NAME.json of hand-written line truth beside each image)


def from_realphotos(root: Path) -> Dataset:
    """Read a folder of images, each with a `NAME.json` of hand-written line truth.

    The format (``../shared/data/realphotos-dev/README.md``): ``{"file", "width", "height",
    "kind", "lines": [{"text", "lang", "box": [x0, y0, x1, y1], "block"}]}``. Lines with the
    same ``block`` number form one block (a sign panel, a menu item, a paragraph), in the
    order written; ``text: null`` marks illegible text, kept as an ``ignore`` line (neither a
    hit nor a miss). Boxes are axis-aligned and loose on slanted lines.

    Raises:
        InputError: A truth file is malformed or its image is missing.
    """
    root = Path(root)
    samples = []
    for truth in sorted(root.glob("*.json")):
        try:
            doc = json.loads(truth.read_text(encoding="utf-8"))
            samples.append(_realphoto(root, truth.stem, doc))
        except (OSError, ValueError) as e:
            raise InputError(f"{truth}: not readable JSON ({e})") from None
        except (KeyError, TypeError, IndexError) as e:
            raise InputError(f"{truth}: not in the real-photo truth format (bad or missing {e})") from None
    if not samples:
        raise InputError(f"no image truth files (NAME.json) in {root}")
    return Dataset(name=f"realphotos-{root.name}", root=root, samples=samples)


def _realphoto(root: Path, stem: str, doc: dict[str, Any]) -> Sample:
    w, h = image_size(root / doc["file"])
    by_block: dict[int, list[GTLine]] = {}
    for ln in doc["lines"]:
        x0, y0, x1, y1 = (float(v) for v in ln["box"])
        text = ln["text"]
        by_block.setdefault(int(ln["block"]), []).append(
            GTLine(
                quad=list(Quad.from_rect(x0, y0, x1, y1).points),
                text=text or "",
                language=str(ln["lang"]),
                ignore=text is None,
            )
        )
    blocks = []
    for n, lines in by_block.items():
        xs = [p[0] for ln in lines for p in ln.quad]
        ys = [p[1] for ln in lines for p in ln.quad]
        readable = [ln for ln in lines if not ln.ignore]
        languages = [ln.language for ln in readable] or [lines[0].language]
        language = Counter(languages).most_common(1)[0][0]  # ties: the first line's
        joiner = "" if language in NO_SPACE_LANGUAGES else " "
        blocks.append(
            GTBlock(
                id=f"b{n}",
                quad=list(Quad.from_rect(min(xs), min(ys), max(xs), max(ys)).points),
                text=joiner.join(ln.text for ln in readable),
                language=language,
                lines=lines,
            )
        )
    all_languages = {ln.language for b in blocks for ln in b.lines if not ln.ignore}
    return Sample(
        id=stem,
        image=str(doc["file"]),
        source_language=all_languages.pop() if len(all_languages) == 1 else "auto",
        width=w,
        height=h,
        blocks=blocks,
        meta={"source": "realphotos", "kind": doc.get("kind", ""), "notes": doc.get("notes", "")},
    )


# ---------------------------------------------------------------------------------------------
# Dispatch


def load_dataset(path: Path, *, language: str | None = None) -> Dataset:
    """Load a dataset from a manifest, an OpenMantra folder, an ICDAR folder or a real-photo folder.

    Args:
        path: A manifest file or a folder holding `manifest.jsonl`; a folder holding OpenMantra's
            `annotation.json`; a folder holding `images/` and `gt/` (ICDAR); or a folder of
            images each with a `NAME.json` of line truth (`from_realphotos`).
        language: Source language for OpenMantra (default ja) and ICDAR (default en); ignored
            for a manifest, which records its own.

    Raises:
        InputError: The path is none of these.
    """
    path = Path(path)
    if path.is_file():
        if path.suffix == ".jsonl":
            return read_manifest(path)
        if path.name == "annotation.json":
            return from_openmantra(path.parent, language or "ja")
    elif path.is_dir():
        if (path / MANIFEST_NAME).is_file():
            return read_manifest(path)
        if (path / "annotation.json").is_file():
            return from_openmantra(path, language or "ja")
        if (path / "images").is_dir() and (path / "gt").is_dir():
            return from_icdar(path / "images", path / "gt", language or "en")
        if any(_is_realphoto_truth(p) for p in path.glob("*.json")):
            return from_realphotos(path)
    raise InputError(
        f"{path}: not a dataset; expected a {MANIFEST_NAME} file (or a folder holding one), "
        "a folder with OpenMantra's annotation.json, a folder with images/ and gt/ (ICDAR), "
        "or a folder of images each with a NAME.json of line truth (real photos)"
    )


def _is_realphoto_truth(path: Path) -> bool:
    """A NAME.json whose image (its "file") lies beside it."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "lines" in doc and (path.parent / str(doc.get("file", ""))).is_file()
