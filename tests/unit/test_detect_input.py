"""The detector's input normalisation must match rapidocr's bit for bit: the int8 model
quantises its input, and a 1e-7 difference on a flat colour can move a box."""

from __future__ import annotations

import numpy as np
import pytest
from rapidocr.ch_ppocr_det.utils import DetPreProcess

from imtrans.detect.ppocr import _blob, _normalise_table


@pytest.mark.parametrize(
    ("mean", "std"),
    [([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])],
)
def test_blob_equals_rapidocr_preprocessing_exactly(mean, std):
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, size=(64, 96, 3), dtype=np.uint8)
    expected = DetPreProcess(1 << 30, "max", mean, std)(bgr)  # 64 x 96: multiples of 32, no resize
    got = _blob(bgr, _normalise_table(mean, std))
    assert got.dtype == np.float32 and got.shape == (1, 3, 64, 96)
    assert np.array_equal(got, expected)
