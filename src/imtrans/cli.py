"""The `imtrans` command line: a thin layer over the settings model and the pipeline."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

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
from imtrans.errors import ImtransError, OutputError
from imtrans.imageio import atomic_writes, image_format, load_image, refuse_overwrite
from imtrans.settings import resolve_settings, translation_settings

if TYPE_CHECKING:
    from imtrans.pipeline import PageResult

app = typer.Typer(
    help="Translate the text inside images: detect, recognise, translate, erase, re-draw.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="List and fetch local translation models.", no_args_is_help=True)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"imtrans {version('imtrans')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar="",
            is_eager=True,
            callback=_print_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Translate the text inside images: detect, recognise, translate, erase, re-draw."""


app.add_typer(models_app, name="models")

F = TypeVar("F", bound=Callable[..., Any])


def _user_errors(fn: F) -> F:
    """Turn an ImtransError into one line on stderr and its exit code; no traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ImtransError as e:
            typer.echo(f"imtrans: error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("imtrans: interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _check_outputs(image_out: Path | None, erased_out: Path | None, json_out: Path | None) -> None:
    """Fail before any work when an output cannot be written."""
    for path in (image_out, erased_out, json_out):
        if path is None:
            continue
        if path is not json_out:
            image_format(path)
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise OutputError(f"cannot write {path}: folder {folder} does not exist")


def _write_outputs(
    result: PageResult,
    image_out: Path | None,
    erased_out: Path | None,
    json_out: Path | None,
    extra: dict[Path, bytes] | None = None,
) -> None:
    """Write every requested output (and the `extra` files, e.g. layers), all or none, then print the summary."""
    with atomic_writes() as w:
        if image_out:
            w.write_image(image_out, result.image)
        if erased_out and result.erased is not None:
            w.write_image(erased_out, result.erased)
        if json_out:
            w.write_text(json_out, result.to_json())
        for path, data in (extra or {}).items():
            w.write_bytes(path, data)
    written = [image_out, erased_out if result.erased is not None else None, json_out, *(extra or {})]
    _summary(result.page, [p for p in written if p is not None])


LayersOpt = Annotated[
    Path | None,
    typer.Option(
        "--layers",
        metavar="FILE",
        help="Also write an editable file: OUT.svg (text) or OUT.psd (a layer per block).",
    ),
]


def _check_layers(path: Path | None) -> None:
    """Fail before any work when a --layers path has an unknown suffix or no folder."""
    if path is not None:
        from imtrans.export import layer_format

        layer_format(path)
        _check_outputs(None, None, path)


def _layers_file(result: PageResult, path: Path | None, original: Any) -> dict[Path, bytes]:
    """The --layers file's bytes, for `_write_outputs`."""
    if path is None:
        return {}
    from imtrans.export import layer_format, layers_bytes

    return {path: layers_bytes(result, layer_format(path), original)}


@app.command()
@_user_errors
def translate(
    image: Annotated[Path, typer.Argument(help="Input image (PNG, JPEG, WebP, ...).")],
    to: ToOpt = None,
    source: FromOpt = None,
    translator: TranslatorOpt = None,
    glossary: GlossaryOpt = None,
    model: ModelOpt = None,
    model_dir: ModelDirOpt = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", metavar="FILE", help="Output image.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", metavar="FILE", help="Write blocks, text and timings here.")
    ] = None,
    erased_out: Annotated[
        Path | None, typer.Option("--erased", metavar="FILE", help="Also write the erased image.")
    ] = None,
    layers: LayersOpt = None,
    check: CheckOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Translate the text of IMAGE and draw the translation in its place."""
    from imtrans.pipeline import Pipeline

    settings = translation_settings(config, set_, to, source, translator, glossary, model, model_dir, check)
    output = output or Path(f"{image.stem}.{settings.translate.target}.png")
    _check_outputs(output, erased_out, json_out)
    _check_layers(layers)
    refuse_overwrite([image], [output, erased_out, json_out, layers])
    picture = load_image(image, settings.image)
    result = Pipeline(settings).translate(picture)
    _write_outputs(result, output, erased_out, json_out, _layers_file(result, layers, picture))
    _no_translator_note(result.page, image, output, json_out)


def _no_translator_note(page: Any, image: Path, output: Path, json_out: Path | None) -> None:
    """When no translator was there (no model installed): one warning line saying what was written instead."""
    from imtrans.types import TranslateCode

    if not any(d.code == TranslateCode.NO_TRANSLATOR for d in page.diagnostics):
        return
    page_json = json_out or "PAGE.json (rerun with --json PAGE.json)"
    drawn = sum(1 for t in page.translations.values() if t.text.strip())
    what = (
        f"only the glossary's {drawn} block(s) were translated; the others are erased in {output}"
        if drawn
        else f"nothing was translated; {output} is the erased image"
    )
    typer.echo(
        f"imtrans: warning: no translator, so {what}. "
        f"Install a model (imtrans models list), or type translations into {page_json} "
        f"and run `imtrans render {page_json if json_out else 'PAGE.json'} {image} -o OUT.png`",
        err=True,
    )


@app.command("render")
@_user_errors
def render_command(
    page_json: Annotated[Path, typer.Argument(help="Page JSON with translations (from translate --json).")],
    image: Annotated[Path, typer.Argument(help="The image that page was read from.")],
    output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE", help="Output image.")],
    font: Annotated[
        Path | None, typer.Option("--font", help="Font file for every block (setting render.font_path).")
    ] = None,
    scale: Annotated[
        float,
        typer.Option("--scale", min=0.1, max=10.0, help="Text this many times its size where it fits."),
    ] = 1.0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the drawn page here.")] = None,
    layers: LayersOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Draw the translations of PAGE_JSON onto IMAGE again (edited, another font or size), reading nothing again."""
    from imtrans.export.redraw import check_size, read_page, redraw, redraw_settings

    page = read_page(page_json)
    settings = redraw_settings(page_json, page, config, set_, font)
    _check_outputs(output, None, json_out)
    _check_layers(layers)
    refuse_overwrite([image, page_json], [output, json_out, layers])
    if settings.render.font_path is not None:
        from imtrans.render.fonts import font_for

        font_for("en", override=settings.render.font_path)  # a missing font: one line, before any work
    picture = load_image(image, settings.image)
    check_size(picture, page, str(image))
    result = redraw(picture, page, settings, scale)
    result = replace(result, page=result.page.with_(settings=settings.to_dict()))
    _write_outputs(result, output, None, json_out, _layers_file(result, layers, picture))


@app.command()
@_user_errors
def ocr(
    image: Annotated[Path, typer.Argument(help="Input image.")],
    source: FromOpt = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json",
            metavar="FILE|-",
            help="Write the page as JSON to this file, or to stdout with --json -.",
        ),
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Detect, recognise and group the text of IMAGE; print it as a table, or write JSON."""
    from imtrans.pipeline import Pipeline

    settings = resolve_settings(config, set_, **{"recognize.source": source})
    to_stdout = json_out is not None and str(json_out) == "-"
    json_file = None if to_stdout else json_out
    _check_outputs(None, None, json_file)
    refuse_overwrite([image], [json_file])
    result = Pipeline(settings).ocr(load_image(image, settings.image))
    if to_stdout:
        sys.stdout.write(result.to_json() + "\n")
    elif json_file:
        _write_outputs(result, None, None, json_file)
    else:
        _print_blocks(result.page)


def _print_blocks(page: Any) -> None:
    """The blocks read, one row each, in reading order; diagnostics after them."""
    from rich.console import Console
    from rich.table import Table

    table = Table("block", "language", "direction", "confidence", title=f"{len(page.blocks)} block(s)")
    table.add_column("text", overflow="fold")
    for b in page.blocks:
        confidence = min((ln.confidence for ln in b.lines), default=0.0)
        table.add_row(b.id, b.language, b.direction.value, f"{confidence:.2f}", b.text)
    console = Console()
    console.print(table)
    for d in page.diagnostics:
        console.print(f"{d.severity.value}: {d.stage}/{d.code}: {d.message}", highlight=False)


@app.command()
@_user_errors
def erase(
    image: Annotated[Path, typer.Argument(help="Input image.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", metavar="FILE", help="Output image.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", metavar="FILE", help="Write the erased blocks here.")
    ] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Remove the text of IMAGE (inpainting), keep everything else."""
    from imtrans.pipeline import Pipeline

    settings = resolve_settings(config, set_)
    output = output or Path(f"{image.stem}.erased.png")
    _check_outputs(output, None, json_out)
    refuse_overwrite([image], [output, json_out])
    result = Pipeline(settings).erase(load_image(image, settings.image))
    _write_outputs(result, output, None, json_out)


@app.command("config")
@_user_errors
def show_config(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    backends: Annotated[
        bool,
        typer.Option(
            "--backends", metavar="", help="List each stage's backends instead (name them with --set)."
        ),
    ] = False,
) -> None:
    """Print the resolved settings as JSON (every key can be given to --set)."""
    if backends:
        from imtrans.registry import REGISTRIES

        keys = {"translate": "translate.translator"}
        for stage, registry in REGISTRIES.items():
            sys.stdout.write(f"{keys.get(stage, stage + '.backend')}: {registry.choices()}\n")
        return
    sys.stdout.write(json.dumps(resolve_settings(config, set_).to_dict(), indent=2) + "\n")


@models_app.command("list")
@_user_errors
def models_list() -> None:
    """Known translation models, their language pairs and whether they are installed."""
    from rich.console import Console
    from rich.table import Table

    from imtrans.translate.models import list_models

    table = Table("name", "pairs", "installed", "size")
    for name, pairs, installed, size in list_models():
        table.add_row(str(name), str(pairs), "yes" if installed else "no", str(size))
    Console().print(table)


@models_app.command("pull")
@_user_errors
def models_pull(name: Annotated[str, typer.Argument(help="Model name from `imtrans models list`.")]) -> None:
    """Download a known model into the user cache, checking its sha256."""
    from imtrans.translate.models import pull_model

    path = pull_model(name, progress=True)
    typer.echo(f"{name}: ready in {path}")


def _register_measurement() -> None:
    """`imtrans synth` and `eval` live with their code; registered here so errors get one line."""
    from imtrans.evaluate.cli import eval_command
    from imtrans.synth.cli import synth_command

    app.command("synth")(_user_errors(synth_command))
    app.command("eval")(_user_errors(eval_command))
    _register_batch()


def _register_batch() -> None:
    """`imtrans batch` lives in imtrans.batch; registered here so errors get one line."""
    from imtrans.batch.cli import batch_command

    app.command("batch")(_user_errors(batch_command))


_register_measurement()


def _register_serve() -> None:
    """`imtrans serve` lives in imtrans.serve; registered here so errors get one line."""
    from imtrans.serve.cli import serve_command

    app.command("serve")(_user_errors(serve_command))


_register_serve()


def _summary(page: Any, written: list[Path]) -> None:
    """One line per block on stderr, then every file written."""
    for b in page.blocks:
        t = page.translations.get(b.id)
        arrow = f" -> {t.text}" if t else ""
        typer.echo(f"[{b.id} {b.language}] {b.text}{arrow}", err=True)
    for d in page.diagnostics:
        typer.echo(f"  {d.severity.value}: {d.stage}/{d.code}: {d.message}", err=True)
    total = sum(page.timings.values())
    names = ", ".join(str(p) for p in written)
    checked = ""
    if page.check is not None and page.check.blocks:  # nothing checked: nothing to say
        c = page.check
        repaired = f", {c.repaired} repaired" if c.repaired else ""
        checked = f"; {c.passed} of {c.blocks} passed the checks{repaired}"
        if c.failed:
            flagged = ", ".join(
                f"{bid} ({', '.join(str(code) for code in q.failed)})"
                for bid, q in page.quality.items()
                if q.failed
            )
            checked += f" (to review: {flagged})"
    typer.echo(
        f"{len(page.blocks)} block(s) in {total:.2f} s{checked}" + (f"; wrote {names}" if names else ""),
        err=True,
    )


if __name__ == "__main__":
    app()
