"""What one check found about one block: the record every check function returns.

A check is a pure function of a few arrays or numbers; it returns a `Finding`: whether the
block passed, a score in 0..1 (1: passed with room, 0: as bad as it gets) and the values it
measured. `quality_of` folds a block's findings into the `BlockQuality` the page carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from imtrans.types import BlockQuality, CheckCode


@dataclass(frozen=True)
class Finding:
    """One check of one block.

    Attributes:
        code: The check (its `CheckCode`, the code reported when it fails).
        passed: Whether the block passed it.
        score: 0..1, how well it passed (1) or how badly it failed (towards 0).
        values: What was measured, by name (these names go into `BlockQuality.values`).
    """

    code: CheckCode
    passed: bool
    score: float
    values: dict[str, float] = field(default_factory=dict)


def quality_of(findings: Iterable[Finding], repairs: tuple[str, ...] = (), attempts: int = 0) -> BlockQuality:
    """A block's quality from its findings: the lowest score; the failed checks in `CheckCode` order."""
    found = list(findings)
    failed = {f.code for f in found if not f.passed}
    values: dict[str, float] = {}
    for f in found:
        values.update(f.values)
    score = min((f.score for f in found), default=1.0)
    return BlockQuality(
        score=max(0.0, min(1.0, score)),
        failed=tuple(c for c in CheckCode if c in failed),
        values=values,
        repairs=repairs,
        attempts=attempts,
    )


def rank(findings: Iterable[Finding]) -> tuple[int, float]:
    """Sort key of one attempt's findings: fewer failed checks first, then the higher lowest score."""
    found = list(findings)
    return (sum(not f.passed for f in found), -min((f.score for f in found), default=1.0))
