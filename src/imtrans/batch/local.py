"""The local engine: a pool of worker processes on this machine, one Pipeline each.

Workers are started with "spawn" (a clean interpreter: forking a process that already
runs onnxruntime or rich's refresh thread is unsafe), build their pipeline once and read
their pages from disk themselves. Each is given an equal share of the CPUs
(`threads_per_worker`) so that N workers do not run N times the threads the cores have.
Ctrl-C reaches the calling process only; it cancels what has not started and waits for
the pages in progress.

A worker that dies (the out-of-memory killer, a crash in a native library) breaks the whole
pool, and the pool cannot say which page did it. The pages that were in flight are then
run again one at a time on a fresh one-worker pool: a page that kills that worker too is
recorded as failed, the others are translated, and the batch goes on with a fresh pool. A
worker exits when the batch's process dies, even by SIGKILL (`_watch_parent`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from imtrans.batch.inputs import PageJob
from imtrans.batch.worker import PageOutcome, limit_threads, threads_per_worker, translate_page
from imtrans.pipeline import Pipeline
from imtrans.settings import Settings

#: What a page that kills its worker is recorded with.
WORKER_DIED = "the worker process died on this page (killed, perhaps out of memory); it was tried alone"

# The pipeline of this worker process, set by `_start_worker`. A process pool gives a worker
# no other place to keep state between the tasks it runs.
_pipeline: Pipeline | None = None

Initializer = Callable[[Settings, int], None]
Task = Callable[[PageJob], PageOutcome]


def _start_worker(settings: Settings, threads: int) -> None:
    global _pipeline
    limit_threads(threads)
    _pipeline = Pipeline(settings)


def _run_job(job: PageJob) -> PageOutcome:
    assert _pipeline is not None, "worker started without _start_worker"
    return translate_page(_pipeline, job)


def _init_process(parent: int, initializer: Initializer, settings: Settings, threads: int) -> None:
    """Every worker: ignore Ctrl-C (the parent shuts the pool down), die with the parent, then set up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent(parent)
    initializer(settings, threads)


def _watch_parent(parent: int) -> None:
    """Exit when process `parent` is gone, however it ended (SIGKILL included).

    On Linux the kernel sends SIGKILL when the parent exits (PR_SET_PDEATHSIG); a thread
    that notices the worker being handed to another parent covers the rest.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="imtrans-parent-watch", daemon=True).start()


class LocalEngine:
    """`workers` processes on this machine.

    Args:
        workers: Worker processes.
        initializer: Run once in each worker with (settings, threads); builds its pipeline.
        task: Run in a worker for each page (a test may give one that needs no models).
    """

    name = "local"

    def __init__(
        self, workers: int = 1, initializer: Initializer = _start_worker, task: Task = _run_job
    ) -> None:
        self.workers = workers
        self.initializer = initializer
        self.task = task

    def start(self) -> None:
        """Nothing to connect to: the pool starts with `run`."""

    def run(self, jobs: Sequence[PageJob], settings: Settings) -> Iterator[PageOutcome]:
        todo = deque(jobs)
        while todo:
            lost = yield from self._pool(todo, settings, self.workers, 2 * self.workers)
            # The pool broke: one of `lost` killed its worker. Each alone shows which.
            suspects = deque(lost)
            while suspects:
                for job in (yield from self._pool(suspects, settings, 1, 1)):
                    yield PageOutcome(job.key, error=f"{job.key}: {WORKER_DIED}")

    def _pool(
        self, todo: deque[PageJob], settings: Settings, workers: int, window: int
    ) -> Generator[PageOutcome, None, list[PageJob]]:
        """Run jobs from `todo` on a new pool, at most `window` at once, until it is empty or the pool breaks.

        Returns:
            The jobs that were in flight when a worker died (none if all went through).
        """
        context = multiprocessing.get_context("spawn")
        initargs = (os.getpid(), self.initializer, settings, threads_per_worker(workers))
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_process, initargs=initargs)
        pending: dict[Future[PageOutcome], PageJob] = {}
        try:
            # A few jobs queued per worker rather than all of them, so that a stop cancels quickly.
            while todo and len(pending) < window:
                job = todo.popleft()
                pending[pool.submit(self.task, job)] = job
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                lost: list[PageJob] = []
                for future in done:
                    job = pending.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        lost.append(job)
                        continue
                    yield future.result()
                if lost:
                    for future, job in pending.items():  # broken too, unless they finished first
                        if future.exception() is None:
                            yield future.result()
                        else:
                            lost.append(job)
                    pending.clear()
                    return lost
                while todo and len(pending) < window:
                    job = todo.popleft()
                    pending[pool.submit(self.task, job)] = job
            return []
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
