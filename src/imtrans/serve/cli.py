"""`imtrans serve`: the REST service and the web page (registered in imtrans.cli)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from imtrans.errors import ConfigError
from imtrans.serve.jobs import DB_NAME
from imtrans.settings import ServeSettings, Settings, parse_assignments, resolve_settings


def serve_command(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on (default 8000).")] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            metavar="DIR",
            help="Folder for the job database and results (default: $IMTRANS_DATA_DIR, else the user data dir).",
        ),
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", metavar="FILE", help="Job database file (overrides --data-dir).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Pipelines at once (default: CPU cores).")
    ] = None,
    queue_limit: Annotated[
        int | None, typer.Option("--queue-limit", help="Jobs that may wait; past it, 503.")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Default target language.")] = None,
    translator: Annotated[str | None, typer.Option("--translator", help="Default translator.")] = None,
    glossary: Annotated[
        Path | None, typer.Option("--glossary", help="Server glossary, used when a request uploads none.")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Pipeline settings JSON.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a setting; serve.KEY=VALUE for the service's own (see README)."),
    ] = None,
) -> None:
    """Run the REST service and the web page: open http://HOST:PORT/ (API docs at /docs)."""
    pipeline_sets = [s for s in set_ or [] if not s.startswith("serve.")]
    serve_sets = [s.removeprefix("serve.") for s in set_ or [] if s.startswith("serve.")]
    settings = resolve_settings(
        config,
        pipeline_sets,
        **{
            "translate.target": to,
            "translate.translator": translator,
            "translate.glossary": str(glossary) if glossary else None,
        },
    )
    serve = _serve_settings(
        serve_sets,
        host=host,
        port=port,
        db_path=str(db or data_dir / DB_NAME) if db or data_dir else None,
        workers=workers,
        queue_limit=queue_limit,
    )
    run(settings, serve)


def _serve_settings(sets: list[str], **named: Any) -> ServeSettings:
    data = parse_assignments(sets, prefix="serve.")
    data.update({k: v for k, v in named.items() if v is not None})
    try:
        return ServeSettings.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"invalid setting serve.{where}: {err['msg']}") from None


def run(settings: Settings, serve: ServeSettings) -> None:
    """Build the app (pipelines load here, once) and serve it until interrupted."""
    from imtrans.serve.app import create_app
    from imtrans.serve.jobs import default_db_path, lock_database
    from imtrans.serve.server import bind, make_server
    from imtrans.serve.workers import cpu_count

    # Each worker's onnxruntime sessions get their share of the cores, not all of them each
    # (the detector reads OMP_NUM_THREADS); set before the pipelines load.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, cpu_count() // (serve.workers or cpu_count()))))

    sock = bind(serve.host, serve.port)  # a busy port is one line now, not after the models load
    url = f"http://{serve.host}:{sock.getsockname()[1]}/"
    db_path = serve.db_path or default_db_path()
    # Held until this process ends: a second server on the same database is refused, by name.
    lock = lock_database(db_path, url)
    typer.echo(f"imtrans: jobs and results in {db_path.parent} ({db_path.name})", err=True)
    typer.echo(f"imtrans: loading the pipeline for {serve.workers or 'one per core'} worker(s)...", err=True)
    app = create_app(settings, serve.model_copy(update={"db_path": db_path}))
    typer.echo(f"imtrans: web page at {url} , API docs at /docs", err=True)
    try:
        make_server(app).run(sockets=[sock])
    finally:
        lock.close()
