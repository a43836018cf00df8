"""Translations the user supplies: a CSV or JSON glossary, matched to whole segments.

A segment matches an entry when the two are equal after normalisation (Unicode NFKC,
runs of whitespace collapsed to one space, ends stripped, case folded), or, failing
that, when their rapidfuzz ``ratio`` reaches the fuzzy threshold (OCR often gets one
character wrong). Matching is whole-segment only: a glossary term inside a longer
text is not substituted, because splicing a fixed phrase into a machine translation
breaks its grammar more often than it helps; put the whole sign text in the
glossary instead.

File formats (UTF-8, a BOM is fine):

* CSV with a header row: ``source,target`` and optionally ``source_lang,target_lang``.
* JSON: ``{"출구": "Exit", ...}``, or a list of objects with ``source``, ``target``
  and optionally ``source_lang``, ``target_lang``.

An entry with languages applies only to that pair; one without applies to every
pair. When several entries fit, the one with more languages given wins, then the
later one in the file.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from imtrans.errors import ConfigError, LanguageError, ModelMissingError
from imtrans.languages import TARGET_LANGUAGES, normalize, script_counts
from imtrans.settings import TranslateSettings
from imtrans.translate.base import SegmentNote, Translated, Translator, check_aligned
from imtrans.types import Severity, TranslateCode

#: How many fuzzy candidates are checked for a language fit before giving up.
_FUZZY_CANDIDATES = 8


@dataclass(frozen=True)
class GlossaryEntry:
    """One fixed translation. Empty language codes mean "any language"."""

    source: str
    target: str
    source_lang: str = ""
    target_lang: str = ""

    def fits(self, source: str, target: str) -> bool:
        """Whether this entry applies to a request from `source` to `target`."""
        src_ok = not self.source_lang or source in ("", "auto") or self.source_lang == source
        tgt_ok = not self.target_lang or self.target_lang == target
        return src_ok and tgt_ok

    @property
    def specificity(self) -> int:
        """How many language codes the entry names (0-2); more specific entries win."""
        return bool(self.source_lang) + bool(self.target_lang)


@dataclass(frozen=True)
class GlossaryMatch:
    """A glossary entry found for a segment."""

    entry: GlossaryEntry
    score: float
    exact: bool

    @property
    def translation(self) -> str:
        return self.entry.target


#: Scripts whose glyphs are words on their own when a sign is letter-spaced.
_CJK = ("hangul", "kana", "han")


def normalize_key(text: str) -> str:
    """The form in which segments and entries are compared: NFKC, one space, stripped, casefolded.

    Letter-spaced CJK (a sign's `위 험`, `出 口`: every word one Hangul, kana or Han glyph) is
    closed up, as the recogniser reads such signs with the spaces and glossaries hold the word.
    """
    words = unicodedata.normalize("NFKC", text).split()
    if len(words) > 1 and all(len(w) == 1 and any(script_counts(w)[k] for k in _CJK) for w in words):
        return "".join(words)
    return " ".join(words).casefold()


class Glossary:
    """A set of entries, indexed for exact and fuzzy lookup.

    Args:
        entries: Entries in file order (later ones win ties).
        fuzzy_threshold: Minimum rapidfuzz ratio (0-100) for a fuzzy match; 100 disables fuzzy matching.
        origin: Where the entries came from, for messages.
    """

    def __init__(
        self, entries: Iterable[GlossaryEntry], fuzzy_threshold: float = 90.0, origin: str = ""
    ) -> None:
        self.entries: list[GlossaryEntry] = list(entries)
        self.fuzzy_threshold = fuzzy_threshold
        self.origin = origin
        self._index: dict[str, list[GlossaryEntry]] = {}
        for entry in self.entries:
            key = normalize_key(entry.source)
            if key:
                self._index.setdefault(key, []).append(entry)
        self._keys = list(self._index)

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: Path, fuzzy_threshold: float = 90.0) -> Glossary:
        """Read a CSV or JSON glossary (chosen by the file's extension, else by its first character).

        Raises:
            ConfigError: The file cannot be read, has a bad row or no entries; the message names
                file and row.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read glossary {path}: {e}") from None
        is_json = path.suffix.lower() == ".json" or (
            path.suffix.lower() != ".csv" and text.lstrip()[:1] in "[{"
        )
        entries = _parse_json(text, path) if is_json else _parse_csv(text, path)
        if not entries:
            raise ConfigError(
                f"glossary {path} has no entries (a CSV needs rows under its source,target header)"
            )
        return cls(entries, fuzzy_threshold, origin=str(path))

    def lookup(self, text: str, source: str, target: str) -> GlossaryMatch | None:
        """The best entry for a whole segment, or None.

        Args:
            text: The segment as read.
            source: Its language (``auto`` or empty: entries of any source language fit).
            target: The language wanted.
        """
        key = normalize_key(text)
        if not key:
            return None
        exact = _best(self._index.get(key, ()), source, target)
        if exact is not None:
            return GlossaryMatch(exact, 100.0, True)
        if self.fuzzy_threshold >= 100 or not self._keys:
            return None
        candidates = process.extract(
            key, self._keys, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold, limit=_FUZZY_CANDIDATES
        )
        for candidate, score, _ in candidates:
            entry = _best(self._index[candidate], source, target)
            if entry is not None:
                return GlossaryMatch(entry, float(score), False)
        return None

    def match_all(self, texts: Sequence[str], source: str, target: str) -> list[GlossaryMatch | None]:
        """`lookup` for each segment."""
        return [self.lookup(t, source, target) for t in texts]


def _best(entries: Iterable[GlossaryEntry], source: str, target: str) -> GlossaryEntry | None:
    best: GlossaryEntry | None = None
    for entry in entries:  # file order: a later entry of equal specificity replaces an earlier one
        if entry.fits(source, target) and (best is None or entry.specificity >= best.specificity):
            best = entry
    return best


def _parse_csv(text: str, path: Path) -> list[GlossaryEntry]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return []
    columns = [h.strip().lower() for h in header]
    if "source" not in columns or "target" not in columns:
        raise ConfigError(
            f"glossary {path}: the first row must name the columns source,target[,source_lang,target_lang]"
        )
    entries = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        record = dict(zip(columns, row, strict=False))
        entries.append(_entry(record, f"glossary {path} line {reader.line_num}"))
    return entries


def _parse_json(text: str, path: Path) -> list[GlossaryEntry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"glossary {path} is not valid JSON: {e}") from None
    except RecursionError:
        raise ConfigError(
            f"glossary {path}: JSON nested too deeply (a glossary is one object or list)"
        ) from None
    if isinstance(data, dict):
        return [_entry({"source": k, "target": v}, f"glossary {path} key {k!r}") for k, v in data.items()]
    if isinstance(data, list):
        entries = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise ConfigError(f"glossary {path} item {i}: expected an object with source and target")
            entries.append(_entry(item, f"glossary {path} item {i}"))
        return entries
    raise ConfigError(f"glossary {path}: expected an object {{source: target}} or a list of entries")


def _entry(record: dict[str, Any], where: str) -> GlossaryEntry:
    source, target = record.get("source"), record.get("target")
    if not isinstance(source, str) or not isinstance(target, str) or not source.strip():
        raise ConfigError(f"{where}: needs a non-empty source text and a target text")
    return GlossaryEntry(
        source=source.strip(),
        target=target.strip(),
        source_lang=_language(record.get("source_lang"), where),
        target_lang=_language(record.get("target_lang"), where),
    )


def _language(value: Any, where: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: a language code must be text, got {value!r}")
    try:
        return normalize(value, allowed=TARGET_LANGUAGES)
    except LanguageError as e:
        raise ConfigError(f"{where}: {e}") from None


def _fuzzy_note(index: int, text: str, match: GlossaryMatch) -> SegmentNote:
    return SegmentNote(
        index,
        TranslateCode.GLOSSARY_FUZZY,
        f"{text!r} taken as glossary entry {match.entry.source!r} (score {match.score:.0f})",
        Severity.INFO,
    )


class GlossaryTranslator:
    """A translator that only knows its glossary; a segment it has no entry for keeps its source text.

    Its answer notes one WARNING per segment without an entry (code ``glossary_miss``)
    and one INFO per fuzzy match (code ``glossary_fuzzy``).
    """

    name = "glossary"
    packages = ("rapidfuzz",)
    Options = TranslateSettings

    @classmethod
    def from_settings(cls, settings: TranslateSettings) -> GlossaryTranslator:
        if settings.glossary is None:
            raise ConfigError(
                "the glossary translator needs a glossary file (translate.glossary / --glossary FILE)"
            )
        return cls(Glossary.load(settings.glossary, settings.fuzzy_threshold))

    def __init__(self, glossary: Glossary) -> None:
        self.glossary = glossary
        self.model = Path(glossary.origin).name if glossary.origin else ""

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """Each segment's glossary translation, or the segment itself when there is none."""
        out: list[str] = []
        notes: list[SegmentNote] = []
        for i, (text, match) in enumerate(
            zip(texts, self.glossary.match_all(texts, source, target), strict=True)
        ):
            if match is not None:
                out.append(match.translation)
                if not match.exact:
                    notes.append(_fuzzy_note(i, text, match))
            elif text.strip():
                out.append(text)
                notes.append(
                    SegmentNote(
                        i,
                        TranslateCode.GLOSSARY_MISS,
                        f"no glossary entry for {text!r}; the original lettering is kept",
                    )
                )
            else:
                out.append(text)
        return Translated(check_aligned(texts, out, self.name), tuple(notes))


class GlossaryFront:
    """A glossary in front of another translator.

    Segments with a glossary entry are served from it; all the others go to `inner`
    in one batch, and the answers are put back in order.

    Args:
        glossary: The user's fixed translations.
        inner: The translator for everything else (often wrapped in a cache).
    """

    def __init__(self, glossary: Glossary, inner: Translator) -> None:
        self.glossary = glossary
        self.inner = inner
        self.name = f"glossary+{inner.name}"
        self.model = inner.model

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """Glossary first, the rest through `inner` in one call.

        When `inner` has no model (`ModelMissingError`) but the glossary answered some
        segments, those answers are returned and each other segment gets a ``no_translator``
        note and an empty text; with no glossary answer at all the error propagates.
        """
        matches = self.glossary.match_all(texts, source, target)
        out = [m.translation if m is not None else "" for m in matches]
        notes = [_fuzzy_note(i, texts[i], m) for i, m in enumerate(matches) if m is not None and not m.exact]
        rest = [i for i, m in enumerate(matches) if m is None]
        if rest:
            todo = [texts[i] for i in rest]
            try:
                answer = self.inner.translate(todo, source, target)
            except ModelMissingError as e:
                if len(rest) == len(texts):
                    raise
                # The glossary's answers stand; the rest stay untranslated, as on a page
                # without a translator (erased, nothing drawn).
                notes += [SegmentNote(i, TranslateCode.NO_TRANSLATOR, f"not translated: {e}") for i in rest]
            else:
                for i, text in zip(rest, check_aligned(todo, answer.texts, self.inner.name), strict=True):
                    out[i] = text
                notes += [replace(n, index=rest[n.index]) for n in answer.notes if 0 <= n.index < len(rest)]
        notes.sort(key=lambda n: n.index)
        return Translated(check_aligned(texts, out, self.name), tuple(notes))
