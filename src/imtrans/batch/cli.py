"""The `imtrans batch` command: a thin wrapper over `imtrans.batch.run_batch`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from imtrans.cli_options import (
    CheckOpt,
    ConfigOpt,
    FromOpt,
    GlossaryOpt,
    ModelDirOpt,
    ModelOpt,
    SetOpt,
    ToOpt,
    TranslatorOpt,
)
from imtrans.errors import OutputError


def batch_command(
    inputs: Annotated[
        list[Path], typer.Argument(help="Images, folders (recursive), CBZ/ZIP archives, PDFs.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output folder (created if missing).")],
    to: ToOpt = None,
    source: FromOpt = None,
    translator: TranslatorOpt = None,
    glossary: GlossaryOpt = None,
    model: ModelOpt = None,
    model_dir: ModelDirOpt = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help="Worker processes (local, default 1) or Ray actors (default: all CPUs)."
        ),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="local (processes on this machine) or ray.")
    ] = "local",
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster to use, e.g. auto or ray://HOST:10001.")
    ] = None,
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution PDF pages are rendered at.")] = 150,
    text_layer: Annotated[
        bool,
        typer.Option(
            "--text-layer", help="Add the translated text to output PDFs as invisible, searchable text."
        ),
    ] = False,
    layers: Annotated[
        str | None,
        typer.Option(
            "--layers",
            help="Also write each page as layers, svg or psd: beside an image as NAME.png.svg; for "
            "an archive or PDF in a folder named after it, NAME.cbz.layers/00001.svg per page.",
        ),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write a summary JSON here.")] = None,
    check: CheckOpt = None,
    review_list: Annotated[
        Path | None,
        typer.Option(
            "--review-list",
            metavar="FILE",
            help="Write the pages with blocks that failed their checks here, one a line.",
        ),
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Translate many pages into OUTPUT: images, folders, comic archives and PDFs.

    Archives come back as the same kind of archive and PDFs as a PDF of translated pages.
    A rerun skips the pages already done with the same input and settings and redoes the
    rest (the manifest is OUTPUT/.imtrans-batch/manifest.json). With --review-list, the pages
    translated this run that have blocks failing their checks are written there, one key a line. A page that fails is
    reported and the batch goes on; the exit code is 1 if any page failed.
    """
    from imtrans.batch import BatchOptions, run_batch
    from imtrans.batch.progress import RichProgress
    from imtrans.imageio import atomic_writes
    from imtrans.settings import translation_settings
    from imtrans.translate.factory import check_ready

    settings = translation_settings(config, set_, to, source, translator, glossary, model, model_dir, check)
    check_ready(settings.translate, settings.recognize.source)  # no model: stop before the first page
    if json_out is not None and not _will_exist(json_out.parent, output):
        raise OutputError(f"cannot write {json_out}: folder {json_out.parent} does not exist")
    if review_list is not None and not _will_exist(review_list.parent, output):
        raise OutputError(f"cannot write {review_list}: folder {review_list.parent} does not exist")
    options = BatchOptions(output, engine, workers, address, dpi, text_layer, layers)
    summary = run_batch(inputs, settings, options, RichProgress())
    for failure in summary.failures:
        typer.echo(f"failed: {failure['error']}", err=True)
    typer.echo(summary.line(), err=True)
    if review_list is not None:
        with atomic_writes() as w:
            w.write_text(review_list, "".join(f"{r['key']}\n" for r in summary.review))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)  # inside OUTPUT (checked above)
        with atomic_writes() as w:
            w.write_text(json_out, json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    if summary.failed:
        raise typer.Exit(1)


def _will_exist(folder: Path, output: Path) -> bool:
    """Whether `folder` exists, or will once the batch has made OUTPUT (it is OUTPUT or inside it)."""
    folder = (folder if str(folder) else Path(".")).resolve()
    out = output.resolve()
    return folder.is_dir() or folder == out or out in folder.parents
