"""`run_batch`: the batch, top to bottom.

1. Expand the inputs into documents and page jobs; check OUT_DIR; read the manifest.
2. Leave out the pages already done with the same input and settings.
3. Run the rest on an engine; write each page's outputs and its manifest record as it comes.
4. Assemble each archive and PDF once its pages are through (again if any page changed).
5. Return a summary: counts, failures, rate, outputs.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from imtrans.batch.engines import make_engine
from imtrans.batch.inputs import Document, expand_inputs
from imtrans.batch.manifest import Manifest
from imtrans.batch.outputs import (
    OutputDir,
    assemble_archive,
    assemble_frames,
    assemble_pdf,
    remove_page,
    write_document_json,
    write_page,
)
from imtrans.batch.worker import PageOutcome
from imtrans.errors import ConfigError, ImtransError
from imtrans.export import LAYER_FORMATS
from imtrans.imageio import refuse_overwrite
from imtrans.settings import ImageSettings, Settings, settings_hash
from imtrans.types import Page


@dataclass(frozen=True)
class BatchOptions:
    """How to run a batch (what is done to each page is in `Settings`).

    Attributes:
        out_dir: Where the outputs, the manifest and the kept pages go.
        engine: local or ray.
        workers: Local worker processes (default 1) or Ray actors (default: the cluster's CPUs).
        address: Ray cluster address (ray only).
        dpi: Resolution PDF pages are rendered at.
        text_layer: Give output PDFs an invisible, searchable text layer.
        layers: Also write each page as layers, "svg" or "psd" (`OutputDir` says where); None: no.
    """

    out_dir: Path
    engine: str = "local"
    workers: int | None = None
    address: str | None = None
    dpi: int = 150
    text_layer: bool = False
    layers: str | None = None


@dataclass
class BatchSummary:
    """What a batch did. `failed` counts pages that failed plus inputs that could not be opened."""

    out_dir: str
    engine: str
    workers: int
    pages: int = 0
    translated: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    #: Blocks checked this run (`check.mode` on), and the pages to review: key and failed block ids.
    blocks_checked: int = 0
    review: list[dict[str, Any]] = field(default_factory=list)

    def add_checks(self, outcome: PageOutcome) -> None:
        """Count a page's checked blocks; a page with blocks that failed their checks is to review."""
        self.blocks_checked += outcome.checked
        if outcome.flagged:
            self.review.append({"key": outcome.key, "blocks": list(outcome.flagged)})

    @property
    def pages_per_second(self) -> float:
        done = self.translated + self.failed
        return done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "seconds": round(self.seconds, 3),
            "pages_per_second": round(self.pages_per_second, 3),
        }

    def line(self) -> str:
        checks = ""
        if self.blocks_checked:
            flagged = sum(len(r["blocks"]) for r in self.review)
            checks = (
                f"; {self.blocks_checked - flagged} of {self.blocks_checked} block(s) passed their checks, "
                f"{len(self.review)} page(s) to review"
            )
        return (
            f"{self.pages} page(s): {self.translated} translated, {self.skipped} already done, "
            f"{self.failed} failed, in {self.seconds:.1f} s ({self.pages_per_second:.2f} pages/s, "
            f"{self.engine} engine, {self.workers} worker(s)){checks}; outputs in {self.out_dir}"
        )


class Progress(Protocol):
    """Told about the batch as it goes (the CLI draws a progress bar with it)."""

    def start(self, total: int, skipped: int) -> None: ...

    def advance(self, outcome: PageOutcome) -> None: ...

    def stop(self) -> None: ...


def run_batch(
    inputs: Sequence[Path], settings: Settings, options: BatchOptions, progress: Progress | None = None
) -> BatchSummary:
    """Translate every page of `inputs` into `options.out_dir`, skipping what an earlier run did.

    Raises:
        InputError: An input is missing or of an unknown kind. OutputError: OUT_DIR cannot be
            written. ConfigError / ModelMissingError: the set-up is wrong (every page would fail).
    """
    start = time.perf_counter()
    settings = _absolute_paths(settings)
    engine = make_engine(options.engine, options.workers, options.address)
    if not 36 <= options.dpi <= 1200:
        raise ConfigError(f"--dpi must be between 36 and 1200, got {options.dpi}")
    if options.layers not in (None, *LAYER_FORMATS.values()):
        raise ConfigError(f"unknown --layers format {options.layers!r}; use svg or psd")
    # 1. documents and their pages; OUT_DIR; what earlier runs did
    documents = expand_inputs(inputs, options.dpi, exclude=options.out_dir, limits=settings.image)
    out = OutputDir(options.out_dir, options.layers)
    for doc in documents:  # `-o` at or above the inputs' folder must not write over an input
        refuse_overwrite([doc.path], out.document_paths(doc))
    out.prepare()
    out.remove_stale_temps(documents)
    manifest = Manifest.load(out.manifest_path)
    s_hash = settings_hash(settings)
    summary = BatchSummary(str(out.root), engine.name, engine.workers)
    batch = _Batch(out, manifest, s_hash, options, settings.image)

    # 2. pages still to do
    where = {job.key: (doc, i) for doc in documents for i, job in enumerate(doc.jobs)}
    todo = [
        replace(job, layers=options.layers)
        for doc in documents
        for i, job in enumerate(doc.jobs)
        if not batch.is_done(doc, i)
    ]
    remaining = Counter(where[job.key][0].rel for job in todo)
    summary.pages = len(where)
    summary.skipped = summary.pages - len(todo)
    for doc in documents:
        if doc.error:
            summary.failed += 1
            summary.failures.append({"key": doc.rel, "error": doc.error})

    # 3. translate; each page is written as soon as it is back
    if todo:
        engine.start()
    if progress:
        progress.start(len(todo), summary.skipped)
    try:
        with closing(engine.run(todo, settings)) as outcomes:
            for outcome in outcomes:
                if outcome.fatal is not None:
                    raise outcome.fatal
                doc, index = where[outcome.key]
                batch.write(doc, index, outcome)
                if outcome.ok:
                    summary.translated += 1
                    summary.add_checks(outcome)
                else:
                    summary.failed += 1
                    summary.failures.append({"key": outcome.key, "error": outcome.error or ""})
                if progress:
                    progress.advance(outcome)
                remaining[doc.rel] -= 1
                # 4. a document is assembled as soon as its last page is through
                if remaining[doc.rel] == 0 and doc.kind != "image":
                    _assemble(batch, doc, summary)
    finally:
        if progress:
            progress.stop()
    summary.workers = engine.workers
    for doc in documents:  # documents whose pages were all done before (or whose output went missing)
        if doc.kind != "image" and not doc.error and remaining[doc.rel] == 0:
            _assemble(batch, doc, summary)

    # 5. summary
    summary.outputs = [str(out.root / doc.rel) for doc in documents if (out.root / doc.rel).is_file()]
    summary.seconds = time.perf_counter() - start
    return summary


def _assemble(batch: _Batch, doc: Document, summary: BatchSummary) -> None:
    """Assemble a document; a failure is recorded like a page's and the batch goes on."""
    try:
        for problem in batch.assemble(doc):  # members or frames that could not be kept
            summary.failed += 1
            summary.failures.append({"key": doc.rel, "error": problem})
    except Exception as e:  # noqa: BLE001 - one bad document must not lose the others; it is reported
        message = str(e) if isinstance(e, ImtransError) else f"{type(e).__name__}: {e}"
        summary.failed += 1
        summary.failures.append({"key": doc.rel, "error": f"{doc.rel}: cannot assemble: {message}"})


class _Batch:
    """Writes pages and documents of one OUT_DIR and keeps its manifest in step."""

    def __init__(
        self, out: OutputDir, manifest: Manifest, s_hash: str, options: BatchOptions, limits: ImageSettings
    ) -> None:
        self.out = out
        self.manifest = manifest
        self.s_hash = s_hash
        self.options = options
        self.limits = limits

    def is_done(self, doc: Document, index: int) -> bool:
        job = doc.jobs[index]
        image, page_json = self.out.page_paths(doc, index)
        layers = self.out.layers_path(doc, index)
        return (
            self.manifest.is_done(job.key, job.input_hash, self.s_hash)
            and image.is_file()
            and page_json.is_file()
            and (layers is None or layers.is_file())
        )

    def write(self, doc: Document, index: int, outcome: PageOutcome) -> None:
        """The page's outputs first, then its record: a stop in between only redoes the page."""
        job = doc.jobs[index]
        image, page_json = self.out.page_paths(doc, index)
        layers_path = self.out.layers_path(doc, index)
        if outcome.ok and outcome.image is not None and outcome.page_json is not None:
            layers = (layers_path, outcome.layers) if layers_path and outcome.layers is not None else None
            write_page(image, page_json, outcome.image, outcome.page_json, layers)
            # A layers file of an earlier run in the other format (or without --layers now)
            # would stand for the old input.
            others = [f for f in LAYER_FORMATS.values() if f != self.options.layers]
            remove_page(*(self.out.layers_path(doc, index, f) for f in others))
        else:
            remove_page(image, page_json, layers_path)
        self.manifest.record_page(job.key, job.input_hash, self.s_hash, outcome.error, outcome.seconds)
        self.manifest.save()

    def assemble(self, doc: Document) -> list[str]:
        """Write an archive, PDF or multi-frame image from its pages, unless it exists and was made
        from the same pages; returns a line for each member or frame that could not be kept."""
        target, doc_json = self.out.document_paths(doc)
        records = [self.manifest.pages.get(job.key) for job in doc.jobs]
        fingerprint = json.dumps(
            [
                [job.key, job.input_hash, r.status if r else "", r.settings_hash if r else ""]
                for job, r in zip(doc.jobs, records, strict=True)
            ]
            + [self.s_hash, self.options.text_layer]
        )
        assembly_hash = hashlib.sha256(fingerprint.encode()).hexdigest()
        previous = self.manifest.documents.get(doc.rel)
        if previous and previous.assembly_hash == assembly_hash and target.is_file() and doc_json.is_file():
            return []
        translated: dict[int, tuple[Path, Page]] = {}
        pages: list[dict[str, Any]] = []
        for index, job in enumerate(doc.jobs):
            entry: dict[str, Any] = {"key": job.key, "member": job.member, "page": index + 1}
            if self.is_done(doc, index):
                image, page_json = self.out.page_paths(doc, index)
                page = json.loads(page_json.read_text(encoding="utf-8"))
                translated[index] = (image, Page.from_dict(page))
                entry.update(status="done", result=page)
            else:
                record = records[index]
                entry.update(status="failed", error=record.error if record else "not translated")
            pages.append(entry)
        lost: list[str] = []
        if doc.kind == "archive":
            members = {doc.jobs[i].member: image for i, (image, _) in translated.items()}
            lost = assemble_archive(target, doc, members)  # type: ignore[arg-type]
        elif doc.kind == "frames":
            lost = assemble_frames(
                target, doc, {i: image for i, (image, _) in translated.items()}, self.limits
            )
        else:
            assemble_pdf(target, doc, translated, self.options.text_layer, self.limits)
        write_document_json(doc_json, doc, pages)
        self.manifest.record_document(doc.rel, assembly_hash)
        self.manifest.save()
        return lost


def _absolute_paths(settings: Settings) -> Settings:
    """Files named in the settings, made absolute: workers may run elsewhere than the caller's folder."""
    overrides = {}
    for key in ("translate.glossary", "translate.model_dir", "translate.cache_path", "render.font_path"):
        section, name = key.split(".")
        value = getattr(getattr(settings, section), name, None)  # options of some backends only
        if value is not None and not Path(value).is_absolute():
            overrides[key] = str(Path(value).resolve())
    return settings.with_overrides(overrides) if overrides else settings
