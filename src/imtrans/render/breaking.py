"""Language-aware line breaking: pure functions of a text, a width and a measure callback.

Every breaker works the same way: the text is cut into *pieces* that must never be split
in normal breaking (words for spaced scripts, kinsoku clusters for Japanese/Chinese), the
pieces are packed greedily into lines, and only a piece that is wider than a whole line
is split further (hyphenation for Latin scripts, syllables or characters for the rest).

The measure is any `str -> float` (a font's `getlength`, a column height, or `len` in
tests), so the rules are testable with golden tables and no font.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence

from imtrans.languages import NO_SPACE_LANGUAGES

Measure = Callable[[str], float]

#: Characters that may not start a line (Japanese 行頭禁則, also used for Chinese and Korean):
#: closing brackets and quotes, sentence and clause punctuation, small kana, the long vowel
#: mark, iteration marks, and their ASCII counterparts.
NO_START: frozenset[str] = frozenset(
    "、。，．・：；？！‼⁇⁈⁉‐゠–〜～ー"
    "）］｝〕〉》」』】〙〗〟’”｠»"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    "ゝゞヽヾ々〻"
    "％‰℃°¢"
    ",.:;?!)]}%"
)

#: Characters that may not end a line (行末禁則): opening brackets and quotes.
NO_END: frozenset[str] = frozenset("（［｛〔〈《「『【〘〖〝‘“｟«([{")

#: Marks that start the items of a list (`· 매일 ... · 축축 ...`); never `-` or `*`, which
#: also stand between words.
BULLETS: frozenset[str] = frozenset("·•●○■□◆◇▶▷►★☆※ㆍ・")

#: Characters that come in unbreakable pairs (an ellipsis or dash is often doubled).
INSEPARABLE: frozenset[str] = frozenset("…‥―—")

_PAIRS = frozenset(ch + ch for ch in INSEPARABLE)

# Hyphenation dictionaries for the target languages pyphen knows.
_PYPHEN_LANG = {
    "en": "en_US",
    "de": "de_DE",
    "fr": "fr",
    "es": "es",
    "it": "it_IT",
    "pt": "pt_PT",
    "nl": "nl_NL",
    "ru": "ru_RU",
    "id": "id_ID",
}

# A piece of text and the separator that precedes it when it follows another piece on a line.
_Piece = tuple[str, str]


def break_text(
    text: str, language: str, max_width: float, measure: Measure, *, split_words: bool = True
) -> list[str]:
    """Break `text` into lines no wider than `max_width`, following `language`'s rules.

    English and other Latin/Cyrillic scripts break on spaces and hyphenate (pyphen) only a
    word that is wider than a line on its own. Korean breaks on spaces, then between
    syllables of a word that is too long. Japanese and Chinese break between any two
    characters except where kinsoku forbids it (no line starts with closing punctuation or
    small kana, none ends with an opening bracket); Latin words inside them stay whole.

    Newlines in `text` are forced breaks; blank lines are dropped. A piece that cannot be
    split narrowly enough (one glyph, or a kinsoku cluster such as 「えっ、, wider than the
    line) goes on a line of its own, which is then wider than `max_width`: kinsoku is never
    broken, and callers check the widths.

    Args:
        text: The text to break.
        language: Target language code (en, ko, ja, zh, fr, ...).
        max_width: Largest line width, in the measure's unit.
        measure: Width of a string (e.g. `FreeTypeFont.getlength`).
        split_words: When False, a word (or CJK cluster) wider than a line is never split:
            it is put on a line of its own, too wide. A caller that can shrink the font
            tries that first, and splits words only as a last resort.

    Returns:
        The lines, stripped of leading and trailing spaces; empty for a blank text.
    """
    lines: list[str] = []
    for paragraph in paragraphs(text):
        if not paragraph.strip():
            continue
        if language in NO_SPACE_LANGUAGES:
            pieces = _cjk_pieces(paragraph)
        else:
            pieces = [("" if i == 0 else " ", w) for i, w in enumerate(_words(paragraph))]
        split = (lambda w: _split_units(w, language, max_width, measure)) if split_words else _whole
        packed = _pack(pieces, max_width, measure, split)
        if language in NO_SPACE_LANGUAGES:
            packed = _without_widow(packed, max_width, measure)
        lines.extend(packed)
    return lines


#: A number followed by one of these (or by a word of at most `_UNIT_LETTERS` letters, dots
#: allowed: "a.m.", "km", "min") stays on its line with it: "10 a.m." never breaks.
_UNIT_LETTERS = 4


def _words(paragraph: str) -> list[str]:
    """The paragraph's words, a number joined to the short unit after it ("10 a.m.", "25 km").

    The joining space is a no-break space, so the pair is one piece for packing and can still
    be split (as one over-long word) when it is wider than a line.
    """
    words = paragraph.split()
    out: list[str] = []
    for word in words:
        if out and _is_number(out[-1]) and _is_unit(word):
            out[-1] += "\u00a0" + word
        else:
            out.append(word)
    return out


def _is_number(word: str) -> bool:
    core = word.strip("$€£¥₩+-–(")
    return bool(core) and core[0].isdigit() and all(ch.isdigit() or ch in ".,:/" for ch in core)


def _is_unit(word: str) -> bool:
    core = word.rstrip(",;:!?)")
    letters = core.replace(".", "")
    return bool(letters) and (letters == "%" or (letters.isalpha() and len(letters) <= _UNIT_LETTERS))


def _glyphs(line: str) -> int:
    """Characters of a line that are not spaces or punctuation."""
    return sum(1 for ch in line if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def _without_widow(lines: list[str], max_width: float, measure: Measure) -> list[str]:
    """A CJK paragraph whose last line is a single glyph takes a piece from the line above.

    Only when that line keeps at least two glyphs and the new last line fits.
    """
    if len(lines) < 2 or _glyphs(lines[-1]) != 1:
        return lines
    pieces = _cjk_pieces(lines[-2])
    if len(pieces) < 2:
        return lines
    (_, piece), head = pieces[-1], pieces[:-1]
    above = "".join(s + p for s, p in head).strip()
    join = " " if _is_narrow(piece[-1]) and _is_narrow(lines[-1][0]) else ""
    below = piece + join + lines[-1]
    if _glyphs(above) < 2 or measure(below) > max_width:
        return lines
    return [*lines[:-2], above, below]


def paragraphs(text: str) -> list[str]:
    """The text's lines, and a list's items on lines of their own: a line that starts with a
    bullet (`BULLETS`) is cut before each later space-preceded occurrence of that bullet, as a
    translator returns a bulleted block joined into one line."""
    out: list[str] = []
    for line in text.splitlines():
        head = line.lstrip()[:1]
        if head in BULLETS and f" {head}" in line:
            out += [item for item in re.split(rf"\s+(?={re.escape(head)})", line) if item.strip()]
        else:
            out.append(line)
    return out


def break_vertical(
    text: str, language: str, max_height: float, measure: Measure, *, split_words: bool = True
) -> list[str]:
    """Break `text` into vertical columns no taller than `max_height` (kinsoku rules apply).

    Vertical text is drawn for Japanese and Chinese only; the same per-character rules as
    horizontal Japanese are used whatever `language` is. Columns are returned in reading
    order (the caller draws them right to left).

    Args:
        text: The text to break.
        language: Target language code (informative: the rules are the CJK ones).
        max_height: Largest column height, in the measure's unit.
        measure: Height of a column string (e.g. a sum of glyph cell heights).
        split_words: As for `break_text`.

    Returns:
        The columns' strings.
    """
    del language  # the CJK rules apply to every vertical text
    columns: list[str] = []
    for paragraph in paragraphs(text):
        if paragraph.strip():
            pieces = _cjk_pieces(paragraph)
            split = _char_units if split_words else _whole
            columns.extend(_pack(pieces, max_height, measure, split))
    return columns


def can_break_between(a: str, b: str) -> bool:
    """Whether a CJK line may break between characters `a` and `b` (kinsoku and word rules)."""
    if b in NO_START or a in NO_END:
        return False
    if a == b and a in INSEPARABLE:
        return False
    return not (_is_word_char(a) and _is_word_char(b))


def _is_word_char(ch: str) -> bool:
    """A character of a Latin-style word (kept whole inside CJK text): narrow letters, digits, ' -."""
    if ch in "'’-_":
        return True
    return ch.isalnum() and _is_narrow(ch)


def _is_narrow(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) not in ("W", "F")


def _cjk_pieces(text: str) -> list[_Piece]:
    """Cut a CJK paragraph into the smallest pieces between which a break is allowed."""
    pieces: list[list[str]] = []
    sep = ""
    prev = ""
    for ch in text:
        if ch.isspace():
            if pieces:
                sep = " "
            continue
        if pieces and not sep and not can_break_between(prev, ch):
            pieces[-1][1] += ch
        elif pieces and sep and (ch in NO_START or prev in NO_END):
            # A space does not make a closing mark startable: keep it with what precedes.
            pieces[-1][1] += " " + ch
        else:
            pieces.append([sep, ch])
        sep = ""
        prev = ch
    return [(s, p) for s, p in pieces]


def _pack(
    pieces: Sequence[_Piece],
    max_width: float,
    measure: Measure,
    split: Callable[[str], list[tuple[str, str]]],
) -> list[str]:
    """Greedy packing of pieces into lines; a piece wider than a line is split by `split`.

    `split(piece)` returns units with the mark to append when a line ends after the unit
    (a hyphen, or nothing).
    """
    lines: list[str] = []
    cur = ""
    for sep, piece in pieces:
        candidate = cur + sep + piece if cur else piece
        if measure(candidate) <= max_width:
            cur = candidate
            continue
        if measure(piece) <= max_width:
            if cur:
                lines.append(cur)
            cur = piece
            continue
        cur = _fill(cur, sep, split(piece), max_width, measure, lines)
    if cur:
        lines.append(cur)
    return lines


def _fill(
    cur: str,
    sep: str,
    units: list[tuple[str, str]],
    max_width: float,
    measure: Measure,
    lines: list[str],
) -> str:
    """Lay out the units of an over-long piece, starting on the current line; return the new current line."""
    i = 0
    while i < len(units):
        prefix = cur + sep if cur else ""
        best = 0
        for j in range(i + 1, len(units) + 1):
            mark = units[j - 1][1] if j < len(units) else ""
            if measure(prefix + "".join(u for u, _ in units[i:j]) + mark) <= max_width:
                best = j
            else:
                break
        if best == 0:
            if cur:
                lines.append(cur)
                cur = ""
                continue
            best = i + 1  # one unit wider than the line: it overflows on a line of its own
        text = prefix + "".join(u for u, _ in units[i:best])
        if best < len(units):
            lines.append(text + units[best - 1][1])
            cur = ""
        else:
            cur = text
        i = best
    return cur


def _whole(piece: str) -> list[tuple[str, str]]:
    """An over-long piece left whole (it overflows on a line of its own)."""
    return [(piece, "")]


def _split_units(word: str, language: str, max_width: float, measure: Measure) -> list[tuple[str, str]]:
    """Units of a word wider than a line: syllables (pyphen) for Latin scripts, else characters."""
    if language == "ko" or (language in NO_SPACE_LANGUAGES and not all(map(_is_narrow, word))):
        return _char_units(word)
    units: list[tuple[str, str]] = []
    for part in _hyphen_parts(word):
        for syl in _syllables(part, language):
            if measure(syl + "-") <= max_width:
                units.append((syl, "-"))
            else:
                units.extend((ch, "-") for ch in syl)
        # A break after an existing hyphen needs no extra one.
        if units and part.endswith("-"):
            units[-1] = (units[-1][0], "")
    # Closing punctuation stays with what precedes it, as in kinsoku.
    merged: list[tuple[str, str]] = []
    for unit in units:
        if merged and unit[0][:1] in NO_START:
            merged[-1] = (merged[-1][0] + unit[0], unit[1])
        else:
            merged.append(unit)
    units = merged
    # No hyphen after punctuation or before it.
    for k in range(len(units) - 1):
        if not (units[k][0][-1:].isalnum() and units[k + 1][0][:1].isalnum()):
            units[k] = (units[k][0], "")
    return units


def _hyphen_parts(word: str) -> list[str]:
    """Split a word after its own hyphens: 'well-known' -> ['well-', 'known']."""
    parts: list[str] = []
    start = 0
    for k, ch in enumerate(word):
        if ch == "-" and 0 < k < len(word) - 1:
            parts.append(word[start : k + 1])
            start = k + 1
    parts.append(word[start:])
    return parts


def _syllables(word: str, language: str) -> list[str]:
    """Hyphenation points of a word from pyphen's dictionary; the whole word if none is known."""
    # Latin words inside Japanese or Chinese text are hyphenated as English.
    dic_lang = _PYPHEN_LANG.get("en" if language in NO_SPACE_LANGUAGES else language)
    start = next((k for k, ch in enumerate(word) if ch.isalpha()), len(word))
    end = len(word) - next((k for k, ch in enumerate(reversed(word)) if ch.isalpha()), len(word))
    if dic_lang is None or end <= start:
        return [word]
    # Imported here: the recogniser's training imports this module (through imtrans.synth) on a
    # lent GPU machine, where pyphen's 2 MB of dictionaries are not worth carrying.
    import pyphen

    # Hyphenate the letters only: pyphen finds nothing in "moment," with its comma.
    positions = pyphen.Pyphen(lang=dic_lang).positions(word[start:end])  # pyphen caches its dictionaries
    cuts = [0, *[start + int(p) for p in positions], len(word)]
    return [word[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def _char_units(word: str) -> list[tuple[str, str]]:
    """Units of an over-long piece split between characters, except where kinsoku forbids.

    Kinsoku is never broken: a cluster such as 「えっ、 wider than the line overflows it
    (as hanging punctuation does in Japanese typesetting), and the caller's fit check
    shrinks the font instead. Letters of a Latin word may be split here.
    """
    units: list[tuple[str, str]] = []
    for ch in word:
        if units and (ch in NO_START or units[-1][0][-1] in NO_END or units[-1][0][-1] + ch in _PAIRS):
            units[-1] = (units[-1][0] + ch, "")
        else:
            units.append((ch, ""))
    return units
