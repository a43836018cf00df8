"""The `imtrans synth` command: a thin wrapper over `imtrans.synth.generate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def synth_command(
    lang: Annotated[str, typer.Option("--lang", help="Language of the text: ko, en, ja or zh.")],
    out: Annotated[Path, typer.Option("--out", help="Dataset directory to write (created if missing).")],
    layout: Annotated[
        str, typer.Option("--layout", help="sign, paragraph, bubble, vertical (ja/zh only) or mixed.")
    ] = "mixed",
    count: Annotated[int, typer.Option("--count", help="Number of samples to keep (after cleaning).")] = 20,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same arguments give the same bytes.")
    ] = 0,
    photos: Annotated[
        list[Path] | None,
        typer.Option(
            "--photos",
            help="A folder of extra background photos (.jpg, .jpeg, .png, .webp) to draw on besides "
            "the installed ones; repeat for more folders. Their licences are yours to record.",
        ),
    ] = None,
) -> None:
    """Draw real sentences on real photos and write them with full ground truth.

    Writes OUT/manifest.jsonl (the evaluation dataset format), OUT/images,
    OUT/backgrounds (the pictures without text), OUT/masks (255 where text
    changed a pixel) and OUT/datacard.json (sources, licences, settings,
    counts made and dropped by reason).

    Samples whose text is illegible by construction (low contrast, missing
    glyphs, cut by the image edge) are dropped and counted; --count is the
    number kept.
    """
    from imtrans.cli_options import progress_bar
    from imtrans.synth import generate

    summary = generate(
        lang, layout, count, seed, out, photos or (), progress_bar("synth")
    )  # errors: one line via the app's handler
    typer.echo(summary.line(), err=True)
    if summary.made < count:
        typer.echo(f"imtrans: warning: only {summary.made} of {count} samples passed cleaning", err=True)
