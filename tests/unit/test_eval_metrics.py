"""Golden tables for the evaluation metrics; every expected value is worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imtrans.evaluate.metrics import (
    DetectionAccumulator,
    Matching,
    MeanAccumulator,
    StyleAgreement,
    TextAccumulator,
    angle_difference,
    bleu_tokenizer,
    cer,
    collisions,
    colour_difference,
    corpus_bleu,
    corpus_chrf,
    coverage,
    edit_distance,
    ghost_slope,
    match_quads,
    normalise_text,
    normalised_edit_distance,
    prf,
    psnr,
    quad_iou,
    residue_chars,
    source_script_chars,
    ssim,
    style_agreement,
)
from imtrans.types import Quad

R = Quad.from_rect

# --------------------------------------------------------------------------------------------
# Text

NORMALISE = [
    # text, normalised, why
    ("葬儀屋 さん\n", "葬儀屋さん", "space between kana/Han is layout"),
    ("「はい」 と 言った", "「はい」と言った", "CJK brackets count as CJK"),
    ("我 爱 你", "我爱你", "Chinese has no word spaces"),
    ("시청  방면", "시청 방면", "Hangul keeps its word space, runs collapse"),
    ("서울 東京", "서울東京", "a Han neighbour removes the space"),
    ("  Hello \n\t World ", "Hello World", "Latin: runs collapse, ends strip"),
    ("ＡＢＣ　１２３", "ABC 123", "NFKC: fullwidth to ASCII, ideographic space to a kept space"),
    ("ｶﾀｶﾅ", "カタカナ", "NFKC: halfwidth kana to fullwidth"),
    ("あ! いや", "あ!いや", "fullwidth ! became ASCII but its kana neighbour removes the space"),
    ("", "", "empty"),
]


@pytest.mark.parametrize(("text", "expected", "why"), NORMALISE)
def test_normalise_text_follows_script_spacing(text: str, expected: str, why: str) -> None:
    assert normalise_text(text) == expected, why


EDITS = [
    # hyp, ref, edit_distance (raw), cer, normalised edit distance
    ("abcd", "abed", 1, 1 / 4, 1 / 4),
    ("kitten", "sitting", 3, 3 / 7, 3 / 7),
    ("ab", "abcd", 2, 2 / 4, 2 / 4),
    ("abcd", "ab", 2, 2 / 2, 2 / 4),
    ("", "abc", 3, 1.0, 1.0),
    ("abc", "", 3, 3.0, 1.0),  # empty reference counts as length 1; cer is not capped
    ("", "", 0, 0.0, 0.0),
    ("葬儀屋 さん", "葬儀屋さん", 1, 0.0, 0.0),  # the space is normalised away before cer / ned
    ("ＡＢＣ", "ABC", 3, 0.0, 0.0),
]


@pytest.mark.parametrize(("hyp", "ref", "edits", "c", "ned"), EDITS)
def test_edit_metrics_match_hand_counts(hyp: str, ref: str, edits: int, c: float, ned: float) -> None:
    assert edit_distance(hyp, ref) == edits
    assert cer(hyp, ref) == pytest.approx(c)
    assert normalised_edit_distance(hyp, ref) == pytest.approx(ned)


SCRIPT_CHARS = [
    ("시청 방면 City Hall", "ko", 4),
    ("葬儀屋さん ABC", "ja", 5),
    ("カタカナ 漢字", "ja", 6),
    ("我爱你 ok", "zh", 3),
    ("我爱你 ok", "zh-Hant", 3),
    ("Café 123 東京", "en", 4),
    ("Tiếng Việt", "vi", 9),  # Latin Extended Additional counts
    ("привет мир", "ru", 9),
    ("привет мир", "en", 0),
    ("", "ko", 0),
]


@pytest.mark.parametrize(("text", "lang", "n"), SCRIPT_CHARS)
def test_source_script_chars_counts_only_the_source_script(text: str, lang: str, n: int) -> None:
    assert source_script_chars(text, lang) == n


# --------------------------------------------------------------------------------------------
# Geometry

UNIT = R(0, 0, 1, 1)
IOU = [
    # a, b, IoU, how
    (UNIT, UNIT, 1.0, "identical"),
    (UNIT, R(0.5, 0, 1.5, 1), 1 / 3, "offset by half a side: 0.5 / 1.5"),
    (UNIT, R(0.5, 0.5, 1.5, 1.5), 1 / 7, "offset diagonally: 0.25 / 1.75"),
    (UNIT, R(2, 2, 3, 3), 0.0, "disjoint"),
    (UNIT, R(0, 0, 2, 2), 1 / 4, "contained: 1 / 4"),
    (Quad(((1, 0), (2, 1), (1, 2), (0, 1))), R(0, 0, 2, 2), 1 / 2, "diamond inside its square: 2 / 4"),
    (Quad(((0, 0), (1, 1), (1, 0), (0, 1))), UNIT, 1.0, "bow-tie (corners out of order) = its hull"),
    (Quad(((0, 0), (2, 0), (2, 0), (0, 0))), UNIT, 0.0, "zero area"),
]


@pytest.mark.parametrize(("a", "b", "expected", "how"), IOU)
def test_quad_iou_table(a: Quad, b: Quad, expected: float, how: str) -> None:
    assert quad_iou(a, b) == pytest.approx(expected), how
    assert quad_iou(b, a) == pytest.approx(expected), how


def test_matching_is_one_to_one_and_prefers_the_higher_iou() -> None:
    truth = [R(0, 0, 10, 10), R(0, 20, 10, 30)]
    # p0 overlaps t0 with IoU 90/110; p1 is t0 exactly and wins it; p2 is a far false positive.
    pred = [R(0, 1, 10, 11), R(0, 0, 10, 10), R(100, 100, 110, 110)]
    m = match_quads(pred, truth)
    assert m == Matching(pairs=[(1, 0)], missed=[1], false=[0, 2], ignored=[])
    assert (m.tp, m.n_pred, m.n_true) == (1, 3, 2)


def test_duplicate_predictions_count_once() -> None:
    m = match_quads([UNIT, UNIT, UNIT], [UNIT])
    assert m.pairs == [(0, 0)]
    assert m.false == [1, 2]


def test_iou_threshold_is_inclusive() -> None:
    offset = R(0.5, 0, 1.5, 1)  # IoU exactly 1/3
    assert match_quads([offset], [UNIT], iou=1 / 3).pairs == [(0, 0)]
    assert match_quads([offset], [UNIT], iou=0.34).false == [0]


def test_predictions_on_ignored_truth_are_neither_true_nor_false() -> None:
    truth = [R(0, 0, 10, 10), R(50, 0, 60, 10), R(80, 0, 90, 10)]
    ignore = [False, True, True]
    pred = [
        R(0, 0, 10, 10),  # 0: true positive
        R(50, 0, 60, 10),  # 1: matches ignored truth 1 -> ignored
        R(50, 0, 52, 2),  # 2: IoU 0.04 but wholly inside ignored truth 1 -> ignored
        R(55, 0, 65, 10),  # 3: half of its area inside ignored truth 1 -> ignored
        R(56, 0, 66, 10),  # 4: 40% inside -> false
    ]
    m = match_quads(pred, truth, ignore=ignore)
    assert m.pairs == [(0, 0)]
    assert m.ignored == [1, 2, 3]
    assert m.false == [4]
    assert m.missed == []  # ignored truth 2, unmatched, is not missed
    assert (m.n_pred, m.n_true) == (2, 1)


MATCH_EMPTY = [
    ([], [], None, Matching([], [], [], [])),
    ([UNIT], [], None, Matching([], [], [0], [])),
    ([], [UNIT], None, Matching([], [0], [], [])),
    ([], [UNIT], [True], Matching([], [], [], [])),
]


@pytest.mark.parametrize(("pred", "truth", "ignore", "expected"), MATCH_EMPTY)
def test_matching_empty_sides(
    pred: list[Quad], truth: list[Quad], ignore: list[bool] | None, expected: Matching
) -> None:
    assert match_quads(pred, truth, ignore=ignore) == expected


def test_matching_rejects_ignore_flags_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="ignore"):
        match_quads([UNIT], [UNIT], ignore=[True, False])


PRF = [
    # tp, n_pred, n_true, precision, recall, hmean
    (0, 0, 0, 1.0, 1.0, 1.0),  # nothing to find, nothing claimed: perfect (ICDAR)
    (0, 0, 5, 0.0, 0.0, 0.0),  # nothing claimed, something missed
    (0, 3, 0, 0.0, 1.0, 0.0),  # nothing to find, three false claims
    (2, 4, 2, 0.5, 1.0, 2 / 3),
    (3, 3, 3, 1.0, 1.0, 1.0),
    (1, 2, 4, 0.5, 0.25, 1 / 3),  # 2 * 0.125 / 0.75
]


@pytest.mark.parametrize(("tp", "n_pred", "n_true", "p", "r", "h"), PRF)
def test_prf_table(tp: int, n_pred: int, n_true: int, p: float, r: float, h: float) -> None:
    assert prf(tp, n_pred, n_true) == pytest.approx((p, r, h))


@pytest.mark.parametrize(("tp", "n_pred", "n_true"), [(3, 2, 5), (3, 5, 2), (-1, 0, 0)])
def test_prf_rejects_impossible_counts(tp: int, n_pred: int, n_true: int) -> None:
    with pytest.raises(ValueError):
        prf(tp, n_pred, n_true)


def test_coverage_uses_the_union_of_predictions() -> None:
    truth = [R(0, 0, 2, 1), R(10, 10, 11, 11), R(5, 5, 5, 6)]
    pred = [R(0, 0, 1, 1), R(0.5, 0, 1.5, 1)]  # overlapping: union covers x 0..1.5
    cov = coverage(pred, truth)
    assert cov[:2] == pytest.approx([0.75, 0.0])
    assert math.isnan(cov[2])  # zero-area truth
    assert coverage([], [UNIT]) == [0.0]
    assert coverage([UNIT], []) == []


def test_collisions_counts_pairs_whose_ink_overlaps_over_the_share_of_the_smaller() -> None:
    def ink(x0: int, y0: int, w: int, h: int) -> tuple[int, int, np.ndarray]:
        return x0, y0, np.ones((h, w), bool)

    a, b, c = ink(0, 0, 10, 10), ink(9, 0, 10, 10), ink(18, 0, 10, 10)
    # a-b share a column of 10 of 100 pixels (10%): collide; b-c the same; a-c disjoint.
    assert collisions([a, b, c]) == 2
    assert collisions([a, b, c], min_share=0.15) == 0
    # Boxes that overlap while their ink does not (a packed menu's lines) do not collide.
    ring = np.ones((20, 20), bool)
    ring[2:18, 2:18] = False
    assert collisions([(0, 0, ring), ink(5, 5, 10, 10)]) == 0
    assert collisions([ink(0, 0, 100, 100), ink(10, 10, 2, 2)]) == 1  # drawn over another
    assert collisions([a]) == 0
    assert collisions([]) == 0


def test_residue_chars_counts_source_script_of_lines_centred_in_each_region() -> None:
    regions = [([R(0, 0, 100, 40)], "ko"), ([R(200, 0, 300, 40)], "ja")]
    found = [
        (R(10, 5, 60, 35), "시청 방면"),  # centre (35, 20) in the first: 4 Hangul
        (R(90, 5, 112, 35), "OK 역"),  # centre (101, 20): outside, but within the 4 px margin: 1 Hangul
        (R(200, 5, 260, 35), "東京 abc"),  # in the second: 2 Han (Latin is not Japanese script)
        (R(120, 5, 180, 35), "시청"),  # centre (150, 20): in neither
    ]
    assert residue_chars(regions, found) == [5, 2]
    assert residue_chars(regions, found, margin=0.0) == [4, 2]
    assert residue_chars(regions, []) == [0, 0]
    assert residue_chars([], found) == []
    # A line centred in an unscored quad (an illegible line of the block) counts nowhere.
    assert residue_chars(regions, found, unscored=[R(0, 0, 50, 40)]) == [1, 2]


def test_residue_chars_counts_only_on_a_blocks_lines() -> None:
    # A logo's name over its emblem letter: the block's two true lines, and the letter
    # between them, never text to erase, read once the name above it is gone.
    block = ([R(0, 0, 100, 20), R(0, 40, 100, 60)], "en")
    name, emblem = (R(10, 2, 90, 18), "REDROCK"), (R(40, 10, 60, 50), "R")
    assert residue_chars([block], [name, emblem]) == [7]
    assert residue_chars([block], [emblem]) == [0]
    assert residue_chars([([R(0, 0, 100, 60)], "en")], [emblem]) == [1]  # the block's box alone


# --------------------------------------------------------------------------------------------
# Images


def test_psnr_of_a_constant_difference() -> None:
    a = np.full((16, 16, 3), 100, np.uint8)
    for d in (1, 10, 50):
        assert psnr(a, a + np.uint8(d)) == pytest.approx(20 * math.log10(255 / d))


def test_psnr_identical_is_capped_at_100() -> None:
    a = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert psnr(a, a) == 100.0
    big = np.zeros((400, 400, 3), np.uint8)
    b = big.copy()
    b[0, 0, 0] = 1  # mse 1/480000: true PSNR 107 dB
    assert psnr(big, b) == 100.0


def test_psnr_inside_a_mask_only() -> None:
    a = np.full((10, 10, 3), 100, np.uint8)
    b = a.copy()
    b[:, 5:] = 200  # differs only on the right half
    mask = np.zeros((10, 10), bool)
    mask[:, :5] = True
    assert psnr(a, b, mask) == 100.0
    b[:, :5] = 105
    assert psnr(a, b, mask) == pytest.approx(20 * math.log10(255 / 5))
    assert psnr(a, b, (mask * 255).astype(np.uint8)) == pytest.approx(20 * math.log10(255 / 5))
    assert math.isnan(psnr(a, b, np.zeros((10, 10), bool)))


def test_ssim_identical_is_one_and_mask_selects_pixels() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert ssim(a, a) == pytest.approx(1.0)
    b = a.copy()
    b[:, 20:] = 255 - b[:, 20:]
    mask = np.zeros((32, 32), bool)
    mask[:, :10] = True  # 10 + 3 (half window) < 20: the map is 1 there
    assert ssim(a, b, mask) == pytest.approx(1.0)
    assert ssim(a, b) < 0.9
    gray = a[:, :, 0]
    assert ssim(gray, gray) == pytest.approx(1.0)
    assert ssim(a[:5, :5], a[:5, :5]) == pytest.approx(1.0)  # smaller window for small images


def test_image_metrics_reject_different_shapes() -> None:
    a = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError):
        psnr(a, np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(ValueError):
        ssim(a, np.zeros((9, 8, 3), np.uint8))


# --------------------------------------------------------------------------------------------
# Translation


@pytest.mark.parametrize(
    ("target", "tok"), [("en", "13a"), ("fr", "13a"), ("zh", "zh"), ("ja", "char"), ("ko", "char")]
)
def test_bleu_tokenizer_per_target(target: str, tok: str) -> None:
    assert bleu_tokenizer(target) == tok
    score = corpus_bleu(["the same words in both texts"], ["the same words in both texts"], target)
    assert f"tok:{tok}" in score.signature


def test_bleu_identical_is_100() -> None:
    s = corpus_bleu(["The cat sat on the mat."], ["The cat sat on the mat."], "en")
    assert s.value == pytest.approx(100.0)
    assert "tok:13a" in s.signature and "nrefs:1" in s.signature
    ja = corpus_bleu(["猫がマットの上に座った"], ["猫がマットの上に座った"], "ja")
    assert ja.value == pytest.approx(100.0)


def test_bleu_hand_example() -> None:
    # 1..4-gram precisions 4/5, 3/4, 2/3, 1/2; same length so BP = 1: BLEU = 0.2 ** 0.25.
    s = corpus_bleu(["a b c d e"], ["a b c d f"], "en")
    assert s.value == pytest.approx(100 * 0.2**0.25)


def test_chrf_identical_is_100_and_disjoint_is_0() -> None:
    assert corpus_chrf(["hello world"], ["hello world"]).value == pytest.approx(100.0)
    s = corpus_chrf(["xyz"], ["abc"])
    assert s.value == pytest.approx(0.0)
    assert "nc:6" in s.signature


def test_corpus_scores_check_alignment_and_empty_corpus() -> None:
    with pytest.raises(ValueError):
        corpus_bleu(["a"], ["a", "b"], "en")
    with pytest.raises(ValueError):
        corpus_chrf(["a", "b"], ["a"])
    empty = corpus_bleu([], [], "en")
    assert math.isnan(empty.value) and "tok:13a" in empty.signature
    assert math.isnan(corpus_chrf([], []).value)


# --------------------------------------------------------------------------------------------
# Accumulators


def test_detection_accumulator_micro_averages() -> None:
    acc = DetectionAccumulator()
    acc.update(match_quads([UNIT, R(5, 5, 6, 6)], [UNIT]))  # tp 1, pred 2, true 1
    acc.update(match_quads([], [UNIT, R(5, 5, 6, 6)]))  # tp 0, pred 0, true 2
    s = acc.summary()
    assert (s["tp"], s["n_pred"], s["n_true"]) == (1, 2, 3)
    assert (s["precision"], s["recall"]) == pytest.approx((1 / 2, 1 / 3))
    assert s["hmean"] == pytest.approx(2 * (1 / 6) / (5 / 6))  # 0.4
    assert DetectionAccumulator().summary()["hmean"] == 1.0


def test_text_accumulator_sums_edits_over_reference_chars() -> None:
    acc = TextAccumulator()
    acc.update("abcd", "abed")  # 1 edit / 4 chars, ned 1/4
    acc.update("x", "x")  # exact
    s = acc.summary()
    assert s == pytest.approx({"cer": 1 / 5, "exact": 1 / 2, "ned": 1 / 8, "n": 2})
    assert math.isnan(TextAccumulator().summary()["cer"])


def test_mean_accumulator_skips_nan() -> None:
    acc = MeanAccumulator()
    for v in (1.0, 2.0, math.nan, 4.0, None):
        acc.update(v)
    assert acc.summary() == pytest.approx({"mean": 7 / 3, "median": 2.0, "n": 3})
    empty = MeanAccumulator().summary()
    assert empty["n"] == 0 and math.isnan(empty["mean"])


# --------------------------------------------------------------------------------------------
# Style

COLOURS = [
    # a, b, CIEDE2000 (to 0.1), why
    ((255, 255, 255), (255, 255, 255), 0.0, "the same colour"),
    ((0, 0, 0), (255, 255, 255), 100.0, "black and white: the whole lightness scale"),
    ((255, 0, 0), (250, 5, 5), 1.1, "a near red: barely visible"),
    ((0, 0, 0), (53, 53, 53), 14.0, "black read as dark grey (antialiased thin strokes)"),
]


@pytest.mark.parametrize(("a", "b", "expected", "why"), COLOURS)
def test_colour_difference_is_ciede2000(a, b, expected, why) -> None:
    assert colour_difference(a, b) == pytest.approx(expected, abs=0.1), why
    assert colour_difference(b, a) == pytest.approx(expected, abs=0.1), "symmetric"


@pytest.mark.parametrize(
    ("a", "b", "expected"), [(10, 10, 0), (179, -179, 2), (0, 180, 180), (-90, 90, 180), (350, 5, 15)]
)
def test_angle_difference_wraps_around(a, b, expected) -> None:
    assert angle_difference(a, b) == pytest.approx(expected)


def test_style_agreement_against_a_synth_style() -> None:
    truth = {"font_size": 20, "text_color": [0, 0, 0], "outline_width": 2, "angle": 3.0}
    a = style_agreement(30.0, (0, 0, 0), False, -1.0, truth)
    assert a == StyleAgreement(size_ratio=1.5, text_colour=0.0, outline_agrees=False, angle_error=4.0)
    b = style_agreement(20.0, (255, 255, 255), True, 3.0, {**truth, "outline_width": 0})
    assert b.size_ratio == 1.0 and b.text_colour == pytest.approx(100.0, abs=0.1) and not b.outline_agrees


def test_ghost_slope_is_the_share_of_the_letters_left_in_the_fill() -> None:
    clean = np.full((4, 4, 3), 100, np.uint8)
    original = clean.copy()
    original[1:3, 1:3] = 200  # a letter 100 levels above the background
    mask = np.zeros((4, 4), np.uint8)
    mask[0:3, 0:3] = 255  # grown: covers background too, which does not count
    ghost = clean.copy()
    ghost[1:3, 1:3] = 125  # a quarter of the letter left
    assert ghost_slope(ghost, clean, original, mask) == pytest.approx(0.25)
    assert ghost_slope(clean, clean, original, mask) == 0.0
    assert ghost_slope(original, clean, original, mask) == 1.0
    dark = clean.copy()
    dark[1:3, 1:3] = 75  # darker than the background where the letter was lighter: negative
    assert ghost_slope(dark, clean, original, mask) == pytest.approx(-0.25)
    assert math.isnan(ghost_slope(clean, clean, clean, mask))  # no letter pixels
    faint = clean.copy()
    faint[1:3, 1:3] = 120  # 20 levels: fringe, not a letter, at the default threshold
    assert math.isnan(ghost_slope(clean, clean, faint, mask))
    with pytest.raises(ValueError, match="shape"):
        ghost_slope(ghost[:2], clean, original, mask)
