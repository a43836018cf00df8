"""Korean line recognition with imtrans's own CTC recogniser (`models/korean_rec.onnx`), no torch.

The network is PP-OCRv6's small recogniser (from the rapidocr wheel) with a new output layer
over `korean_charset()` (the 2,350 KS X 1001 Hangul syllables, compatibility jamo, ASCII and
sign punctuation), fine-tuned by `training/train_recognizer.py` on rendered Korean lines.
Input and decoding follow PP-OCR: BGR crops scaled to 48 px high, ``x / 127.5 - 1``, padded
right with 0; greedy CTC with class 0 the blank. The charset is stored in the ONNX file's
metadata (``character``), so a retrained file brings its own.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from imtrans.errors import ModelMissingError
from imtrans.languages import is_hangul_syllable
from imtrans.recognize.crop import crop_line
from imtrans.recognize.tesseract import restack_column as glyphs_in_a_row
from imtrans.settings import RecognizeSettings
from imtrans.types import Direction, Line

MODEL_PATH = Path(__file__).parent / "models" / "korean_rec.onnx"
#: Input height of the network, narrowest width of a batch, widest crop (longer lines are squeezed).
HEIGHT = 48
MIN_WIDTH = 48
MAX_WIDTH = 1280
#: Margin around a detector box as a share of its thickness (as `ppocr.CROP_PAD`).
CROP_PAD = 0.05

#: Sign, menu and receipt punctuation beyond ASCII.
EXTRA_SYMBOLS = "·ㆍ～₩×※℃°…‘’“”「」『』【】《》〈〉→←↑↓★☆♥●○■□▲△▶◀①②③④⑤⑥⑦⑧⑨⑩"


def korean_charset() -> list[str]:
    """The classes after the blank: KS X 1001 Hangul syllables (2,350), jamo, ASCII, symbols, space.

    The order is fixed (exported models store their own list, so it may grow in later rounds).
    """
    syllables = []
    for lead in range(0xB0, 0xC9):
        for trail in range(0xA1, 0xFF):
            ch = bytes([lead, trail]).decode("euc-kr", errors="ignore")
            if len(ch) == 1 and is_hangul_syllable(ch):
                syllables.append(ch)
    jamo = [chr(c) for c in range(0x3131, 0x3164)]  # compatibility jamo ㄱ..ㅣ
    ascii_chars = [chr(c) for c in range(0x21, 0x7F)]
    chars = syllables + jamo + ascii_chars + [c for c in EXTRA_SYMBOLS if c not in ascii_chars] + [" "]
    assert len(syllables) == 2350 and len(set(chars)) == len(chars)
    return chars


def to_input(crops: list[np.ndarray], max_width: int = MAX_WIDTH) -> np.ndarray:
    """A (N, 3, 48, W) float32 batch from BGR uint8 crops: each scaled to 48 px high keeping its
    aspect (squeezed to `max_width` at most), ``x / 127.5 - 1``, padded right with 0 to the widest."""
    widths = [min(max_width, max(1, round(c.shape[1] * HEIGHT / max(1, c.shape[0])))) for c in crops]
    batch = np.zeros((len(crops), 3, HEIGHT, max(MIN_WIDTH, *widths)), dtype=np.float32)
    for i, (crop, w) in enumerate(zip(crops, widths, strict=True)):
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        interp = cv2.INTER_AREA if crop.shape[0] > HEIGHT else cv2.INTER_LINEAR
        resized = cv2.resize(crop, (w, HEIGHT), interpolation=interp).astype(np.float32)
        batch[i, :, :, :w] = resized.transpose(2, 0, 1) / 127.5 - 1.0
    return batch


def ctc_decode(probs: np.ndarray, charset: list[str]) -> list[tuple[str, float]]:
    """Greedy CTC over (N, T, C) class probabilities (class 0 the blank): (text, mean max-probability
    of the kept steps) per row; an empty reading has confidence 0."""
    out = []
    best = probs.argmax(axis=2)
    score = probs.max(axis=2)
    for row, sc in zip(best, score, strict=True):
        keep = np.ones(len(row), dtype=bool)
        keep[1:] = row[1:] != row[:-1]
        keep &= row != 0
        text = "".join(charset[i - 1] for i in row[keep])
        out.append((text.strip(), float(sc[keep].mean()) if keep.any() else 0.0))
    return out


class KoreanRecognizer:
    """Reads Korean lines with imtrans's trained CTC recogniser through onnxruntime.

    Args:
        model_path: The ONNX file; default the one shipped in the package.
        batch_size: Lines per network call (sorted by width first, so a batch pads little).
    """

    name = "korean-ctc"
    Options = RecognizeSettings
    packages = ("onnxruntime",)

    def __init__(self, model_path: Path | None = None, batch_size: int = 8) -> None:
        self.model_path = Path(model_path) if model_path else MODEL_PATH
        self.batch_size = batch_size
        self._session: Any = None
        self._charset: list[str] = []
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: RecognizeSettings) -> KoreanRecognizer:
        return cls()

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                if not self.model_path.is_file():
                    raise ModelMissingError(
                        f"Korean recogniser model not found: {self.model_path} "
                        "(train one with training/train_recognizer.py, or reinstall imtrans)"
                    )
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = 2
                session = ort.InferenceSession(str(self.model_path), opts, providers=["CPUExecutionProvider"])
                meta = session.get_modelmeta().custom_metadata_map
                self._charset = meta["character"].split("\n") if "character" in meta else korean_charset()
                self._session = session
        return self._session

    def read_crops(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, confidence) per BGR crop, in order."""
        if not crops:
            return []
        session = self._load()
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / max(1, crops[i].shape[0]))
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            probs = session.run(None, {"x": to_input([crops[i] for i in idx])})[0]
            for i, reading in zip(idx, ctc_decode(probs, self._charset), strict=True):
                out[i] = reading
        return out

    def read_lines(
        self, image: np.ndarray, lines: list[Line], language: str = "ko"
    ) -> list[tuple[str, float]]:
        """(text, confidence) per line of `image` (RGB), in order. The network reads rows only: a
        vertical column's glyphs (square cells of the column's width) are laid out in a row."""
        crops = []
        for ln in lines:
            if ln.direction is Direction.VERTICAL:
                # Glyphs found by their ink (as for Tesseract), not cut at fixed squares: a
                # column's padding shifts fixed cells across the syllables.
                column = crop_line(image, ln, pad=CROP_PAD, horizontal=False)
                gray = cv2.cvtColor(column, cv2.COLOR_RGB2GRAY)
                margin = round(gray.shape[1] * CROP_PAD / (1 + 2 * CROP_PAD))
                crop = cv2.cvtColor(glyphs_in_a_row(gray, margin), cv2.COLOR_GRAY2RGB)
            else:
                crop = crop_line(image, ln, pad=CROP_PAD)
            crops.append(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        read = self.read_crops(crops)
        # A restacked column shows gaps between its glyphs, not between words.
        return [
            (text.replace(" ", ""), conf) if ln.direction is Direction.VERTICAL else (text, conf)
            for ln, (text, conf) in zip(lines, read, strict=True)
        ]

    def recognize(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        """Read every line as Korean."""
        return [
            replace(ln, text=text, confidence=conf, language="ko", recognizer=self.name)
            for ln, (text, conf) in zip(lines, self.read_lines(image, lines), strict=True)
        ]
