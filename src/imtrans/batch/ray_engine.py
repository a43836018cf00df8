"""The Ray engine: the same pages on Ray actors, on this machine or on a cluster.

Each actor holds one Pipeline (built once, like a local worker) and asks Ray for one CPU;
Ray sets OMP_NUM_THREADS to that for the actor's process, and the actor keeps its models
to it. The calling process reads each page's source bytes and puts them in Ray's object
store (a PDF once, shared by its pages), and the actors send the translated pages back,
so the nodes of a cluster need imtrans installed but not the input or output folders.
What they do need at the same path is whatever the settings name by path: a glossary,
a model folder, a font.

`ray.init(address=...)` connects to a running cluster ("auto", "ray://host:10001", or the
RAY_ADDRESS variable); without an address, and when no Ray is running in this process
already, it starts a local Ray instance for the batch and stops it at the end.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

from imtrans.batch.inputs import PageJob, source_bytes
from imtrans.batch.worker import PageOutcome, limit_threads, translate_page
from imtrans.errors import ConfigError, InputError, ModelMissingError
from imtrans.settings import Settings


class PageTranslator:
    """A Ray actor's state: one pipeline, used for every page the actor is given."""

    def __init__(self, settings: Settings) -> None:
        from imtrans.pipeline import Pipeline

        limit_threads(int(os.environ.get("OMP_NUM_THREADS", "1") or 1))
        self.pipeline = Pipeline(settings)

    def translate(self, job: PageJob, data: bytes) -> PageOutcome:
        return translate_page(self.pipeline, job, data)

    def report(self, job: PageJob, error: str) -> PageOutcome:
        """The outcome of a page whose bytes the caller could not read (keeps the actor pool's bookkeeping)."""
        return PageOutcome(job.key, error=error)


class RayEngine:
    """`workers` Ray actors (default: one per CPU of the cluster)."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        self.workers = workers or 0
        self.address = address
        self._started_here = False

    def start(self) -> None:
        """Connect to Ray, or start it on this machine, unless this process already runs it.

        Raises:
            ModelMissingError: Ray is not installed. ConfigError: the cluster cannot be reached.
        """
        ray = _import_ray()
        if ray.is_initialized():
            return
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,  # workers' own logging would tear the progress bar
            "logging_level": logging.WARNING,
        }
        if self.address is None and "RAY_ADDRESS" not in os.environ:
            kwargs["num_cpus"] = self.workers or None  # a local instance: as many CPUs as workers asked for
        try:
            ray.init(address=self.address, **kwargs)
        except (ConnectionError, ValueError, RuntimeError, TimeoutError) as e:
            where = self.address or os.environ.get("RAY_ADDRESS") or "this machine"
            raise ConfigError(f"cannot start or reach Ray at {where}: {str(e).splitlines()[0]}") from None
        self._started_here = True

    def run(self, jobs: Sequence[PageJob], settings: Settings) -> Iterator[PageOutcome]:
        if not jobs:
            return
        ray = _import_ray()
        from ray.util import ActorPool

        self.start()
        actors: list[Any] = []
        try:
            count = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
            self.workers = count
            actor_class = ray.remote(num_cpus=1)(PageTranslator)
            actors = [actor_class.remote(settings) for _ in range(count)]
            shared: dict[str, Any] = {}  # PDF path -> its bytes in the object store

            def submit(actor: Any, job: PageJob) -> Any:
                try:
                    if job.pdf_page is None:
                        data = ray.put(source_bytes(job, settings.image.max_bytes))
                    elif job.path in shared:
                        data = shared[job.path]
                    else:
                        data = shared[job.path] = ray.put(source_bytes(job))
                except InputError as e:
                    return actor.report.remote(job, str(e))
                return actor.translate.remote(job, data)

            yield from ActorPool(actors).map_unordered(submit, jobs)
        finally:
            for actor in actors:
                ray.kill(actor)
            if self._started_here:
                ray.shutdown()
                self._started_here = False


#: What a batch says when --engine ray is asked for without Ray.
NO_RAY = "the ray engine needs Ray: pip install ray==2.60.0"


def check_ray_installed() -> None:
    """Raise the one-line error of a missing Ray without importing Ray (which takes seconds).

    Raises:
        ModelMissingError: Ray is not installed.
    """
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise ModelMissingError(NO_RAY)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ModelMissingError(NO_RAY) from None
    return ray
