"""Reading scores: found lines against true lines or boxes, the same for every reader (golden tables)."""

from __future__ import annotations

import pytest

from imtrans.evaluate.reading import ReadingAccumulator, TruthRegion, read_order, score_reading
from imtrans.types import Direction, Line, Quad


def line(x0: float, y0: float, x1: float, y1: float, text: str, vertical: bool = False) -> Line:
    direction = Direction.VERTICAL if vertical else Direction.HORIZONTAL
    return Line(f"{x0},{y0}", Quad.from_rect(x0, y0, x1, y1), direction, text=text)


def truth(x0: float, y0: float, x1: float, y1: float, text: str, lang: str = "ko", ignore: bool = False):
    return TruthRegion(Quad.from_rect(x0, y0, x1, y1), text, lang, ignore)


def test_a_line_read_right_is_found_with_no_edits():
    (r,) = score_reading([line(8, 8, 92, 42, "서울역")], [truth(10, 10, 90, 40, "서울역")]).regions
    assert (r.found, r.edits, r.chars, r.cer) == (True, 0, 3, 0.0)


def test_a_missed_line_counts_all_its_characters_as_deleted():
    page = score_reading([line(300, 300, 400, 340, "다른 곳")], [truth(10, 10, 90, 40, "서울역")])
    (r,) = page.regions
    assert (r.found, r.edits, r.chars) == (False, 3, 3)
    assert page.unmatched == 1
    assert page.failures()["missed"] == 1


def test_lines_without_text_are_not_found():
    (r,) = score_reading([line(10, 10, 90, 40, "  ")], [truth(10, 10, 90, 40, "서울역")]).regions
    assert not r.found


def test_one_line_over_two_panels_is_merged_and_both_are_missed():
    regions = [truth(0, 0, 100, 40, "대전"), truth(120, 0, 220, 40, "서울")]
    page = score_reading([line(0, 0, 220, 40, "대전 서울")], regions)
    assert [r.found for r in page.regions] == [False, False]
    assert [r.merged for r in page.regions] == [True, True]
    assert page.failures()["merged"] == 2


def test_fragments_of_one_true_line_are_joined_in_reading_order_and_split_is_counted():
    regions = [truth(0, 0, 300, 40, "돼지충전소 시민공원점")]
    page = score_reading([line(160, 2, 298, 38, "시민공원점"), line(2, 2, 150, 38, "돼지충전소")], regions)
    (r,) = page.regions
    assert r.reading == "돼지충전소 시민공원점" and r.edits == 0 and r.parts == 2
    assert page.failures()["split"] == 1
    # With box truth (a speech bubble of several columns), several lines per box are normal.
    assert score_reading(page_lines := [line(2, 2, 150, 38, "a"), line(160, 2, 298, 38, "b")],
                         regions, line_truth=False).failures()["split"] == 0  # fmt: skip
    assert len(page_lines) == 2


def test_vertical_columns_are_read_right_to_left():
    cols = [
        line(0, 0, 20, 100, "三", True),
        line(40, 0, 60, 100, "一", True),
        line(20, 0, 40, 100, "二", True),
    ]
    assert [ln.text for ln in read_order(cols)] == ["一", "二", "三"]
    (r,) = score_reading(cols, [truth(0, 0, 60, 100, "一二三", "ja")], line_truth=False).regions
    assert r.reading == "一二三" and r.edits == 0


def test_a_line_on_a_page_turned_sideways_is_joined_in_its_own_reading_order():
    # ko02: a menu photographed on its side; one Japanese line, read upwards, found in two pieces
    def upward(y0: float, y1: float, text: str) -> Line:
        x0, x1 = 1652.0, 1688.0  # the quad starts at the text's own top-left: bottom-left on the page
        return Line(text, Quad(((x0, y1), (x0, y0), (x1, y0), (x1, y1))), text=text)

    pieces = [upward(1336, 1534, "のおつまみ"), upward(1662, 1970, "満腹だけど")]
    assert [ln.text for ln in read_order(pieces)] == ["満腹だけど", "のおつまみ"]
    # two such lines side by side: the next line of the text lies to the page's right
    beside = Line(
        "next", Quad(((1700.0, 1970.0), (1700.0, 1662.0), (1736.0, 1662.0), (1736.0, 1970.0))), text="次"
    )
    assert [ln.text for ln in read_order([beside, *pieces])] == ["満腹だけど", "のおつまみ", "次"]


def test_a_true_line_inside_a_large_ignored_region_is_still_found():
    # ko35: a mural marked "don't care" holds a small shop sign's true line whole
    mural = truth(900, 1880, 1850, 2250, "", ignore=True)
    sign = truth(1215, 2042, 1293, 2065, "GiGAeyes", "en")
    (r,) = score_reading([line(1211, 2038, 1294, 2067, "GiGAeyes")], [mural, sign]).regions
    assert r.found and r.edits == 0
    # a line in the mural alone is still absorbed by it: neither found nor unmatched
    page = score_reading([line(1000, 1900, 1100, 1940, "###")], [mural, sign])
    assert page.unmatched == 0 and not page.regions[0].found
    # zh01: small print marked "don't care" under a true line that is not inside it; a found
    # line half on the true line, more on the small print, stays the small print's
    small_print = truth(540, 1840, 1030, 2010, "", ignore=True)
    heading = truth(586, 1768, 1020, 1864, "早餐、點心、宵夜的最佳選擇", "zh")
    (r,) = score_reading([line(825, 1825, 1038, 1892, "直接下鍋煎即可")], [heading, small_print]).regions
    assert not r.found


def test_ignored_truth_is_neither_hit_nor_miss_and_absorbs_its_lines():
    page = score_reading([line(10, 10, 90, 40, "###")], [truth(10, 10, 90, 40, "", ignore=True)])
    assert page.regions == [] and page.unmatched == 0


@pytest.mark.parametrize(
    ("reading", "recall", "cer", "cer_found"),
    [
        ("서울역", 0.5, 3 / 6, 0.0),  # one of two lines read right, the other missed
        ("서울엌", 0.5, 4 / 6, 1 / 3),
    ],
)
def test_the_accumulator_gives_recall_and_cer_per_language_and_overall(reading, recall, cer, cer_found):
    regions = [truth(0, 0, 100, 40, "서울역"), truth(0, 100, 100, 140, "부산역")]
    acc = ReadingAccumulator()
    acc.update(score_reading([line(0, 0, 100, 40, reading)], regions))
    summary = acc.summary()
    assert list(summary) == ["all", "ko"]
    assert summary["ko"]["recall"] == pytest.approx(recall)
    assert summary["ko"]["cer"] == pytest.approx(cer)
    assert summary["all"]["cer_found"] == pytest.approx(cer_found)
    assert acc.failures()["missed"] == 1


def test_grouping_counts_pairs_of_found_lines_joined_and_truly_together():
    # Two true blocks: a sign's Korean name with its English under it, and a price beside them.
    regions = [
        TruthRegion(Quad.from_rect(0, 0, 100, 40), "서울역", "ko", False, 0),
        TruthRegion(Quad.from_rect(0, 50, 100, 70), "Seoul", "en", False, 0),
        TruthRegion(Quad.from_rect(200, 0, 260, 40), "1,000", "en", False, 1),
    ]
    found = [line(0, 0, 100, 40, "서울역"), line(0, 50, 100, 70, "Seoul"), line(200, 0, 260, 40, "1,000")]
    all_in_one = {ln.id: "b0" for ln in found}
    page = score_reading(found, regions, block_of=all_in_one)
    assert page.grouping() == {"joined": 3, "together": 1, "both": 1}
    acc = ReadingAccumulator()
    acc.update(page)
    assert acc.grouping() == {"precision": pytest.approx(1 / 3), "recall": 1.0, "pairs": 1.0}
    # A reader that does not group has no grouping figures.
    ungrouped = ReadingAccumulator()
    ungrouped.update(score_reading(found, regions))
    assert ungrouped.grouping() == {}
