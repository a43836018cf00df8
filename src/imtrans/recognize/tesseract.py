"""Line recognition with Tesseract (via tesserocr) and Debian's tessdata: Korean first, any language as a fallback."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from imtrans.errors import ModelMissingError
from imtrans.recognize.crop import crop_line
from imtrans.settings import RecognizeSettings
from imtrans.types import Direction, Line

#: Our language code -> (Tesseract model for horizontal lines, for vertical columns, Debian package).
TESS_MODELS = {
    "ko": ("kor", "kor_vert", "tesseract-ocr-kor"),
    "ja": ("jpn", "jpn_vert", "tesseract-ocr-jpn tesseract-ocr-jpn-vert"),
    "zh": ("chi_sim", "chi_sim_vert", "tesseract-ocr-chi-sim tesseract-ocr-chi-sim-vert"),
    "en": ("eng", "eng", "tesseract-ocr-eng"),
}

_TESSDATA_CANDIDATES = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata")

#: Margin around the line, as a share of its thickness (detector boxes carry their own margin).
_PAD = 0.1
#: Crops are scaled to this height (line plus margin). Measured on 245 Korean lines (photos, plates,
#: signs, plain): 40 px with the 0.1 margin gave CER 0.099 on photos where 64 px grey gave 0.31.
_TARGET_HEIGHT = 40
_RESTACKED_HEIGHT = 56  # row height for restacked Korean columns
#: A constant border, in pixels, of the background's colour: Tesseract misreads text at the edge.
_BORDER = 10
#: Below this mean confidence (0-100) the binarised reading is retried on the grey crop.
_RETRY_BELOW = 85

#: Characters Tesseract makes of a neighbouring edge or speck at the start or end of a line.
_STRAY_LEADING = set("|¦!:;,.'\"`_-=~^*°·ㆍ")
_STRAY_TRAILING = set("|¦'\"`_=~^*°·ㆍ")


def tessdata_dir() -> Path:
    """Where the traineddata files are: $TESSDATA_PREFIX, else Debian's folder."""
    env = os.environ.get("TESSDATA_PREFIX")
    if env:
        return Path(env)
    for c in _TESSDATA_CANDIDATES:
        if Path(c).is_dir():
            return Path(c)
    return Path(_TESSDATA_CANDIDATES[0])


class TesseractRecognizer:
    """Reads one line at a time (page segmentation mode 7, or 5 for vertical columns).

    Lines are read by a small thread pool (tesserocr releases the GIL while Tesseract works),
    one engine per model per thread, each loaded on first use and kept: a Tesseract handle
    is not thread-safe, so no two threads share one.

    Each crop is read binarised first (text pixels found by Otsu inside the line; specks and
    edges touching the crop's border removed: plates, frames and photo clutter around a line
    otherwise make Tesseract return nothing or stray bars), and read again in grey when that
    reading is unsure; the more confident reading wins. Korean has no `*_vert` model, so a
    vertical Korean column's glyphs are cut apart and laid out in a row for the horizontal model.

    Args:
        tessdata: Folder with the traineddata files; default `tessdata_dir()`.
    """

    name = "tesseract"
    packages = ("tesserocr",)
    Options = RecognizeSettings

    def __init__(self, tessdata: Path | None = None) -> None:
        self.tessdata = Path(tessdata) if tessdata else tessdata_dir()
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: RecognizeSettings) -> TesseractRecognizer:
        return cls()

    def check(self, language: str) -> None:
        """Raise ModelMissingError naming the Debian package when the language's data is missing."""
        model, _, package = TESS_MODELS[language]
        if not (self.tessdata / f"{model}.traineddata").is_file():
            raise ModelMissingError(
                f"Tesseract data {model}.traineddata not found in {self.tessdata}; "
                f"install the Debian package {package} (or set TESSDATA_PREFIX)"
            )

    def _api(self, model: str, vertical: bool) -> Any:
        import tesserocr

        apis: dict[str, Any] = self._local.__dict__.setdefault("apis", {})
        key = f"{model}/{vertical}"
        if key not in apis:
            psm = tesserocr.PSM.SINGLE_BLOCK_VERT_TEXT if vertical else tesserocr.PSM.SINGLE_LINE
            apis[key] = tesserocr.PyTessBaseAPI(path=str(self.tessdata), lang=model, psm=psm)
        return apis[key]

    def read_line(self, image: np.ndarray, line: Line, language: str) -> tuple[str, float]:
        """(text, confidence 0-1) of one line."""
        self.check(language)
        model, vert_model, _ = TESS_MODELS[language]
        vertical = line.direction is Direction.VERTICAL
        upright = vertical and (self.tessdata / f"{vert_model}.traineddata").is_file()
        crop = crop_line(image, line, pad=_PAD, horizontal=False)
        gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        thickness = gray.shape[1] if vertical else gray.shape[0]
        gray = _scale(gray, _TARGET_HEIGHT / max(1, thickness))
        margin = round(_TARGET_HEIGHT * _PAD / (1 + 2 * _PAD))
        if vertical and not upright:
            # Restacked glyphs come out as small as the column's padding leaves them; Tesseract's
            # confidence on them swung from 0.9 to 0.4 with a 2-pixel change of box width.
            gray = restack_column(gray, margin)
            gray = _scale(gray, _RESTACKED_HEIGHT / gray.shape[0])
        api = self._api(vert_model if upright else model, upright)
        best = ("", -1.0)
        for img in (binarize_text(gray, margin), gray):
            api.SetImage(Image.fromarray(_with_border(img)))
            text, conf = api.GetUTF8Text(), float(api.MeanTextConf())
            if conf > best[1]:
                best = (text, conf)
            if conf >= _RETRY_BELOW:
                break
        text = clean_text(best[0])
        if language in ("ja", "zh") or vertical:
            text = text.replace(" ", "")  # Tesseract spaces out CJK glyphs; columns show no word gaps
        return text, max(0.0, best[1]) / 100.0

    def read_lines(self, image: np.ndarray, lines: list[Line], language: str) -> list[tuple[str, float]]:
        """(text, confidence) per line, in order, read in parallel."""
        self.check(language)
        if len(lines) < 2:
            return [self.read_line(image, ln, language) for ln in lines]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)))
        return list(self._pool.map(lambda ln: self.read_line(image, ln, language), lines))

    def recognize(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        """Read every line in `language` (ko, ja, zh or en)."""
        return [
            replace(ln, text=text, confidence=conf, language=language, recognizer=self.name)
            for ln, (text, conf) in zip(lines, self.read_lines(image, lines, language), strict=True)
        ]


def binarize_text(gray: np.ndarray, margin: int) -> np.ndarray:
    """Black text on white: Otsu inside the line decides the threshold and which side is text.

    The text side is the smaller class inside the line (strokes cover less than half of a line's
    box). Ink that touches the crop's border and lies mostly in the margin, or spans its whole
    height, belongs to something else (a plate's edge, a frame, the photo) and is removed.

    Args:
        gray: Grey crop of one line with `margin` pixels of context on each side.
        margin: Width of the context margin, in pixels.
    """
    h, w = gray.shape
    core = gray[margin : h - margin, margin : w - margin] if min(h, w) > 2 * margin + 4 else gray
    t, core_bin = cv2.threshold(core, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light_text = float((core_bin == 255).mean()) < 0.5
    ink = (gray > t) if light_text else (gray <= t)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    keep = np.ones(n, dtype=bool)
    keep[0] = False
    for i in range(1, n):
        x, y, cw, ch, area = (int(v) for v in stats[i])
        if x > 0 and y > 0 and x + cw < w and y + ch < h:
            continue
        comp = labels[y : y + ch, x : x + cw] == i
        inner = comp[max(0, margin - y) : max(0, h - margin - y), max(0, margin - x) : max(0, w - margin - x)]
        if ch >= 0.9 * h or int(inner.sum()) < 0.5 * area:
            keep[i] = False
    return np.where(keep[labels], 0, 255).astype(np.uint8)


def restack_column(gray: np.ndarray, margin: int) -> np.ndarray:
    """Lay a vertical column's glyphs out in a row, for a model that reads horizontal lines.

    Glyphs are the runs of rows holding ink (by the same Otsu split as `binarize_text`); close
    runs that together are no taller than the column is wide are one glyph (a syllable's parts).
    """
    ink_rows = (binarize_text(gray, margin) == 0).any(axis=1)
    glyph = max(1, gray.shape[1] - 2 * margin)  # the column's width without its margin
    runs: list[list[int]] = []
    y = 0
    while y < len(ink_rows):
        if ink_rows[y]:
            y0 = y
            while y < len(ink_rows) and ink_rows[y]:
                y += 1
            if runs and y0 - runs[-1][1] < 0.25 * glyph and y - runs[-1][0] <= 1.05 * glyph:
                runs[-1][1] = y
            else:
                runs.append([y0, y])
        y += 1
    if len(runs) < 2:
        return np.ascontiguousarray(np.rot90(gray))
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = int(np.median(border))
    gap = max(2, glyph // 6)
    tiles = [gray[max(0, a - 2) : b + 2] for a, b in runs]
    height = max(t.shape[0] for t in tiles) + 2 * margin
    row = np.full((height, sum(t.shape[1] for t in tiles) + gap * (len(tiles) + 1)), background, np.uint8)
    x = gap
    for t in tiles:
        top = (height - t.shape[0]) // 2
        row[top : top + t.shape[0], x : x + t.shape[1]] = t
        x += t.shape[1] + gap
    return row


def clean_text(text: str) -> str:
    """One line of text: whitespace collapsed, stray edge characters at either end dropped."""
    words = text.split()
    while words and all(ch in _STRAY_LEADING for ch in words[0]):
        words.pop(0)
    while words and all(ch in _STRAY_TRAILING for ch in words[-1]):
        words.pop()
    out = " ".join(words)
    out = out.lstrip("".join(_STRAY_LEADING))
    return out.rstrip("".join(_STRAY_TRAILING))


def _scale(gray: np.ndarray, s: float) -> np.ndarray:
    if abs(s - 1) <= 0.1:
        return gray
    return cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)


def _with_border(gray: np.ndarray) -> np.ndarray:
    edge = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    value = int(np.median(edge))
    return cv2.copyMakeBorder(gray, _BORDER, _BORDER, _BORDER, _BORDER, cv2.BORDER_CONSTANT, value=value)
