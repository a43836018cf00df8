"""The engines that run a batch's pages: one per file behind this small Protocol.

An engine gets the page jobs and the settings, builds one `Pipeline` per worker (models
load once per worker, not per page) and yields a `PageOutcome` per job as each finishes,
in any order. It writes nothing: the runner, in the calling process, writes every output
and the manifest, so both engines give the same files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal, Protocol

from imtrans.batch.inputs import PageJob
from imtrans.batch.worker import PageOutcome
from imtrans.errors import ConfigError
from imtrans.settings import Settings

EngineName = Literal["local", "ray"]


class Engine(Protocol):
    """Runs page jobs on some workers."""

    name: str
    workers: int

    def start(self) -> None:
        """Get ready: connect to (or start) what runs the workers. Errors here are the set-up's."""
        ...

    def run(self, jobs: Sequence[PageJob], settings: Settings) -> Iterator[PageOutcome]:
        """Translate every job, yielding its outcome as soon as it is done (any order)."""
        ...


def make_engine(name: str, workers: int | None = None, address: str | None = None) -> Engine:
    """The engine called `name`: "local" (processes on this machine) or "ray".

    Args:
        name: local or ray.
        workers: Worker processes (local: default 1) or Ray actors (default: the cluster's CPUs).
        address: Ray cluster address (ray only; default: start Ray on this machine).

    Raises:
        ConfigError: Unknown engine, a bad worker count, or an address given to the local engine.
        ModelMissingError: ray asked for but not installed.
    """
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be 1 or more, got {workers}")
    if name == "local":
        if address is not None:
            raise ConfigError("--address is for --engine ray")
        from imtrans.batch.local import LocalEngine

        return LocalEngine(workers or 1)
    if name == "ray":
        from imtrans.batch.ray_engine import RayEngine, check_ray_installed

        check_ray_installed()  # before OUT_DIR is made: a batch that cannot run leaves nothing behind
        return RayEngine(workers, address)
    raise ConfigError(f"unknown engine {name!r}; use local or ray")
