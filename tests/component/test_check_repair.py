"""The check stage on real engines: it finds what failed, repairs it, and leaves the rest alone."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from fixtures import render_lines

from imtrans.check import Engines, check_page
from imtrans.erase.telea import TeleaEraser
from imtrans.imageio import load_image
from imtrans.pipeline import Pipeline
from imtrans.render.draw import block_drawings, composite
from imtrans.settings import RenderSettings, Settings
from imtrans.types import Block, CheckCode, Line, Quad, Style, Translation

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def _engines(p: Pipeline) -> Engines:
    return Engines(lambda: p.detector, lambda: p.recognizer, p.eraser, p._other_eraser)


def _settings(mode: str) -> Settings:
    return Settings().with_overrides({"check.mode": mode})


def _exit_sign() -> tuple[np.ndarray, Block, np.ndarray]:
    r = render_lines(["EXIT 3 SOUTH"], "en", size=40, width=420)
    line = Line("l0", r.quads[0], text="EXIT 3 SOUTH", language="en", confidence=0.95)
    return r.image, Block("b0", r.quads[0], (line,), language="en"), r.mask


def test_residue_left_by_a_too_small_mask_is_found_and_erased_by_growing_the_mask(pipeline: Pipeline) -> None:
    image, block, letters = _exit_sign()
    mask = letters.copy()
    mask[:, 200:] = 0  # the mask misses "SOUTH" and half of "3"
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    erased = TeleaEraser().erase(image, mask)
    args = (image, erased, mask, None, [block], [], [], "en", _engines(pipeline))

    reported = check_page(*args, _settings("report"), page_seconds=1.0)
    repaired = check_page(*args, _settings("repair"), page_seconds=10.0)

    before, after = reported.quality["b0"], repaired.quality["b0"]
    assert before.failed == (CheckCode.RESIDUE,) and before.values["residue_chars"] >= 4
    assert np.array_equal(reported.erased, erased)  # report changes nothing
    assert after.passed and after.repairs[0] == "grow_mask" and after.score > before.score
    assert [d.code for d in reported.diagnostics] == [CheckCode.RESIDUE] and not repaired.diagnostics
    read = pipeline.recognizer.recognize(repaired.erased, list(block.lines), "en")
    assert not any(ch.isalpha() for ln in read for ch in ln.text)
    assert repaired.summary.repaired == 1 and repaired.summary.passed == 1


def test_repairs_stop_at_the_time_budget_and_what_is_left_is_reported(pipeline: Pipeline) -> None:
    image, block, letters = _exit_sign()
    mask = letters.copy()
    mask[:, 200:] = 0
    erased = TeleaEraser().erase(image, mask)
    settings = _settings("repair").with_overrides({"check.budget": 0.0})
    result = check_page(image, erased, mask, None, [block], [], [], "en", _engines(pipeline), settings, 10.0)
    q = result.quality["b0"]
    assert q.failed == (CheckCode.RESIDUE,) and q.attempts == 0 and result.summary.repaired == 0
    assert [d.block_id for d in result.diagnostics] == ["b0"] and np.array_equal(result.erased, erased)


def test_a_line_erased_as_its_whole_box_on_busy_ground_is_reported_and_not_repaired(
    pipeline: Pipeline,
) -> None:
    """The erase stage could not tell the line's lettering from its background and erased its
    whole box: on busy ground whatever else the box held is filled over, which no other check
    sees; on a plain plate the fill is the plate's own colour, and nothing was lost."""
    noise = np.random.default_rng(0).integers(0, 256, (120, 420, 3), dtype=np.uint8)
    for ground, flagged in ((noise, True), ((255, 255, 255), False)):
        r = render_lines(["EXIT 3 SOUTH"], "en", size=40, width=420, height=120, background=ground)
        line = Line("l0", r.quads[0], text="EXIT 3 SOUTH", language="en", confidence=0.95)
        block = Block("b0", r.quads[0], (line,), language="en")
        box = np.zeros_like(r.mask)
        x0, y0, x1, y1 = (int(v) for v in block.quad.bbox)
        box[y0 - 2 : y1 + 2, x0 - 2 : x1 + 2] = 255
        erased = TeleaEraser().erase(r.image, box)
        args = (
            r.image,
            erased,
            box,
            None,
            [block],
            [],
            [],
            "en",
            _engines(pipeline),
            _settings("repair"),
            10.0,
        )
        result = check_page(*args, whole_box=["l0"])
        q = result.quality["b0"]
        if flagged:
            assert CheckCode.WHOLE_BOX in q.failed and q.values["whole_box_lines"] == 1
            assert q.attempts == 0 and np.array_equal(result.erased, erased)
            assert CheckCode.WHOLE_BOX in [d.code for d in result.diagnostics]
        else:
            assert q.passed and q.values["whole_box_lines"] == 0, q


def test_text_drawn_in_the_backgrounds_colour_is_redrawn_legible(pipeline: Pipeline) -> None:
    image, block, letters = _exit_sign()
    mask = cv2.dilate(letters, np.ones((5, 5), np.uint8))
    erased = TeleaEraser().erase(image, mask)
    style = Style(text_color=(250, 250, 250), background_color=(255, 255, 255), font_size=40)
    translations = {"b0": Translation("b0", "Exit three south", "en", "en", "test")}
    notes: list = []
    renders = list(
        block_drawings(erased, [block], translations, {"b0": style}, RenderSettings(), "en", notes)
    )
    out = erased.copy()
    for r in renders:
        composite(out, r.drawing.patch)
    args = (image, erased, mask, out, [block], renders, [], "en", _engines(pipeline))

    reported = check_page(*args, _settings("report"), page_seconds=1.0)
    repaired = check_page(*args, _settings("repair"), page_seconds=10.0)

    before, after = reported.quality["b0"], repaired.quality["b0"]
    assert CheckCode.LOW_CONTRAST in before.failed and CheckCode.ILLEGIBLE in before.failed
    assert after.passed, after
    assert after.repairs == ("recolour",) and repaired.styles["b0"].text_color == (0, 0, 0)
    assert after.values["legibility_cer"] <= 0.2 and after.values["contrast"] > 10
    assert repaired.image is not None and not np.array_equal(repaired.image, out)
    # Nothing outside the block's window was touched.
    changed = np.abs(repaired.image.astype(int) - out.astype(int)).max(axis=2) > 0
    ys, xs = np.nonzero(changed)
    x0, y0, x1, y1 = block.quad.bbox
    assert xs.min() >= x0 - 60 and xs.max() <= x1 + 60 and ys.min() >= y0 - 60 and ys.max() <= y1 + 60


def _sign_settings(mode: str) -> Settings:
    return Settings().with_overrides(
        {
            "translate.glossary": str(ROOT / "examples/glossary.csv"),
            "translate.cache": False,
            "check.mode": mode,
        }
    )


def test_check_off_draws_exactly_what_the_renderer_draws_and_report_changes_no_pixel() -> None:
    from imtrans.render import render_page

    image = load_image(ROOT / "examples/sign_ko.png")
    off = Pipeline(_sign_settings("off")).translate(image)
    report = Pipeline(_sign_settings("report")).translate(image)
    drawn = [b for b in off.blocks if b.id in off.page.translations]
    again, _ = render_page(off.erased, drawn, off.page.translations, off.page.styles, RenderSettings(), "en")
    assert np.array_equal(off.image, again)
    assert np.array_equal(report.image, off.image)
    assert off.page.quality == {} and off.page.check is None and "check" not in off.page.to_dict()
    assert "check" not in off.page.timings and "repair" not in off.page.timings


def test_a_repair_that_makes_an_overflowing_block_fit_takes_its_overflow_note_away() -> None:
    pipeline = Pipeline(_sign_settings("repair"))
    image = load_image(ROOT / "examples/sign_ko.png")
    first = pipeline.translate(image)
    long = Translation("b2", "Exit number three, towards the city hall " * 12, "ko", "en", "edited")
    page = first.page.with_(translations={**first.page.translations, "b2": long})
    off = Pipeline(_sign_settings("off")).rerender(image, page)
    assert "overflow" in {d.code for d in off.page.diagnostics if d.block_id == "b2"}
    repaired = Pipeline(_sign_settings("repair").with_overrides({"check.budget": 10.0})).rerender(image, page)
    q = repaired.page.quality["b2"]
    assert "grow_box" in q.repairs and q.values["overflow"] == 0
    # Twelve sentences in a sign's line fit only at 10 px: no longer overflowing, but far
    # smaller than the sign's lettering, which is reported (no repair makes room for it).
    assert q.failed == (CheckCode.SHRUNK,) and q.values["source_px"] >= 40
    notes = [d.code for d in repaired.page.diagnostics if d.block_id == "b2" and d.severity != "info"]
    assert notes == [CheckCode.SHRUNK]


def test_a_page_drawn_again_with_the_check_off_keeps_no_earlier_verdict() -> None:
    image = load_image(ROOT / "examples/sign_ko.png")
    checked = Pipeline(_sign_settings("repair")).translate(image).page
    assert checked.quality and checked.check is not None
    again = Pipeline(_sign_settings("off")).rerender(image, checked).page
    assert again.quality == {} and again.check is None and "check" not in again.to_dict()


def test_every_block_of_a_translated_page_carries_its_quality() -> None:
    result = Pipeline(_sign_settings("repair")).translate(load_image(ROOT / "examples/sign_ko.png"))
    page = result.page
    assert set(page.quality) == {b.id for b in page.blocks if b.id in page.translations}
    assert page.check is not None and page.check.blocks == len(page.quality) and page.check.mode == "repair"
    assert page.check.passed == sum(q.passed for q in page.quality.values())
    assert all(0.0 <= q.score <= 1.0 for q in page.quality.values())
    assert "check" in page.timings and "repair" in page.timings


def test_read_back_turns_text_drawn_at_90_degrees_upright(pipeline: Pipeline) -> None:
    from imtrans.check.legibility import read_back

    r = render_lines(["EXIT 3 SOUTH"], "en", size=40, width=420)
    turned = np.ascontiguousarray(np.rot90(r.image, 1))  # reads bottom to top: 90 degrees
    h, w = turned.shape[:2]
    box = (0.0, 0.0, float(w), float(h))
    assert read_back(pipeline.detector, pipeline.recognizer, turned, box, "en", turns=1) == "EXIT 3 SOUTH"


def test_read_back_reads_a_line_drawn_close_above_another_on_its_own(pipeline: Pipeline) -> None:
    """Menu lines drawn 0.9 of their size apart: read on the drawn page, the next line's tops
    come into the crop and garble the first ("주멍활로구이."); read alone (its own ink over the
    erased page, here the plain board), it reads as drawn."""
    from imtrans.check.legibility import read_back
    from imtrans.render.draw import DrawnInk

    board = (20, 20, 20)
    r = render_lines(["주먹화로구이", "(1인분 200g) 12,000"], "ko", size=20, width=260, spacing=0.9,
                     color=(240, 240, 240), background=board)  # fmt: skip
    erased = np.zeros_like(r.image)
    erased[:] = board
    x0, y0, x1, y1 = (round(v) for v in r.quads[0].bbox)
    first = DrawnInk(x0, y0, r.mask[y0:y1, x0:x1] > 0, 20)
    box = (float(x0), float(y0), float(x1), float(y1))
    kw = {"pad": 0.0, "min_pad": 12.0, "centred_inside": True}
    assert read_back(pipeline.detector, pipeline.recognizer, r.image, box, "ko", **kw) != "주먹화로구이"
    alone = read_back(pipeline.detector, pipeline.recognizer, r.image, box, "ko", alone=(first, erased), **kw)
    assert alone == "주먹화로구이"


def test_read_back_reads_short_text_the_detector_misses_where_its_ink_is(pipeline: Pipeline) -> None:
    """ "I..." drawn at 21 px in a bubble (OpenMantra dev 016 and 030): the detector's line reads
    as nothing; read from the drawing's own ink, it reads as drawn."""
    from imtrans.check.legibility import read_back
    from imtrans.render.draw import DrawnInk

    r = render_lines(["I..."], "en", size=21, width=90)
    erased = np.full_like(r.image, 255)
    x0, y0, x1, y1 = (round(v) for v in r.quads[0].bbox)
    ink = DrawnInk(x0, y0, r.mask[y0:y1, x0:x1] > 0, 21)
    box = (float(x0), float(y0), float(x1), float(y1))
    read = read_back(pipeline.detector, pipeline.recognizer, r.image, box, "en", pad=0.0, min_pad=12.6,
                     centred_inside=True, alone=(ink, erased))  # fmt: skip
    assert read.startswith("I")


def test_read_back_reads_a_title_drawn_hundreds_of_pixels_tall_shrunk(pipeline: Pipeline) -> None:
    """A 240 px title is read from a crop shrunk to glyphs of `READ_MAX_PX` (the detector's time
    grows with the crop), and reads as drawn."""
    from imtrans.check.legibility import READ_MAX_PX, READ_PAD, read_back
    from imtrans.render.draw import DrawnInk

    r = render_lines(["OPEN"], "en", size=240, width=900)
    erased = np.full_like(r.image, 255)
    x0, y0, x1, y1 = (round(v) for v in r.quads[0].bbox)
    ink = DrawnInk(x0, y0, r.mask[y0:y1, x0:x1] > 0, 240)
    seen: list[tuple[int, ...]] = []

    class Watched:
        def detect(self, image: np.ndarray) -> list:
            seen.append(image.shape)
            return pipeline.detector.detect(image)

    box = (float(x0), float(y0), float(x1), float(y1))
    read = read_back(Watched(), pipeline.recognizer, r.image, box, "en", alone=(ink, erased))  # type: ignore[arg-type]
    assert read.replace(" ", "") == "OPEN"
    grow = READ_PAD * max(x1 - x0, y1 - y0)
    full = min(r.image.shape[0], math.ceil(y1 + grow)) - max(0, int(y0 - grow))  # the crop unshrunk
    assert seen and seen[0][0] <= round(full * READ_MAX_PX / 240) + 1


def _touching_pair(pipeline: Pipeline) -> tuple:
    """A long line drawn over a short one beside it, both drawn; `check_page`'s arguments."""
    image = np.full((120, 420, 3), 255, np.uint8)
    long_quad, short_quad = Quad.from_rect(10, 20, 410, 70), Quad.from_rect(360, 50, 410, 70)
    blocks = [
        Block("b0", long_quad, (Line("l0", long_quad, text="x"),), language="en"),
        Block("b1", short_quad, (Line("l1", short_quad, text="y"),), language="en"),
    ]
    translations = {
        "b0": Translation("b0", "WELCOME TO OUR SHOP", "ko", "en", "test"),
        "b1": Translation("b1", "OPEN", "ko", "en", "test"),
    }
    style = Style(text_color=(0, 0, 0), background_color=(255, 255, 255), font_size=30)
    renders = list(
        block_drawings(image, blocks, translations, {"b0": style, "b1": style}, RenderSettings(), "en", [])
    )
    out = image.copy()
    for r in renders:
        composite(out, r.drawing.patch)
    mask = np.zeros(image.shape[:2], np.uint8)
    return (image, image, mask, out, blocks, renders, [], "en", _engines(pipeline))


def test_two_drawings_that_touch_are_both_flagged_however_large_one_is(pipeline: Pipeline) -> None:
    """A long line drawn over a short one beside it: the overlap is a small share of the long
    line's ink but a large one of the short line's; the pair is one collision for both (ko01)."""
    args = _touching_pair(pipeline)
    checked = check_page(*args, _settings("report"), page_seconds=1.0)
    long_q, short_q = checked.quality["b0"], checked.quality["b1"]
    assert CheckCode.COLLISION in short_q.failed
    assert CheckCode.COLLISION in long_q.failed, long_q.values


def test_a_drawing_on_other_text_is_drawn_smaller_to_clear_it(pipeline: Pipeline) -> None:
    """The same pair repaired: the long line is drawn again smaller, clear of the short one,
    and the repair is named in its quality (zh01: a title drawn at its own size over a line)."""
    args = _touching_pair(pipeline)
    checked = check_page(*args, _settings("repair"), page_seconds=100.0)
    assert "smaller" in checked.quality["b0"].repairs
    assert CheckCode.COLLISION not in checked.quality["b0"].failed + checked.quality["b1"].failed
    first = next(r for r in args[5] if r.block.id == "b0").drawing.layout.font_px
    assert checked.ink["b0"].font_px < first
