"""Grouping lines into blocks: golden cases on hand-placed lines."""

import numpy as np
import pytest
from fixtures import rotated_quad

from imtrans.group import enclosing_quad, group_lines, lines_belong_together, thickness
from imtrans.settings import GroupSettings
from imtrans.types import Alignment, Direction, Line, Quad


def line(id_, x0, y0, x1, y1, text="text", lang="en", direction=Direction.HORIZONTAL):
    return Line(id=id_, quad=Quad.from_rect(x0, y0, x1, y1), text=text, language=lang, direction=direction)


def ids(blocks):
    return [[ln.id for ln in b.lines] for b in blocks]


S = GroupSettings()


@pytest.mark.parametrize(
    ("a", "b", "together"),
    [
        # stacked lines of a paragraph, gap 10 px at height 30
        (line("a", 0, 0, 300, 30), line("b", 0, 40, 250, 70), True),
        # gap of 2 line heights: separate paragraphs
        (line("a", 0, 0, 300, 30), line("b", 0, 90, 250, 120), False),
        # side by side with a wide gutter: separate columns of a document
        (line("a", 0, 0, 300, 30), line("b", 400, 0, 700, 30), False),
        # fragments of one line (word boxes), gap under a line height
        (line("a", 0, 0, 100, 30), line("b", 120, 2, 200, 31), True),
        # a heading twice the size of the body is its own block
        (line("a", 0, 0, 300, 60), line("b", 0, 70, 300, 95), False),
        # a vertical column never joins a horizontal line
        (line("a", 0, 0, 30, 300, direction=Direction.VERTICAL), line("b", 40, 0, 300, 30), False),
        # neighbouring vertical columns, 10 px apart
        (
            line("a", 100, 0, 130, 300, direction=Direction.VERTICAL),
            line("b", 60, 0, 90, 200, direction=Direction.VERTICAL),
            True,
        ),
    ],
)
def test_lines_belong_together_golden(a, b, together):
    assert (lines_belong_together(a, b, S) or lines_belong_together(b, a, S)) is together


def test_two_paragraphs_become_two_blocks_in_reading_order():
    lines = [
        line("p2a", 0, 200, 300, 230),
        line("p1b", 0, 40, 280, 70),
        line("p1a", 0, 0, 300, 30),
        line("p2b", 0, 240, 200, 270),
    ]
    assert ids(group_lines(lines)) == [["p1a", "p1b"], ["p2a", "p2b"]]


def test_blocks_in_one_row_read_left_to_right_for_horizontal_text():
    lines = [line("right", 500, 0, 700, 30), line("left", 0, 5, 200, 35)]
    assert ids(group_lines(lines)) == [["left"], ["right"]]


def test_vertical_page_reads_blocks_right_to_left_and_columns_right_to_left():
    v = Direction.VERTICAL
    lines = [
        line("L1", 100, 0, 130, 300, "あ", "ja", v),
        line("R2", 460, 0, 490, 300, "い", "ja", v),
        line("R1", 500, 0, 530, 300, "う", "ja", v),
    ]
    blocks = group_lines(lines)
    assert ids(blocks) == [["R1", "R2"], ["L1"]]
    assert blocks[0].text == "うい"  # Japanese lines join without spaces


def test_word_fragments_on_one_row_are_ordered_along_the_row():
    lines = [line("w2", 120, 0, 200, 30, "world"), line("w1", 0, 1, 100, 31, "hello")]
    (block,) = group_lines(lines)
    assert block.text == "hello world"


def test_centred_lines_make_a_centred_block_and_left_aligned_a_left_block():
    centred = [line("a", 100, 0, 300, 30), line("b", 50, 40, 350, 70), line("c", 150, 80, 250, 110)]
    left = [line("a", 0, 0, 300, 30), line("b", 0, 40, 350, 70), line("c", 0, 80, 120, 110)]
    assert group_lines(centred)[0].alignment is Alignment.CENTRE
    assert group_lines(left)[0].alignment is Alignment.LEFT
    # Three centred lines of nearly one length (realphotos ko16): the starts lie within a
    # quarter line height, but the centres line up far better.
    notice = [line("a", 41, 0, 369, 86), line("b", 9, 84, 399, 170), line("c", 0, 164, 404, 250)]
    assert group_lines(notice)[0].alignment is Alignment.CENTRE
    # Lines of one length line up both ways: left.
    assert group_lines([line("a", 0, 0, 300, 30), line("b", 2, 40, 301, 70)])[0].alignment is Alignment.LEFT


def test_empty_lines_are_not_grouped():
    assert group_lines([line("a", 0, 0, 10, 10, text="  ")]) == []


def test_enclosing_quad_keeps_rotation():
    # Two lines rotated by 30 degrees: the block quad has the same angle.
    q1 = rotated_quad(200, 200, 200, 30, 30)
    q2 = rotated_quad(220, 235, 200, 30, 30)
    q = enclosing_quad([q1, q2], q1)
    assert q.angle == pytest.approx(30, abs=0.01)
    assert q.area >= q1.area + q2.area - 1


def test_thickness_is_height_for_lines_and_width_for_columns():
    assert thickness(line("a", 0, 0, 300, 30)) == 30
    assert thickness(line("a", 0, 0, 30, 300, direction=Direction.VERTICAL)) == 30


def test_lines_of_different_languages_are_separate_blocks():
    lines = [line("ko", 0, 0, 300, 30, "서울역", "ko"), line("en", 0, 38, 300, 68, "Seoul Station", "en")]
    assert ids(group_lines(lines)) == [["ko"], ["en"]]


def test_evenly_spaced_single_lines_with_wide_gaps_stay_apart():
    # Menu-like rows: 40 px lines every 80 px (a gap of one line height) are separate items.
    lines = [line(f"r{i}", 0, 80 * i, 300, 80 * i + 40) for i in range(4)]
    assert len(group_lines(lines)) == 4


def test_a_price_stays_apart_from_its_dish_and_dishes_stay_apart_from_each_other():
    # A menu: dish names stacked close together, each with its price on its row.
    lines = []
    for i, (dish, price) in enumerate((("김치찌개", "6,000"), ("부대찌개", "6,000"), ("된장찌개", "7,000"))):
        y = 45 * i
        lines += [line(f"d{i}", 0, y, 160, y + 36, dish, "ko"), line(f"p{i}", 180, y, 260, y + 36, price, "")]
    blocks = group_lines(lines)
    assert sorted(ids(blocks)) == [["d0"], ["d1"], ["d2"], ["p0"], ["p1"], ["p2"]]
    # Without separate_items they form a single block, as before.
    assert len(group_lines(lines, GroupSettings(separate_items=False))) == 1


def test_dishes_with_their_serving_size_and_price_under_them_stay_apart():
    # realphotos ko01: "주먹화로구이" / "(1인분 200g) 12,000" / "양념꼬치구이" / "(1인분 200g) 12,000",
    # the details a little smaller than the names and as close as a paragraph's lines. The
    # details end in a price (a list item); a dish is not joined to the next one across them.
    rows = (
        ("주먹화로구이", 30),
        ("(1인분 200g) 12,000", 24),
        ("양념꼬치구이", 30),
        ("(1인분 200g) 12,000", 24),
    )
    lines, y = [], 0
    for i, (text, h) in enumerate(rows):
        lines.append(line(f"r{i}", 0, y, 12 * len(text), y + h, text, "ko"))
        y += h + 6
    assert sorted(ids(group_lines(lines))) == [["r0"], ["r1"], ["r2"], ["r3"]]
    # Two lines of a paragraph with a line between them that belongs with both stay one block.
    para = [
        line(f"p{i}", 0, 36 * i, 240, 36 * i + 30, t, "ko")
        for i, t in enumerate(("화장실 키는", "매장 직원에게", "문의해 주세요."))
    ]
    assert ids(group_lines(para)) == [["p0", "p1", "p2"]]


@pytest.mark.parametrize(
    ("text", "item"),
    [("(1인분 200g) 12,000", True), ("Latte 4.500", True), ("Espresso $3.50", True), ("김밥 3000원", True),
     ("Opening hours 10 to 22", False), ("Room 1203", False), ("2024년 12월", False)],
)  # fmt: skip
def test_a_line_ending_in_a_price_is_a_list_item(text, item):
    # A list item is not stacked with the line under it (a dish's description).
    lines = [line("a", 0, 0, 300, 30, text), line("b", 0, 36, 300, 66, "Served with rice and soup")]
    assert (len(group_lines(lines)) == 2) == item


def test_a_paragraph_of_short_lines_without_prices_stays_one_block():
    lines = [
        line(f"l{i}", 0, 40 * i, 200, 40 * i + 30, t, "ko")
        for i, t in enumerate(("화장실 키는", "매장 직원에게", "문의해 주세요."))
    ]
    assert len(group_lines(lines)) == 1


def _plate(top_colour, bottom_colour, bar=False):
    image = np.zeros((200, 400, 3), np.uint8)
    image[:100] = top_colour
    image[100:] = bottom_colour
    if bar:
        image[98:102] = 255
    return image


@pytest.mark.parametrize(
    ("image", "blocks"),
    [
        (_plate((30, 60, 150), (30, 60, 150)), 1),  # one plate: one paragraph
        (_plate((30, 60, 150), (30, 130, 60)), 2),  # a blue panel over a green one
        (_plate((30, 60, 150), (30, 60, 150), bar=True), 2),  # a white bar between the lines
    ],
)
def test_stacked_lines_across_a_divider_or_a_colour_change_are_two_blocks(image, blocks):
    lines = [line("top", 50, 60, 350, 94), line("bottom", 50, 106, 350, 140)]
    assert len(group_lines(lines, image=image)) == blocks


@pytest.mark.parametrize(
    ("lines", "alignments"),
    [
        # a column of labels, each its own block (2 line heights apart): left-aligned
        (
            [line("a", 10, 0, 90, 30, "Name:"), line("b", 10, 60, 160, 90, "Address:"),
             line("c", 10, 120, 120, 150, "Phone:")],
            [Alignment.LEFT, Alignment.LEFT, Alignment.LEFT],
        ),
        # one line alone on a sign: centred
        ([line("a", 100, 0, 300, 40, "Exit")], [Alignment.CENTRE]),
        # two lines of one length one above the other: nothing says left, they stay centred
        ([line("a", 10, 0, 200, 30, "Gate A"), line("b", 10, 60, 200, 90, "Gate B")],
         [Alignment.CENTRE, Alignment.CENTRE]),
        # centred lines of a sign, each its own block: their starts differ, centred
        ([line("a", 50, 0, 250, 40, "Seoul Station"), line("b", 100, 90, 200, 120, "Exit 3")],
         [Alignment.CENTRE, Alignment.CENTRE]),
        # starts line up but far apart (a label at the top, another at the bottom): no column
        ([line("a", 10, 0, 90, 30, "Name:"), line("b", 10, 600, 160, 630, "Address:")],
         [Alignment.CENTRE, Alignment.CENTRE]),
    ],
)  # fmt: skip
def test_single_line_blocks_that_start_together_are_left_aligned_labels(lines, alignments):
    blocks = group_lines(lines, S)
    assert [len(b.lines) for b in blocks] == [1] * len(lines)
    assert [b.alignment for b in blocks] == alignments


def test_a_curved_line_is_a_block_of_its_own():
    # A banner's arched subtitle over a price line: its bounding box (as tall as the arc sags)
    # overlaps the line under it, which would join them as two lines of a paragraph.
    arc = (Quad(((0, 0), (100, 10), (100, 35), (0, 25))), Quad(((100, 10), (200, 0), (200, 25), (100, 35))))
    subtitle = Line("a", Quad.from_rect(0, 0, 200, 35), text="外酥內柔", language="zh", curve=arc)
    prices = line("b", 0, 42, 200, 72, text="一份25", lang="zh")
    assert not lines_belong_together(subtitle, prices, S) and not lines_belong_together(prices, subtitle, S)
    assert ids(group_lines([subtitle, prices])) == [["a"], ["b"]]
    # As straight lines of those boxes they would be one paragraph.
    straight = Line("a", subtitle.quad, text="外酥內柔", language="zh")
    assert lines_belong_together(straight, prices, S)
