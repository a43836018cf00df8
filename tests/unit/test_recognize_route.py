"""Which language a line's script implies (golden table)."""

import pytest

from imtrans.recognize.route import expected_chars, language_of
from imtrans.types import Direction, Line, Quad


@pytest.mark.parametrize(
    ("text", "page_has_kana", "expected"),
    [
        ("서울역", False, "ko"),
        ("출구 3번", False, "ko"),
        ("営業時間", False, "zh"),  # Han only, no kana on the page: Chinese
        ("営業時間", True, "ja"),  # ... unless the page has kana
        ("吃饱了却想来点下酒菜时", True, "zh"),  # ... and Japanese has every glyph (饱, 时 it has not)
        ("[明太鱼干]", True, "zh"),
        ("午前十時から", False, "ja"),
        ("欢迎光临", False, "zh"),
        ("Exit 3", False, "en"),
        ("Bonjour tout le monde, comment allez-vous", False, "fr"),
        ("12:30", False, ""),
        ("", False, ""),
    ],
)
def test_language_of_script_golden(text, page_has_kana, expected):
    assert language_of(text, page_has_kana) == expected


def test_expected_chars_uses_length_over_glyph_size():
    h = Line("a", Quad.from_rect(0, 0, 400, 40))
    v = Line("b", Quad.from_rect(0, 0, 40, 400), direction=Direction.VERTICAL)
    assert expected_chars(h) == 10
    assert expected_chars(v) == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [("서울역", True), ("출구 3번", True), ("5ㄷ6ㄷ040Ｌ", False), ("ㅇㅇ", False), ("", False)],
)
def test_only_readings_made_of_hangul_syllables_count_as_korean(text, expected):
    from imtrans.recognize.route import mostly_hangul_syllables

    assert mostly_hangul_syllables(text) is expected


class _Engine:
    """A recogniser that answers from a table (its Protocol's shape), for the routing logic only."""

    def __init__(self, answers, name):
        self.answers = answers
        self.name = name
        self.asked = []

    def read(self, image, lines):
        self.asked += [ln.id for ln in lines]
        return [self.answers[ln.id] for ln in lines]

    def read_lines(self, image, lines, language):
        return self.read(image, lines)


def _router(ppocr, tesseract):
    from imtrans.recognize.route import RoutingRecognizer

    return RoutingRecognizer(ppocr=_Engine(ppocr, "ppocr"), korean=_Engine(tesseract, "tesseract"))


def _lines(*ids):
    from imtrans.types import Line, Quad

    return [Line(i, Quad.from_rect(0, 40 * k, 200, 40 * k + 36)) for k, i in enumerate(ids)]


def test_a_confident_han_reading_on_a_korean_page_is_asked_of_tesseract_too():
    # "전시홀 A" read by PP-OCR as "人A" (0.91) on a wayfinding board whose other Korean line
    # PP-OCR could not read at all.
    router = _router(
        ppocr={"hall": ("人A", 0.91), "door": ("", 0.1), "zh": ("休闲酒吧", 0.95)},
        tesseract={"hall": ("전시홀 A", 0.85), "door": ("데블스도어", 0.9), "zh": ("ㅅ|ㅠ", 0.4)},
    )
    read = {ln.id: ln.text for ln in router.recognize(None, _lines("hall", "door", "zh"), "auto")}
    assert read == {"hall": "전시홀 A", "door": "데블스도어", "zh": "休闲酒吧"}


def test_han_readings_on_a_page_without_korean_are_not_asked_again():
    router = _router(ppocr={"zh": ("休闲酒吧", 0.95)}, tesseract={"zh": ("휴한", 0.99)})
    (line,) = router.recognize(None, _lines("zh"), "auto")
    assert line.text == "休闲酒吧" and router.korean.asked == []


@pytest.mark.parametrize(
    ("ppocr", "korean", "expected"),
    [
        (("(2) 25,000", 0.80), ("(2인분) 25,000", 1.0), True),  # the Hangul dropped
        (("(辛5人~10人)", 0.78), ("(오후5시~오후10시)", 1.0), True),  # Han in its place
        (("15,000", 0.93), ("먹태 15,000", 0.99), True),
        (("18,000", 1.0), ("18,000", 1.0), False),  # no Hangul: nothing to win
        (("1,000.", 0.97), ("1,000₩", 0.99), False),
        (("Devil's Door 休闲酒吧", 0.98), ("Devils Door 사민", 0.89), False),  # PP-OCR more confident
        (("!켜", 0.31), ("专米公", 0.45), False),  # no Hangul in the Korean reading
        (("专米公", 0.31), ("!켜", 0.45), False),  # Hangul, but not confident
        (("[ノラン袋ポテト]", 0.6), ("노랑 봉투", 0.9), False),  # kana: a Japanese line
        # Less confident, but PP-OCR's reading with the Hangul it cannot read put back: wins.
        (("15,000", 0.99), ("먹태 15,000", 0.9), True),
        (("MR1R2", 0.95), ("서R 1R2", 0.85), True),  # one stand-in for one syllable
        (("R4", 0.99), ("선R 4", 0.9), True),
        (("1,000", 0.99), ("1,000 원", 0.7), False),  # not confident enough
        (("AB12345", 0.99), ("가 45", 0.9), False),  # PP-OCR holds more than the Hangul explains
    ],
)
def test_on_a_korean_page_a_confident_korean_reading_wins_over_a_less_confident_one_or_one_it_completes(
    ppocr, korean, expected
):
    from imtrans.recognize.route import korean_beside_latin

    assert korean_beside_latin(ppocr, korean) is expected


def test_short_korean_beside_digits_on_a_korean_page_is_read_by_the_korean_reader():
    # realphotos ko01: PP-OCR reads "(2인분) 25,000" as "(2) 25,000" (0.80), "(오후5시~오후10시)"
    # as "(辛5人~10人)" (0.78), confidently enough not to be retried; the menu's names it cannot read.
    router = _router(
        ppocr={
            "name": ("", 0.0),
            "price": ("(2) 25,000", 0.80),
            "hours": ("(辛5人~10人)", 0.78),
            "number": ("18,000", 1.0),
            "web": ("WWW.BYJEANNE.COM", 1.0),
        },
        tesseract={
            "name": ("감바스", 0.98),
            "price": ("(2인분) 25,000", 1.0),
            "hours": ("(오후5시~오후10시)", 1.0),
            "number": ("18,000", 1.0),
            "web": ("WWW.BYJEANNE.COM", 0.94),
        },
    )
    read = router.recognize(None, _lines("name", "price", "hours", "number", "web"), "auto")
    assert [(ln.text, ln.recognizer, ln.language) for ln in read] == [
        ("감바스", "tesseract", "ko"),
        ("(2인분) 25,000", "tesseract", "ko"),
        ("(오후5시~오후10시)", "tesseract", "ko"),
        ("18,000", "ppocr", ""),
        ("WWW.BYJEANNE.COM", "ppocr", "en"),
    ]
    # each line that may hide Korean asked of the Korean reader once ("name" retried first);
    # the Latin-only address is not
    assert sorted(router.korean.asked) == ["hours", "name", "number", "price"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(2) 25,000", True),
        ("15,000", True),
        ("(2#) 25,000", True),
        ("毕P4", True),
        ("MR", False),  # Latin alone: the too-short retry's business
        ("Fresh espresso daily", False),
        ("欢迎光临本店", False),  # Han alone: the few-Han retry's business
        ("本日のおすすめ 2", False),  # kana: Japanese
        ("", False),
    ],
)
def test_readings_with_digits_stand_ins_or_han_beside_latin_may_hide_korean(text, expected):
    from imtrans.recognize.route import may_hide_korean

    assert may_hide_korean(text) is expected


def test_a_page_whose_korean_readings_are_weak_is_not_read_again_in_korean():
    # realphotos zh01: a blank bit of art is retried and read "기" at 0.05; the Chinese lines
    # must not then be asked of the Korean reader, even one it would read more confidently.
    router = _router(
        ppocr={"zh": ("分三~四小包裝100元", 0.96), "art": ("", 0.0)},
        tesseract={"zh": ("슈트~퍼시헌놓 100 코", 0.97), "art": ("기", 0.05)},
    )
    read = {ln.id: ln.text for ln in router.recognize(None, _lines("zh", "art"), "auto")}
    assert read == {"zh": "分三~四小包裝100元", "art": ""}
    assert router.korean.asked == ["art"]


def test_a_lone_glyph_counts_only_when_read_clearly():
    # openmantra: a flower read "부" (0.59), art read "又" (0.63), sound effects read "0" (0.68)
    # and "H" (0.62); realphotos ko16: a round logo's big R read "Q" (0.53). A giggle "ふふ" (0.63)
    # and a flower read "*米" (0.34) are longer than one glyph and keep the lower bar (0.3).
    answers = {"petal": ("부", 0.59), "art": ("又", 0.63), "taste": ("味", 0.9), "giggle": ("ふふ", 0.63),
               "flower": ("*米", 0.34), "kana": ("め", 0.85), "sfx": ("0", 0.68), "logo": ("Q", 0.53),
               "floor": ("B", 0.92), "tail": ("a", 0.45)}  # fmt: skip
    router = _router(ppocr=answers, tesseract={k: ("", 0.0) for k in answers})
    read = {ln.id: ln.text for ln in router.recognize(None, _lines(*answers), "auto")}
    assert read == {"petal": "", "art": "", "taste": "味", "giggle": "ふふ", "flower": "*米", "kana": "め",
                    "sfx": "", "logo": "", "floor": "B", "tail": ""}  # fmt: skip


class _ColumnEngine(_Engine):
    """A table recogniser that answers a line read down (a column) from `columns`."""

    def __init__(self, answers, columns, name):
        super().__init__(answers, name)
        self.columns = columns

    def read(self, image, lines):
        self.asked += [ln.id for ln in lines]
        return [
            self.columns[ln.id] if ln.direction is Direction.VERTICAL else self.answers[ln.id] for ln in lines
        ]


def _japanese_page(korean_answers):
    from imtrans.recognize.route import RoutingRecognizer

    # openmantra boureisougi-009: a bubble's two-kana column `って` (23 x 33 px) read across by
    # the Korean reader as `근` (0.73), an anger mark beside a head read `누` (0.70).
    ppocr = _ColumnEngine(
        {"speech": ("後悔だらけのお別れは", 0.95), "tte": ("", 0.2), "mark": ("", 0.1), "sign": ("", 0.1),
         "word": ("", 0.1)},
        {"tte": ("って", 0.99), "mark": ("", 0.0)},
        "ppocr",
    )  # fmt: skip
    lines = [
        Line("speech", Quad.from_rect(0, 0, 400, 36)),
        Line("tte", Quad.from_rect(300, 100, 323, 133)),
        Line("mark", Quad.from_rect(400, 700, 484, 800)),
        Line("sign", Quad.from_rect(0, 300, 60, 340)),
        Line("word", Quad.from_rect(0, 400, 200, 440)),
    ]
    router = RoutingRecognizer(ppocr=ppocr, korean=_Engine(korean_answers, "korean-ctc"))
    return {ln.id: ln.text for ln in router.recognize(None, lines, "auto")}


def test_on_a_japanese_page_a_lone_hangul_reading_is_read_as_a_column_or_dropped():
    read = _japanese_page(
        {
            "speech": ("", 0.0),
            "tte": ("근", 0.73),
            "mark": ("누", 0.70),
            "sign": ("문", 0.9),
            "word": ("", 0.0),
        }
    )
    assert read == {"speech": "後悔だらけのお別れは", "tte": "って", "mark": "", "sign": "", "word": ""}


def test_a_lone_hangul_reading_stays_where_the_page_has_korean_besides_kana():
    # A Korean sign with a Japanese line: the page has a confident Korean line of two syllables.
    read = _japanese_page(
        {"speech": ("", 0.0), "tte": ("근", 0.73), "mark": ("누", 0.70), "sign": ("문", 0.9),
         "word": ("화장실", 0.95)}
    )  # fmt: skip
    assert read == {
        "speech": "後悔だらけのお別れは",
        "tte": "근",
        "mark": "누",
        "sign": "문",
        "word": "화장실",
    }


def test_a_traditional_page_gets_its_simplified_misreadings_back_in_traditional():
    # zh01: the store's name read with Simplified glyphs among lines read in Traditional
    answers = {"hours": ("營業時間", 0.99), "name": ("何佳佳葱油饼", 0.96)}
    read = {ln.id: ln.text for ln in _router(answers, {}).recognize(None, _lines(*answers), "auto")}
    assert read == {"hours": "營業時間", "name": "何佳佳蔥油餅"}
    # on a page with kana, Han lines are Japanese: glyphs outside JIS X 0213 take Japanese forms
    (jp,) = _router({"jp": ("满腹だけど", 0.95)}, {}).recognize(None, _lines("jp"), "auto")
    assert jp.text == "満腹だけど"
    from imtrans.recognize.route import RouteSettings, RoutingRecognizer

    off = RoutingRecognizer(
        RouteSettings(han_forms=False), ppocr=_Engine(answers, "ppocr"), korean=_Engine({}, "tesseract")
    )
    assert [ln.text for ln in off.recognize(None, _lines(*answers), "auto")] == [
        t for t, _ in answers.values()
    ]
