"""A translation cache in one SQLite file, shared safely by several processes.

Each translation is stored under the sha256 of (backend name, model, source language,
target language, text). A call looks every segment up, sends only the misses (each
distinct text once) to the inner translator in one batch, and stores the answers.

Several processes (a batch run and a server, say) can use the same file: the
database runs in WAL mode, every connection waits up to `busy_timeout` seconds for a
lock, and no transaction stays open while the inner translator works. A connection
is opened per call, so one `CachedTranslator` may also be used from several threads.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path

from imtrans.errors import TranslatorError
from imtrans.translate.base import SegmentNote, Translated, Translator, check_aligned
from imtrans.translate.paths import default_cache_file

#: Rows looked up per SELECT, well under SQLite's limit on bound variables.
_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    text TEXT NOT NULL,
    translation TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(backend: str, model: str, source: str, target: str, text: str) -> str:
    """The sha256 (hex) under which one translation is stored."""
    raw = f"{backend}\x1f{model}\x1f{source}\x1f{target}\x1f{text}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class CachedTranslator:
    """Wraps a translator with the SQLite cache; transparent otherwise (same name and model).

    Args:
        inner: The translator to ask on a miss.
        path: The SQLite file (default: ``translations.sqlite3`` in the user cache dir).
        busy_timeout: Seconds to wait for another process's write lock.
    """

    def __init__(self, inner: Translator, path: Path | None = None, busy_timeout: float = 30.0) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.path = Path(path) if path is not None else default_cache_file()
        self.busy_timeout = busy_timeout
        self.hits = 0
        self.misses = 0
        self._ready = False

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """Cached translations, asking `inner` once for all misses."""
        keys = [cache_key(self.name, self.model, source, target, t) for t in texts]
        with self._connect() as db:
            found = self._lookup(db, keys)
        todo: dict[str, str] = {}  # key -> text, each distinct missing text once, in first-seen order
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                todo.setdefault(key, text)
        self.hits, self.misses = len(texts) - sum(1 for k in keys if k not in found), len(todo)
        notes: list[SegmentNote] = []
        if todo:
            missing = list(todo.values())
            answer = self.inner.translate(missing, source, target)
            new = dict(zip(todo, check_aligned(missing, answer.texts, self.inner.name), strict=True))
            with self._connect() as db:
                self._store(db, new, todo, source, target)
            found.update(new)
            position = {key: i for i, key in enumerate(todo)}
            # A note about distinct text j applies to every segment with that text.
            notes = [
                replace(note, index=i)
                for note in answer.notes
                for i, key in enumerate(keys)
                if position.get(key) == note.index
            ]
        return Translated(check_aligned(texts, [found[k] for k in keys], self.name), tuple(notes))

    def clear(self) -> int:
        """Delete every cached translation of this backend and model; return how many."""
        with self._connect() as db:
            with db:
                cur = db.execute(
                    "DELETE FROM translations WHERE backend = ? AND model = ?", (self.name, self.model)
                )
            return cur.rowcount

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=self.busy_timeout)) as db:
                if not self._ready:
                    db.execute("PRAGMA journal_mode=WAL")
                    with db:
                        db.execute(_SCHEMA)
                    self._ready = True
                db.execute("PRAGMA synchronous=NORMAL")
                yield db
        except (sqlite3.Error, OSError) as e:
            raise TranslatorError(
                f"translation cache {self.path} is unusable ({e}); delete it, or turn the cache off"
            ) from None

    @staticmethod
    def _lookup(db: sqlite3.Connection, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(f"SELECT key, translation FROM translations WHERE key IN ({marks})", chunk)
            found.update(rows.fetchall())
        return found

    def _store(
        self, db: sqlite3.Connection, new: dict[str, str], texts: dict[str, str], source: str, target: str
    ) -> None:
        now = time.time()
        rows = [
            (key, self.name, self.model, source, target, texts[key], translation, now)
            for key, translation in new.items()
        ]
        with db:  # one short write transaction
            db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
