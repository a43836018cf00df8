"""The Korean recogniser's charset, input batches and CTC decoding (no model needed)."""

from __future__ import annotations

import numpy as np

from imtrans.recognize.korean import HEIGHT, MIN_WIDTH, ctc_decode, korean_charset, to_input


def test_the_charset_holds_the_2350_ks_x_1001_syllables_ascii_and_space_once_each() -> None:
    cs = korean_charset()
    syllables = [c for c in cs if "\uac00" <= c <= "\ud7a3"]
    assert len(syllables) == 2350
    assert len(set(cs)) == len(cs)
    assert {"가", "힝", "A", "z", "0", "9", "-", "₩", "·", " "} <= set(cs)
    assert "똥" in cs and "똠" not in cs and "뷁" not in cs  # 똠, 뷁: outside KS X 1001


def test_crops_are_scaled_to_48_px_keeping_their_aspect_and_padded_with_zero() -> None:
    wide = np.full((24, 120, 3), 255, np.uint8)  # 5:1 -> 240 px at 48 px high
    narrow = np.zeros((96, 48, 3), np.uint8)  # 1:2 -> 24 px, padded
    batch = to_input([wide, narrow])
    assert batch.shape == (2, 3, HEIGHT, 240)
    assert batch.dtype == np.float32
    assert np.allclose(batch[0], 1.0)  # white -> 1
    assert np.allclose(batch[1, :, :, :24], -1.0)  # black -> -1
    assert np.allclose(batch[1, :, :, 24:], 0.0)  # padding
    assert to_input([narrow]).shape[3] == MIN_WIDTH
    assert to_input([wide], max_width=100).shape[3] == 100  # squeezed


def test_greedy_ctc_merges_repeats_and_drops_blanks() -> None:
    cs = ["가", "나", " "]
    steps = [0, 1, 1, 0, 1, 3, 2, 2, 0]  # blank 가 가 blank 가 ' ' 나 나 blank
    probs = np.full((1, len(steps), 4), 0.01, np.float32)
    for t, c in enumerate(steps):
        probs[0, t, c] = 0.97
    ((text, conf),) = ctc_decode(probs, cs)
    assert text == "가가 나"
    assert abs(conf - 0.97) < 1e-6
    empty = np.zeros((1, 3, 4), np.float32)
    empty[0, :, 0] = 1.0
    assert ctc_decode(empty, cs) == [("", 0.0)]
