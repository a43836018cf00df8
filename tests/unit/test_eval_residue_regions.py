"""Residue is counted in the true blocks whose text is known, never in illegible regions."""

from imtrans.evaluate.dataset import GTBlock, GTLine, Sample
from imtrans.evaluate.runner import residue_regions


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
    assert regions[0][0].width == 100
