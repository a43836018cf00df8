"""What the service does, apart from HTTP: accept a job, run it on the pool, re-render a page.

Requests are checked before a job exists (languages, translator, image, glossary), so a bad
request gets an error answer and leaves no job behind. Everything after that happens on a
worker and ends in the job's row: ``done`` with its page, or ``failed`` with a one-line error.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from imtrans.errors import ConfigError, ImtransError, InputError
from imtrans.export import layers_bytes
from imtrans.imageio import atomic_writes, encode_image, load_image, probe_image
from imtrans.pipeline import PageResult
from imtrans.registry import settings_backend
from imtrans.serve.jobs import (
    ERASED,
    ORIGINAL,
    TRANSLATED,
    TRANSLATED_WEBP,
    Job,
    JobStatus,
    JobStore,
    default_db_path,
)
from imtrans.serve.workers import Worker, WorkerPool
from imtrans.settings import ImageSettings, ServeSettings, Settings
from imtrans.translate.glossary import Glossary
from imtrans.types import Diagnostic, InputCode, Page, Translation

log = logging.getLogger(__name__)

#: What a failed job says when the cause was a bug rather than the input (details go to the log).
INTERNAL_ERROR = "internal error while processing the image (the server log has the details)"
#: Name of an uploaded glossary inside its job's folder (no suffix: the glossary reader sniffs CSV or JSON).
UPLOADED_GLOSSARY = "glossary"
#: Longest edited translation of one block a re-render takes (a page of text; drawing more holds a worker).
MAX_EDIT_CHARS = 2000


class JobNotDone(Exception):
    """The job has no page yet (or failed), so it cannot be re-rendered; or it is still queued
    or running, so it cannot be deleted."""


class UnknownBlock(LookupError):
    """An edit names a block the page does not have."""


class TooLarge(InputError):
    """An upload is over its size limit."""


class TextTooLong(ValueError):
    """An edited translation is longer than a re-render takes."""


@dataclass(frozen=True)
class TranslateRequest:
    """A translation request as the API receives it; None means the server's setting."""

    image: bytes
    source: str | None = None
    target: str | None = None
    translator: str | None = None
    glossary: bytes | None = None
    check: str | None = None


@dataclass(frozen=True)
class Upload:
    """An accepted image as it waits for a worker: its bytes (checked), the limits, its frame count."""

    data: bytes
    limits: ImageSettings
    frames: int


class TranslationService:
    """The job store and the worker pool, with the server's settings.

    Args:
        settings: Pipeline settings every job starts from (a request changes only languages,
            translator and glossary).
        serve: The service's own settings (database, pool size, queue and upload limits).
    """

    def __init__(self, settings: Settings, serve: ServeSettings) -> None:
        self.settings = settings
        self.serve = serve
        self.store = JobStore(serve.db_path or default_db_path())
        self.pool = WorkerPool(settings, serve.workers, serve.queue_limit)
        # Uploads are decoded on the web server's threads, at most one per worker at once, so
        # that a burst of large images cannot hold many decoded copies at the same time.
        self._decoding = threading.BoundedSemaphore(self.pool.size)
        # Layers files are drawn on request, also on the web server's threads: at most one per
        # worker at once, like decoding.
        self._drawing_layers = threading.BoundedSemaphore(self.pool.size)
        # A re-render replaces a job's images and then its page; a layers download reads both
        # under this lock, so it never pairs one revision's erased image with another's page.
        self._files_lock = threading.Lock()
        self.purge_expired()

    def close(self) -> None:
        self.pool.close()

    # -- translate -------------------------------------------------------------------------
    def submit(self, request: TranslateRequest) -> tuple[str, Future[None]]:
        """Check a request, record it as a queued job and queue it; returns the job id and its future.

        Raises:
            ConfigError, LanguageError: unknown language or translator, a bad glossary.
            InputError: not an image, or over the size or pixel limits.
            QueueFull: every worker busy and the queue at its limit.
        """
        settings = self.settings.with_overrides(
            {
                k: v
                for k, v in {
                    "recognize.source": request.source,
                    "translate.target": request.target,
                    "translate.translator": request.translator,
                    "check.mode": request.check,
                }.items()
                if v
            }
        )
        if request.glossary is not None and len(request.glossary) > self.serve.max_glossary_bytes:
            raise TooLarge(
                f"glossary is {len(request.glossary)} bytes, over the limit of {self.serve.max_glossary_bytes}"
            )
        has_glossary = request.glossary is not None or settings.translate.glossary is not None
        # The rule of the settings (registry.settings_backend), with an uploaded glossary counted.
        translator = settings_backend(
            "translate", {"translator": settings.translate.translator, "glossary": has_glossary}
        )
        if translator == "glossary" and not has_glossary:
            raise ConfigError("the glossary translator needs a glossary file; upload one with the image")
        limits = settings.image.model_copy(
            update={"max_bytes": min(settings.image.max_bytes, self.serve.max_upload_bytes)}
        )
        if len(request.image) > limits.max_bytes:
            raise TooLarge(f"image is {len(request.image)} bytes, over the limit of {limits.max_bytes}")
        # 1. a place in the queue, 2. the size the header declares, 3. only then the pixels:
        # a full queue or an oversized image costs no decoding.
        with self.pool.reserve() as place:
            # Pillow reads the content and decides what it is; file names and content types are ignored.
            header = probe_image(request.image, limits, "uploaded image")
            with self._decoding:  # at most one decode per worker at a time
                # Decoded here so that a broken image is a 400 now, not a failed job later; the
                # pixels are not kept: a waiting job holds its compressed upload, not a bitmap.
                height, width = load_image(request.image, limits, frame=0).shape[:2]
            options = {
                "source": settings.recognize.source,
                "target": settings.translate.target,
                "translator": translator,
                "glossary": "uploaded"
                if request.glossary is not None
                else ("server" if has_glossary else None),
                "width": int(width),
                "height": int(height),
                "check": settings.check.mode,
            }
            job_id = self.store.create(options)
            try:
                if request.glossary is not None:
                    settings = settings.with_overrides(
                        {"translate.glossary": str(self._save_glossary(job_id, request.glossary))}
                    )
                upload = Upload(request.image, limits, header.frames)
                future = place.submit(partial(self._translate, job_id, upload, settings))
            except BaseException:
                self.store.delete(job_id)
                raise
        return job_id, future

    def _save_glossary(self, job_id: str, data: bytes) -> Path:
        """Write an uploaded glossary into the job's folder and check that it parses."""
        path = self.store.job_dir(job_id) / UPLOADED_GLOSSARY
        with atomic_writes() as w:
            w.write_bytes(path, data)
        try:
            Glossary.load(path, self.settings.translate.fuzzy_threshold)
        except ConfigError as e:
            # The reader names the file; a client should not see server paths.
            raise ConfigError(str(e).replace(str(path), "uploaded glossary")) from None
        return path

    def _translate(self, job_id: str, upload: Upload, settings: Settings, worker: Worker) -> None:
        """On a worker: decode, run the pipeline, write the files, then mark the job done (or failed)."""
        self.store.mark_running(job_id)
        try:
            image = load_image(upload.data, upload.limits, frame=0)
            result = worker.pipeline_for(settings).translate(image)
            self._write_files(job_id, result, original=image)
            page = result.page
            if upload.frames > 1:
                page = page.with_(diagnostics=(*page.diagnostics, extra_frames_note(upload.frames)))
            self.store.finish(job_id, public_page(page))
        except ImtransError as e:
            self.store.fail(job_id, str(e))
        except Exception:
            log.exception("job %s failed", job_id)
            self.store.fail(job_id, INTERNAL_ERROR)
        try:
            self.purge_expired()
        except Exception:  # housekeeping: the job itself is recorded already
            log.exception("deleting expired jobs failed")

    # -- re-render ----------------------------------------------------------------------------
    def rerender(self, job_id: str, edits: dict[str, str]) -> Future[None]:
        """Queue a re-render of a finished job with some block translations replaced.

        An empty text removes a block's translation (its original lettering stays).

        Raises:
            UnknownJob, JobNotDone, UnknownBlock, QueueFull.
        """
        job = self.store.get(job_id)
        if job.status is not JobStatus.DONE or job.page is None:
            raise JobNotDone(f"job {job.id} is {job.status.value}; only a done job can be re-rendered")
        page = edited_page(Page.from_dict(job.page), edits)
        return self.pool.submit(partial(self._rerender, job.id, page))

    def _rerender(self, job_id: str, page: Page, worker: Worker) -> None:
        original = load_image(self.store.job_dir(job_id) / ORIGINAL, self.settings.image)
        result = worker.base.rerender(original, page)
        with self._files_lock:
            self._write_files(job_id, result)
            self.store.replace_page(job_id, public_page(result.page))

    # -- layers -------------------------------------------------------------------------------
    def layers(self, job_id: str, fmt: str) -> tuple[Job, bytes]:
        """A done job as a layers file ("svg" or "psd"), drawn now from its latest revision.

        Built on request from the stored original, erased image and page (`imtrans.export`), not
        stored with the job: most jobs are never downloaded as layers, a PSD holds two full
        copies of the page, and a re-render would have to write both again; drawn from the
        stored files, it follows the latest revision by construction.

        Raises:
            UnknownJob, JobNotDone (not done, or no erased image to build on).
        """
        with self._drawing_layers:
            with self._files_lock:
                job = self.store.get(job_id)
                folder = self.store.job_dir(job.id)
                if job.status is not JobStatus.DONE or job.page is None:
                    raise JobNotDone(f"job {job.id} is {job.status.value}; it has no results")
                if not (folder / ERASED).is_file():
                    raise JobNotDone(f"job {job.id} has no erased image to build layers on")
                erased = load_image(folder / ERASED, self.settings.image)
                original = load_image(folder / ORIGINAL, self.settings.image)
            page = Page.from_dict(job.page)
            # The layers are drawn from the page and the erased image only; `image` is not read.
            return job, layers_bytes(PageResult(page, erased, erased), fmt, original)

    # -- delete -------------------------------------------------------------------------------
    def delete(self, job_id: str) -> None:
        """Delete a finished job and its files.

        Raises:
            UnknownJob, JobNotDone (queued or running: its worker would write into a deleted folder).
        """
        if not self.store.remove(job_id):
            job = self.store.get(job_id)
            raise JobNotDone(f"job {job.id} is {job.status.value}; only a finished job can be deleted")

    def purge_expired(self) -> int:
        """Delete the jobs that finished more than ``serve.keep_hours`` ago (none when it is 0)."""
        if not self.serve.keep_hours:
            return 0
        n = self.store.purge(time.time() - self.serve.keep_hours * 3600)
        if n:
            log.info("deleted %d jobs finished over %g hours ago", n, self.serve.keep_hours)
        return n

    # -- shared --------------------------------------------------------------------------------
    def _write_files(self, job_id: str, result: PageResult, original: np.ndarray | None = None) -> None:
        folder = self.store.job_dir(job_id)
        with atomic_writes() as w:
            w.write_image(folder / TRANSLATED, result.image)
            w.write_bytes(folder / TRANSLATED_WEBP, encode_image(result.image, "WEBP"))
            if result.erased is not None:
                w.write_image(folder / ERASED, result.erased)
            if original is not None:
                w.write_image(folder / ORIGINAL, original)

    def job(self, job_id: str) -> Job:
        return self.store.get(job_id)


def extra_frames_note(frames: int) -> Diagnostic:
    """What a job says of an upload with more pages or frames than the one it translated."""
    return Diagnostic.of(
        InputCode.EXTRA_FRAMES,
        f"the image has {frames} pages or frames; only the first was translated (imtrans batch translates each)",
    )


def edited_page(page: Page, edits: dict[str, str]) -> Page:
    """The page with the given block translations replaced (empty text: no translation).

    Raises:
        UnknownBlock: an edit names a block the page does not have.
        TextTooLong: an edit is over `MAX_EDIT_CHARS` characters.
    """
    blocks = {b.id: b for b in page.blocks}
    unknown = sorted(set(edits) - set(blocks))
    if unknown:
        raise UnknownBlock(f"no block {unknown[0]!r} on this page")
    for block_id, text in edits.items():
        if len(text) > MAX_EDIT_CHARS:
            raise TextTooLong(
                f"the translation of block {block_id!r} is {len(text)} characters, over the limit of {MAX_EDIT_CHARS}"
            )
    translations = dict(page.translations)
    for block_id, text in edits.items():
        if not text.strip():
            translations.pop(block_id, None)
            continue
        before = translations.get(block_id)
        translations[block_id] = Translation(
            block_id=block_id,
            text=text.strip(),
            source_lang=blocks[block_id].language,
            target_lang=page.target_lang,
            translator="edited",
            model=before.model if before else "",
        )
    return page.with_(translations=translations)


def public_page(page: Page) -> dict[str, Any]:
    """The page as the API shows it: an uploaded glossary by its name, not its server path."""
    data = page.to_dict()
    translate = data.get("settings", {}).get("translate", {})
    if translate.get("glossary"):
        translate["glossary"] = Path(translate["glossary"]).name
    return data
