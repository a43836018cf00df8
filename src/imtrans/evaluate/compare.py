"""Compare two evaluation results: what got better or worse, and the samples that changed most."""

from __future__ import annotations

import json
import math
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
    "psnr_identical_share",
    "psnr_mask_identical_share",
}  # best at 1, neither higher nor lower


#: Resamples of the paired bootstrap, and the two-sided interval a change must leave to count.
BOOTSTRAP_RESAMPLES = 400
BOOTSTRAP_INTERVAL = 0.95


@dataclass(frozen=True)
class Change:
    """One figure in A and B.

    Attributes:
        noise: Whether the change lies within its noise: the paired bootstrap over the samples
            both runs share (`bootstrap_noise`) puts 0 inside its interval. None: not estimated.
    """

    name: str
    a: float | None
    b: float | None
    noise: bool | None = None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def judged(self) -> str:
        """The verdict where the change is beyond its noise; 'noise' within it; '' where not estimated."""
        if self.verdict in ("better", "worse") and self.noise is not None:
            return "noise" if self.noise else self.verdict
        return "" if self.verdict in ("better", "worse") else self.verdict

    @property
    def verdict(self) -> str:
        """'better', 'worse', 'same' or '' (not comparable or neutral), whatever the noise."""
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


def summary_changes(
    a: dict[str, Any], b: dict[str, Any], *, resamples: int = BOOTSTRAP_RESAMPLES
) -> list[Change]:
    """Every summary figure and failure count of A and B, side by side, with its noise where known."""
    flat_a, flat_b = _flatten(a), _flatten(b)
    noise = bootstrap_noise(a, b, resamples=resamples) if resamples else {}
    return [
        Change(k, flat_a.get(k), flat_b.get(k), noise.get(k))
        for k in sorted(set(flat_a) | set(flat_b), key=_order(flat_a))
    ]


def bootstrap_noise(
    a: dict[str, Any], b: dict[str, Any], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> dict[str, bool]:
    """Per summary figure, whether B - A lies within the noise of the samples.

    Paired bootstrap: the samples both runs measured (by id) are drawn with replacement, the
    same draw for A and B, and both summaries are computed again from the drawn samples'
    figures (`runner.summarise`), ``resamples`` times. A change is noise when 0 lies inside the
    central `BOOTSTRAP_INTERVAL` of the differences. Figures not made from per-sample figures
    (BLEU, timings) get no entry.
    """
    import numpy as np

    shared = sorted({s["id"] for s in a["samples"]} & {s["id"] for s in b["samples"]})
    if len(shared) < 2 or resamples < 1:
        return {}
    stages = a.get("stages") or list(a["summary"])
    out_a, out_b = _outcomes(a, shared), _outcomes(b, shared)
    rng = np.random.default_rng(seed)
    deltas: dict[str, list[float]] = {}
    for _ in range(resamples):
        draw = rng.integers(0, len(shared), len(shared))
        fa = _flat_summary([out_a[i] for i in draw], stages)
        fb = _flat_summary([out_b[i] for i in draw], stages)
        for key in set(fa) & set(fb):
            va, vb = fa[key], fb[key]
            if va is not None and vb is not None and not (math.isnan(va) or math.isnan(vb)):
                deltas.setdefault(key, []).append(vb - va)
    tail = (1 - BOOTSTRAP_INTERVAL) / 2 * 100
    noise = {}
    for key, values in deltas.items():
        low, high = np.percentile(values, [tail, 100 - tail])
        noise[key] = bool(low <= 0 <= high)
    return noise


def _outcomes(doc: dict[str, Any], ids: list[str]) -> list[Any]:
    """The samples ``ids`` of a results file, as the outcomes `summarise` reads."""
    from collections import Counter

    from imtrans.evaluate.runner import FailureClass, Metric, SampleOutcome

    metrics, failures = set(Metric), set(FailureClass)
    by_id = {s["id"]: s for s in doc["samples"]}
    return [
        SampleOutcome(
            sid,
            metrics={
                Metric(k): v for k, v in by_id[sid]["metrics"].items() if k in metrics and v is not None
            },
            failures=Counter(
                {FailureClass(k): n for k, n in by_id[sid].get("failures", {}).items() if k in failures}
            ),
            error=by_id[sid].get("error"),
        )
        for sid in ids
    ]


def _flat_summary(outcomes: list[Any], stages: list[str]) -> dict[str, float | None]:
    from collections import Counter

    from imtrans.evaluate.runner import summarise

    summary = summarise(outcomes, stages)
    summary.pop("seconds_median", None)
    failures = sum((o.failures for o in outcomes), Counter())
    return _flatten({"summary": summary, "failures": dict(failures)})


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
