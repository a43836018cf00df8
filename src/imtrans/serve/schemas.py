"""The API's request and response bodies (pydantic), as the OpenAPI docs at /docs show them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from imtrans.serve.jobs import RESULT_FILES, Job, JobStatus

#: Name under which a job's page JSON is served beside its image files.
PAGE_JSON = "page.json"
#: Layers files a done job can be downloaded as (`GET /v1/jobs/{id}/layers.{format}`), by media type.
LAYER_FORMATS = {"svg": "image/svg+xml", "psd": "image/vnd.adobe.photoshop"}


class ErrorOut(BaseModel):
    """Every error answer: one line, no traceback."""

    error: str


class JobOut(BaseModel):
    """A job: its state, the options it ran with and, once done, its page and file links."""

    id: str
    status: JobStatus
    error: str | None = Field(None, description="Why a failed job failed, in one line.")
    created: float = Field(description="Unix time the job was accepted.")
    started: float | None = None
    finished: float | None = None
    options: dict[str, Any] = Field(description="Source, target, translator, glossary and the image size.")
    revision: int = Field(0, description="Counts re-renders; add it to file links to defeat caches.")
    files: dict[str, str] = Field(default_factory=dict, description="Links to the result files, once done.")
    layers: dict[str, str] = Field(
        default_factory=dict,
        description="Links to the page as layers (`svg`, `psd`), once done; drawn when requested.",
    )
    page: dict[str, Any] | None = Field(
        None, description="Blocks, translations, styles, diagnostics, timings."
    )
    waiting_for_worker: bool = Field(
        False, description="Queued while every worker is busy (false: it starts at once)."
    )

    @classmethod
    def of(cls, job: Job, prefix: str, all_busy: bool = False) -> JobOut:
        done = job.status is JobStatus.DONE
        names = (*RESULT_FILES, PAGE_JSON) if done else ()
        return cls(
            id=job.id,
            status=job.status,
            error=job.error,
            created=job.created,
            started=job.started,
            finished=job.finished,
            options=job.options,
            revision=job.revision,
            files={
                n.replace(".", "_"): f"{prefix}/v1/jobs/{job.id}/files/{n}?rev={job.revision}" for n in names
            },
            layers={f: f"{prefix}/v1/jobs/{job.id}/layers.{f}?rev={job.revision}" for f in LAYER_FORMATS}
            if done
            else {},
            page=job.page,
            waiting_for_worker=job.status is JobStatus.QUEUED and all_busy,
        )


class RenderIn(BaseModel):
    """Edited translations by block id; an empty text removes a block's translation."""

    translations: dict[str, str] = Field(
        description="Block id -> new translation text.", examples=[{"b0": "Seoul Station"}]
    )


class HealthOut(BaseModel):
    status: str
    workers: int
    pending: int = Field(description="Jobs waiting or running.")
    queue_limit: int


class OptionsOut(BaseModel):
    """What a client may choose, and the server's defaults."""

    sources: dict[str, str]
    targets: dict[str, str]
    translators: list[str]
    defaults: dict[str, Any]
    server_glossary: bool = Field(description="Whether the server has its own glossary configured.")
    max_upload_bytes: int
    max_pixels: int
    token_required: bool
