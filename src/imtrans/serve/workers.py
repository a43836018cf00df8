"""A bounded pool of worker threads, each with its own pipeline, built once at start-up.

Why threads, each with its own `Pipeline`: the engines release the GIL while they work
(ONNX Runtime, Tesseract, OpenCV), so threads run in parallel, while a Tesseract handle and
the pipeline's lazily built stages are not safe to share between threads. One pipeline per
thread shares nothing. The pool has one thread per CPU core by default; more would only
contend for the same cores.

A request may choose the languages and the translator, which the loaded engines do not
depend on, so each worker keeps a few request pipelines that reuse its engines and differ only
in those settings.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Self, TypeVar

import numpy as np

from imtrans.pipeline import Pipeline
from imtrans.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
Task = Callable[["Worker"], T]

#: Request pipelines (one per distinct translate setting) a worker keeps before dropping the oldest.
_KEPT_PIPELINES = 4


class QueueFull(Exception):
    """Every worker is busy and the waiting line is at its limit."""


def cpu_count() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Worker:
    """One thread's engines: a loaded pipeline and the request pipelines that reuse it."""

    def __init__(self, settings: Settings) -> None:
        self.base = Pipeline(settings)
        self._pipelines: OrderedDict[str, Pipeline] = OrderedDict()

    def warm_up(self) -> None:
        """Load every engine now, not on the first request: read a small drawn sign (Hangul and Latin)."""
        from PIL import Image, ImageDraw

        from imtrans.render.fonts import font_for

        canvas = Image.new("RGB", (320, 120), "white")
        draw = ImageDraw.Draw(canvas)
        draw.text((16, 10), "출구 3번", fill="black", font=font_for("ko").load(40))
        draw.text((16, 64), "Exit 3", fill="black", font=font_for("en").load(36))
        self.base.ocr(np.asarray(canvas))
        _ = self.base.eraser

    def pipeline_for(self, settings: Settings) -> Pipeline:
        """A pipeline for a request's settings, sharing this worker's engines.

        Raises:
            ValueError: the settings differ from the server's in more than languages, translator
                and check.
        """
        if _engine_sections(settings) != _engine_sections(self.base.settings):
            raise ValueError("a request may change only the languages, the translator and the check")
        key = settings.model_dump_json()
        found = self._pipelines.pop(key, None)
        if found is None:
            found = Pipeline(
                settings,
                detector=self.base.detector,
                recognizer=self.base.recognizer,
                eraser=self.base.eraser,
            )
        self._pipelines[key] = found
        while len(self._pipelines) > _KEPT_PIPELINES:
            self._pipelines.popitem(last=False)
        return found


def _engine_sections(settings: Settings) -> dict:
    data = settings.to_dict()
    data.pop("translate")
    data.pop("check")  # what is checked after rendering: no engine of its own
    data["recognize"].pop("source")  # passed to the recogniser per call
    return data


class Place:
    """A place taken in a `WorkerPool`'s queue: `submit` fills it, leaving the `with` block unused frees it."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self._used = False

    def submit(self, task: Task[T]) -> Future[T]:
        """Queue `task(worker)` in this place (once)."""
        if self._used:
            raise RuntimeError("a queue place takes one task")
        self._used = True
        return self._pool._enqueue(task)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._used:
            self._used = True
            self._pool._release()


class WorkerPool:
    """Runs tasks on `workers` threads; at most `queue_limit` tasks wait, more raise `QueueFull`.

    Args:
        settings: The server's settings; every worker builds its pipeline from them.
        workers: Number of threads (0: one per CPU core).
        queue_limit: Tasks that may wait while every worker is busy.
    """

    def __init__(self, settings: Settings, workers: int = 0, queue_limit: int = 16) -> None:
        self.size = workers or cpu_count()
        self.queue_limit = queue_limit
        self._tasks: queue.Queue[tuple[Task, Future] | None] = queue.Queue()
        self._pending = 0  # waiting plus running
        self._lock = threading.Lock()
        started = [self._start(settings, i) for i in range(self.size)]
        self._threads = [thread for thread, _ in started]
        for _, ready in started:
            failure = ready.result()  # every worker loads its engines at once, in parallel
            if failure is not None:
                self.close()
                raise failure

    def _start(self, settings: Settings, index: int) -> tuple[threading.Thread, Future[Exception | None]]:
        ready: Future[Exception | None] = Future()
        thread = threading.Thread(
            target=self._run, args=(settings, ready), name=f"imtrans-worker-{index}", daemon=True
        )
        thread.start()
        return thread, ready

    @property
    def pending(self) -> int:
        """Tasks waiting or running."""
        return self._pending

    @property
    def all_busy(self) -> bool:
        """Whether more tasks are in than there are workers: then a queued task waits for one.

        (With no more tasks than workers, a queued task is one a free worker is taking up.)
        """
        return self._pending > self.size

    def submit(self, task: Task[T]) -> Future[T]:
        """Queue `task(worker)`; its future holds the result or the exception it raised.

        Raises:
            QueueFull: every worker busy and the queue at its limit.
        """
        with self.reserve() as place:
            return place.submit(task)

    def reserve(self) -> Place:
        """Take a place in the queue now, for a task given later (`Place.submit`).

        A request takes its place before its image is decoded, so that a full queue is
        answered at once rather than after the decoding; a place not used is given back when
        its `with` block ends.

        Raises:
            QueueFull: every worker busy and the queue at its limit.
        """
        with self._lock:
            if self._pending >= self.size + self.queue_limit:
                raise QueueFull(f"{self._pending} jobs are waiting or running; try again later")
            self._pending += 1
        return Place(self)

    def _enqueue(self, task: Task[T]) -> Future[T]:
        future: Future[T] = Future()
        self._tasks.put((task, future))
        return future

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        """Let the running tasks finish, then stop the threads (waiting tasks still run first)."""
        for _ in self._threads:
            self._tasks.put(None)
        for t in self._threads:
            t.join()

    def _run(self, settings: Settings, ready: Future[Exception | None]) -> None:
        try:
            worker = Worker(settings)
            worker.warm_up()
        except Exception as e:  # noqa: BLE001 -- reported by the constructor, in the caller's thread
            ready.set_result(e)
            return
        ready.set_result(None)
        while (item := self._tasks.get()) is not None:
            task, future = item
            if not future.set_running_or_notify_cancel():
                self._release()
                continue
            try:
                result = task(worker)
            except Exception as e:  # noqa: BLE001 -- handed to the caller through the future
                self._release()  # first: whoever the future wakes sees the place free again
                future.set_exception(e)
            else:
                self._release()
                future.set_result(result)
