"""Real sentences per language, read at run time from installed packages, then cleaned.

Nothing is copied into the repository: each source is a file that a PyPI or Debian
package installs (see DATACARD.md). Every source yields raw sentences; `clean_text`
keeps those written only in the language's script and punctuation, and `Corpus`
sorts them by length into the three kinds a layout asks for:

- ``short``: sign panels (a place, a warning, a title: a clause or a poem line),
- ``utterance``: speech bubbles (a short sentence),
- ``sentence``: paragraphs (longer sentences).
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from imtrans.errors import ModelMissingError

Kind = Literal["short", "utterance", "sentence"]
KINDS: tuple[Kind, ...] = ("short", "utterance", "sentence")

_FORTUNES = Path("/usr/share/games/fortunes")
_MAN_JA = Path("/usr/share/man/ja")

#: Length bounds (characters, inclusive) per kind. Ideographic scripts pack more meaning
#: per character, so their bounds are lower.
LENGTHS: dict[str, dict[Kind, tuple[int, int]]] = {
    "ko": {"short": (2, 12), "utterance": (5, 28), "sentence": (12, 70)},
    "en": {"short": (3, 24), "utterance": (8, 56), "sentence": (24, 140)},
    "ja": {"short": (2, 10), "utterance": (4, 22), "sentence": (10, 55)},
    "zh": {"short": (2, 10), "utterance": (4, 20), "sentence": (10, 50)},
}

# Punctuation a text may hold besides its script. Brackets, slashes and symbols are left
# out on purpose: they come from markup and numbering far more often than from prose.
_PUNCT = {
    "ko": set(" .,!?·'\"~-"),
    "en": set(" .,!?;:'\"-"),
    "ja": set("、。！？・「」『』ー〜…"),
    "zh": set("，。！？、；：「」《》…"),
}


@dataclass(frozen=True)
class Source:
    """Where sentences came from: for the data card."""

    name: str
    package: str
    registry: Literal["pypi", "debian"]
    licence: str
    path: str


@dataclass(frozen=True)
class Corpus:
    """Cleaned texts of one language, by kind, in a fixed order (so sampling is deterministic)."""

    language: str
    sources: tuple[Source, ...]
    texts: dict[Kind, tuple[str, ...]]
    raw_count: int

    def stats(self) -> dict[str, int]:
        return {"raw": self.raw_count, **{k: len(v) for k, v in self.texts.items()}}


def _script_ok(ch: str, language: str) -> bool:
    """Whether `ch` belongs to `language`'s own script (punctuation is checked apart)."""
    cp = ord(ch)
    if language == "ko":
        # Digits are left out: in these sources they are article and list numbers.
        return 0xAC00 <= cp <= 0xD7A3
    if language == "en":
        return ch.isascii() and ch.isalnum()
    han = 0x4E00 <= cp <= 0x9FFF
    if language == "ja":
        return han or 0x3041 <= cp <= 0x3096 or 0x30A1 <= cp <= 0x30FA or ch == "々"
    if language == "zh":
        return han
    raise ValueError(f"no script rule for language {language!r}")


def clean_text(text: str, language: str) -> str | None:
    """Normalise one candidate text; None if it is not plain text of `language`.

    NFKC folds compatibility forms (full-width Latin, half-width kana) except for
    Japanese and Chinese, whose full-width punctuation NFKC would turn into ASCII.
    Whitespace is collapsed; for ja/zh it is removed (those scripts use none).
    A text must hold only its script's letters and the punctuation listed for its
    language, must not start with punctuation, and Japanese must hold some kana
    (which tells it from Chinese); English needs at least one letter per word on average.
    """
    if language not in ("ja", "zh"):
        text = unicodedata.normalize("NFKC", text)
    text = " ".join(text.split())
    if language in ("ja", "zh"):
        text = text.replace(" ", "")
    if not text:
        return None
    punct = _PUNCT[language]
    if any(not (_script_ok(ch, language) or ch in punct) for ch in text):
        return None
    if text[0] in punct or not _script_ok(text[0], language) and language != "en":
        return None
    letters = sum(_script_ok(ch, language) and not ch.isdigit() for ch in text)
    if letters < max(2, len(text) // 2):
        return None
    if language == "ja" and not any(0x3041 <= ord(ch) <= 0x30FA for ch in text):
        return None
    if language == "ko" and re.search(r"(^|\s)[가나다라마바사아자차카타파하]\.?(\s|$)", text):
        return None  # list markers of bills (가. 나. 다.), also once a clause lost its period
    if language == "ja" and text[0] in _JA_PARTICLES:
        return None  # the word before it was a command name, removed with its markup
    if language == "en" and not text[0].isupper():
        return None  # a clause cut from mid-sentence ("or is it just me") is not a title
    if language == "zh":
        try:
            text.encode("gb2312")
        except UnicodeEncodeError:
            return None  # GB2312 holds simplified characters only: drops classical, traditional text
    # Unbalanced quotes or brackets are cut-off fragments.
    for a, b in (("「", "」"), ("『", "』"), ("《", "》")):
        if text.count(a) != text.count(b):
            return None
    if text.count('"') % 2:
        return None
    return text


# Japanese case particles; prose never starts with one.
_JA_PARTICLES = frozenset("をにがはでのとへもやよ")

_SENTENCE_END = {
    "ko": re.compile(r"(?<=[.!?])\s+"),
    "en": re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])"),
    "ja": re.compile(r"(?<=[。！？])"),
    "zh": re.compile(r"(?<=[。！？])"),
}
_CLAUSE = {
    "ko": re.compile(r"\s*[,·]\s*|\.\s*$"),  # 정치·경제·사회: lists of nouns make sign words
    "en": re.compile(r"\s*[,;:]\s+|[.!?]\s*$"),
    "ja": re.compile(r"[、。！？]"),
    "zh": re.compile(r"[，。！？、；：]"),
}


def split_sentences(paragraph: str, language: str) -> list[str]:
    """Cut a paragraph (already joined into one line) into sentences."""
    return [s.strip() for s in _SENTENCE_END[language].split(paragraph) if s.strip()]


def clauses(sentence: str, language: str) -> list[str]:
    """The clauses of a sentence (split at commas), without their closing punctuation.

    Short clauses read like sign text (a place, a title, an instruction) and are still
    real text of the language.
    """
    return [c.strip() for c in _CLAUSE[language].split(sentence) if c.strip()]


def build_corpus(language: str, paragraphs: list[str], sources: tuple[Source, ...]) -> Corpus:
    """Split paragraphs into sentences and clauses, clean them, and sort them by kind.

    Duplicates are dropped; order is the first occurrence, so the corpus is the same on
    every run over the same files.
    """
    seen: set[str] = set()
    texts: dict[Kind, list[str]] = {k: [] for k in KINDS}
    raw = 0
    bounds = LENGTHS[language]

    def add(candidate: str, kinds: tuple[Kind, ...]) -> None:
        nonlocal raw
        raw += 1
        text = clean_text(candidate, language)
        if text is None:
            return
        for kind in kinds:
            lo, hi = bounds[kind]
            if lo <= len(text) <= hi and (kind, text) not in seen:
                seen.add((kind, text))  # type: ignore[arg-type]
                texts[kind].append(text)

    for paragraph in paragraphs:
        for sentence in split_sentences(paragraph, language):
            add(sentence, ("utterance", "sentence", "short"))
            for clause in clauses(sentence, language):
                if clause != sentence:
                    add(clause, ("short",))
    return Corpus(language, sources, {k: tuple(v) for k, v in texts.items()}, raw)


def load_corpus(language: str) -> Corpus:
    """Read and clean the installed sources of `language`.

    Raises:
        ModelMissingError: A source package is not installed (the message names it).
    """
    readers = {"ko": _korean, "en": _english, "ja": _japanese, "zh": _chinese}
    paragraphs, sources = readers[language]()
    return build_corpus(language, paragraphs, sources)


# --- sources -----------------------------------------------------------------------------


def _korean() -> tuple[list[str], tuple[Source, ...]]:
    """The Constitution of Korea and ten National Assembly bills bundled with konlpy."""
    spec = importlib.util.find_spec("konlpy")  # locate only: importing konlpy would start Java
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError("Korean sentences need the PyPI package konlpy (pip install konlpy==0.6.0)")
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "corpus"
    paragraphs: list[str] = []
    law = root / "kolaw" / "constitution.txt"
    for line in law.read_text(encoding="utf-8").splitlines():
        # Articles start with their number (제12조 ③); the number is not prose.
        line = re.sub(r"^\s*제\d+조(의\d+)?\s*|[①-⑳]\s*|^\s*\d+\.\s*", "", line)
        paragraphs.append(line)
    for bill in sorted((root / "kobill").glob("*.txt")):
        # Bills are hard-wrapped mid-word with blank lines between rows: join rows directly
        # (a row that ended between words keeps its trailing space).
        body = "".join(bill.read_text(encoding="utf-8").splitlines())
        paragraphs.append(body)
    licence = "GPL-3.0 (konlpy); the texts are Korean statutes and bills, public works (Korean Copyright Act art. 7)"
    return paragraphs, (
        Source("kolaw/constitution.txt", "konlpy==0.6.0", "pypi", licence, str(law)),
        Source("kobill/*.txt", "konlpy==0.6.0", "pypi", licence, str(root / "kobill")),
    )


def _fortune_entries(path: Path) -> list[str]:
    """The entries of a fortune file (separated by lines holding only %), colour codes removed."""
    text = path.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return [e for e in text.split("\n%\n") if e.strip()]


# fortune files from the Debian `fortunes` package that hold prose (not ASCII art or code).
_EN_FORTUNES = (
    "fortunes", "literature", "wisdom", "people", "humorists", "love", "food", "kids",
    "education", "pets", "platitudes", "work", "men-women", "miscellaneous", "riddles",
)  # fmt: skip


def _english() -> tuple[list[str], tuple[Source, ...]]:
    """Fortune cookies (quotations, proverbs, jokes) from Debian's fortunes package."""
    files = [_FORTUNES / n for n in _EN_FORTUNES if (_FORTUNES / n).is_file()]
    if not files:
        raise ModelMissingError(
            "English sentences need the Debian package fortunes (apt-get install fortunes)"
        )
    paragraphs: list[str] = []
    for f in files:
        for entry in _fortune_entries(f):
            # The attribution ("-- Mark Twain") and indented verse are not running prose.
            body = re.split(r"\n\s*--\s", entry)[0]
            paragraphs.append(" ".join(body.split()))
    licence = "BSD (fortune-mod); quotations of mixed origin, see /usr/share/doc/fortunes/copyright"
    return paragraphs, (Source("fortunes", "fortunes", "debian", licence, str(_FORTUNES)),)


def _chinese() -> tuple[list[str], tuple[Source, ...]]:
    """Chinese fortunes, 300 Tang poems and 100 Song lyrics from Debian's fortunes-zh."""
    files = [_FORTUNES / n for n in ("chinese", "tang300", "song100") if (_FORTUNES / n).is_file()]
    if not files:
        raise ModelMissingError(
            "Chinese sentences need the Debian package fortunes-zh (apt-get install fortunes-zh)"
        )
    paragraphs: list[str] = []
    for f in files:
        for entry in _fortune_entries(f):
            for line in entry.splitlines():
                line = line.strip()
                # Titles 《…》, authors (作者：) and attributions (-- …) are not prose.
                if line.startswith(("《", "作者", "--", "——")) or not line:
                    continue
                paragraphs.append(line)
    licence = "GPL-3.0+ (fortunes-zh); the Tang and Song poems are in the public domain"
    return paragraphs, (
        Source("chinese, tang300, song100", "fortunes-zh", "debian", licence, str(_FORTUNES)),
    )


_ROFF_ESCAPE = re.compile(r"\\f(\[[^]]*\]|\(..|.)|\\[(*]..|\\[-&/,|^ ]|\\\(..")


def _japanese() -> tuple[list[str], tuple[Source, ...]]:
    """Prose of the Japanese manual pages (section 1) in Debian's manpages-ja."""
    pages = sorted((_MAN_JA / "man1").glob("*.gz")) if _MAN_JA.is_dir() else []
    if not pages:
        raise ModelMissingError(
            "Japanese sentences need the Debian package manpages-ja (apt-get install manpages-ja)"
        )
    paragraphs: list[str] = []
    for page in pages:
        try:
            text = gzip.decompress(page.read_bytes()).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # a few pages are in EUC-JP or damaged; there are plenty of others
        current: list[str] = []
        for line in text.splitlines():
            font = re.match(r"^\.(B|I|SM|[BIR][BIR])\s+(.*)", line)
            if font:
                # Font requests are inline (a command name in bold): keep their words in the
                # sentence, whose Latin then makes clean_text reject it, not a fragment of it.
                current.append(font.group(2).replace('"', ""))
                continue
            if line.startswith((".", "'")):
                # A roff request ends a paragraph; `.SH 名前` lines carry the text after it.
                if current:
                    paragraphs.append("".join(current))
                    current = []
                continue
            line = _ROFF_ESCAPE.sub("", line)
            # The NAME line reads "ls - ディレクトリの内容をリスト表示する": keep the description.
            line = re.sub(r"^[\w.,+ -]+\s+-\s+", "", line)
            current.append(line.strip())
        if current:
            paragraphs.append("".join(current))
    licence = "various DFSG-free licences, as the original manual pages (JM Project translations)"
    return paragraphs, (Source("man1/*.gz", "manpages-ja", "debian", licence, str(_MAN_JA / "man1")),)
