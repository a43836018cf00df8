"""`imtrans eval --compare`: which figures got better or worse, and the samples that moved most."""

from __future__ import annotations

import json

import pytest

from imtrans.errors import InputError
from imtrans.evaluate.compare import Change, load_results, sample_changes, summary_changes, warnings


def _doc(fingerprint: str, cer: float, recall: float, missed: int, per_sample: dict[str, float]) -> dict:
    return {
        "signature": "x",
        "dataset": {"name": "d", "fingerprint": fingerprint},
        "summary": {"recognize": {"cer": cer, "lines": 10}, "detect": {"recall": recall}},
        "failures": {"missed_text": missed},
        "samples": [
            {"id": k, "metrics": {"recognize.cer": v}, "failures": {}, "error": None}
            for k, v in per_sample.items()
        ],
    }


@pytest.mark.parametrize(
    ("name", "a", "b", "verdict"),
    [
        ("recognize.cer", 0.2, 0.1, "better"),
        ("recognize.cer", 0.1, 0.2, "worse"),
        ("detect.recall", 0.5, 0.7, "better"),
        ("detect.recall", 0.7, 0.5, "worse"),
        ("failures.missed_text", 3, 1, "better"),
        ("erase.residue_rate", 0.1, 0.3, "worse"),
        ("recognize.lines", 10, 12, ""),  # a count, not a quality
        ("detect.recall", 0.5, 0.5, "same"),
        ("detect.recall", None, 0.5, ""),
    ],
)
def test_verdict_knows_which_direction_is_better(name, a, b, verdict):
    assert Change(name, a, b).verdict == verdict


def test_summary_changes_pair_every_figure_and_failure():
    a = _doc("f1", 0.2, 0.6, 5, {"s1": 0.1})
    b = _doc("f1", 0.1, 0.7, 2, {"s1": 0.1})
    got = {c.name: (c.a, c.b, c.verdict) for c in summary_changes(a, b)}
    assert got["recognize.cer"] == (0.2, 0.1, "better")
    assert got["detect.recall"] == (0.6, 0.7, "better")
    assert got["failures.missed_text"] == (5, 2, "better")
    assert got["recognize.lines"] == (10, 10, "")


def test_sample_changes_lists_largest_moves_first_and_skips_unchanged():
    a = _doc("f1", 0, 0, 0, {"s1": 0.1, "s2": 0.5, "s3": 0.3, "only_a": 0.9})
    b = _doc("f1", 0, 0, 0, {"s1": 0.1, "s2": 0.0, "s3": 0.4, "only_b": 0.9})
    rows = sample_changes(a, b)["recognize.cer"]
    assert [sid for sid, _ in rows] == ["s2", "s3"]
    assert rows[0][1].delta == pytest.approx(-0.5)


def test_different_datasets_are_flagged():
    assert warnings(_doc("f1", 0, 0, 0, {}), _doc("f1", 0, 0, 0, {})) == []
    assert "different datasets" in warnings(_doc("f1", 0, 0, 0, {}), _doc("f2", 0, 0, 0, {}))[0]


def test_load_results_refuses_what_is_not_a_results_file(tmp_path):
    (tmp_path / "x.json").write_text("[1, 2]")
    (tmp_path / "y.json").write_text("not json")
    for name in ("x.json", "y.json", "missing.json"):
        with pytest.raises(InputError):
            load_results(tmp_path / name)
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "results.json").write_text(json.dumps(_doc("f", 0, 0, 0, {})))
    assert load_results(tmp_path / "rep")["dataset"]["fingerprint"] == "f"


def _run(edits: list[float]) -> dict:
    """A results file of samples read with these many edits per 100 characters."""
    samples = [
        {
            "id": f"s{i}",
            "metrics": {"recognize.edits": e, "recognize.chars": 100.0, "recognize.n": 1.0,
                        "recognize.exact": 0.0, "recognize.ned": e / 100},
            "failures": {"misread": int(e > 20)},
            "error": None,
        }
        for i, e in enumerate(edits)
    ]  # fmt: skip
    from imtrans.evaluate.compare import _flat_summary, _outcomes

    flat = _flat_summary(_outcomes({"samples": samples}, [s["id"] for s in samples]), ["recognize"])
    summary = {"recognize": {k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith("recognize.")}}
    return {"dataset": {}, "stages": ["recognize"], "summary": summary, "failures": {}, "samples": samples}


def test_a_change_is_better_or_worse_only_beyond_its_bootstrap_noise():
    rng = __import__("random").Random(3)
    base = [rng.uniform(5, 40) for _ in range(30)]
    # Every sample read with 3 fewer edits: a small change, but a consistent one.
    consistent = {c.name: c for c in summary_changes(_run(base), _run([e - 3 for e in base]))}
    assert consistent["recognize.cer"].judged == "better"
    # The same mean change, made of large moves both ways (half up, half down): within the noise.
    shuffled = [e - 3 + (-15, 15)[i % 2] for i, e in enumerate(base)]
    noisy = {c.name: c for c in summary_changes(_run(base), _run(shuffled))}
    assert noisy["recognize.cer"].verdict in ("better", "worse")
    assert noisy["recognize.cer"].judged == "noise"
    # A count is shown, never judged.
    assert consistent["recognize.pairs"].judged == ""
