"""eval's dataset summary from per-sample figures."""

from __future__ import annotations

import pytest

from imtrans.evaluate.runner import Metric, SampleOutcome, summarise


def test_erase_psnr_reports_median_and_the_share_erased_to_exactly_the_background():
    outcomes = [
        SampleOutcome(f"s{i}", metrics={Metric.ERASE_PSNR: v, Metric.ERASE_TRUTH_CHARS: 10.0})
        for i, v in enumerate([100.0, 100.0, 31.0, 29.0, 30.0])
    ]
    erase = summarise(outcomes, ["erase"])["erase"]
    assert erase["psnr"] == pytest.approx(58.0)  # the two capped samples pull the mean up ...
    assert erase["psnr_median"] == pytest.approx(31.0)  # ... the median does not move
    assert erase["psnr_identical_share"] == pytest.approx(0.4)


def test_a_metric_key_that_does_not_exist_fails_instead_of_reading_as_zero():
    with pytest.raises(AttributeError):
        _ = Metric.RECOGNISE_CER  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        Metric("ocr.cer")
