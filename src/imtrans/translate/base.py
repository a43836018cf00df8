"""What a translator does: N segments in, N strings out, in order.

Besides the `Translator` Protocol this module holds the few things every backend
shares: the alignment check, the blank-segment rule, and `Translated`, a translator's
answer: its N texts and its `SegmentNote`s, the way it tells the pipeline about one
segment (a glossary miss, a fuzzy match) without raising.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import Field

from imtrans.errors import TranslatorError
from imtrans.settings import TranslateSettings
from imtrans.types import Diagnostic, Severity, TranslateCode


class ServiceSettings(TranslateSettings):
    """Options of a translation service reached over HTTP (papago, deepl, google, openai)."""

    timeout: float = Field(30.0, gt=0, description="Seconds to wait for a translation service.")


@dataclass(frozen=True)
class SegmentNote:
    """Something a translator reports about one segment of a `translate` call.

    Attributes:
        index: Position of the segment in that call.
        code: What happened (``glossary_miss``, ``glossary_fuzzy``).
        message: One line for a person.
        severity: How much it matters.
    """

    index: int
    code: TranslateCode
    message: str
    severity: Severity = Severity.WARNING


@dataclass(frozen=True)
class Translated:
    """A translator's answer: one text per segment, in order, and its notes about some segments."""

    texts: list[str]
    notes: tuple[SegmentNote, ...] = ()


class Translator(Protocol):
    """A translation backend. `name` and `model` key the cache."""

    name: str
    model: str

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """Translate each text from `source` to `target` (ISO 639-1 codes)."""
        ...


class Backend(Translator, Protocol):
    """A translation backend proper (not a wrapper): it can also say up front whether it serves a pair."""

    def check_pair(self, source: str, target: str) -> None:
        """Raise a one-line `TranslatorError` when this backend cannot translate `source` to `target`."""
        ...


def check_aligned(texts: Sequence[str], out: Sequence[str], backend: str) -> list[str]:
    """Every backend's output passes through here: N segments in must give N strings out."""
    if len(out) != len(texts):
        raise TranslatorError(f"{backend} returned {len(out)} translations for {len(texts)} segments")
    if not all(isinstance(x, str) for x in out):
        raise TranslatorError(f"{backend} returned a translation that is not a string")
    return list(out)


def translate_nonblank(
    texts: Sequence[str], translate: Callable[[list[str]], list[str]], backend: str
) -> list[str]:
    """Send only the segments with visible text, in one call, and put the answers back in place.

    Blank segments come back unchanged, so no backend spends a request (or a model
    forward pass) on them and none can invent text for an empty bubble.

    Args:
        texts: The segments, in order.
        translate: Translates a list of non-blank texts, returning as many strings.
        backend: Name used in the error when `translate` returns the wrong count.

    Returns:
        One string per input segment, in the input order.
    """
    index = [i for i, t in enumerate(texts) if t.strip()]
    out = list(texts)
    if not index:
        return out
    todo = [texts[i] for i in index]
    done = check_aligned(todo, translate(todo), backend)
    for i, text in zip(index, done, strict=True):
        out[i] = text
    return out


def notes_to_diagnostics(notes: Sequence[SegmentNote], block_ids: Sequence[str]) -> list[Diagnostic]:
    """Turn segment notes into page diagnostics, given the block id of each segment.

    Args:
        notes: Notes of a `Translated`.
        block_ids: The block id of segment i at position i (the order passed to `translate`).

    Returns:
        One `Diagnostic` of stage ``translate`` per note.
    """
    return [
        Diagnostic.of(
            n.code, n.message, n.severity, block_ids[n.index] if 0 <= n.index < len(block_ids) else None
        )
        for n in notes
    ]


def service_code(service: str, table: Mapping[str, str], language: str) -> str:
    """A service's own code for one of our languages, or a one-line error listing what it knows.

    Args:
        service: Service name for the message.
        table: Our ISO 639-1 code -> the service's code.
        language: The language asked for.
    """
    try:
        return table[language]
    except KeyError:
        raise TranslatorError(
            f"{service} cannot translate {language!r}; it knows {', '.join(sorted(table))}"
        ) from None
