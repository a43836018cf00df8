"""The batch's progress bar (rich, on stderr): pages done of all, rate, ETA, failures."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from imtrans.batch.worker import PageOutcome


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f} pages/s" if speed else "- pages/s")


class RichProgress:
    """A progress bar on stderr (the failures are listed by the command at the end)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bar: Progress | None = None
        self._task = 0
        self._failed = 0

    def start(self, total: int, skipped: int) -> None:
        if skipped:
            self.console.print(f"{skipped} page(s) already done, skipped")
        self._bar = Progress(
            TextColumn("translating"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[failed]} failed"),
            console=self.console,
        )
        self._task = self._bar.add_task("pages", total=total, failed=0)
        self._bar.start()

    def advance(self, outcome: PageOutcome) -> None:
        if self._bar is None:
            return
        if not outcome.ok:
            self._failed += 1
        self._bar.update(self._task, advance=1, failed=self._failed)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
