"""Jobs and their results: rows in an SQLite database (WAL), images in a folder per job beside it.

A job is addressed only by its id, a UUID checked by `parse_job_id` before any path is made of
it, so an id cannot name any other file. A row reaches ``done`` only after its image files are
in place (each written atomically), and a page is stored in the same row, so a finished job
survives a restart whole. A job that was queued or running when the server stopped is marked
``failed`` when the store opens again: it is reported, never silently lost.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

import platformdirs

from imtrans.errors import ConfigError

#: Files kept for a job, by the name the API serves them under.
ORIGINAL = "original.png"
TRANSLATED = "translated.png"
TRANSLATED_WEBP = "translated.webp"
ERASED = "erased.png"
RESULT_FILES = (TRANSLATED, TRANSLATED_WEBP, ERASED, ORIGINAL)

INTERRUPTED = "the server stopped before this job finished"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    options TEXT NOT NULL,
    error TEXT,
    page TEXT,
    revision INTEGER NOT NULL DEFAULT 0
)
"""


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: The statuses a job ends in: only these may be deleted (a worker still writes the others).
_FINISHED = (JobStatus.DONE.value, JobStatus.FAILED.value)


class UnknownJob(LookupError):
    """No job has this id (or the id is not a UUID)."""


@dataclass(frozen=True)
class Job:
    """One row of the job table."""

    id: str
    status: JobStatus
    created: float
    options: dict[str, Any]
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    page: dict[str, Any] | None = None
    revision: int = 0


def parse_job_id(text: str) -> str:
    """The canonical form of a job id, or `UnknownJob` when it is not a UUID."""
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        raise UnknownJob(f"no job {text!r}") from None


#: Environment variable naming the folder of the job database and the results (as ``--data-dir``).
DATA_DIR_ENV = "IMTRANS_DATA_DIR"
#: Name of the job database inside a data folder.
DB_NAME = "jobs.sqlite3"


def default_db_path() -> Path:
    """``jobs.sqlite3`` in ``$IMTRANS_DATA_DIR`` when set, else in the user data directory."""
    folder = os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("imtrans")
    return Path(folder) / DB_NAME


def lock_database(db_path: Path, url: str) -> IO[str]:
    """Claim a job database for this server: an exclusive lock on ``<db>.lock``, which says who holds it.

    Two servers writing one database would each fail the other's running jobs at start-up and
    serve each other's results; the lock turns that accident into one line. The lock goes with
    the process (the kernel drops it however the process ends); keep the returned file open.

    Raises:
        ConfigError: another process holds the lock (its pid and address are named), or the
            folder cannot be written.
    """
    import fcntl

    path = db_path.with_name(db_path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"--db {db_path}: cannot open {path.name} ({e.strerror or e})") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        try:
            holder = json.loads(handle.read() or "{}")
        except json.JSONDecodeError:
            holder = {}
        handle.close()
        raise ConfigError(
            f"job database {db_path} is in use by another imtrans server (pid {holder.get('pid', '?')}, "
            f"{holder.get('url', 'address unknown')}); give this one its own --data-dir DIR"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({"pid": os.getpid(), "url": url}))
    handle.flush()
    return handle


class JobStore:
    """The job table and the result folders.

    Each call opens its own connection, so worker threads and the web server's threads
    never share one; SQLite's WAL mode lets readers go on while a worker writes.

    Args:
        db_path: The database file; its folder also holds ``results/<job id>/``.

    Raises:
        ConfigError: the file is not a job database (corrupt, another program's) or cannot be opened.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self.results_dir = self.db_path.parent / "results"
        try:
            self.results_dir.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                db.execute("SELECT id, status, created, options, error, page, revision FROM jobs LIMIT 1")
            self.interrupted = self._fail_unfinished()
        except sqlite3.DatabaseError as e:
            raise ConfigError(f"--db {self.db_path}: not a usable job database ({e})") from None
        except OSError as e:
            raise ConfigError(f"--db {self.db_path}: cannot open ({e.strerror or e})") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.db_path, timeout=30)) as db, db:
            yield db

    def _fail_unfinished(self) -> int:
        """Mark jobs left queued or running by a previous server as failed; how many there were."""
        with self._connect() as db:
            cur = db.execute(
                "UPDATE jobs SET status = ?, error = ?, finished = ? WHERE status IN (?, ?)",
                (
                    JobStatus.FAILED.value,
                    INTERRUPTED,
                    time.time(),
                    JobStatus.QUEUED.value,
                    JobStatus.RUNNING.value,
                ),
            )
            return cur.rowcount

    def job_dir(self, job_id: str) -> Path:
        """The folder of a job's files; the id is checked to be a UUID first."""
        return self.results_dir / parse_job_id(job_id)

    def create(self, options: dict[str, Any]) -> str:
        """A new queued job with its folder; returns its id."""
        job_id = str(uuid.uuid4())
        self.job_dir(job_id).mkdir()
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs (id, status, created, options) VALUES (?, ?, ?, ?)",
                (job_id, JobStatus.QUEUED.value, time.time(), json.dumps(options)),
            )
        return job_id

    def delete(self, job_id: str) -> None:
        """Forget a job and its files (used when the queue refuses it)."""
        job_id = parse_job_id(job_id)
        with self._connect() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        self._remove_folders([job_id])

    def remove(self, job_id: str) -> bool:
        """Delete a finished (done or failed) job and its files; False when it is queued or running.

        Raises:
            UnknownJob: no job has this id.
        """
        job_id = parse_job_id(job_id)
        with self._connect() as db:
            cur = db.execute("DELETE FROM jobs WHERE id = ? AND status IN (?, ?)", (job_id, *_FINISHED))
            if not cur.rowcount:
                if db.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is None:
                    raise UnknownJob(f"no job {job_id!r}")
                return False
        self._remove_folders([job_id])
        return True

    def purge(self, finished_before: float) -> int:
        """Delete the done and failed jobs that finished before this time (seconds since the
        epoch), rows first, then their folders; how many there were."""
        with self._connect() as db:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM jobs WHERE status IN (?, ?) AND finished < ?",
                    (*_FINISHED, finished_before),
                )
            ]
            db.executemany(
                "DELETE FROM jobs WHERE id = ? AND status IN (?, ?)", [(i, *_FINISHED) for i in ids]
            )
        self._remove_folders(ids)
        return len(ids)

    def _remove_folders(self, job_ids: list[str]) -> None:
        """Delete result folders; called after their rows are gone, so a reader never sees a
        job whose files are half deleted."""
        for job_id in job_ids:
            shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def mark_running(self, job_id: str) -> None:
        self._update(job_id, status=JobStatus.RUNNING.value, started=time.time())

    def finish(self, job_id: str, page: dict[str, Any]) -> None:
        """Record a job's page and mark it done; call after its files are written."""
        self._update(
            job_id,
            status=JobStatus.DONE.value,
            finished=time.time(),
            page=json.dumps(page, ensure_ascii=False),
        )

    def fail(self, job_id: str, message: str) -> None:
        self._update(job_id, status=JobStatus.FAILED.value, finished=time.time(), error=message)

    def replace_page(self, job_id: str, page: dict[str, Any]) -> None:
        """Store a re-rendered page and count the revision (clients use it to refetch images)."""
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET page = ?, revision = revision + 1 WHERE id = ?",
                (json.dumps(page, ensure_ascii=False), parse_job_id(job_id)),
            )

    def get(self, job_id: str) -> Job:
        """The job with this id, or `UnknownJob`."""
        job_id = parse_job_id(job_id)
        with self._connect() as db:
            row = db.execute(
                "SELECT id, status, created, options, started, finished, error, page, revision"
                " FROM jobs WHERE id = ?",
                (job_id,),
            ).fetchone()
        if row is None:
            raise UnknownJob(f"no job {job_id!r}")
        return Job(
            id=row[0],
            status=JobStatus(row[1]),
            created=row[2],
            options=json.loads(row[3]),
            started=row[4],
            finished=row[5],
            error=row[6],
            page=json.loads(row[7]) if row[7] else None,
            revision=row[8],
        )

    def counts(self) -> dict[str, int]:
        """Jobs per status."""
        with self._connect() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return {status: n for status, n in rows}

    def integrity_check(self) -> str:
        """SQLite's own check of the database file: ``ok`` when intact."""
        with self._connect() as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])

    def _update(self, job_id: str, **values: Any) -> None:
        columns = ", ".join(f"{k} = ?" for k in values)  # keys come from this module only
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET {columns} WHERE id = ?", (*values.values(), parse_job_id(job_id)))
