"""Han glyphs written in the page's own forms: Traditional on a Traditional Chinese page, Japanese
in Japanese lines.

PP-OCRv6 learnt Chinese mostly from Simplified text, so on a Taiwanese or Hong Kong sign it
reads some glyphs as their Simplified forms (`蔥油餅` as `葱油饼`, `親愛` as `親爱`), and in a
Japanese line now and then a Chinese glyph for the Japanese one (`満腹` as `满腹`, `毎日` as
`每日`). Such a glyph is not right there: a Simplified-only glyph is outside Big5 (the
Traditional character set), and a Chinese form outside JIS X 0208 (the Japanese one of
everyday print; `每` is only in JIS X 0213's additions). So, per page:

- a page is Traditional when its Chinese lines hold more Traditional-only glyphs (in Big5, not
  in GB 2312) than Simplified-only ones (in GB 2312, not in Big5), and at least
  `_MIN_TRADITIONAL`; on it, every glyph of a Chinese line outside Big5 becomes OpenCC's
  Traditional form (`s2t`, phrase by phrase, so `发` goes to `發` or `髮` by its word) when
  that form is in Big5;
- in a Japanese line, every Han glyph outside JIS X 0208 (everyday Japanese print), in a run
  of Han glyphs that touches kana where the line has kana, becomes OpenCC's Japanese form
  (`s2t`, then `t2jp`) when that form is in JIS X 0208 (`每日` -> `毎日`, `满腹` -> `満腹`).

Glyphs inside the character set are never changed (`台` stays `台`, `干物` stays `干物`): only
glyphs that cannot belong to the line's script are, so a Simplified page is left as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

import opencc

from imtrans.languages import is_han, script_counts
from imtrans.types import Line

#: A page needs this many Traditional-only glyphs (and more than Simplified-only ones) to count
#: as Traditional: a lone misreading on a Simplified page does not make it one.
_MIN_TRADITIONAL = 3
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")  # `is_han`'s glyphs


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(f"{config}.json")


def _in(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def in_traditional(ch: str) -> bool:
    """Whether Big5, the Traditional Chinese character set, has the glyph."""
    return _in(ch, "big5")


def in_simplified(ch: str) -> bool:
    """Whether GB 2312, the Simplified Chinese character set, has the glyph."""
    return _in(ch, "gb2312")


def in_japanese(ch: str) -> bool:
    """Whether JIS X 0213 (with JIS X 0208), the Japanese character set, has the glyph."""
    return _in(ch, "euc_jis_2004")


def in_common_japanese(ch: str) -> bool:
    """Whether JIS X 0208, the Japanese set of everyday print, has the glyph (JIS X 0213 adds
    old and Chinese forms such as `每` and `黑`, which PP-OCR reads for `毎` and `黒`)."""
    return _in(ch, "euc_jp")


def outside_japanese(text: str) -> int:
    """How many Han glyphs of `text` JIS X 0213 lacks (Simplified Chinese forms, mostly)."""
    return sum(1 for ch in text if is_han(ch) and not in_japanese(ch))


def traditional_evidence(texts: list[str]) -> tuple[int, int]:
    """(Traditional-only, Simplified-only) glyph counts over `texts`."""
    trad = simp = 0
    for text in texts:
        for ch in text:
            if is_han(ch):
                t, s = in_traditional(ch), in_simplified(ch)
                trad += t and not s
                simp += s and not t
    return trad, simp


def is_traditional(texts: list[str]) -> bool:
    """Whether Chinese lines reading `texts` are written in Traditional glyphs (see the module)."""
    trad, simp = traditional_evidence(texts)
    return trad >= _MIN_TRADITIONAL and trad > simp


def _replace_outside(text: str, convert: Callable[[str], str], belongs: Callable[[str], bool]) -> str:
    """`text` with each Han glyph `belongs` rejects taken from `convert(text)` where it belongs."""
    converted = convert(text)
    if len(converted) != len(text):  # a phrase mapped to another length: convert glyph by glyph
        if len(text) == 1:
            return text
        return "".join(_replace_outside(ch, convert, belongs) for ch in text)
    return "".join(
        new if is_han(old) and not belongs(old) and belongs(new) else old
        for old, new in zip(text, converted, strict=True)
    )


def to_traditional(text: str) -> str:
    """`text` with its glyphs outside Big5 in their Traditional forms (where those are in it)."""
    if not any(is_han(ch) and not in_traditional(ch) for ch in text):
        return text
    return _replace_outside(text, _converter("s2t").convert, in_traditional)


def to_japanese(text: str) -> str:
    """`text` (a Japanese line) with its glyphs outside JIS X 0208 in their Japanese forms (where
    those are in it). In a line with kana, only in runs of Han glyphs that touch kana: a Chinese
    name set beside Japanese in one line (`展览馆A/展示ホールA`, a sign's Chinese and Japanese side
    by side) is left as it is. A line of Han glyphs alone is Japanese by its page's kana (a
    bubble's column `每日每日` beside `誰かの泣き顔見て`), and is converted whole."""
    if not any(is_han(ch) and not in_common_japanese(ch) for ch in text):
        return text
    s2t, t2jp = _converter("s2t"), _converter("t2jp")
    has_kana = bool(script_counts(text)["kana"])

    def japanese(run: re.Match[str]) -> str:
        before, after = text[run.start() - 1 : run.start()], text[run.end() : run.end() + 1]
        if has_kana and not any(script_counts(ch)["kana"] for ch in before + after):
            return run.group()
        return _replace_outside(run.group(), lambda t: t2jp.convert(s2t.convert(t)), in_common_japanese)

    return _HAN_RUN.sub(japanese, text)


def page_forms(lines: list[Line]) -> list[Line]:
    """Every line of one page with its Han glyphs in the page's own forms (see the module)."""
    chinese = [ln.text for ln in lines if ln.language == "zh"]
    traditional = bool(chinese) and is_traditional(chinese)
    out = []
    for ln in lines:
        text = ln.text
        if ln.language == "ja":
            text = to_japanese(text)
        elif ln.language == "zh" and traditional:
            text = to_traditional(text)
        out.append(ln if text == ln.text else replace(ln, text=text))
    return out
