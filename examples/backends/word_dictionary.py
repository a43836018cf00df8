"""An example translator: word by word from a two-column TSV dictionary, offline.

Word-for-word translation is poor for sentences; it suits labels, menus and signs made of
single words, where a glossary of whole texts would need every combination.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from imtrans.errors import ConfigError
from imtrans.settings import TranslateSettings
from imtrans.translate.base import SegmentNote, Translated, check_aligned
from imtrans.types import Severity, TranslateCode


class WordDictionarySettings(TranslateSettings):
    """Options of the example translator (`--set translate.KEY=VALUE`)."""

    dictionary: Path | None = Field(
        None, description="TSV file: source word, tab, translation; one per line."
    )


class WordDictionaryTranslator:
    """Translates each whitespace-separated word it knows; a segment with unknown words is noted."""

    name = "word-dictionary"
    Options = WordDictionarySettings
    packages = ()

    def __init__(self, words: dict[str, str], origin: str = "") -> None:
        self.words = words
        self.model = origin

    @classmethod
    def from_settings(cls, settings: WordDictionarySettings) -> WordDictionaryTranslator:
        if settings.dictionary is None:
            raise ConfigError("the word-dictionary translator needs translate.dictionary (a TSV file)")
        try:
            with Path(settings.dictionary).open(encoding="utf-8", newline="") as f:
                words = {
                    row[0].strip(): row[1].strip() for row in csv.reader(f, delimiter="\t") if len(row) >= 2
                }
        except OSError as e:
            raise ConfigError(f"cannot read dictionary {settings.dictionary}: {e.strerror}") from None
        return cls(words, Path(settings.dictionary).name)

    def check_pair(self, source: str, target: str) -> None:
        """Any pair: the dictionary says what it knows."""

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        out, notes = [], []
        for i, text in enumerate(texts):
            words = text.split()
            out.append(" ".join(self.words.get(w, w) for w in words))
            unknown = [w for w in words if w not in self.words]
            if unknown:
                notes.append(SegmentNote(i, TranslateCode.UNTRANSLATED_WORDS, f"no entry for {', '.join(unknown)}",
                                         Severity.WARNING))  # fmt: skip
        return Translated(check_aligned(texts, out, self.name), tuple(notes))
