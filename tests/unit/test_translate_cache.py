"""The SQLite translation cache: hits, misses, keys, and several processes on one file."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from imtrans.errors import TranslatorError
from imtrans.translate.base import SegmentNote, Translated
from imtrans.translate.cache import CachedTranslator, cache_key
from imtrans.types import TranslateCode


class CountingTranslator:
    """A fake backend that appends its model name, and records each call."""

    name = "fake"

    def __init__(self, model: str = "m1") -> None:
        self.model = model
        self.calls: list[list[str]] = []

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        self.calls.append(list(texts))
        return Translated([f"{t}>{target}:{self.model}" for t in texts], self.notes)

    notes: tuple[SegmentNote, ...] = ()


def test_second_call_is_served_from_the_cache(tmp_path: Path) -> None:
    inner = CountingTranslator()
    cached = CachedTranslator(inner, tmp_path / "c.sqlite3")
    first = cached.translate(["a", "b"], "ko", "en").texts
    again = CachedTranslator(CountingTranslator(), tmp_path / "c.sqlite3")  # a new process would do this
    assert again.translate(["b", "a"], "ko", "en").texts == first[::-1]
    assert again.inner.calls == []  # type: ignore[attr-defined]
    assert (again.hits, again.misses) == (2, 0)


def test_only_misses_go_to_the_inner_translator_once_each_in_one_batch(tmp_path: Path) -> None:
    inner = CountingTranslator()
    cached = CachedTranslator(inner, tmp_path / "c.sqlite3")
    cached.translate(["a"], "ko", "en")
    out = cached.translate(["x", "a", "y", "x"], "ko", "en").texts
    assert out == ["x>en:m1", "a>en:m1", "y>en:m1", "x>en:m1"]
    assert inner.calls == [["a"], ["x", "y"]]
    assert (cached.hits, cached.misses) == (1, 2)


@pytest.mark.parametrize(
    "other",
    [
        ("other", "m1", "ko", "en"),
        ("fake", "m2", "ko", "en"),
        ("fake", "m1", "ja", "en"),
        ("fake", "m1", "ko", "fr"),
    ],
)
def test_key_depends_on_backend_model_and_pair(other: tuple[str, str, str, str]) -> None:
    assert cache_key("fake", "m1", "ko", "en", "a") != cache_key(*other, "a")
    assert cache_key("fake", "m1", "ko", "en", "a") == cache_key("fake", "m1", "ko", "en", "a")


def test_another_model_does_not_see_these_translations(tmp_path: Path) -> None:
    CachedTranslator(CountingTranslator("m1"), tmp_path / "c.sqlite3").translate(["a"], "ko", "en")
    inner = CountingTranslator("m2")
    assert CachedTranslator(inner, tmp_path / "c.sqlite3").translate(["a"], "ko", "en").texts == ["a>en:m2"]
    assert inner.calls == [["a"]]


def test_database_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    CachedTranslator(CountingTranslator(), path).translate(["a"], "ko", "en")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_clear_removes_only_this_backend_and_model(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    m1 = CachedTranslator(CountingTranslator("m1"), path)
    m2 = CachedTranslator(CountingTranslator("m2"), path)
    m1.translate(["a", "b"], "ko", "en")
    m2.translate(["a"], "ko", "en")
    assert m1.clear() == 2
    m2.translate(["a"], "ko", "en")
    assert m2.inner.calls == [["a"]]  # type: ignore[attr-defined]


def test_an_unusable_cache_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(TranslatorError, match=r"translation cache .* is unusable"):
        CachedTranslator(CountingTranslator(), path).translate(["a"], "ko", "en")


class NotingTranslator(CountingTranslator):
    notes = (SegmentNote(1, TranslateCode.GLOSSARY_MISS, "about the second distinct text"),)


def test_inner_notes_are_mapped_to_every_segment_with_that_text(tmp_path: Path) -> None:
    cached = CachedTranslator(NotingTranslator(), tmp_path / "c.sqlite3")
    answer = cached.translate(["a", "b", "b"], "ko", "en")
    assert [n.index for n in answer.notes] == [1, 2]


def _worker(path: str, worker: int) -> None:
    cached = CachedTranslator(CountingTranslator(), Path(path))
    for i in range(20):
        cached.translate([f"shared-{i}", f"own-{worker}-{i}"], "ko", "en")


def test_several_processes_share_one_cache_file(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(str(path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM translations").fetchone()[0] == 20 + 3 * 20
