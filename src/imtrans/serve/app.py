"""The FastAPI app: the REST routes, the web page and the error answers.

Routes stay thin: they turn HTTP into `TranslationService` calls and its errors into status
codes with a one-line JSON body. The service (its pipelines) is built here, once, when the app
is made; requests only queue work for it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from imtrans.errors import ConfigError, ImtransError, InputError, LanguageError
from imtrans.languages import SOURCE_LANGUAGES, TARGET_LANGUAGES
from imtrans.registry import TRANSLATORS
from imtrans.serve.guards import SameOrigin, SecurityHeaders
from imtrans.serve.jobs import RESULT_FILES, UnknownJob
from imtrans.serve.limits import BodyLimit
from imtrans.serve.schemas import LAYER_FORMATS, PAGE_JSON, ErrorOut, HealthOut, JobOut, OptionsOut, RenderIn
from imtrans.serve.service import (
    INTERNAL_ERROR,
    JobNotDone,
    TextTooLong,
    TooLarge,
    TranslateRequest,
    TranslationService,
    UnknownBlock,
)
from imtrans.serve.workers import QueueFull
from imtrans.settings import (
    CHECK_MODES,
    CheckSettings,
    RecognizeSettings,
    ServeSettings,
    Settings,
    TranslateSettings,
)

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
_ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 404, 409, 413, 422, 503)}

LayersFormat = Enum("LayersFormat", {f: f for f in LAYER_FORMATS}, type=str)  # type: ignore[misc]
FileName = Enum("FileName", {n.replace(".", "_"): n for n in (*RESULT_FILES, PAGE_JSON)}, type=str)  # type: ignore[misc]


_bearer = HTTPBearer(auto_error=False, description="Needed when the server has a token (IMTRANS_API_TOKEN).")


def check_token(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Refuse a request without the server's bearer token, when it has one (constant-time compare)."""
    token = request.app.state.token
    if token is None:
        return
    given = creds.credentials if creds else ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


def _field_help(model: type, name: str) -> str:
    """A form field's description, taken from the settings model so CLI and API say the same."""
    return str(model.model_fields[name].description)


#: The translators a request may name: this package's and those of installed plugins (registry.py).
TranslatorName = Enum("TranslatorName", {n: n for n in TRANSLATORS.names()}, type=str)  # type: ignore[misc]
CheckMode = Enum("CheckMode", {n: n for n in CHECK_MODES}, type=str)  # type: ignore[misc]


def create_app(settings: Settings | None = None, serve: ServeSettings | None = None) -> FastAPI:
    """The app with its service built: pipelines loaded, job store opened (unfinished jobs failed).

    Args:
        settings: Pipeline settings every job starts from.
        serve: Database, pool, limits, token variable and CORS origins.
    """
    settings = settings or Settings()
    serve = serve or ServeSettings()
    service = TranslationService(settings, serve)
    token = os.environ.get(serve.token_env) or None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(service.close)

    app = FastAPIOffline(
        title="imtrans",
        summary="Translate the text inside images: detect, recognise, translate, erase, re-draw.",
        version=_version(),
        lifespan=lifespan,
        static_url="/docs-assets",
    )
    app.state.service = service
    app.state.token = token
    app.add_middleware(BodyLimit, max_bytes=serve.max_upload_bytes)
    if serve.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=serve.cors_origins, allow_headers=["Authorization"])
    # Outermost (added last): refusals of the guards and of the body limit get the headers too.
    app.add_middleware(SameOrigin, host=serve.host, cors_origins=serve.cors_origins, enabled=token is None)
    app.add_middleware(SecurityHeaders)
    _add_error_handlers(app, serve.retry_after)

    api = [Depends(check_token)]

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", response_model=HealthOut, tags=["service"])
    def healthz() -> HealthOut:
        """Liveness and load: workers, jobs waiting or running, queue limit."""
        return HealthOut(
            status="ok",
            workers=service.pool.size,
            pending=service.pool.pending,
            queue_limit=serve.queue_limit,
        )

    @app.get("/v1/options", response_model=OptionsOut, dependencies=api, tags=["jobs"], responses=_ERRORS)
    def options() -> OptionsOut:
        """Languages and translators a request may choose, and the server's defaults."""
        return OptionsOut(
            sources={"auto": "Detect", **SOURCE_LANGUAGES},
            targets=TARGET_LANGUAGES,
            translators=list(TRANSLATORS.names()),
            defaults={
                "source": settings.recognize.source,
                "target": settings.translate.target,
                "translator": settings.translate.resolved_translator,
                "check": settings.check.mode,
            },
            server_glossary=settings.translate.glossary is not None,
            max_upload_bytes=serve.max_upload_bytes,
            max_pixels=settings.image.max_pixels,
            token_required=token is not None,
        )

    @app.post(
        "/v1/translate",
        response_model=JobOut,
        status_code=202,
        dependencies=api,
        tags=["jobs"],
        responses={200: {"model": JobOut, "description": "Done (with wait=true)"}, **_ERRORS},
    )
    async def translate(
        request: Request,
        response: Response,
        image: Annotated[UploadFile, File(description="The image; its content decides its format.")],
        source: Annotated[str | None, Form(description=_field_help(RecognizeSettings, "source"))] = None,
        target: Annotated[str | None, Form(description=_field_help(TranslateSettings, "target"))] = None,
        translator: Annotated[
            TranslatorName | None, Form(description=_field_help(TranslateSettings, "translator"))
        ] = None,
        glossary: Annotated[
            UploadFile | None, File(description=_field_help(TranslateSettings, "glossary"))
        ] = None,
        check: Annotated[CheckMode | None, Form(description=_field_help(CheckSettings, "mode"))] = None,
        wait: Annotated[
            bool, Query(description="Answer when the job has finished, not when it is queued.")
        ] = False,
    ) -> JobOut:
        """Queue an image for translation; answers 202 with the job (poll `GET /v1/jobs/{id}`)."""
        job_request = TranslateRequest(
            image=await image.read(),
            source=source,
            target=target,
            translator=translator.value if translator is not None else None,
            glossary=await glossary.read() if glossary is not None else None,
            check=check.value if check is not None else None,
        )
        job_id, future = await run_in_threadpool(service.submit, job_request)
        response.headers["Location"] = f"/v1/jobs/{job_id}"
        if wait:
            await asyncio.wrap_future(future)
            response.status_code = 200
        return JobOut.of(service.job(job_id), request.scope.get("root_path", ""), service.pool.all_busy)

    @app.get("/v1/jobs/{job_id}", response_model=JobOut, dependencies=api, tags=["jobs"], responses=_ERRORS)
    def get_job(job_id: str, request: Request) -> JobOut:
        """A job's status and, once done, its page (blocks, text, translations) and file links."""
        return JobOut.of(service.job(job_id), request.scope.get("root_path", ""), service.pool.all_busy)

    @app.get(
        "/v1/jobs/{job_id}/files/{name}",
        dependencies=api,
        tags=["jobs"],
        responses={200: {"content": {"image/png": {}, "image/webp": {}, "application/json": {}}}, **_ERRORS},
    )
    def get_file(job_id: str, name: FileName) -> Response:
        """A result file of a done job: translated PNG or WebP, erased PNG, the original, or the page JSON."""
        job = service.job(job_id)
        if job.page is None:
            raise JobNotDone(f"job {job.id} is {job.status.value}; it has no results")
        disposition = {"Content-Disposition": f'inline; filename="{job.id[:8]}.{name.value}"'}
        if name.value == PAGE_JSON:
            return JSONResponse(job.page, headers={**disposition, "Cache-Control": "no-cache"})
        return FileResponse(
            service.store.job_dir(job.id) / name.value, headers={**disposition, "Cache-Control": "no-cache"}
        )

    @app.get(
        "/v1/jobs/{job_id}/layers.{fmt}",
        dependencies=api,
        tags=["jobs"],
        responses={200: {"content": {t: {} for t in LAYER_FORMATS.values()}}, **_ERRORS},
    )
    def get_layers(job_id: str, fmt: LayersFormat) -> Response:
        """A done job as layers, drawn from its latest revision: `layers.svg` (each translation an
        editable `<text>`) or `layers.psd` (pixel layers). Bottom to top: the original (hidden), the
        erased background, one layer per drawn block, named after it (`b0: Seoul Station`)."""
        job, data = service.layers(job_id, fmt.value)
        headers = {
            "Content-Disposition": f'attachment; filename="{job.id[:8]}.layers.{fmt.value}"',
            "Cache-Control": "no-cache",
        }
        return Response(data, media_type=LAYER_FORMATS[fmt.value], headers=headers)

    @app.delete(
        "/v1/jobs/{job_id}", status_code=204, response_class=Response, dependencies=api, tags=["jobs"],
        responses=_ERRORS,
    )  # fmt: skip
    def delete_job(job_id: str) -> Response:
        """Delete a finished job (done or failed): its row, its page and its image files."""
        service.delete(job_id)
        return Response(status_code=204)

    @app.post(
        "/v1/jobs/{job_id}/render", response_model=JobOut, dependencies=api, tags=["jobs"], responses=_ERRORS
    )
    async def render(job_id: str, edits: RenderIn, request: Request) -> JobOut:
        """Draw a done job again with edited block translations (no detection or recognition again)."""
        future = await run_in_threadpool(service.rerender, job_id, edits.translations)
        await asyncio.wrap_future(future)
        return JobOut.of(service.job(job_id), request.scope.get("root_path", ""), service.pool.all_busy)

    return app


#: The page loads only its own files (no CDN, no inline script): its Content-Security-Policy is in guards.py.
_PAGE_HEADERS = {"Cache-Control": "no-cache"}


def _add_error_handlers(app: FastAPI, retry_after: int) -> None:
    """Every error becomes `{"error": "<one line>"}` with a status that says whose fault it is."""

    def answer(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(
            {"error": message.splitlines()[0] if message else "error"}, status, headers=headers
        )

    statuses: list[tuple[type[Exception], int]] = [
        (UnknownJob, 404),
        (JobNotDone, 409),
        (UnknownBlock, 422),
        (TextTooLong, 422),
        (TooLarge, 413),
        (InputError, 400),
        (LanguageError, 422),
        (ConfigError, 422),
        (ImtransError, 500),
    ]
    for exc_type, status in statuses:
        app.add_exception_handler(exc_type, lambda _r, e, s=status: answer(s, str(e)))
    app.add_exception_handler(QueueFull, lambda _r, e: answer(503, str(e), {"Retry-After": str(retry_after)}))
    app.add_exception_handler(
        StarletteHTTPException,
        lambda _r, e: answer(e.status_code, str(e.detail), getattr(e, "headers", None)),
    )
    app.add_exception_handler(RequestValidationError, lambda _r, e: answer(422, _validation_message(e)))

    # json.loads of a deeply nested body (a render request) runs out of stack: the request's fault.
    app.add_exception_handler(RecursionError, lambda _r, _e: answer(400, "request body is nested too deeply"))

    def internal(_: Request, e: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=e)
        return answer(500, INTERNAL_ERROR)

    app.add_exception_handler(Exception, internal)


def _validation_message(e: RequestValidationError) -> str:
    """The first problem of a request, as `where: what`."""
    err = e.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
    msg = str(err.get("msg", "invalid request")).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _version() -> str:
    from importlib.metadata import version

    return version("imtrans")
