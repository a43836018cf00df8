"""Compare two evaluation results: what got better or worse, and the samples that changed most."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imtrans.errors import InputError

#: Metrics where a smaller number is better (everything else: larger is better).
LOWER_IS_BETTER = {
    "cer",
    "ned",
    "residue_rate",
    "legibility_cer",
    "collisions",
    "errors",
    "recognize.cer",
    "recognize.ned",
    "erase.residue_rate",
    "erase.residue_chars",
    "render.legibility_cer",
    "render.collisions",
    "colour_de",
    "angle_error",
    "style.colour_de",
    "style.angle_error",
}
#: Summary figures that are counts or sizes, not qualities: shown, never called better or worse.
NEUTRAL = {
    "samples",
    "pairs",
    "lines",
    "blocks",
    "tp",
    "n_pred",
    "n_true",
    "segments",
    "truth_chars",
    "chars",
    "edits",
    "n",
    "size_ratio",
    "style.size_ratio",
}  # best at 1, neither higher nor lower


@dataclass(frozen=True)
class Change:
    """One figure in A and B."""

    name: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def verdict(self) -> str:
        """'better', 'worse', 'same' or '' (not comparable or neutral)."""
        d = self.delta
        leaf = self.name.rsplit(".", 1)[-1]
        if d is None or leaf in NEUTRAL or self.name.startswith("seconds_median"):
            return ""
        if abs(d) < 1e-9:
            return "same"
        lower = self.name in LOWER_IS_BETTER or leaf in LOWER_IS_BETTER or self.name.startswith("failures.")
        return "better" if (d < 0) == lower else "worse"


def load_results(path: Path) -> dict[str, Any]:
    """Read a results.json (or a report directory holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no evaluation results at {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{path} is not an imtrans eval results file (not JSON)") from None
    if not isinstance(doc, dict) or "summary" not in doc or "samples" not in doc:
        raise InputError(f"{path} is not an imtrans eval results file (no summary/samples)")
    return doc


def summary_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Every summary figure and failure count of A and B, side by side."""
    flat_a, flat_b = _flatten(a), _flatten(b)
    return [
        Change(k, flat_a.get(k), flat_b.get(k)) for k in sorted(set(flat_a) | set(flat_b), key=_order(flat_a))
    ]


def sample_changes(a: dict[str, Any], b: dict[str, Any], top: int = 5) -> dict[str, list[tuple[str, Change]]]:
    """Per metric, the samples (present in both) whose value changed most, largest change first."""
    by_a = {s["id"]: s for s in a["samples"]}
    out: dict[str, list[tuple[str, Change]]] = {}
    for s in b["samples"]:
        old = by_a.get(s["id"])
        if old is None:
            continue
        for key, vb in s["metrics"].items():
            va = old["metrics"].get(key)
            if va is None or vb is None or va == vb:
                continue
            out.setdefault(key, []).append((s["id"], Change(key, va, vb)))
    return {k: sorted(v, key=lambda x: -abs(x[1].delta or 0))[:top] for k, v in sorted(out.items())}


def warnings(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Why the two runs may not be comparable."""
    out = []
    fa, fb = a.get("dataset", {}).get("fingerprint"), b.get("dataset", {}).get("fingerprint")
    if fa != fb:
        out.append(f"different datasets ({a['dataset'].get('name')}@{fa} vs {b['dataset'].get('name')}@{fb})")
    return out


def _flatten(doc: dict[str, Any]) -> dict[str, float | None]:
    flat: dict[str, float | None] = {}
    for stage, figures in doc["summary"].items():
        for name, value in figures.items():
            if isinstance(value, (int, float)) or value is None:
                flat[f"{stage}.{name}"] = value
    for cls, n in doc.get("failures", {}).items():
        flat[f"failures.{cls}"] = n
    return flat


def _order(reference: dict[str, Any]) -> Any:
    keys = list(reference)
    return lambda k: (keys.index(k) if k in keys else len(keys), k)
