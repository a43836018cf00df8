"""Short columns side by side, found as rows, are read again down the columns; text written
across (lines farther apart than the glyphs in them) is left as it is."""

from dataclasses import replace

from imtrans.recognize.grid import grid_columns, grid_rows
from imtrans.types import Direction, Line, Quad


def _row(name: str, x0: float, y0: float, x1: float, y1: float, text: str) -> Line:
    return Line(name, Quad.from_rect(x0, y0, x1, y1), text=text, language="zh", confidence=0.99)


# zh01: seven menu items, each a column `N. XX`, read by the detector as three rows
NUMBERS = _row("num", 833, 1132, 1550, 1225, "7. 6. 5. 4. 3. 2. 1.")
TOP = _row("top", 817, 1177, 1573, 1303, "咖辣海梅芥胡原")
BOTTOM = _row("bottom", 825, 1258, 1579, 1382, "哩粉苔子茉椒味")
ITEMS = ["咖哩", "辣粉", "海苔", "梅子", "芥茉", "胡椒", "原味"]


def _reader(texts: list[str], confidence: float = 0.95):
    asked: list[list[Line]] = []

    def read(columns: list[Line]) -> list[Line]:
        asked.append(columns)
        return [replace(c, text=t, confidence=confidence) for c, t in zip(columns, texts, strict=True)]

    return read, asked


def test_rows_closer_than_their_glyphs_are_a_grid_and_the_numbers_over_them_stay_a_line():
    other = _row("title", 1882, 1118, 2435, 1264, "請先自行填單")
    assert grid_rows([other, BOTTOM, NUMBERS, TOP]) == [[3, 1]]


def test_the_grid_is_read_again_as_columns_left_to_right_on_the_page():
    read, asked = _reader(ITEMS)
    out = grid_columns([NUMBERS, TOP, BOTTOM], read)
    assert [ln.text for ln in out] == [NUMBERS.text, *ITEMS]
    (columns,) = asked
    assert all(c.direction is Direction.VERTICAL for c in columns)
    # each column spans both rows of glyphs, one seventh of the width
    x0, y0, x1, y1 = columns[0].quad.bbox
    assert (y0, y1) == (1177, 1382) and 100 < x1 - x0 < 115


def test_text_written_across_is_left_alone():
    # two lines of a notice: the lines lie farther apart (80 px) than the glyph pitch (60 px)
    first = _row("a", 100, 100, 460, 160, "我們蔥油餅需")
    second = _row("b", 100, 180, 460, 240, "櫃檯人手不足")
    assert grid_rows([first, second]) == []
    read, asked = _reader([])
    assert grid_columns([first, second], read) == [first, second] and asked == []


def test_columns_that_do_not_read_well_leave_the_rows():
    read, _ = _reader(ITEMS, confidence=0.5)
    assert grid_columns([NUMBERS, TOP, BOTTOM], read) == [NUMBERS, TOP, BOTTOM]
    short, _ = _reader(["咖", *ITEMS[1:]])  # a column missing a row's glyph
    assert grid_columns([NUMBERS, TOP, BOTTOM], short) == [NUMBERS, TOP, BOTTOM]


def test_each_column_carries_its_grids_rows_to_be_erased_by():
    read, _ = _reader(ITEMS)
    columns = grid_columns([NUMBERS, TOP, BOTTOM], read)[1:]
    assert all(c.grid_rows == (TOP.quad, BOTTOM.quad) for c in columns)
    assert NUMBERS.grid_rows == ()
