"""What a batch worker does with one page, whichever engine runs it.

A worker holds one `Pipeline` (models load once, on its first page) and turns a
`PageJob` into a `PageOutcome`: the translated page encoded in its output format and
its JSON, or the error. Errors about the page (corrupt image, a translation service
failing on it, anything unexpected) are data: the batch records them and goes on.
Errors about the set-up (a missing model, a bad setting or glossary) would fail every
page alike, so they are marked fatal and the batch stops with that one line; so is a page
that came back untranslated because no translator is installed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from imtrans.batch.inputs import PageJob, read_page
from imtrans.errors import ConfigError, ImtransError, LanguageError, ModelMissingError
from imtrans.export import layers_bytes
from imtrans.imageio import encode_image
from imtrans.pipeline import Pipeline
from imtrans.types import Page, TranslateCode

#: Errors that no page can succeed past: stop the batch rather than fail every page.
_FATAL = (ModelMissingError, ConfigError, LanguageError)


@dataclass(frozen=True)
class PageOutcome:
    """The result of one job: encoded image, page JSON and layers file (when asked), or an error message.

    `fatal` holds the error when it is one no page can get past (the batch then stops with it).
    """

    key: str
    image: bytes | None = None
    page_json: str | None = None
    layers: bytes | None = None
    error: str | None = None
    fatal: ImtransError | None = None
    seconds: float = 0.0
    #: Blocks the page's check looked at, and those that failed it (ids), when `check.mode` is on.
    checked: int = 0
    flagged: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def translate_page(pipeline: Pipeline, job: PageJob, data: bytes | None = None) -> PageOutcome:
    """Read, translate and encode one page; never raises (errors come back in the outcome).

    Args:
        pipeline: The worker's pipeline, built once.
        job: The page.
        data: The page's source bytes when the engine ships them (Ray); None reads from disk.
    """
    start = time.perf_counter()
    try:
        image = read_page(job, pipeline.settings.image, data)
        result = pipeline.translate(image)
        _stop_without_translator(result.page, job.key)
        encoded = encode_image(result.image, job.out_format)
        layers = layers_bytes(result, job.layers, image) if job.layers else None
        page = result.page
        flagged = tuple(bid for bid, q in page.quality.items() if q.failed)
        checked = page.check.blocks if page.check is not None else 0
        return PageOutcome(job.key, encoded, result.to_json(), layers, seconds=time.perf_counter() - start,
                           checked=checked, flagged=flagged)  # fmt: skip
    except _FATAL as e:
        return PageOutcome(job.key, error=str(e), fatal=e, seconds=time.perf_counter() - start)
    except ImtransError as e:
        return PageOutcome(job.key, error=str(e), seconds=time.perf_counter() - start)
    except Exception as e:  # noqa: BLE001 - one page's bug must not stop a 500-page batch; it is recorded
        message = f"{type(e).__name__}: {e}".splitlines()[0]
        return PageOutcome(
            job.key, error=f"{job.key}: unexpected error: {message}", seconds=time.perf_counter() - start
        )


def _stop_without_translator(page: Page, key: str) -> None:
    """A page that came back untranslated for want of a translator: every page would, so stop.

    The pipeline returns such a page read and erased (`TranslateCode.NO_TRANSLATOR`), which is
    what one image needs; a batch of them would be a folder of erased pages and a zero exit.

    Raises:
        ModelMissingError: with the diagnostic's message (what is missing and the ways out).
    """
    for d in page.diagnostics:
        if d.code == TranslateCode.NO_TRANSLATOR:
            raise ModelMissingError(f"{key}: {d.message}")


def threads_per_worker(workers: int) -> int:
    """CPU threads each of `workers` processes may use so that together they fill, not oversubscribe, the CPUs."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus // max(1, workers))


def limit_threads(threads: int) -> None:
    """Cap this process's compute threads: OpenMP (Tesseract), onnxruntime sessions, OpenCV.

    Must run before the models load. onnxruntime reads OMP_NUM_THREADS through
    `imtrans.detect.ppocr.rapidocr_config`; Ray sets the same variable for its workers.
    """
    import cv2

    os.environ["OMP_NUM_THREADS"] = str(threads)
    cv2.setNumThreads(threads)
