"""The true text eval scores against: residue counted only where the text is known; a split
block's fragments given their own true lines."""

from imtrans.evaluate.dataset import GTBlock, GTLine, Sample
from imtrans.evaluate.runner import residue_regions, split_truth, unscored_lines
from imtrans.types import Block, Line, Quad


def _block(block_id: str, text: str, ignore: bool) -> GTBlock:
    quad = [[0, 0], [100, 0], [100, 20], [0, 20]]
    return GTBlock(id=block_id, quad=quad, text=text, lines=[GTLine(quad=quad, text=text, ignore=ignore)])


def test_illegible_regions_are_not_scored_for_residue():
    sample = Sample(
        id="s",
        image="s.png",
        source_language="ko",
        width=100,
        height=100,
        blocks=[_block("a", "출구", False), _block("b", "", True)],
    )
    regions = residue_regions(sample)
    assert [(text, lang) for _, text, lang in regions] == [("출구", "ko")]
    assert [q.width for q in regions[0][0]] == [100]
    assert unscored_lines(sample) == []  # the illegible block is left out whole


def test_illegible_lines_inside_a_scored_block_are_unscored():
    sign, card = [[0, 0], [100, 0], [100, 20], [0, 20]], [[60, 30], [100, 30], [100, 50], [60, 50]]
    block = GTBlock(id="a", quad=[[0, 0], [100, 0], [100, 50], [0, 50]], text="SALE",
                    lines=[GTLine(quad=sign, text="SALE"), GTLine(quad=card, text="", ignore=True)])  # fmt: skip
    sample = Sample(id="s", image="s.png", source_language="en", width=100, height=100, blocks=[block])
    assert [q.bbox for q in unscored_lines(sample)] == [(60, 30, 100, 50)]
    # Residue is counted on the readable line, not over the block's whole box.
    assert [[q.bbox for q in quads] for quads, _, _ in residue_regions(sample)] == [[(0, 0, 100, 20)]]


def test_a_block_without_line_truth_is_counted_over_its_box():
    box = [[0, 0], [100, 0], [100, 50], [0, 50]]
    sample = Sample(id="s", image="s.png", source_language="ja", width=100, height=100,
                    blocks=[GTBlock(id="a", quad=box, text="ええ")])  # fmt: skip
    assert [[q.bbox for q in quads] for quads, _, _ in residue_regions(sample)] == [[(0, 0, 100, 50)]]


def _line(line_id: str, y: int, text: str = "") -> Line:
    return Line(line_id, Quad.from_rect(0, y, 100, y + 20), text=text)


def test_a_split_true_block_gives_each_fragment_its_own_true_lines():
    # A menu column of three true lines, read as two blocks: the first two lines, then the third.
    quads = [[[0, y], [100, y], [100, y + 20], [0, y + 20]] for y in (0, 30, 60)]
    texts = ["삼겹숙주볶음", "감바스", "18,000"]
    column = GTBlock(
        id="menu",
        quad=[[0, 0], [100, 0], [100, 80], [0, 80]],
        text=" ".join(texts),
        lines=[GTLine(quad=q, text=t) for q, t in zip(quads, texts, strict=True)],
    )
    top = Block("b0", Quad.from_rect(0, 0, 100, 50), (_line("l0", 0), _line("l1", 30)))
    bottom = Block("b1", Quad.from_rect(0, 60, 100, 80), (_line("l2", 60),))
    alone = Block("b2", Quad.from_rect(0, 0, 100, 80), (_line("l3", 0),))
    assert split_truth([top, bottom], [column], {"b0": 0, "b1": 0}) == {
        "b0": "삼겹숙주볶음 감바스",
        "b1": "18,000",
    }
    # A true block read whole keeps its whole text: nothing to split.
    assert split_truth([alone], [column], {"b2": 0}) == {}
