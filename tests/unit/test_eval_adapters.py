"""Dataset adapters on tiny fixtures written by the tests (never the real datasets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from imtrans.errors import InputError
from imtrans.evaluate.adapters import from_icdar, from_openmantra, load_dataset, parse_icdar_line
from imtrans.evaluate.dataset import GTBlock, Sample, write_manifest
from imtrans.types import Quad


def _jpg(path: Path, w: int, h: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (w, h), (240, 240, 240)).save(path, "JPEG")


def _openmantra(root: Path) -> Path:
    _jpg(root / "images/tiny/ja/000.jpg", 120, 160)
    _jpg(root / "images/tiny/ja/001.jpg", 100, 80)
    pages = [
        {
            "page_index": 1,
            "image_paths": {"ja": "images/tiny/ja/000.jpg"},
            "frame": [{"x": 0, "y": 0, "w": 120, "h": 160}],
            "text": [
                {
                    "x": 10,
                    "y": 20,
                    "w": 30,
                    "h": 60,
                    "text_ja": "葬儀屋\nさん",
                    "text_en": "welcome,\nghost undertaker",
                    "text_zh": "歡迎光臨\n亡靈殯儀館",
                },
                {
                    "x": 5,
                    "y": 100,
                    "w": 90,
                    "h": 30,
                    "text_ja": "ようこそ\n亡霊",
                    "text_en": "Welcome",
                    "text_zh": "歡迎",
                },
                {"x": 60, "y": 20, "w": 40, "h": 40, "text_ja": "え?", "text_en": "Hmm", "text_zh": "什麼？"},
            ],
        },
        {"page_index": 2, "image_paths": {"ja": "images/tiny/ja/001.jpg"}, "frame": [], "text": []},
    ]
    (root / "annotation.json").write_text(
        json.dumps([{"book_title": "tiny", "pages": pages}], ensure_ascii=False), encoding="utf-8"
    )
    return root


def test_openmantra_gives_one_sample_per_page_and_one_block_per_box(tmp_path: Path) -> None:
    ds = from_openmantra(_openmantra(tmp_path))
    assert ds.name == "openmantra-tiny"
    assert ds.root == tmp_path
    assert [s.id for s in ds.samples] == ["tiny-000", "tiny-001"]
    s = ds.samples[0]
    assert (s.image, s.width, s.height, s.source_language) == ("images/tiny/ja/000.jpg", 120, 160, "ja")
    assert ds.path(s.image).is_file()
    assert s.meta["page_index"] == 1
    b = s.blocks[0]
    assert b.to_quad() == Quad.from_rect(10, 20, 40, 80)
    assert b.text == "葬儀屋さん"  # newlines removed, no space in Japanese
    assert b.language == "ja"
    assert b.lines == []
    assert b.translations == {"en": "welcome, ghost undertaker", "zh": "歡迎光臨 亡靈殯儀館"}
    assert ds.samples[1].blocks == []


def test_openmantra_boxes_are_vertical_unless_much_wider_than_tall(tmp_path: Path) -> None:
    blocks = from_openmantra(_openmantra(tmp_path)).samples[0].blocks
    # 30x60 bubble, 90x30 caption (3x wider), 40x40 square bubble
    assert [b.direction for b in blocks] == ["vertical", "horizontal", "vertical"]


def test_openmantra_missing_annotation_or_image_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="annotation.json"):
        from_openmantra(tmp_path)
    root = _openmantra(tmp_path)
    (root / "images/tiny/ja/001.jpg").unlink()
    with pytest.raises(InputError, match="001.jpg"):
        from_openmantra(root)


GT_IMG_1 = (
    "\ufeff"  # a byte-order mark before the first line
    "10,10,50,10,50,30,10,30,Hello, world\n"  # comma inside the transcript
    "60,20,100,20,100,40,60,40,###\n"  # don't care
    "10,50,10,70,50,70,50,50,ccw\n"  # counter-clockwise, starting top-left
    "0,0,40,5,42,20,-2,18,skew\n"  # not a rectangle: corners kept as annotated
)


def _icdar(root: Path) -> Path:
    _jpg(root / "images/img_1.jpg", 120, 80)
    _jpg(root / "images/img_2.jpg", 64, 48)
    _jpg(root / "images/img_3.jpg", 64, 48)
    _jpg(root / "images/img_4.jpg", 32, 32)  # no ground truth: skipped
    (root / "gt").mkdir()
    (root / "gt/gt_img_1.txt").write_text(GT_IMG_1, encoding="utf-8")
    (root / "gt/gt_img_2.txt").write_text(
        "0,0,20,0,20,10,0,10,Korean,시청\n0,20,20,20,20,30,0,30,Latin,###\n", encoding="utf-8"
    )
    (root / "gt/img_3.txt").write_text('5, 6, 25, 16, "Tired, ness"\n30 6 60 16 "Foot"\n', encoding="utf-8")
    return root


def test_icdar_reads_bom_commas_and_dont_care(tmp_path: Path) -> None:
    ds = from_icdar(_icdar(tmp_path) / "images", tmp_path / "gt")
    assert [s.id for s in ds.samples] == ["img_1", "img_2", "img_3"]
    s = ds.samples[0]
    assert (s.image, s.width, s.height, s.source_language) == ("images/img_1.jpg", 120, 80, "en")
    texts = [b.text for b in s.blocks]
    assert texts == ["Hello, world", "", "ccw", "skew"]
    assert [ln.ignore for ln in s.lines] == [False, True, False, False]
    for b in s.blocks:  # one line per block, same quad
        assert len(b.lines) == 1 and b.lines[0].quad == b.quad


def test_icdar_quads_are_clockwise_from_the_top_left(tmp_path: Path) -> None:
    blocks = from_icdar(_icdar(tmp_path) / "images", tmp_path / "gt").samples[0].blocks
    assert blocks[0].to_quad() == Quad.from_rect(10, 10, 50, 30)
    assert blocks[1].to_quad() == Quad.from_rect(60, 20, 100, 40)
    assert blocks[2].to_quad() == Quad.from_rect(10, 50, 50, 70)  # was counter-clockwise
    assert blocks[3].quad == [(0, 0), (40, 5), (42, 20), (-2, 18)]


def test_icdar_mlt_script_field_and_2013_rectangles(tmp_path: Path) -> None:
    ds = from_icdar(_icdar(tmp_path) / "images", tmp_path / "gt")
    mlt = ds.samples[1].blocks
    assert (mlt[0].text, mlt[0].language) == ("시청", "ko")
    assert (mlt[1].language, mlt[1].lines[0].ignore) == ("en", True)
    icdar13 = ds.samples[2].blocks
    assert [b.text for b in icdar13] == ["Tired, ness", "Foot"]
    assert icdar13[0].to_quad() == Quad.from_rect(5, 6, 25, 16)
    assert icdar13[1].to_quad() == Quad.from_rect(30, 6, 60, 16)


ROTATIONS = [
    # annotated corners, expected first corner, why
    ("50,10,50,30,10,30,10,10,x", (10, 10), "clockwise but starting at the top-right"),
    ("10,30,50,30,50,10,10,10,x", (10, 10), "counter-clockwise from the bottom-left"),
    # 40x10 line rotated 30 degrees down to the right, annotated from its bottom-right corner
    ("39.64,38.66,5,18.66,10,10,44.64,30,x", (10, 10), "rotated line starts at its own top-left"),
]


@pytest.mark.parametrize(("line", "first", "why"), ROTATIONS)
def test_icdar_corner_order(line: str, first: tuple[float, float], why: str) -> None:
    parsed = parse_icdar_line(line)
    assert parsed is not None
    quad = parsed[0]
    assert quad.points[0] == first, why
    assert quad.area > 0


def test_icdar_tall_region_is_vertical() -> None:
    parsed = parse_icdar_line("0,0,10,0,10,50,0,50,縦書き", "ja")
    assert parsed is not None
    _, text, lang, ignore, vertical = parsed
    assert (text, lang, ignore, vertical) == ("縦書き", "ja", False, True)


def test_icdar_unreadable_line_is_an_input_error(tmp_path: Path) -> None:
    root = _icdar(tmp_path)
    (root / "gt/gt_img_1.txt").write_text("not,a,box\n", encoding="utf-8")
    with pytest.raises(InputError, match="gt_img_1.txt:1"):
        from_icdar(root / "images", root / "gt")


def test_load_dataset_dispatches_on_what_the_folder_holds(tmp_path: Path) -> None:
    om = _openmantra(tmp_path / "om")
    assert load_dataset(om).name == "openmantra-tiny"
    assert load_dataset(om / "annotation.json").name == "openmantra-tiny"
    icdar = _icdar(tmp_path / "icdar")
    assert [s.id for s in load_dataset(icdar).samples] == ["img_1", "img_2", "img_3"]
    assert load_dataset(icdar, language="ko").samples[0].source_language == "ko"
    man = tmp_path / "man"
    man.mkdir()
    sample = Sample(
        id="s0",
        image="a.png",
        width=4,
        height=4,
        blocks=[GTBlock(id="b0", quad=Quad.from_rect(0, 0, 2, 2).points, text="hi")],
    )
    path = write_manifest([sample], man)
    assert load_dataset(man).samples == [sample]
    assert load_dataset(path).samples == [sample]


def test_load_dataset_explains_what_it_expected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="expected a manifest.jsonl"):
        load_dataset(tmp_path)
    with pytest.raises(InputError, match="not a dataset"):
        load_dataset(tmp_path / "missing")


def _realphotos(root: Path) -> Path:
    _jpg(root / "sign.jpg", 200, 100)
    truth = {
        "file": "sign.jpg",
        "width": 200,
        "height": 100,
        "kind": "sign",
        "lines": [
            {"text": "서울역", "lang": "ko", "box": [10, 10, 90, 40], "block": 0},
            {"text": "Seoul Station", "lang": "en", "box": [10, 45, 120, 60], "block": 0},
            {"text": None, "lang": "ko", "box": [150, 10, 190, 30], "block": 1},
        ],
    }
    (root / "sign.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    return root


def test_realphotos_gives_lines_in_blocks_with_illegible_lines_ignored(tmp_path: Path) -> None:
    data = load_dataset(_realphotos(tmp_path))
    (sample,) = data.samples
    assert data.name == f"realphotos-{tmp_path.name}" and sample.id == "sign"
    assert sample.source_language == "auto"  # Korean and English lines
    assert [b.id for b in sample.blocks] == ["b0", "b1"]
    first, second = sample.blocks
    assert [ln.text for ln in first.lines] == ["서울역", "Seoul Station"]
    assert first.language == "ko" and first.text == "서울역 Seoul Station"
    assert first.lines[0].to_quad().bbox == (10, 10, 90, 40)
    assert first.to_quad().bbox == (10, 10, 120, 60)
    assert second.lines[0].ignore and second.lines[0].text == ""


def test_realphotos_truth_in_a_wrong_shape_is_one_clear_error(tmp_path: Path) -> None:
    _realphotos(tmp_path)
    (tmp_path / "sign.json").write_text(json.dumps({"file": "sign.jpg", "lines": [{"text": "x"}]}))
    with pytest.raises(InputError, match="real-photo truth format"):
        load_dataset(tmp_path)
