"""Regression guards on real images: one test per failure class that real pages broke.

The pages are read from the real development sets beside the checkout (`../shared/data`, see
`fixtures.shared_dataset`) at test time and never copied into the repository. Each test names
the mechanism it guards (issue 17's failure classes).
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from fixtures import shared_dataset

from imtrans.evaluate.adapters import load_dataset
from imtrans.evaluate.baselines import RapidOCRBaseline
from imtrans.evaluate.metrics import cer, ink_overlap
from imtrans.evaluate.reading import read_order, score_reading, truth_regions
from imtrans.imageio import load_image
from imtrans.languages import has_letters, script_counts
from imtrans.pipeline import Pipeline
from imtrans.settings import Settings
from imtrans.types import CheckCode, Direction, Translation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


def _manga_page(index: int):
    root = shared_dataset("openmantra-dev")
    books = json.loads((root / "annotation.json").read_text(encoding="utf-8"))
    page = books[0]["pages"][index]
    return load_image(root / page["image_paths"]["ja"]), page["text"]


def _inside(quad, box) -> bool:
    x, y = quad.centre
    return box["x"] <= x <= box["x"] + box["w"] and box["y"] <= y <= box["y"] + box["h"]


def _realphoto(name: str):
    root = shared_dataset("realphotos-dev")
    truth = json.loads((root / f"{name}.json").read_text(encoding="utf-8"))
    return load_image(root / truth["file"]), truth


# A bubble of three close vertical columns on boureisougi-005: "お姉さんは有名な / 美人女優だった /
# そうですね". Before: merge_glyphs chained them sideways, and the half-scale pass's box over all
# three replaced them (its "is a line" test knew only horizontal lines); nothing was read.
BUBBLE = 4


@pytest.mark.parametrize("merge_glyphs", [True, False])
def test_close_vertical_columns_of_a_bubble_are_read_as_columns(merge_glyphs):
    # With merge_glyphs off, what is left to guard is the coarse pass (failure class 2).
    image, boxes = _manga_page(5)
    bubble = boxes[BUBBLE]
    settings = Settings().with_overrides({"detect.merge_glyphs": merge_glyphs})
    page = Pipeline(settings).ocr(image).page
    mine = [ln for ln in page.lines if _inside(ln.quad, bubble)]
    assert len(mine) >= 3 and all(ln.direction is Direction.VERTICAL for ln in mine)
    text = "".join(ln.text for ln in read_order(mine))
    assert cer(text, bubble["text_ja"].replace("\n", "")) <= 0.1, text


def test_columns_are_never_chained_into_a_horizontal_line(pipeline):
    # Failure class 1 on a whole page (boureisougi-009): inside bubbles of vertical writing no
    # horizontal box is taller than two columns are wide. Chained columns came out as such
    # boxes (4 on this page before), then went unread.
    image, boxes = _manga_page(9)
    found = pipeline.detector.detect(image)
    column = float(np.median([ln.quad.width for ln in found if ln.direction is Direction.VERTICAL]))
    vertical_bubbles = [b for b in boxes if b["h"] > b["w"]]
    sideways = [
        ln.quad.bbox
        for ln in found
        if ln.direction is Direction.HORIZONTAL
        and ln.quad.height > 2 * column
        and any(_inside(ln.quad, b) for b in vertical_bubbles)
    ]
    assert sideways == []


def test_prices_are_read_and_kept_apart_from_their_dishes(pipeline):
    # Failure classes 3 and 5 on a lunch menu (ko04): every price was dropped as "no letters",
    # and the dishes were stacked into one paragraph.
    image, truth = _realphoto("ko04_sign_lunch_specials")
    page = pipeline.ocr(image).page
    prices = [t["text"] for t in truth["lines"] if t["text"] and not any(c.isalpha() for c in t["text"])]
    dishes = [t["text"] for t in truth["lines"] if t["text"] and any(c.isalpha() for c in t["text"])][1:]
    read_prices = [b.text for b in page.blocks if not any(has_letters(ln.text) for ln in b.lines)]
    assert sum(p in read_prices for p in set(prices)) >= len(set(prices)) - 1, read_prices
    for b in page.blocks:
        # No block mixes a dish with a price, and none holds two dishes.
        assert len({has_letters(ln.text) for ln in b.lines}) == 1, b.text
        assert sum(cer(ln.text, d) <= 0.25 for ln in b.lines for d in dishes) <= 1, b.text
    close = [d for d in dishes if any(cer(b.text, d) <= 0.25 for b in page.blocks)]
    assert len(close) >= len(dishes) - 2, [b.text for b in page.blocks]


def test_a_price_is_left_as_drawn_when_the_page_is_translated(tmp_path):
    image, truth = _realphoto("ko04_sign_lunch_specials")
    dishes = [t["text"] for t in truth["lines"] if t["text"] and has_letters(t["text"])][1:]
    glossary = tmp_path / "menu.csv"
    glossary.write_text(
        "source,target\n" + "".join(f"{d},dish {k}\n" for k, d in enumerate(dishes)), encoding="utf-8"
    )
    # The glossary tolerates one misread syllable in four (the Korean reader's errors are not
    # what this test guards: the prices are).
    settings = Settings().with_overrides(
        {"translate.glossary": str(glossary), "translate.target": "en", "translate.fuzzy_threshold": 70}
    )
    result = Pipeline(settings).translate(image)
    kept = {d.block_id for d in result.page.diagnostics if d.code == "no_letters"}
    assert len(kept) >= 6 and not kept & set(result.page.translations)
    drawn = [t.text for t in result.page.translations.values()]
    assert sum(f"dish {k}" in drawn for k in range(len(dishes))) >= len(dishes) - 3, drawn


def test_two_dishes_with_their_serving_lines_between_them_are_two_blocks(pipeline):
    # Failure class 3 on ko01: "주먹화로구이" and "양념꼬치구이" stand one above the other with
    # "(1인분 200g) 12,000" under each; they were joined across it into one block.
    image, _ = _realphoto("ko01_menu_pocha")
    page = pipeline.ocr(image).page
    holding = [
        b.id
        for b in page.blocks
        for d in ("주먹화로구이", "양념꼬치구이")
        if any(cer(ln.text, d) <= 0.34 for ln in b.lines)
    ]
    assert len(holding) == 2 and len(set(holding)) == 2, [b.text for b in page.blocks]


def test_the_rule_under_a_title_is_not_erased_with_it(pipeline):
    # Failure class 4 on ko01: the white rule under the title runs through the title's padded
    # box, and its left half was erased with the lettering (13% of its pixels were left).
    image, _ = _realphoto("ko01_menu_pocha")
    bright = (image.min(axis=2) > 150).astype(np.uint8)
    window = np.zeros_like(bright)
    window[70:125, 120:450] = 1  # between the title and the first dish
    found = cv2.HoughLinesP(bright * window * 255, 1, np.pi / 360, 80, minLineLength=200, maxLineGap=6)
    assert found is not None
    x0, y0, x1, y1 = (
        int(v) for v in max(found.reshape(-1, 4), key=lambda v: np.hypot(v[2] - v[0], v[3] - v[1]))
    )
    band = np.zeros_like(bright)
    cv2.line(band, (x0, y0), (x1, y1), 1, 3)
    rule = (band > 0) & (bright > 0)
    erased = pipeline.erase(image).erased
    assert rule.sum() > 400 and ((erased.min(axis=2) > 150) & rule).sum() > 0.5 * rule.sum()


def test_a_line_whose_glyph_touches_the_line_above_is_erased_on_its_plate(pipeline):
    # ko24's red "123" beside a pepper pictogram whose stroke runs into the small line above:
    # through that lettering the outside reached into the white plate, so the plate was not
    # found, the line fell back to its whole box and was filled as a grey box. With the
    # neighbours' boxes as walls, the plate holds it and only the lettering is erased.
    image, _ = _realphoto("ko24_sign_utility_pole_plate")
    result = pipeline.erase(image)
    assert "whole_box_mask" not in {d.code for d in result.page.diagnostics}
    window = result.erased[735:782, 232:392].astype(int)
    source = image[735:782, 232:392].astype(int)
    red = lambda a: int(((a[..., 0] - a[..., 1]) > 40).sum())
    assert red(source) > 1000 and red(window) == 0
    assert (window.min(axis=2) < 150).sum() == 0  # no stroke, rim or pictogram left


def test_a_menu_item_runs_on_along_its_row_instead_of_wrapping(tmp_path):
    # Failure class 6 on ko01's open black board: "Bowl of rice" for "공기밥" was wrapped on two
    # lines at half size in the box made for three syllables, and ran into the next item.
    image, _ = _realphoto("ko01_menu_pocha")
    glossary = tmp_path / "menu.csv"
    glossary.write_text("source,target\n공기밥,Bowl of rice\n", encoding="utf-8")
    settings = Settings().with_overrides({"translate.glossary": str(glossary), "check.mode": "off"})
    result = Pipeline(settings).translate(image)
    (block,) = [b for b in result.blocks if b.id in result.page.translations]
    x0, y0, x1, y1 = result.drawn[block.id]
    bx0, by0, bx1, by1 = block.quad.bbox
    assert x1 - x0 > 1.5 * (bx1 - bx0)  # along the row, past its own box
    assert y1 - y0 < 1.2 * (by1 - by0)  # on one line
    assert x0 >= bx0 - 4  # starting where the item did


def test_never_reads_worse_than_the_engine_it_wraps_on_manga_pages(pipeline):
    # The first six pages of the development series, scored as `imtrans eval --baseline rapidocr`
    # scores them: imtrans made 3.4x the raw engine's character errors before (2026-12).
    data = load_dataset(shared_dataset("openmantra-dev"))
    baseline = RapidOCRBaseline()
    edits = {"imtrans": 0, "rapidocr": 0}
    for sample in data.samples[:6]:
        image = load_image(data.path(sample.image))
        regions, line_truth = truth_regions(sample)
        found = {"imtrans": pipeline.ocr(image).page.lines, "rapidocr": baseline.read(image, ["ja"])}
        for name, lines in found.items():
            edits[name] += sum(r.edits for r in score_reading(lines, regions, line_truth).regions)
    assert edits["imtrans"] <= edits["rapidocr"], edits


def test_an_arched_line_is_read_straightened(pipeline):
    # zh01's subtitle "外酥內柔 層次感豐富" sags over the stall's banner. As rectangles its glyphs
    # were cut across the arc and read "外酥內美唇次感體售"; found as one curved line along the
    # arc (its two words' arcs joined, detect/curves.py) and read straightened, it reads right
    # (PP-OCR's Simplified 内 written back in Traditional: recognize/han_forms.py).
    image, _ = _realphoto("zh01_menu_scallion_pancake_stall")
    page = pipeline.ocr(image).page
    curved = [ln for ln in page.lines if ln.curve]
    # Nothing else on the page is taken for an arc.
    assert len(curved) == 1
    assert cer(curved[0].text, "外酥內柔層次感豐富") <= 0.12, curved[0].text
    # Taiwanese lettering read with Simplified glyphs is written back in Traditional ones.
    assert any(ln.text == "小張脆皮蔥油餅" for ln in page.lines)


def test_short_columns_side_by_side_are_read_down_the_columns_and_erased_as_rows(pipeline):
    # The stall's seven flavours are short columns side by side (`1. 原味` ... `7. 咖哩`), found
    # by the detector as rows read `咖辣海梅芥胡原` / `哩粉苔子茉椒味`: they are read down the
    # columns (recognize/grid.py), right to left; the numbers over them stay a line of their own.
    # Erased as columns, `原味` stood and two columns were filled whole (each column's margin
    # holds its neighbours and the numbers row, left as drawn): they are erased by the rows.
    image, _ = _realphoto("zh01_menu_scallion_pancake_stall")
    result = pipeline.translate(image)  # no translator here: every block with letters is erased
    strip = (800, 1100, 1600, 1400)

    def inside(quad) -> bool:
        x0, y0, x1, y1 = quad.bbox
        return x0 > strip[0] and y0 > strip[1] and x1 < strip[2] and y1 < strip[3]

    columns = read_order(
        [ln for ln in result.page.lines if ln.direction is Direction.VERTICAL and inside(ln.quad)]
    )
    flavours = ["原味", "胡椒", "芥茉", "梅子", "海苔", "辣粉", "咖哩"]
    texts = ["".join(ch for ch in ln.text if not ch.isdigit()) for ln in columns]  # a number may be read in
    assert len(columns) == 7 and cer("".join(texts), "".join(flavours)) <= 0.1, columns
    x0, y0, x1, y1 = strip
    again = pipeline.ocr(np.ascontiguousarray(result.image[y0:y1, x0:x1])).page
    assert not any(script_counts(ln.text)["han"] for ln in again.lines), [ln.text for ln in again.lines]


def test_a_logos_small_arched_name_is_found_whole(pipeline):
    # ko16's cafe logo sets REDROCK along an arc in 8 px letters on a 1920 px photo. The main
    # pass's map lights only the arc's flat middle (boxes "D" and "DRO"), so the name was
    # erased in part and its translation overflowed a 9 x 8 px box. Looked at again 4x enlarged
    # around those small boxes (detect/ppocr.py `_small_arcs`), it is one curved line.
    image, truth = _realphoto("ko16_notice_toilet_key")
    page = pipeline.ocr(image).page
    curved = [ln for ln in page.lines if ln.curve]
    assert [ln.text for ln in curved] == ["REDROCK"]
    x0, y0, x1, y1 = curved[0].quad.bbox
    tx0, ty0, tx1, ty1 = truth["lines"][0]["box"]
    assert x0 <= tx0 + 8 and x1 >= tx1 - 8 and y0 <= ty0 and y1 >= ty1 - 4


def test_a_collision_flag_means_the_final_drawing_lies_on_another(pipeline):
    # zh01's card: a block drawn smaller to clear its neighbour was flagged for a collision
    # with the neighbour's first drawing, which the neighbour's own repair later drew smaller
    # still; the verdict was never taken again (the eye saw two blocks apart). Every block is
    # given an English line, as a translator would give them.
    image, _ = _realphoto("zh01_menu_scallion_pancake_stall")
    page = pipeline.ocr(image).page
    translations = {
        b.id: Translation(b.id, f"Line {k} of the card, in English", b.language, "en", "test")
        for k, b in enumerate(page.blocks)
    }
    result = pipeline.rerender(image, page.with_(translations=translations, target_lang="en"))
    flagged = [bid for bid, q in result.page.quality.items() if CheckCode.COLLISION in q.failed]
    for bid in flagged:
        mine = result.ink[bid]
        overlaps = [
            ink_overlap((mine.x0, mine.y0, mine.mask), (other.x0, other.y0, other.mask))
            for oid, other in result.ink.items()
            if oid != bid
        ]
        assert max(overlaps, default=0.0) > 0, f"{bid} flagged for a collision its drawing does not have"
