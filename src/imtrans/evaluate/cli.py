"""`imtrans eval`: measure the pipeline on a dataset, or compare two results (registered in imtrans.cli)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from imtrans.cli_options import CheckOpt, progress_bar
from imtrans.errors import ConfigError, InputError
from imtrans.settings import Settings, resolve_settings


def eval_command(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Dataset: a manifest.jsonl (or its folder), an OpenMantra folder, or ICDAR images/ + gt/.",
        ),
    ] = None,
    stages: Annotated[
        str, typer.Option("--stages", help="Comma-separated: detect, recognize, erase, render, e2e.")
    ] = ("detect,recognize,erase,render,e2e"),
    report: Annotated[
        Path | None, typer.Option("--report", help="Write results.json and index.html here.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Target language for render/e2e (default: settings).")
    ] = None,
    translator: Annotated[
        str,
        typer.Option(
            "--translator",
            help="reference (the dataset's own translations; default) or a pipeline translator "
            "(glossary, local, papago, deepl, google, openai) for BLEU/chrF.",
        ),
    ] = "reference",
    glossary: Annotated[
        Path | None, typer.Option("--glossary", help="Glossary for the glossary translator.")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--from", help="Source language: ko, en, ja, zh or auto.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N samples.")] = None,
    baseline: Annotated[
        list[str] | None,
        typer.Option(
            "--baseline",
            help="Also score a raw engine's reading of each image in the same run: rapidocr "
            "(the PP-OCRv6 engine imtrans wraps) or tesseract (whole page). Repeatable.",
        ),
    ] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            "--compare", help="Compare two results: --compare A.json B.json (files or report folders)."
        ),
    ] = None,
    check: CheckOpt = None,
    config: Annotated[Path | None, typer.Option("--config", help="Settings JSON.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting: --set detect.max_side=1024.")
    ] = None,
) -> None:
    """Measure every stage on a dataset with ground truth (or compare two earlier results)."""
    if compare:
        _print_comparison(*compare)
        return
    if data is None:
        raise InputError("eval needs --data DATASET (or --compare A.json B.json)")
    from imtrans.evaluate.adapters import load_dataset
    from imtrans.evaluate.runner import Evaluator

    named: dict[str, Any] = {"translate.target": to, "recognize.source": source, "check.mode": check}
    mode = "reference"
    if translator != "reference":
        named["translate.translator"] = translator
        mode = "pipeline"
    if glossary:
        named["translate.glossary"] = str(glossary)
    settings: Settings = resolve_settings(config, set_, **named)
    stage_list = [s.strip() for s in stages.split(",") if s.strip()]
    if not stage_list:
        raise ConfigError("--stages is empty")
    dataset = load_dataset(data)
    if limit:
        dataset = dataset.model_copy(update={"samples": dataset.samples[:limit]})
    if report:
        _check_report_dir(report)
    evaluator = Evaluator(
        settings, stage_list, translator=mode, keep_images=report is not None, baselines=baseline or ()
    )
    doc, outcomes = evaluator.run(dataset, progress=progress_bar("eval"))
    if report:
        from imtrans.evaluate.report import write_report

        index = write_report(doc, outcomes, report)
        typer.echo(f"wrote {index} and {report / 'results.json'}", err=True)
    _print_summary(doc)


def _check_report_dir(report: Path) -> None:
    """Fail before hours of work, not after: the report folder must be creatable and writable."""
    import os

    from imtrans.errors import OutputError

    parent = report if report.exists() else report.parent
    if report.exists() and not report.is_dir():
        raise OutputError(f"cannot write the report to {report}: it is a file")
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write the report to {report}: {parent} is not a writable folder")


def _print_summary(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("stage", "metric", "value", title=doc["dataset"]["name"])
    for stage, figures in doc["summary"].items():
        for name, value in figures.items():
            if not name.endswith("_signature"):
                table.add_row(stage, name, "-" if value is None else f"{value:.4g}")
    for cls, n in doc["failures"].items():
        table.add_row("failures", cls, str(n))
    console = Console(file=sys.stdout, width=120)
    console.print(table)
    _print_reading(console, doc)
    console.print(f"signature: {doc['signature']}", soft_wrap=True)
    tr = doc["summary"].get("translation")
    if tr:
        console.print(f"BLEU {tr['bleu_signature']}\nchrF {tr['chrf_signature']}", soft_wrap=True)


def _print_reading(console: Any, doc: dict[str, Any]) -> None:
    """imtrans's reading beside each baseline's: recall and CER per language, then failures."""
    from rich.table import Table

    reading = doc.get("reading") or {}
    if not reading:
        return
    names = list(reading)
    table = Table("language", "regions", *[f"{n}\n{m}" for n in names for m in ("recall", "CER")],
                  title=f"reading ({reading[names[0]]['regions']} found and read)")  # fmt: skip
    fmt = lambda v: "-" if v is None else f"{v:.3f}"
    for lang, figures in reading[names[0]]["summary"].items():
        row = [lang, f"{figures['regions']:.0f}"]
        for n in names:
            f = reading[n]["summary"].get(lang, {})
            row += [fmt(f.get("recall")), fmt(f.get("cer"))]
        table.add_row(*row)
    console.print(table)
    failures = Table("failure", *names, title="reading failures (evaluate/reading.py)")
    for cls in reading[names[0]]["failures"]:
        failures.add_row(cls, *[str(reading[n]["failures"][cls]) for n in names])
    console.print(failures)
    for n in names:
        g = reading[n].get("grouping") or {}
        if g:
            console.print(
                f"{n} grouping: precision {fmt(g.get('precision'))}, recall {fmt(g.get('recall'))} "
                f"(pairs of true lines sharing a block: {g.get('pairs', 0):.0f})"
            )
    for n in names:
        console.print(f"{n}: {reading[n]['reader']}", soft_wrap=True)


def _print_comparison(a_path: Path, b_path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from imtrans.evaluate.compare import load_results, sample_changes, summary_changes, warnings

    a, b = load_results(a_path), load_results(b_path)
    console = Console(file=sys.stdout, width=140)
    for w in warnings(a, b):
        console.print(f"warning: {w}")
    table = Table("figure", "A", "B", "change", "beyond noise?", title=f"A = {a_path}   B = {b_path}")
    style = {"better": "green", "worse": "red"}
    for c in summary_changes(a, b):
        fmt = lambda v: "-" if v is None else f"{v:.4g}"
        delta = "" if c.delta is None else f"{c.delta:+.4g}"
        table.add_row(
            c.name,
            fmt(c.a),
            fmt(c.b),
            delta,
            f"[{style[c.judged]}]{c.judged}[/]" if c.judged in style else c.judged,
        )
    console.print(table)
    console.print(
        "better / worse: the change lies outside the 95% interval of a paired bootstrap over the "
        "samples both runs share; noise: inside it; blank: not a quality, or no noise estimate."
    )
    changed = sample_changes(a, b)
    if changed:
        console.print("Samples that changed most, per metric:")
        for key, rows in changed.items():
            items = ", ".join(f"{sid} {c.a:.3g}->{c.b:.3g}" for sid, c in rows)
            console.print(f"  {key}: {items}", soft_wrap=True)
    console.print(f"A: {a.get('signature', '')}\nB: {b.get('signature', '')}", soft_wrap=True)
