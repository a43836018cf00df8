"""Han glyphs in the page's own forms: Simplified misreadings on a Traditional page, Chinese
glyphs in Japanese lines; glyphs inside the line's character set are never changed."""

from imtrans.recognize.han_forms import is_traditional, page_forms, to_japanese, to_traditional
from imtrans.types import Line, Quad


def _line(text: str, language: str) -> Line:
    return Line(f"l{len(text)}{language}", Quad.from_rect(0, 0, 100, 20), text=text, language=language)


def test_simplified_only_glyphs_become_traditional():
    # zh01's readings: PP-OCR wrote these glyphs Simplified on a Taiwanese sign
    assert to_traditional("何佳佳葱油饼-内湖737店") == "何佳佳蔥油餅-內湖737店"
    assert to_traditional("。親爱的饼客您好：") == "。親愛的餅客您好："
    # phrase by phrase: the same Simplified glyph goes to the Traditional one its word needs
    assert to_traditional("头发") == "頭髮"
    assert to_traditional("发现") == "發現"


def test_glyphs_inside_big5_are_left_alone():
    # OpenCC's s2t writes 台 as 臺 and 干 as 幹 here; both are Big5 glyphs, so they stay
    assert to_traditional("台北市干物") == "台北市干物"


def test_chinese_glyphs_in_a_japanese_line_become_japanese():
    assert to_japanese("满腹だけど、おつまみが必要なとき！") == "満腹だけど、おつまみが必要なとき！"
    # OpenMantra page 34: a Chinese form that JIS X 0213 lists, but everyday Japanese print does not use
    assert to_japanese("每日每日誰かの泣き顔見て") == "毎日毎日誰かの泣き顔見て"
    assert to_japanese("每日每日") == "毎日毎日"  # the same bubble's column alone: Japanese by its page
    assert to_japanese("干物系の大人気") == "干物系の大人気"  # all JIS glyphs: unchanged
    # a Chinese name beside the Japanese one on a sign (ko22): the run touching no kana stays
    assert to_japanese("展览馆A/展示ホールA") == "展览馆A/展示ホールA"


def test_a_page_is_traditional_only_on_evidence():
    assert is_traditional(["營業時間", "每週三、五", "葱油饼"])  # 營 業 時 間 週 vs 饼
    assert not is_traditional(["芝士条、炸薯角、炸薯条", "吃饱了却想来点下酒菜时"])  # a Simplified menu
    assert not is_traditional(["門"])  # one Traditional-only glyph is not enough


def test_page_forms_converts_by_page_and_line_language():
    traditional = [
        _line("營業時間", "zh"),
        _line("我們葱油饼", "zh"),
        _line("满腹だ", "ja"),
        _line("OPEN", "en"),
    ]
    assert [ln.text for ln in page_forms(traditional)] == ["營業時間", "我們蔥油餅", "満腹だ", "OPEN"]
    simplified = [_line("芝士条", "zh"), _line("炸薯条等炸土豆", "zh")]
    assert page_forms(simplified) == simplified
