"""The local engine: a pool of worker processes on this machine, one Pipeline each.

Workers are started with "spawn" (a clean interpreter: forking a process that already
runs onnxruntime or rich's refresh thread is unsafe), build their pipeline once and read
their pages from disk themselves. Each is given an equal share of the CPUs
(`threads_per_worker`) so that N workers do not run N times the threads the cores have.
Ctrl-C reaches the calling process only; it cancels what has not started and waits for
the pages in progress.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from imtrans.batch.inputs import PageJob
from imtrans.batch.worker import PageOutcome, limit_threads, threads_per_worker, translate_page
from imtrans.pipeline import Pipeline
from imtrans.settings import Settings

# The pipeline of this worker process, set by `_start_worker`. A process pool gives a worker
# no other place to keep state between the tasks it runs.
_pipeline: Pipeline | None = None


def _start_worker(settings: Settings, threads: int) -> None:
    global _pipeline
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and shuts the pool down
    limit_threads(threads)
    _pipeline = Pipeline(settings)


def _run_job(job: PageJob) -> PageOutcome:
    assert _pipeline is not None, "worker started without _start_worker"
    return translate_page(_pipeline, job)


class LocalEngine:
    """`workers` processes on this machine."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def start(self) -> None:
        """Nothing to connect to: the pool starts with `run`."""

    def run(self, jobs: Sequence[PageJob], settings: Settings) -> Iterator[PageOutcome]:
        if not jobs:
            return
        context = multiprocessing.get_context("spawn")
        initargs = (settings, threads_per_worker(self.workers))
        pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_start_worker, initargs=initargs
        )
        try:
            # Keep a few jobs queued per worker rather than all of them, so that a stop cancels quickly.
            pending: set[Future[PageOutcome]] = set()
            todo = iter(jobs)
            for job in todo:
                pending.add(pool.submit(_run_job, job))
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
                    next_job = next(todo, None)
                    if next_job is not None:
                        pending.add(pool.submit(_run_job, next_job))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
