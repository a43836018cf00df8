"""Language codes imtrans knows, and the scripts they are written in."""

from __future__ import annotations

from imtrans.errors import LanguageError

#: Languages imtrans can read from an image (OCR), ISO 639-1.
SOURCE_LANGUAGES: dict[str, str] = {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese"}

#: Languages imtrans can draw (it has fonts and line-breaking rules for them).
TARGET_LANGUAGES: dict[str, str] = {
    **SOURCE_LANGUAGES,
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ru": "Russian",
    "vi": "Vietnamese",
    "id": "Indonesian",
}

_ALIASES = {
    "kor": "ko",
    "korean": "ko",
    "ko-kr": "ko",
    "eng": "en",
    "english": "en",
    "en-us": "en",
    "en-gb": "en",
    "jpn": "ja",
    "japanese": "ja",
    "ja-jp": "ja",
    "jp": "ja",
    "zho": "zh",
    "chi": "zh",
    "chinese": "zh",
    "zh-cn": "zh",
    "zh-hans": "zh",
    "zh-sg": "zh",
}

#: Scripts that are written without spaces between words.
NO_SPACE_LANGUAGES = frozenset({"ja", "zh"})


def normalize(code: str, *, allowed: dict[str, str], allow_auto: bool = False) -> str:
    """Map a user's language code to ours, or raise a one-line LanguageError."""
    c = code.strip().lower().replace("_", "-")
    if allow_auto and c == "auto":
        return "auto"
    c = _ALIASES.get(c, c)
    if c not in allowed:
        known = ", ".join(sorted(allowed)) + (", auto" if allow_auto else "")
        raise LanguageError(f"unknown language code {code!r}; known: {known}")
    return c


def source_language(code: str) -> str:
    """Normalise a source language (ko, en, ja, zh or auto)."""
    return normalize(code, allowed=SOURCE_LANGUAGES, allow_auto=True)


def target_language(code: str) -> str:
    """Normalise a target language."""
    return normalize(code, allowed=TARGET_LANGUAGES)


def is_hangul_syllable(ch: str) -> bool:
    """Whether `ch` is a precomposed Hangul syllable (가-힣)."""
    return "\uac00" <= ch <= "\ud7a3"


def is_han(ch: str) -> bool:
    """Whether `ch` is a Han glyph: a CJK unified ideograph (extension A too) or a compatibility one."""
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def script_counts(text: str) -> dict[str, int]:
    """Characters per script: hangul, kana, han, latin (other characters are not counted)."""
    counts = {"hangul": 0, "kana": 0, "han": 0, "latin": 0}
    for ch in text:
        o = ord(ch)
        if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
            counts["hangul"] += 1
        elif 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9D:
            counts["kana"] += 1
        elif is_han(ch):
            counts["han"] += 1
        elif ch.isalpha() and o < 0x250:
            counts["latin"] += 1
    return counts


def has_letters(text: str) -> bool:
    """Whether a text has letters of any script counted by `script_counts` (not only digits and marks)."""
    return any(script_counts(text).values())


def drawn_language(text: str, target: str) -> str:
    """The language a translation is laid out in (direction, line breaking): the target's; with
    target "auto", a page's own text drawn again (eval's reference text, untranslated), the
    one its script shows, so that a Chinese column is drawn as a column."""
    return language_of_script(text, target) if target == "auto" else target


def language_of_script(text: str, default: str) -> str:
    """The language whose font can draw `text`: ko for Hangul, ja for kana, zh for Han
    (ja when `default` is ja), else `default`."""
    c = script_counts(text)
    if c["hangul"]:
        return "ko"
    if c["kana"]:
        return "ja"
    if c["han"]:
        return default if default in NO_SPACE_LANGUAGES else "zh"
    return default
