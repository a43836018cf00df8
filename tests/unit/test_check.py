"""The check functions, one by one, on small images drawn here: each measures what it says."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from fixtures import render_lines

from imtrans.check.contrast import (
    contrast_finding,
    contrast_ratio,
    lettering_contrast,
    text_contrast,
)
from imtrans.check.damage import damage_finding
from imtrans.check.findings import Finding, quality_of, rank
from imtrans.check.fit import collision_finding, fit_finding, size_finding, spill
from imtrans.check.legibility import legibility_cer, legibility_finding
from imtrans.check.residue import grow_quad, ink_left, residue_finding, residue_regions
from imtrans.types import Block, BlockQuality, CheckCode, CheckSummary, Line, Page, Quad

WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (128, 128, 128)


@pytest.mark.parametrize(
    ("a", "b", "ratio"),
    [(BLACK, WHITE, 21.0), (WHITE, WHITE, 1.0), (GREY, WHITE, 3.95), ((255, 0, 0), WHITE, 4.0)],
)
def test_contrast_ratio_is_wcags(a: tuple[int, int, int], b: tuple[int, int, int], ratio: float) -> None:
    assert float(contrast_ratio(np.float64(a), np.float64(b))) == pytest.approx(ratio, abs=0.02)


def test_text_in_the_backgrounds_colour_fails_contrast_and_black_on_white_passes() -> None:
    under = np.full((50, 3), 250, np.uint8)
    same = contrast_finding(text_contrast((250, 250, 250), under), 21.0)
    black = contrast_finding(text_contrast(BLACK, under), 21.0)
    assert (
        not same.passed
        and same.code == CheckCode.LOW_CONTRAST
        and same.values["contrast"] == pytest.approx(1.0)
    )
    assert black.passed and black.score == 1.0


def test_an_outline_makes_white_text_on_white_pass() -> None:
    under = np.full((50, 3), 255, np.uint8)
    assert not contrast_finding(text_contrast(WHITE, under)).passed
    assert not contrast_finding(text_contrast(WHITE, under, BLACK, 1)).passed  # too thin to count
    assert contrast_finding(text_contrast(WHITE, under, BLACK, 2)).passed


def test_low_contrast_lettering_may_stay_low_but_not_fall_below_the_floor() -> None:
    # The source design was grey on grey (2.2:1): 1.9 keeps most of it; 1.5 is too low for anyone.
    assert contrast_finding(1.9, 2.2).passed
    assert not contrast_finding(1.5, 2.2).passed
    # Black on white lettering drawn back at 2.5:1 lost too much.
    assert not contrast_finding(2.5, 21.0).passed


def test_lettering_contrast_is_the_median_ratio_of_letters_to_the_fill_under_them() -> None:
    letters = np.array([BLACK] * 9 + [WHITE], np.uint8)
    assert lettering_contrast(letters, np.full((10, 3), 255, np.uint8)) == pytest.approx(21.0)
    assert math.isnan(lettering_contrast(np.zeros((0, 3)), np.zeros((0, 3))))


def _erased_with(r, keep_right: bool) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """The drawn line erased to its clean background, all of it or only its left half."""
    mask = r.mask > 0
    if keep_right:
        x0, _, x1, _ = r.quads[0].bbox
        mask[:, round((x0 + x1) / 2) :] = False
    erased = np.where(mask[..., None], r.background, r.image)
    return erased, mask


def test_ink_left_is_zero_when_the_letters_are_gone_and_high_when_half_remain() -> None:
    r = render_lines(["EXIT 3 SOUTH"], "en", size=40, width=420)
    region = _quad_mask(grow_quad(r.quads[0], 0.3), r.mask.shape)
    boxes = _quad_mask(grow_quad(r.quads[0], 0.1), r.mask.shape)
    clean, mask = _erased_with(r, keep_right=False)
    assert ink_left(r.image, clean, mask, *residue_regions(mask, boxes, region, 4)) == pytest.approx(
        0.0, abs=0.02
    )
    half, half_mask = _erased_with(r, keep_right=True)
    assert ink_left(r.image, half, half_mask, *residue_regions(half_mask, boxes, region, 4)) > 0.3


def test_ink_left_discounts_background_texture_of_the_lettering_colour() -> None:
    # Dark letters on a plate, on a page full of dark speckle: the speckle far from the mask is
    # texture, so a clean erase scores low and a half-done one still high.
    rng = np.random.default_rng(0)
    page = np.full((120, 420, 3), 240, np.uint8)
    page[rng.random((120, 420)) < 0.2] = (20, 20, 20)
    r = render_lines(["EXIT"], "en", size=40, width=420, height=120, background=page)
    erased, mask = _erased_with(r, keep_right=False)
    region = _quad_mask(grow_quad(r.quads[0], 0.3), mask.shape)
    boxes = _quad_mask(grow_quad(r.quads[0], 0.1), mask.shape)
    assert ink_left(r.image, erased, mask, *residue_regions(mask, boxes, region, 3)) < 0.2
    half, half_mask = _erased_with(r, keep_right=True)
    assert ink_left(r.image, half, half_mask, *residue_regions(half_mask, boxes, region, 3)) > 0.3


def _quad_mask(q: Quad, shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(out, [np.round(np.asarray(q.points)).astype(np.int32)], 1)
    return out > 0


def test_residue_fails_when_a_share_of_the_source_is_read_again() -> None:
    assert residue_finding(None, 10, 0.01).passed  # not suspicious, not read
    assert residue_finding(2, 10, 0.4).passed  # 2 of 10 is below the 30% share
    failed = residue_finding(3, 10, 0.4)
    assert not failed.passed and failed.values["residue_chars"] == 3.0
    assert not residue_finding(1, 2, 0.4).passed  # a short line: one character is enough


def test_legibility_is_the_cer_of_the_text_read_back() -> None:
    ok = legibility_finding("Seoul Station", "Seoul Station")
    bad = legibility_finding("Seo", "Seoul Station")
    assert ok.passed and ok.values["legibility_cer"] == 0.0
    assert not bad.passed and bad.code == CheckCode.ILLEGIBLE and bad.values["legibility_cer"] > 0.5


@pytest.mark.parametrize(
    ("read", "meant", "expected"),
    [
        ("And", "And ...", 0.0),  # the dots of a small ellipsis are not read back
        ("(you)", "you", 0.0),  # brackets read that are not there
        ("", "....?", 0.0),  # nothing to read but marks
        ("", "I...", 1.0),
        ("안녕 하세요", "안녕, 하세요!", 0.0),
        ("Seo", "Seoul Station", 10 / 13),
    ],
)
def test_legibility_is_measured_on_letters_and_digits(read, meant, expected) -> None:
    assert legibility_cer(read, meant) == pytest.approx(expected)


def test_fit_fails_on_overflow_onto_other_things_or_a_size_below_the_minimum() -> None:
    assert fit_finding(False, 12, 10).passed
    assert not fit_finding(True, 12, 10).passed
    assert not fit_finding(False, 8, 10).passed
    # Spilled past its region but only onto the bubble's own white: not seen, not failed.
    assert fit_finding(True, 10, 10, spilled=0.0).passed
    assert not fit_finding(True, 10, 10, spilled=0.2).passed


def test_text_drawn_far_smaller_than_its_source_lettering_is_flagged() -> None:
    # zh01's 557 px shop title drawn at the 200 px cap; small lettering is left to the size floor.
    assert not size_finding(200, 557.0).passed and size_finding(200, 557.0).code is CheckCode.SHRUNK
    assert size_finding(260, 557.0).passed
    assert size_finding(12, 30.0).passed


def test_spill_is_the_share_of_ink_over_anything_but_the_plain_background() -> None:
    white = np.full((90, 3), 250, np.uint8)
    assert spill(white) == 0.0
    over_outline = np.concatenate([white, np.zeros((10, 3), np.uint8)])
    assert spill(over_outline) == pytest.approx(0.1)


def test_collision_counts_the_share_of_ink_on_other_text() -> None:
    ink = np.zeros((10, 10), bool)
    ink[2:8, 2:8] = True
    others = np.zeros_like(ink)
    assert collision_finding(ink, others).passed
    others[2:4, 2:8] = True  # 12 of 36 ink pixels
    found = collision_finding(ink, others)
    assert not found.passed and found.values["collision"] == pytest.approx(12 / 36)
    # A large drawing touching a small one: 1 of its 36 pixels, but a tenth of the small one's.
    touch = np.zeros_like(ink)
    touch[2, 2] = True
    assert collision_finding(ink, touch).values["collision"] == pytest.approx(1 / 36)
    assert not collision_finding(ink, touch, pair_share=0.1).passed


def test_damage_counts_changed_pixels_outside_what_may_change() -> None:
    original = np.full((20, 20, 3), 100, np.uint8)
    final = original.copy()
    allowed = np.zeros((20, 20), bool)
    allowed[5:10, 5:10] = True
    final[5:10, 5:10] = 0  # inside the mask: fine
    assert damage_finding(original, final, allowed).passed
    final[0:4, 0:20] = 200  # 80 of 375 kept pixels
    found = damage_finding(original, final, allowed)
    assert not found.passed and found.values["damage"] == pytest.approx(80 / 375)


def test_grow_quad_grows_every_side_by_the_share_of_its_height() -> None:
    grown = grow_quad(Quad.from_rect(10, 20, 110, 40), 0.5)
    assert grown.bbox == pytest.approx((0, 10, 120, 50))


def test_quality_is_the_lowest_score_and_lists_failures_in_code_order() -> None:
    findings = [
        Finding(CheckCode.LOW_CONTRAST, False, 0.2, {"contrast": 1.2}),
        Finding(CheckCode.RESIDUE, False, 0.6, {"ink_left": 0.3}),
        Finding(CheckCode.OVERFLOW, True, 1.0, {"font_px": 14.0}),
    ]
    q = quality_of(findings, ("recolour",), 2)
    assert q.score == 0.2 and q.failed == (CheckCode.RESIDUE, CheckCode.LOW_CONTRAST) and not q.passed
    assert q.values == {"contrast": 1.2, "ink_left": 0.3, "font_px": 14.0}
    assert rank(findings[2:]) < rank(findings[1:]) < rank(findings)


def test_quality_and_the_check_summary_go_through_the_page_json() -> None:
    block = Block("b0", Quad.from_rect(0, 0, 10, 10), (Line("l0", Quad.from_rect(0, 0, 10, 10), text="x"),))
    q = BlockQuality(0.4, (CheckCode.ILLEGIBLE,), {"legibility_cer": 0.6}, ("outline",), 3)
    summary = CheckSummary("repair", blocks=1, passed=0, repaired=1, read_back=1)
    page = Page(20, 20, (block,), quality={"b0": q}, check=summary)
    d = page.to_dict()
    assert d["blocks"][0]["quality"]["failed"] == ["illegible"] and d["check"]["failed"] == 1
    back = Page.from_json(page.to_json())
    assert back.quality["b0"] == q and back.check == summary
    assert "check" not in Page(20, 20, (block,)).to_dict()


@pytest.mark.parametrize(
    ("meant", "target", "expected"),
    [
        ("Exit 3", "en", "en"),
        ("전시홀 A", "en", "en"),  # a translation is read in its target, whatever it holds
        ("전시홀 A", "auto", "ko"),  # drawn in its own text: read by its script
        ("[ノラン袋ポテト] チーズスティック", "auto", "ja"),
        ("芝士条、炸薯角", "auto", "zh"),
        ("12,000", "auto", "auto"),
    ],
)
def test_a_drawing_is_read_back_in_its_target_or_its_own_scripts_language(meant, target, expected):
    from imtrans.check.legibility import read_language

    assert read_language(meant, target) == expected


def test_ink_lines_are_bands_of_inked_rows_and_leave_columns_out() -> None:
    from imtrans.check.legibility import ink_lines

    own = np.zeros((100, 200), bool)
    own[10:30, 20:180] = True  # a line
    own[33:35, 20:60] = True  # its descenders, closer than a quarter of the size: the same line
    own[60:80, 40:120] = True  # a second line
    assert [ln.quad.bbox for ln in ink_lines(own, 20.0)] == [
        (13.75, 3.75, 186.25, 41.25),
        (35.0, 55.0, 125.0, 85.0),
    ]
    column = np.zeros((100, 40), bool)
    column[5:95, 10:30] = True
    assert ink_lines(column, 20.0) == []
    assert ink_lines(np.zeros((10, 10), bool), 20.0) == []
