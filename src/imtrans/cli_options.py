"""Command-line options that several commands share, each mapping onto one setting.

`imtrans.cli` and `imtrans.batch.cli` both take them from here, so that they read and say
the same everywhere (and neither imports the other).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imtrans.registry import TRANSLATORS
from imtrans.settings import CHECK_MODES, CheckSettings

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", metavar="FILE", help="Settings JSON (e.g. one saved in an earlier --json output)."
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override any setting: --set detect.max_side=1024 (see `imtrans config`).",
    ),
]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from", metavar="LANG", show_default="auto", help="Source language: ko, en, ja, zh or auto."
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="LANG", show_default="en", help="Target language: en, ko, ja, zh, ..."),
]
TranslatorOpt = Annotated[
    str | None,
    typer.Option(
        "--translator",
        metavar="NAME",
        show_default="local; glossary with --glossary",
        help=f"Translator: {', '.join(TRANSLATORS.names())}.",
    ),
]
GlossaryOpt = Annotated[
    Path | None, typer.Option("--glossary", metavar="FILE", help="CSV or JSON of fixed translations.")
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", metavar="NAME", help="Model name for the translator.")
]
ModelDirOpt = Annotated[
    Path | None, typer.Option("--model-dir", metavar="DIR", help="Local model directory.")
]

CheckOpt = Annotated[
    str | None,
    typer.Option(
        "--check",
        metavar="|".join(CHECK_MODES),
        show_default=str(CheckSettings().mode),
        help=str(CheckSettings.model_fields["mode"].description),
    ),
]


def progress_bar(label: str) -> Any:
    """A `progress(done, total, current)` callback drawing a bar on stderr, gone when done."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    state: dict[str, Any] = {}

    def update(done: int, total: int, current: str) -> None:
        if "progress" not in state:
            progress = Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                transient=True,
                console=Console(stderr=True),
            )
            progress.start()
            state["progress"], state["task"] = progress, progress.add_task(current, total=total)
        state["progress"].update(state["task"], completed=done, description=current)
        if done >= total:
            state["progress"].stop()

    return update
