"""Training lines for the Korean recogniser: texts as signs, menus and receipts print them,
rendered in every installed Korean font over plates, photos, paper and screens, cut loosely
as a detector cuts them, and degraded as phone photos are.

Everything is a function of a numpy Generator, so a batch is a function of (seed, step) and a
resumed run repeats it. Sources, licences and the cleaning are in
`src/imtrans/recognize/models/DATACARD.md`; `TextSource.stats()` gives the counts.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
from dataclasses import asdict, dataclass, field, fields
from functools import cache, lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imtrans.languages import is_hangul_syllable
from imtrans.recognize.korean import korean_charset
from imtrans.synth.backgrounds import PhotoLibrary

#: Fonts that draw old Hangul jamo sequences or lack the modern syllables' look: never used.
_SKIP_FONTS = ("UnJamo", "UnYetgul", "YetHangul", "hline", "Mono", "Coding", "D2Coding")
#: Fonts and photos kept out of training (the held-out set draws only these): a serif, two pens,
#: decorative and rounded faces, and the eraser's held-out photos.
HELD_OUT_FONTS = (
    "UnBatangBold.ttf",
    "UnPenheulim.ttf",
    "UnPilgia.ttf",
    "Bandal.ttf",
    "BMYEONSUNG_ttf.ttf",
    "LexiSaebomR.ttf",
    "NanumSquareRoundL.ttf",
    "NanumGothicEcoBold.ttf",
)
HELD_OUT_PHOTOS = ("gravel", "coins", "hubble_deep_field", "Garden", "Storm", "Wood")
#: The faces of the "brush, pen and serif" check (seen in training; texts and photos are held out).
BRUSH_PEN_SERIF = ("NanumBrush.ttf", "NanumPen.ttf", "NanumMyeongjo.ttf", "NanumMyeongjoBold.ttf",
                   "NanumMyeongjoExtraBold.ttf", "UnBatang.ttf", "NanumBarunpenR.ttf")  # fmt: skip

STYLES = ("plate", "channel", "neon", "menu", "receipt", "package", "screen", "webtoon", "photo")


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int = 0

    @property
    def name(self) -> str:
        return Path(self.path).name + (f"#{self.index}" if self.index else "")


def korean_fonts(extra: str = "", system: str = "") -> list[FontFace]:
    """Every installed face that covers Hangul (fontconfig), in a fixed order; the Noto CJK
    collections at their Korean index (1). `extra`: a folder whose .ttf faces are added (round 6:
    `training/fetch_fonts.py`'s Google Fonts faces). `system`: a folder whose .ttf and .otf faces
    stand in for fontconfig's (`training/pack_fonts.py`'s, on a machine without Debian's Korean
    fonts); without fontconfig and without it, there are none."""
    if system:
        folder = Path(system).expanduser()
        paths = [str(p) for p in [*folder.glob("*.ttf"), *folder.glob("*.otf")]]
    else:
        try:
            out = subprocess.run(
                ["fc-list", ":lang=ko", "file"], capture_output=True, text=True, check=False
            ).stdout
        except FileNotFoundError:  # no fontconfig (a bare machine)
            out = ""
        paths = [line.split(":")[0].strip() for line in out.splitlines()]
    faces = set()
    for path in paths:
        if not path or any(s in path for s in _SKIP_FONTS):
            continue
        faces.add(FontFace(path, 1 if path.endswith(".ttc") else 0))
    if extra:
        faces |= {FontFace(str(p)) for p in Path(extra).expanduser().glob("*.ttf")}
    return sorted(faces, key=lambda f: f.name)


@lru_cache(maxsize=256)
def _font(face: FontFace, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face.path, size, index=face.index)


@cache
def _cmap(face: FontFace) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if face.path.endswith(".ttc"):
        font = TTCollection(face.path, lazy=True).fonts[face.index]
    else:
        font = TTFont(face.path, lazy=True)
    return frozenset(font.getBestCmap() or {})


def covers(face: FontFace, text: str) -> bool:
    cmap = _cmap(face)
    return all(ord(c) in cmap for c in text if c != " ")


# --- texts ------------------------------------------------------------------------------------


@dataclass
class TextSource:
    """Korean words (wordfreq), phrases (konlpy's statutes and bills), English words (wordfreq),
    and templates for prices, phone numbers, hours and codes, all limited to the charset."""

    ko_words: list[str] = field(default_factory=list)
    #: Round 4: the words of `ko_words` that hold a confusable syllable (`is_confusable`).
    ko_confusable: list[str] = field(default_factory=list)
    ko_phrases: list[str] = field(default_factory=list)
    en_words: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls) -> TextSource:
        import wordfreq

        from imtrans.synth.text import load_corpus

        chars = set(korean_charset())
        src = cls()
        raw = wordfreq.top_n_list("ko", 30000)
        src.ko_words = [w for w in raw if set(w) <= chars and any(is_hangul_syllable(c) for c in w)]
        src.dropped["ko_words_outside_charset_or_no_hangul"] = len(raw) - len(src.ko_words)
        src.ko_confusable = [w for w in src.ko_words if any(is_confusable(c) for c in w)]
        corpus = load_corpus("ko")
        phrases = [t for kind in sorted(corpus.texts) for t in corpus.texts[kind]]
        src.ko_phrases = [p for p in phrases if set(p) <= chars]
        src.dropped["ko_phrases_outside_charset"] = len(phrases) - len(src.ko_phrases)
        raw_en = wordfreq.top_n_list("en", 8000)
        src.en_words = [w for w in raw_en if w.isascii() and w.isalpha() and len(w) > 1]
        src.dropped["en_words_not_ascii_letters"] = len(raw_en) - len(src.en_words)
        return src

    def save(self, path: Path) -> None:
        """Write the lists as JSON (a temp file, then renamed), for a machine without wordfreq and
        konlpy: `from_file` reads back the same texts, so a run draws the same lines there."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def from_file(cls, path: Path) -> TextSource:
        """The texts `save` wrote.

        Raises:
            ValueError: The file is not such a JSON object.
        """
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or set(data) != {f.name for f in fields(cls)}:
            raise ValueError(f"{path} is not a text list TextSource.save wrote")
        return cls(**data)

    def stats(self) -> dict[str, int]:
        return {"ko_words": len(self.ko_words), "ko_phrases": len(self.ko_phrases), "en_words": len(self.en_words),
                **{f"dropped_{k}": v for k, v in self.dropped.items()}}  # fmt: skip

    def _word(self, rng: np.random.Generator) -> str:
        # frequency-ranked list: half from the top 3,000, half from all
        n = len(self.ko_words)
        return self.ko_words[int(rng.integers(min(n, 3000) if rng.random() < 0.5 else n))]

    def _phrase(self, rng: np.random.Generator) -> str:
        p = self.ko_phrases[int(rng.integers(len(self.ko_phrases)))].split()
        k = int(rng.integers(1, 5))
        s = int(rng.integers(max(1, len(p) - k + 1)))
        return " ".join(p[s : s + k])

    def confusable(self, rng: np.random.Generator) -> str:
        """Round 4: 1-2 words holding a confusable syllable (찌, 피, 돼, 대, ...), or 2-6 such
        syllables drawn uniformly (rare ones too)."""
        if rng.random() < 0.3 or not self.ko_confusable:
            cs = _confusable_syllables()
            return "".join(cs[int(i)] for i in rng.integers(len(cs), size=int(rng.integers(2, 7))))
        words = [self.ko_confusable[int(rng.integers(len(self.ko_confusable)))]]
        if rng.random() < 0.4:
            words.insert(int(rng.integers(2)), self._word(rng))
        return " ".join(words)[:24]

    def sample(self, rng: np.random.Generator) -> str:
        """One line of text (1-24 characters)."""
        r = rng.random()
        w = self._word
        if r < 0.25:
            text = " ".join(w(rng) for _ in range(int(rng.integers(1, 4))))
        elif r < 0.40:
            text = self._phrase(rng)
        elif r < 0.52:
            text = f"{w(rng)} {_price(rng)}"
        elif r < 0.58:
            text = _phone(rng) if rng.random() < 0.6 else f"{w(rng)} {_phone(rng)}"
        elif r < 0.63:
            text = f"{w(rng)} {_hours(rng)}"
        elif r < 0.72:
            en = self.en_words[int(rng.integers(len(self.en_words)))]
            en = en.upper() if rng.random() < 0.4 else en.capitalize()
            text = f"{en} {w(rng)}" if rng.random() < 0.5 else f"{w(rng)} {en}"
        elif r < 0.80:
            marks = ["!", "?", "~", ".", "·", "♥", "★", "(", ")", "-", "/", "%", "&", "+", "※", "*", "#", ":"]
            m = marks[int(rng.integers(len(marks)))]
            text = {0: f"{w(rng)}{m}", 1: f"{m}{w(rng)}", 2: f"({w(rng)})", 3: f"{w(rng)} {m} {w(rng)}"}[
                int(rng.integers(4))
            ]
        elif r < 0.93:
            # uniform syllables: every one of the 2,350 gets seen, not only frequent ones
            cs = ks_syllables()
            n = int(rng.integers(1, 9))
            text = "".join(cs[int(i)] for i in rng.integers(len(cs), size=n))
            if n > 4 and rng.random() < 0.5:
                cut = int(rng.integers(1, n))
                text = text[:cut] + " " + text[cut:]
        else:
            text = f"{int(rng.integers(1, 300))}{['호', '층', '번', '동', '길', '개', '인분', 'g', 'ml', '%'][int(rng.integers(10))]}"
            if rng.random() < 0.5:
                text = f"{w(rng)} {text}"
        return text.strip()[:24] or "가"


@lru_cache(maxsize=1)
def ks_syllables() -> list[str]:
    """The 2,350 Hangul syllables of KS X 1001 (those of `korean_charset`)."""
    return [c for c in korean_charset() if is_hangul_syllable(c)]


def is_confusable(c: str) -> bool:
    """Whether `c` is a syllable that bold display faces and pens make look like another: initial
    ㅈ, ㅉ, ㅊ or ㅍ (찌/피/치), or ㄷ/ㄸ with ㅐ, ㅙ, ㅚ, ㅔ or ㅞ (돼/대/되/데)."""
    if not is_hangul_syllable(c):
        return False
    i = ord(c) - 0xAC00
    lead, vowel = i // 588, (i % 588) // 28
    return lead in _CONFUSABLE_INITIALS or (lead in _CONFUSABLE_D[0] and vowel in _CONFUSABLE_D[1])


@lru_cache(maxsize=1)
def _confusable_syllables() -> list[str]:
    return [c for c in ks_syllables() if is_confusable(c)]


def _price(rng: np.random.Generator) -> str:
    v = int(rng.integers(1, 300)) * (100 if rng.random() < 0.7 else 500)
    s = f"{v:,}" if rng.random() < 0.8 else str(v)
    return [f"{s}원", s, f"₩{s}", f"{s}₩", f"{v // 1000}.{(v % 1000) // 100}"][int(rng.integers(5))]


def _phone(rng: np.random.Generator) -> str:
    a = ["02", "031", "032", "051", "053", "010", "070", "1588"][int(rng.integers(8))]
    b, c = int(rng.integers(100, 10000)), int(rng.integers(1000, 10000))
    s = f"{a}-{c}" if a == "1588" else f"{a}-{b}-{c}"
    return [s, f"T.{s}", f"Tel {s}", f"☎ {s}", f"({a}) {b}-{c}"][int(rng.integers(5))]


def _hours(rng: np.random.Generator) -> str:
    o, c = int(rng.integers(6, 13)), int(rng.integers(17, 25))
    return [f"{o:02d}:00~{c:02d}:00", f"{o}:30 - {c}:00", f"AM {o}:00", f"{o}시~{c - 12}시"][
        int(rng.integers(4))
    ]


# --- rendering --------------------------------------------------------------------------------


def _rand_colour(rng: np.random.Generator, dark: bool | None = None) -> tuple[int, int, int]:
    c = rng.integers(0, 256, size=3)
    if dark is True:
        c = c * rng.uniform(0, 0.35)
    elif dark is False:
        c = 255 - (255 - c) * rng.uniform(0, 0.35)
    return tuple(int(v) for v in c)


def _luma(c: tuple[int, int, int]) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _contrasting(
    rng: np.random.Generator, bg: tuple[int, int, int], min_diff: float = 70
) -> tuple[int, int, int]:
    for _ in range(20):
        c = _rand_colour(rng)
        if abs(_luma(c) - _luma(bg)) >= min_diff:
            return c
    return (0, 0, 0) if _luma(bg) > 127 else (255, 255, 255)


def _text_layer(text: str, face: FontFace, size: int, rng: np.random.Generator, stroke: int,
                spacing: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Coverage masks (float 0-1) of the glyphs and of their outline, tight around the ink plus
    a margin of half the size; letters spaced by `spacing` x size."""
    font = _font(face, size)
    pad = size // 2 + stroke
    widths = [font.getlength(c) for c in text]
    total = int(sum(widths) + spacing * size * max(0, len(text) - 1)) + 2 * pad
    ascent, descent = font.getmetrics()
    h = ascent + descent + 2 * pad
    fill = Image.new("L", (max(8, total), h), 0)
    outline = Image.new("L", fill.size, 0)
    d_fill, d_out = ImageDraw.Draw(fill), ImageDraw.Draw(outline)
    x = float(pad)
    for c, wch in zip(text, widths, strict=True):
        if stroke:
            d_out.text((x, pad), c, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
        d_fill.text((x, pad), c, font=font, fill=255)
        x += wch + spacing * size
    return np.asarray(fill, np.float32) / 255, np.asarray(outline, np.float32) / 255


# --- round 2: lines of mixed runs, pictograms, neighbours ---------------------------------------

#: Pictograms signs carry beside or inside their words; none is in the charset, so none is read
#: (the real-photo truth writes `위험` for a hazard sign drawn between 위 and 험).
PICTOGRAMS = "⚠☕♨✈♿⛔☂✂✆✉⚡♻☀☁✔✖⚑☎⚙⛽♫☏⚐"
#: Leading marks that the truth does write: bullets, arrows, circled digits, reference marks.
BULLETS = ("·", "·", "*", "-", "ㆍ", "→", "▶", "●", "■", "★", "※", "①", "②", "③", "④", "⑤", "#", "+")
_PICTO_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#: Face names (substrings) that count as bold or display faces, drawn more often in round 2.
_DISPLAY = ("Bold", "EB.", "ExtraBold", "Black", "Medium", "SemiBold", "BM", "Square", "UnGraphic",
            "UnDinaru", "UnShinmun", "Eunjin", "Guseul",
            # round 6: `training/fetch_fonts.py`'s faces, named <family>-<weight>.ttf
            "-700.", "-800.", "-900.", "black-han-sans", "gugi", "bagel-fat-one", "gasoek-one")  # fmt: skip
#: Face names (substrings) of thin sans faces, for round 3's small lines.
_THIN = (
    "Light",
    "Thin",
    "NanumGothic.",
    "NanumBarunGothic.",
    "NotoSansCJK-Regular",
    "UnDotum.",
    "dotum",
    "gulim",
    "gothic-a1-300.",
    "gothic-a1-400.",
    "ibm-plex-sans-kr-300.",
    "ibm-plex-sans-kr-400.",
    "gowun-dodum",
)
#: Face names (substrings) of the training's pen, brush and handwriting faces, drawn more often
#: in round 4 (round 3's held-out errors: 81% on the two held-out pens and two decorative faces).
_HAND = ("NanumPen", "NanumBrush", "NanumBarunpen", "UnPen.", "UnPilgi", "UnGungseo", "EunjinNakseo",
         "BMKIRANGHAERANG",
         # round 6: Google Fonts' handwriting faces (`training/fetch_fonts.py`)
         "gaegu", "gamja-flower", "hi-melody", "poor-story", "single-day", "east-sea-dokdo", "cute-font",
         "black-and-white-picture", "dongle")  # fmt: skip
#: Round 4: syllables that real bold signs and the held-out lines confuse (찌/피, 돼/대): words
#: holding one (initial ㅉ, ㅍ, ㅊ; or ㄷ/ㄸ with ㅐ, ㅙ, ㅚ, ㅔ, ㅞ) are drawn more often.
_CONFUSABLE_INITIALS = (12, 13, 14, 17)  # ㅈ ㅉ ㅊ ㅍ
_CONFUSABLE_D = ((3, 4), (1, 10, 11, 5, 15))  # ㄷ ㄸ with ㅐ ㅙ ㅚ ㅔ ㅞ
#: Latin that menus and signs put in parentheses after Korean (round 3: `(feat. …)` read ` feat.`).
_LATIN_PARENS = ("feat. {w}", "{W}", "{w}.", "ver.{n}", "No.{n}", "Ltd.", "Co., Ltd.", "S/M/L", "Hot/Ice",
                 "{n}ea", "{n}kg", "{n}ml", "Vol.{n}", "ft. {w}", "{W} ver.")  # fmt: skip


@dataclass(frozen=True)
class Run:
    """Part of a line in one face, size and weight; a pictogram run is drawn but not read."""

    text: str
    face: FontFace
    scale: float = 1.0  # size relative to the line's
    bold: float = 0.0  # strokes thickened by this share of the size (a heavier weight)
    read: bool = True
    says: str | None = None  # the truth when it differs from the glyphs drawn (`ㆍ` drawn, `·` said)


@dataclass(frozen=True)
class LinePlan:
    """A training line of round 2: its runs on one baseline, and the neighbour lines above and
    below that a loose detector box clips into the crop (not read)."""

    runs: tuple[Run, ...]
    above: str = ""
    below: str = ""
    neighbour_face: FontFace | None = None
    #: Round 3: the crop is shrunk to a glyph height of 12-20 px (a small turned column's cells,
    #: read upscaled), drawn in a thin face.
    tiny: bool = False
    #: Round 5 (replaces round 4's `wobble`, one smooth field over the whole line): each Hangul
    #: glyph turned, sheared, scaled and shifted on its own as a hand draws it (`_jitter`), by this
    #: strength (0-1); digits and Latin stay straight.
    jitter: float = 0.0
    #: Round 9: the line's Hangul syllables written by a made-up hand (`MadeUpHand`), not the font.
    hand: MadeUpHand | None = None

    @property
    def text(self) -> str:
        """The truth: the read runs as drawn (or as they are said), and what an unread run says
        (round 5: a pictogram between two words is said as the space between them)."""
        said = (r.says if r.says is not None else r.text if r.read else "" for r in self.runs)
        return " ".join("".join(said).split())

    @property
    def neighbours(self) -> int:
        return int(bool(self.above)) + int(bool(self.below))


def _runs_layer(runs: tuple[Run, ...], size: int, stroke: int, spacing: float, jitter: float = 0.0,
                rng: np.random.Generator | None = None,
                hand: MadeUpHand | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Like `_text_layer`, for runs of several faces and sizes sharing one baseline; with `jitter`
    (round 5) each Hangul glyph is drawn on its own and moved by `_jitter`; with a `hand` (round
    9) each Hangul syllable is written by it (`MadeUpHand.write`) in its glyph's place."""
    glyphs = []
    for r in runs:
        px = max(8, round(size * r.scale))
        if r.face.path == SHAPES:  # round 4: a pictogram drawn as shapes, not from a font
            glyphs += [(c, px, 0) if c != " " else (c, _font(FontFace(_PICTO_FONT), px), 0) for c in r.text]
            continue
        font = _font(r.face, px)
        b = round(r.bold * size)
        glyphs += [(c, font, b) for c in r.text]
    pad = size // 2 + stroke
    fonts = [font for _, font, _ in glyphs if not isinstance(font, int)]
    widths = [font * 1.1 if isinstance(font, int) else font.getlength(c) + 2 * b for c, font, b in glyphs]
    ascent = max([font.getmetrics()[0] for font in fonts] + [size])
    descent = max([font.getmetrics()[1] for font in fonts] + [0])
    total = int(sum(widths) + spacing * size * max(0, len(glyphs) - 1)) + 2 * pad
    fill = Image.new("L", (max(8, total), ascent + descent + 2 * pad), 0)
    outline = Image.new("L", fill.size, 0)
    d_fill, d_out = ImageDraw.Draw(fill), ImageDraw.Draw(outline)
    x, base = float(pad), pad + ascent
    moved = []  # round 5: (glyph, font, weight, x) drawn apart and jittered
    written = []  # round 9: (syllable, x, advance) written by the made-up hand
    for (c, font, b), wch in zip(glyphs, widths, strict=True):
        if (
            hand is not None
            and rng is not None
            and not isinstance(font, int)
            and is_hangul_syllable(c)
            and font.size >= 16
        ):
            written.append((c, x, wch))
            x += wch + spacing * size
            continue
        if jitter and rng is not None and not isinstance(font, int) and c >= "\u3131":
            moved.append((c, font, b, x))
            x += wch + spacing * size
            continue
        if isinstance(font, int):
            box = (x + 0.05 * font, base - 0.9 * font, x + 1.05 * font, base + 0.1 * font)
            _draw_shape(d_fill, c, box)
            if stroke:
                _draw_shape(d_out, c, box, grow=stroke)
            x += wch + spacing * size
            continue
        if stroke:
            d_out.text(
                (x + b, base), c, font=font, fill=255, anchor="ls", stroke_width=stroke + b, stroke_fill=255
            )
        d_fill.text((x + b, base), c, font=font, fill=255, anchor="ls", stroke_width=b, stroke_fill=255)
        x += wch + spacing * size
    fill_a, out_a = np.asarray(fill, np.float32) / 255, np.asarray(outline, np.float32) / 255
    if moved:
        assert rng is not None
        fill_a, out_a = fill_a.copy(), out_a.copy()
        for c, font, b, gx in moved:
            _jitter(fill_a, out_a, c, font, b, stroke, gx, base, size, jitter, rng)
    if written:
        assert rng is not None and hand is not None
        fill_a, out_a = fill_a.copy(), out_a.copy()
        for c, gx, advance in written:
            em = max(8, round(min(advance, 1.15 * size)))
            glyph = hand.write(c, em, rng)
            top, left = round(base - 0.86 * em), round(gx + (advance - em) / 2)
            _lay(fill_a, glyph, top, left)
            if stroke:
                ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * stroke + 1, 2 * stroke + 1))
                _lay(out_a, cv2.dilate(glyph, ker), top, left)
    return fill_a, out_a


def _lay(dst: np.ndarray, src: np.ndarray, top: int, left: int) -> None:
    """`src` laid on `dst` (the brighter wins) with its corner at (top, left), clipped to `dst`."""
    h, w = src.shape
    y0, x0, y1, x1 = max(0, top), max(0, left), min(dst.shape[0], top + h), min(dst.shape[1], left + w)
    if y1 > y0 and x1 > x0:
        part = src[y0 - top : y1 - top, x0 - left : x1 - left]
        np.maximum(dst[y0:y1, x0:x1], part, out=dst[y0:y1, x0:x1])


def _jitter(fill: np.ndarray, outline: np.ndarray, c: str, font: ImageFont.FreeTypeFont, b: int, stroke: int,
            x: float, base: int, size: int, amount: float, rng: np.random.Generator) -> None:  # fmt: skip
    """Round 5: one glyph drawn on its own and moved as a hand moves from glyph to glyph (turned by
    ~N(0, 6 degrees), sheared ~N(0, 0.12), scaled by 0.88-1.12 in each direction, shifted by
    ~N(0, 0.05) of the size up or down and ~N(0, 0.03) sideways, all x `amount`), then laid on
    `fill` and `outline` in place. Round 4 bent the whole line by one smooth field instead, which
    also bent digits (Bandal's digits were read as Hangul more often)."""
    h, w = fill.shape
    m = size  # the glyph's own box: its advance plus a size of margin each side
    x0 = max(0, int(x) - m)
    x1 = min(w, int(x + font.getlength(c)) + 2 * b + m)
    if x1 <= x0:
        return
    g_fill = Image.new("L", (x1 - x0, h), 0)
    g_out = Image.new("L", g_fill.size, 0)
    at = (x + b - x0, base)
    if stroke:
        ImageDraw.Draw(g_out).text(
            at, c, font=font, fill=255, anchor="ls", stroke_width=stroke + b, stroke_fill=255
        )
    ImageDraw.Draw(g_fill).text(at, c, font=font, fill=255, anchor="ls", stroke_width=b, stroke_fill=255)
    cx, cy = x + font.getlength(c) / 2 - x0, base - 0.4 * size
    ang = np.deg2rad(rng.normal(0, 6 * amount))
    shear = rng.normal(0, 0.12 * amount)
    sx, sy = 1 + rng.uniform(-0.12, 0.12, size=2) * amount
    dx, dy = rng.normal(0, 0.03 * amount) * size, rng.normal(0, 0.05 * amount) * size
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    a = rot @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    t = np.array([cx + dx, cy + dy]) - a @ np.array([cx, cy])
    mat = np.hstack([a, t[:, None]]).astype(np.float32)
    for src, dst in ((g_fill, fill), (g_out, outline)):
        moved = cv2.warpAffine(np.asarray(src, np.float32) / 255, mat, src.size, flags=cv2.INTER_LINEAR)
        np.maximum(dst[:, x0:x1], moved, out=dst[:, x0:x1])


# --- round 9: made-up hands --------------------------------------------------------------------

#: Compatibility jamo in Unicode's syllable order (initials, vowels, finals; a final's 0 is none).
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
#: A compound vowel written as its lying part under the initial and its standing part beside it.
_COMPOUND = {"ㅘ": "ㅗㅏ", "ㅙ": "ㅗㅐ", "ㅚ": "ㅗㅣ", "ㅝ": "ㅜㅓ", "ㅞ": "ㅜㅔ", "ㅟ": "ㅜㅣ", "ㅢ": "ㅡㅣ"}
_LYING = frozenset("ㅗㅛㅜㅠㅡ")
#: Where each jamo sits in the syllable's square (x0, y0, x1, y1 in ems), by the vowel's kind
#: (standing, lying, compound) and whether a final follows: L initial, S standing vowel (or
#: part), Y lying vowel (or part), F final.
_SLOTS: dict[tuple[str, bool], dict[str, tuple[float, float, float, float]]] = {
    ("s", False): {"L": (0.04, 0.14, 0.54, 0.86), "S": (0.5, 0.0, 0.96, 1.0)},
    ("s", True): {"L": (0.04, 0.04, 0.54, 0.5), "S": (0.5, 0.0, 0.96, 0.6), "F": (0.14, 0.62, 0.86, 0.98)},
    ("y", False): {"L": (0.2, 0.02, 0.8, 0.5), "Y": (0.02, 0.52, 0.98, 0.88)},
    ("y", True): {"L": (0.22, 0.0, 0.78, 0.34), "Y": (0.04, 0.34, 0.96, 0.58), "F": (0.16, 0.62, 0.84, 0.98)},
    ("c", False): {"L": (0.06, 0.02, 0.58, 0.44), "Y": (0.0, 0.46, 0.7, 0.84), "S": (0.64, 0.0, 0.98, 1.0)},
    ("c", True): {"L": (0.06, 0.0, 0.58, 0.3), "Y": (0.0, 0.32, 0.7, 0.56), "S": (0.64, 0.0, 0.98, 0.6),
                  "F": (0.14, 0.62, 0.86, 0.98)},
}  # fmt: skip
COMPAT_JAMO = _INITIALS + _VOWELS + _FINALS.strip()


@lru_cache(maxsize=4096)
def _jamo_skeleton(ch: str, face: FontFace) -> np.ndarray:
    """The centre line of one compatibility jamo of `face` (drawn at 64 px), 3 px wide, cut to
    its bounds: the path a pen follows, whatever the face's weight."""
    from skimage.morphology import skeletonize

    im = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(im).text((32, 32), ch, font=_font(face, 64), fill=255)
    ink = np.asarray(im) > 127
    ys, xs = np.nonzero(ink)
    if not len(ys):
        return np.zeros((1, 1), np.float32)
    line = skeletonize(ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]).astype(np.uint8)
    return cv2.dilate(line, np.ones((3, 3), np.uint8)).astype(np.float32)


@dataclass(frozen=True)
class MadeUpHand:
    """Round 9: a hand no font has. Each syllable is put together from its jamo: the centre line
    of each jamo taken from `consonants` or `vowels` (two faces, often pens), fitted to the jamo's
    place in the square, turned, scaled and shifted a little on its own (x `wobble`), and the
    whole syllable drawn over again with one round pen `pen` ems wide. Rounds 5-8 drew the
    training faces' glyphs, jittered or bent; the held-out pens were still misread by their
    glyphs' shapes (`MODEL_CARD.md`, sixth session): a made-up hand makes new shapes from the
    jamo, as people write."""

    consonants: FontFace
    vowels: FontFace
    pen: float = 0.08
    wobble: float = 1.0

    def write(self, c: str, em: int, rng: np.random.Generator) -> np.ndarray:
        """Coverage (float 0-1, `em` x `em`) of syllable `c` written by this hand."""
        from skimage.morphology import skeletonize

        n = ord(c) - 0xAC00
        vowel, final = _VOWELS[(n % 588) // 28], n % 28
        kind = "c" if vowel in _COMPOUND else "y" if vowel in _LYING else "s"
        slots = _SLOTS[(kind, final > 0)]
        parts = [("L", _INITIALS[n // 588], self.consonants)]
        if kind == "c":
            parts += [("Y", _COMPOUND[vowel][0], self.vowels), ("S", _COMPOUND[vowel][1], self.vowels)]
        else:
            parts.append(("Y" if kind == "y" else "S", vowel, self.vowels))
        if final:
            parts.append(("F", _FINALS[final], self.consonants))
        paths = np.zeros((em, em), np.float32)
        for slot, jamo, face in parts:
            self._place(paths, _jamo_skeleton(jamo, face), slots[slot], em, rng)
        line = skeletonize(paths > 0.3).astype(np.uint8)
        width = max(2, round(self.pen * em))
        ink = cv2.dilate(line, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)))
        return cv2.GaussianBlur(ink.astype(np.float32), (3, 3), 0.7)

    def _place(self, canvas: np.ndarray, path: np.ndarray, slot: tuple[float, float, float, float], em: int,
               rng: np.random.Generator) -> None:  # fmt: skip
        """`path` fitted into `slot` (stretched at most 1.5 times more one way than the other),
        turned by ~N(0, 4 degrees), scaled by 0.9-1.1 each way and shifted by ~N(0, 0.03) ems,
        all x `wobble`, laid on `canvas`."""
        x0, y0, x1, y1 = (v * em for v in slot)
        gh, gw = path.shape
        k = min((x1 - x0) / gw, (y1 - y0) / gh)
        kx = min((x1 - x0) / gw, 1.5 * k) * (1 + rng.uniform(-0.1, 0.1) * self.wobble)
        ky = min((y1 - y0) / gh, 1.5 * k) * (1 + rng.uniform(-0.1, 0.1) * self.wobble)
        ang = np.deg2rad(rng.normal(0, 4 * self.wobble))
        cx = (x0 + x1) / 2 + rng.normal(0, 0.03 * self.wobble) * em
        cy = (y0 + y1) / 2 + rng.normal(0, 0.03 * self.wobble) * em
        a = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]]) @ np.diag([kx, ky])
        t = np.array([cx, cy]) - a @ np.array([gw / 2, gh / 2])
        moved = cv2.warpAffine(path, np.hstack([a, t[:, None]]).astype(np.float32), canvas.shape[::-1],
                               flags=cv2.INTER_LINEAR)  # fmt: skip
        np.maximum(canvas, moved, out=canvas)


#: The face path of a pictogram drawn as shapes (`_draw_shape`): a warning triangle with its
#: `!`, a no-entry or no-smoking circle, a filled disc with a mark, a rounded square with a mark.
SHAPES = "shape:"
#: Shape codes (private-use code points, so no text ever holds one): see `_draw_shape`.
_SHAPE_KINDS = "\ue000\ue001\ue002\ue003\ue004\ue005\ue006"


def _draw_shape(draw: ImageDraw.ImageDraw, kind: str, box: tuple[float, float, float, float],
                grow: int = 0) -> None:  # fmt: skip
    """A pictogram of `_SHAPE_KINDS` in `box` on a coverage layer (255 ink, 0 cut out), by the
    kind's index: 0 an outlined triangle with `!`, 1 a filled one with the `!` cut out, 2 a circle
    with a slash, 3 a filled disc with a bar cut out, 4 a ring with a dot, 5 a rounded square with
    a play mark cut out, 6 an outlined square with a cross."""
    kind = "tTocdsq"[_SHAPE_KINDS.index(kind)]
    x0, y0, x1, y1 = box[0] - grow, box[1] - grow, box[2] + grow, box[3] + grow
    w = x1 - x0
    line = max(2, round(w / 9)) + grow
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if kind in "tT":
        tri = [(cx, y0), (x1, y1), (x0, y1)]
        draw.polygon(tri, fill=255 if kind == "T" else None, outline=255, width=line)
        mark = 0 if kind == "T" else 255
        draw.line([(cx, y0 + 0.35 * w), (cx, y0 + 0.7 * w)], fill=mark, width=line)
        draw.ellipse([cx - line / 2, y0 + 0.78 * w, cx + line / 2, y0 + 0.78 * w + line], fill=mark)
    elif kind == "o":
        draw.ellipse([x0, y0, x1, y1], outline=255, width=line)
        draw.line([(x0 + 0.2 * w, y0 + 0.2 * w), (x1 - 0.2 * w, y1 - 0.2 * w)], fill=255, width=line)
    elif kind == "c":
        draw.ellipse([x0, y0, x1, y1], fill=255)
        draw.rectangle([x0 + 0.2 * w, cy - line / 2, x1 - 0.2 * w, cy + line / 2], fill=0)
    elif kind == "d":
        draw.ellipse([x0, y0, x1, y1], outline=255, width=line)
        draw.ellipse([cx - 0.15 * w, cy - 0.15 * w, cx + 0.15 * w, cy + 0.15 * w], fill=255)
    elif kind == "s":
        draw.rounded_rectangle([x0, y0, x1, y1], radius=w / 5, fill=255)
        draw.polygon(
            [(cx - 0.2 * w, y0 + 0.25 * w), (cx + 0.25 * w, cy), (cx - 0.2 * w, y1 - 0.25 * w)], fill=0
        )
    else:
        draw.rectangle([x0, y0, x1, y1], outline=255, width=line)
        draw.line([(x0 + 0.25 * w, cy), (x1 - 0.25 * w, cy)], fill=255, width=line)
        draw.line([(cx, y0 + 0.25 * w), (cx, y1 - 0.25 * w)], fill=255, width=line)


def _ink_rows(mask: np.ndarray) -> tuple[int, int]:
    rows = np.nonzero(mask.max(1) > 0.3)[0]
    return (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, mask.shape[0])


def _plan_layer(plan: LinePlan, size: int, stroke: int, spacing: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Coverage of the whole drawing (line and neighbours), of its outline, and of the line alone."""
    fill, outline = _runs_layer(plan.runs, size, stroke, spacing, plan.jitter, rng, plan.hand)
    parts = [(fill, outline, 0, 0)]  # (fill, outline, top, left) on the canvas, line first
    top, bottom = _ink_rows(fill)
    for text, sign in ((plan.above, -1), (plan.below, 1)):
        if not text or plan.neighbour_face is None:
            continue
        nsize = max(12, int(size * rng.uniform(0.6, 1.2)))
        nf, no = _text_layer(text, plan.neighbour_face, nsize, rng, stroke, spacing)
        ntop, nbottom = _ink_rows(nf)
        gap = int(size * rng.uniform(0.08, 0.6))
        y = top - gap - nbottom if sign < 0 else bottom + gap - ntop
        x = int(size * rng.uniform(-0.5, 0.5))
        parts.append((nf, no, y, x))
    y0 = min(p[2] for p in parts)
    x0 = min(p[3] for p in parts)
    h = max(p[2] + p[0].shape[0] for p in parts) - y0
    w = max(p[3] + p[0].shape[1] for p in parts) - x0
    canvas_fill = np.zeros((h, w), np.float32)
    canvas_out = np.zeros((h, w), np.float32)
    main = np.zeros((h, w), np.float32)
    for i, (f, o, y, x) in enumerate(parts):
        sl = np.s_[y - y0 : y - y0 + f.shape[0], x - x0 : x - x0 + f.shape[1]]
        canvas_fill[sl] = np.maximum(canvas_fill[sl], f)
        canvas_out[sl] = np.maximum(canvas_out[sl], o)
        if i == 0:
            main[sl] = np.maximum(f, o)
    return canvas_fill, canvas_out, main


def _background(style: str, shape: tuple[int, int], rng: np.random.Generator, photos: PhotoLibrary,
                photo_ids: list[int]) -> tuple[np.ndarray, tuple[int, int, int]]:  # fmt: skip
    """An RGB float background of `shape` for `style`, and its typical colour."""
    h, w = shape
    if style in ("photo", "channel", "package") or (style == "plate" and rng.random() < 0.3):
        i = photo_ids[int(rng.integers(len(photo_ids)))]
        src = photos.pixels(i)
        sh, sw = src.shape[:2]
        scale = rng.uniform(0.3, 1.0)
        ch, cw = max(8, int(sh * scale * rng.uniform(0.1, 0.5))), max(8, int(sw * scale))
        y0, x0 = int(rng.integers(0, max(1, sh - ch))), int(rng.integers(0, max(1, sw - cw)))
        bg = cv2.resize(src[y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR).astype(
            np.float32
        )
        if style in ("channel", "plate"):
            bg *= rng.uniform(0.3, 1.1)
        return np.clip(bg, 0, 255), tuple(int(v) for v in bg.reshape(-1, 3).mean(0))
    if style == "neon":
        base = _rand_colour(rng, dark=True)
    elif style in ("receipt", "menu", "screen") and rng.random() < 0.7:
        base = _rand_colour(rng, dark=False) if rng.random() < 0.85 else _rand_colour(rng, dark=True)
    else:
        base = _rand_colour(rng)
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = base
    if rng.random() < 0.4:  # gradient
        other = np.array(_rand_colour(rng), np.float32)
        t = np.linspace(0, 1, h if rng.random() < 0.5 else w, dtype=np.float32)
        t = t[:, None, None] if t.shape[0] == h else t[None, :, None]
        bg = bg * (1 - t * 0.5) + other * (t * 0.5)
    if style == "receipt" or rng.random() < 0.2:  # paper grain
        bg += rng.normal(0, rng.uniform(2, 10), size=(h, w, 1)).astype(np.float32)
    return np.clip(bg, 0, 255), base


def render_line(text: str, face: FontFace, style: str, rng: np.random.Generator, photos: PhotoLibrary,
                photo_ids: list[int], plan: LinePlan | None = None, warp: float = 0.0) -> np.ndarray:  # fmt: skip
    """One line drawn in `style`, cut with a loose, uneven margin, degraded; BGR uint8.

    With a `plan` (training side, round 2) the line is drawn from the plan's runs (sizes, faces,
    weights, unlabelled pictograms) with its clipped neighbour lines, and cut as the detector cuts;
    without one, exactly as round 1 drew it (the validation sets stay the same). With ``warp``
    (round 8, training side) the glyphs are bent by `_bend` that much of their size."""
    size = int(rng.integers(28, 72))
    stroke = 0
    if style in ("channel", "webtoon", "neon") or rng.random() < 0.12:
        stroke = max(1, int(size * rng.uniform(0.03, 0.12)))
    spacing = rng.uniform(-0.05, 0.25) if rng.random() < 0.6 else 0.0
    if plan is not None and len(plan.text) <= 10 and rng.random() < 0.2:
        # Round 7: signs set their letters wide apart (`서 R 1 R 2` on a plate whose truth is
        # `서R 1R2`); round 6 wrote such gaps as spaces. Short lines only (a long one would be
        # squeezed to the crop's width); a space stays wider than the tracking.
        spacing = rng.uniform(0.3, 0.7)
    if plan is None:
        fill, outline = _text_layer(text, face, size, rng, stroke, spacing)
        main = None
    else:
        fill, outline, main = _plan_layer(plan, size, stroke, spacing, rng)
    if warp:
        fill, outline, main = _bend([fill, outline, main], size, warp, rng)
    if style == "receipt" and rng.random() < 0.6:  # thermal print: dotted, faded strokes
        dots = (rng.random(fill.shape) > rng.uniform(0.05, 0.35)).astype(np.float32)
        fill = fill * cv2.GaussianBlur(dots, (3, 3), 0.6)
    h, w = fill.shape
    bg, base = _background(style, (h, w), rng, photos, photo_ids)
    colour = np.array(_contrasting(rng, base), np.float32)
    if style == "neon":
        colour = np.array(_rand_colour(rng, dark=False), np.float32)
        glow = cv2.GaussianBlur(fill, (0, 0), size * rng.uniform(0.08, 0.25))
        bg = bg + glow[..., None] * colour * rng.uniform(0.6, 1.2)
    if style in ("channel", "package") and rng.random() < 0.6:  # drop shadow / extrusion
        dx, dy = int(rng.integers(1, max(2, size // 10))), int(rng.integers(1, max(2, size // 10)))
        shadow = np.roll(np.roll(np.maximum(fill, outline), dy, 0), dx, 1)
        shade = np.array(_rand_colour(rng, dark=True), np.float32)
        bg = bg * (1 - shadow[..., None]) + shade * shadow[..., None]
    if stroke:
        oc = np.array(_contrasting(rng, tuple(int(v) for v in colour), 90), np.float32)
        bg = bg * (1 - outline[..., None]) + oc * outline[..., None]
    img = bg * (1 - fill[..., None]) + colour * fill[..., None]
    if main is None:
        img = _cut(np.clip(img, 0, 255), np.maximum(fill, outline), rng)
    else:
        img = _detector_cut(np.clip(img, 0, 255), main, rng, reach=plan is not None and plan.neighbours > 0)
    return _degrade(img, rng, night=style == "neon")


def _bend(layers: list[np.ndarray | None], size: int, amount: float, rng: np.random.Generator) -> list:
    """The layers bent by one smooth random displacement field (an elastic distortion): every
    stroke moved by about ``amount`` x ``size`` px, smoothly over a third of a glyph or so, so
    each glyph is drawn as a hand would draw it a little differently (round 8: the held-out
    pens are misread by their glyphs' shapes, `MODEL_CARD.md`, sixth session)."""
    shaped = next(a for a in layers if a is not None)
    h, w = shaped.shape[:2]
    sigma = size * rng.uniform(0.15, 0.35)
    field = []
    for _ in range(2):
        d = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma)
        field.append(d * (amount * size / (float(d.std()) + 1e-6)))
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx, my = gx + field[0], gy + field[1]
    return [
        None
        if a is None
        else cv2.remap(a, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        for a in layers
    ]


def _cut(img: np.ndarray, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Crop around the ink as a detector box would sit on it: uneven margins (a little inside
    the ink at times, up to 0.4 of the height outside), a small rotation and perspective."""
    ys, xs = np.nonzero(ink > 0.3)
    if len(ys) == 0:
        return img
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    th = y1 - y0
    m = [rng.uniform(-0.05, 0.4) * th for _ in range(4)]
    return _warp_box(img, (x0, y0, x1, y1), m, rng, jitter=0.03, degrees=1.5, interp=cv2.INTER_LINEAR)


def _warp_box(img: np.ndarray, ink: tuple[int, int, int, int], m: list[float], rng: np.random.Generator,
              jitter: float, degrees: float, interp: int) -> np.ndarray:  # fmt: skip
    """The ink box `ink` (x0, y0, x1, y1) grown by margins `m` (left, top, right, bottom), its
    corners jittered by `jitter` x the ink's height (perspective), turned by ~N(0, `degrees`),
    warped upright."""
    x0, y0, x1, y1 = ink
    th = y1 - y0
    src = np.array([[x0 - m[0], y0 - m[1]], [x1 + m[2], y0 - m[1]], [x1 + m[2], y1 + m[3]], [x0 - m[0], y1 + m[3]]],
                   np.float32)  # fmt: skip
    src += rng.normal(0, jitter * th, size=src.shape).astype(np.float32)
    ang = np.deg2rad(rng.normal(0, degrees))
    c = src.mean(0)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    src = (src - c) @ rot.T + c
    ow = max(8, int(np.linalg.norm(src[1] - src[0])))
    oh = max(8, int(np.linalg.norm(src[3] - src[0])))
    dst = np.array([[0, 0], [ow, 0], [ow, oh], [0, oh]], np.float32)
    mat = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(img, mat, (ow, oh), flags=interp, borderMode=cv2.BORDER_REPLICATE)


#: Median margins of PP-OCR boxes around the ink (left, top, right, bottom), x the ink's height.
DETECTOR_MARGINS = (0.18, 0.21, 0.14, 0.12)


def _detector_cut(img: np.ndarray, main: np.ndarray, rng: np.random.Generator, reach: bool) -> np.ndarray:
    """Crop as the pipeline crops a PP-OCR box: the DB box sits around the whole line with
    margins that move together, then `crop_line` adds 0.05 of the box's height. PPOCRDetector on
    20 `imtrans synth --lang ko` pages (101 horizontal lines, seed 77) put its box outside the
    ink by medians of 0.18 (left), 0.21 (top), 0.14 (right), 0.12 (bottom) of the ink's height,
    5-95% ranges of about +-0.12: `DETECTOR_MARGINS` and the spread below. With `reach`
    (neighbour lines drawn) the top or bottom margin sometimes runs into the neighbour, as
    loose boxes on tight menus do."""
    ys, xs = np.nonzero(main > 0.3)
    if len(ys) == 0:
        return img
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    th = y1 - y0
    shift = rng.uniform(-0.1, 0.1)
    m = [max(-0.05, med + shift + rng.normal(0, 0.05)) * th for med in DETECTOR_MARGINS]
    if reach and rng.random() < 0.6:
        side = 1 if rng.random() < 0.5 else 3
        m[side] = rng.uniform(0.3, 0.7) * th
    pad = 0.05 * (th + m[1] + m[3])
    m = [v + pad for v in m]
    return _warp_box(img, (x0, y0, x1, y1), m, rng, jitter=0.02, degrees=1.0, interp=cv2.INTER_CUBIC)


def _degrade(img: np.ndarray, rng: np.random.Generator, night: bool) -> np.ndarray:
    h, w = img.shape[:2]
    if rng.random() < 0.35:  # small text upscaled: render small, scale back
        f = rng.uniform(0.25, 0.7)
        small = cv2.resize(img, (max(4, int(w * f)), max(4, int(h * f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 2.0))
    if rng.random() < 0.1:  # motion blur
        k = int(rng.integers(3, 9))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2] = 1.0 / k
        img = cv2.filter2D(img, -1, kernel)
    if rng.random() < 0.2:  # glare
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = rng.uniform(0.3, 1.0) * max(h, w)
        glare = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)) * rng.uniform(40, 160)
        img = img + glare[..., None]
    if night or rng.random() < 0.2:  # low light / exposure
        img = img * rng.uniform(0.3, 1.0) + rng.uniform(-20, 30)
    if rng.random() < 0.2:
        gamma = rng.uniform(0.6, 1.6)
        img = 255 * (np.clip(img, 0, 255) / 255) ** gamma
    if rng.random() < 0.4:
        img = img + rng.normal(0, rng.uniform(2, 14), size=img.shape)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.15:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 90))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(out, cv2.COLOR_RGB2BGR)


#: Round 4: training crops whose grey 2-98% range is under this show no text (3 of round 3's
#: 200 held-out lines are such blanks, 7 of its 112 edits) and are drawn again.
MIN_CONTRAST = 20.0


def _contrast(img: np.ndarray) -> float:
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    lo, hi = np.percentile(grey, (2, 98))
    return float(hi - lo)


def _held(name: str, held: tuple[str, ...]) -> bool:
    return name.split("#")[0] in held


@dataclass
class LineMaker:
    """Draws (BGR crop, text) samples from the training or the held-out side of the split.

    Args:
        split: "train" (fonts and photos outside the held-out lists), "test" (only held-out
            fonts and photos), or "faces" (the brush/pen/serif faces over held-out photos).
    """

    split: str = "train"
    texts: TextSource | None = None
    photos: PhotoLibrary | None = None
    fonts: list[FontFace] = field(default_factory=list)
    photo_ids: list[int] = field(default_factory=list)
    skipped: int = 0
    blank: int = 0
    #: Share of lines drawn from a round-2 plan (`LinePlan`); None: 0.6 in training, 0 otherwise,
    #: so the held-out and brush/pen/serif sets are the lines round 1 was measured on.
    plan_share: float | None = None
    #: A folder of extra training faces (`training/fetch_fonts.py`); never drawn by the other splits.
    extra_fonts: str = ""
    #: A folder standing in for fontconfig's Korean faces, every split (`training/pack_fonts.py`).
    system_fonts: str = ""
    #: Share of training lines whose glyphs are bent (`_bend`, 0.02-0.06 of their size); the
    #: other splits never bend (their lines stay the ones earlier rounds were measured on).
    warp: float = 0.0
    #: Round 9: share of planned training lines (`plan`) whose Hangul a `MadeUpHand` writes; the
    #: other splits never do.
    made_up: float = 0.0

    def __post_init__(self) -> None:
        if self.plan_share is None:
            self.plan_share = 0.6 if self.split == "train" else 0.0
        self.texts = self.texts or TextSource.load()
        self.photos = self.photos or PhotoLibrary()
        faces = korean_fonts(self.extra_fonts if self.split == "train" else "", self.system_fonts)
        if self.split == "train":
            self.fonts = [f for f in faces if not _held(f.name, HELD_OUT_FONTS)]
        elif self.split == "test":
            self.fonts = [f for f in faces if _held(f.name, HELD_OUT_FONTS)]
        else:
            self.fonts = [f for f in faces if _held(f.name, BRUSH_PEN_SERIF)]
        held_photo = self.split != "train"
        self.photo_ids = [
            i for i, p in enumerate(self.photos.photos) if (p.name in HELD_OUT_PHOTOS) == held_photo
        ]
        if not self.fonts or not self.photo_ids:
            raise RuntimeError(f"no fonts or photos for the {self.split} split")

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """One (BGR crop, text) pair. Round 4: on the training side a crop that glare, exposure or
        a colour as light as its ground left without visible text (grey 2-98% range under
        `MIN_CONTRAST`) is drawn again, up to 4 times (`blank` counts them); the validation sets
        draw as before."""
        for _ in range(4):
            img, text = self._draw(rng)
            if self.split != "train" or _contrast(img) >= MIN_CONTRAST:
                break
            self.blank += 1
        return img, text

    def _draw(self, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        assert self.texts is not None and self.photos is not None
        if self.plan_share and rng.random() < self.plan_share:
            plan = self.plan(rng)
            style = ROUND2_STYLES[int(rng.integers(len(ROUND2_STYLES)))]
            img = render_line(plan.text, plan.runs[0].face, style, rng, self.photos, self.photo_ids, plan,
                              self._bend_amount(rng))  # fmt: skip
            if plan.tiny:  # few pixels a glyph: the crop as a small column's cells come, upscaled later
                h, w = img.shape[:2]
                f = rng.uniform(16, 26) / h
                if f < 1:
                    img = cv2.resize(
                        img, (max(4, round(w * f)), max(4, round(h * f))), interpolation=cv2.INTER_AREA
                    )
            return img, plan.text
        for _ in range(20):
            text = self.texts.sample(rng)
            face = self.fonts[int(rng.integers(len(self.fonts)))]
            if covers(face, text):
                break
            self.skipped += 1  # the font lacks a glyph of the text: draw another pair
        style = STYLES[int(rng.integers(len(STYLES)))]
        return render_line(
            text, face, style, rng, self.photos, self.photo_ids, warp=self._bend_amount(rng)
        ), text

    def _bend_amount(self, rng: np.random.Generator) -> float:
        """How far this line's glyphs are bent (0: not at all). Draws from ``rng`` only when
        `warp` is set, so lines without it are drawn as before."""
        if self.split != "train" or not self.warp or rng.random() >= self.warp:
            return 0.0
        return float(rng.uniform(0.02, 0.06))

    def _hand(self, rng: np.random.Generator) -> MadeUpHand | None:
        """A made-up hand for `made_up` of the planned lines (None for the others): its jamo from
        a pen, brush or handwriting face 60% of the time (else any), its vowels from a second face
        30% of the time, a pen 0.04-0.10 ems wide. Draws from ``rng`` only when `made_up` is set,
        so lines without it are drawn as before."""
        if self.split != "train" or not self.made_up or rng.random() >= self.made_up:
            return None
        faces = [self._face(rng, COMPAT_JAMO, hand=rng.random() < 0.6) for _ in range(2)]
        if faces[0] is None:
            return None
        vowels = faces[1] if faces[1] is not None and rng.random() < 0.3 else faces[0]
        return MadeUpHand(faces[0], vowels, float(rng.uniform(0.04, 0.10)), float(rng.uniform(0.5, 1.2)))

    def _face(self, rng: np.random.Generator, text: str, display: bool = False,
              thin: bool = False, hand: bool = False) -> FontFace | None:  # fmt: skip
        """A training face that covers `text` (a bold or display face, a thin one, or a pen, brush
        or handwriting one, when asked), or None."""
        keys = _DISPLAY if display else _THIN if thin else _HAND if hand else ()
        pool = [f for f in self.fonts if any(k in f.name for k in keys)] if keys else self.fonts
        for _ in range(8):
            face = pool[int(rng.integers(len(pool)))]
            if covers(face, text):
                return face
            self.skipped += 1
        return None

    def plan(self, rng: np.random.Generator) -> LinePlan:
        """A round-2 line: mixed sizes and weights, a small parenthesis before a large price, a
        leading bullet, or a pictogram the truth does not write; with neighbour lines 40% of the
        time; bold and display faces 35% of the time. Round 3: a leading `ㆍ` is said `·`, a
        pictogram inside a word leaves a wider gap that is not said, Latin in parentheses after
        Korean, and 12% small lines of thin faces (`LinePlan.tiny`). Round 5: Hangul glyphs jittered
        one by one (`LinePlan.jitter`, 60% of pen lines, 10% of others) instead of round 4's bent
        line; confusable syllables drawn in bold and display faces 60% of the time; a pictogram
        between two words said as a space; signs' codes (`서R 1R2`, `B2`) 8% of the time."""
        assert self.texts is not None
        src = self.texts
        for _ in range(20):
            confusable = rng.random() < 0.12
            text = src.confusable(rng) if confusable else src.sample(rng)
            tiny = rng.random() < 0.12
            look = rng.random()  # round 4: pens and brushes 20%, bold and display 30%
            if confusable:  # round 5: 찌/피 and 돼/대 in bold display faces (the lunch sign's 찌개)
                hand, display = not tiny and look < 0.15, not tiny and look >= 0.4
            else:
                hand, display = not tiny and look < 0.2, not tiny and 0.2 <= look < 0.5
            face = self._face(rng, text, display=display, thin=tiny, hand=hand)
            if face is None:
                continue
            jitter = rng.uniform(0.4, 1.0) if rng.random() < (0.6 if hand else 0.1) and not tiny else 0.0
            bold = rng.uniform(0.015, 0.05) if rng.random() < 0.25 else 0.0
            k = rng.random()
            if k < 0.15:  # small parenthesis before (or after) large digits
                small = _paren(rng, src)
                big = _price(rng) if rng.random() < 0.8 else f"+{_price(rng)}"
                sface = self._face(rng, small) or face
                gap = " " if rng.random() < 0.7 else ""
                a = Run(small + gap, sface, rng.uniform(0.4, 0.75), bold=rng.uniform(0, 0.02))
                b = Run(big, face, 1.0, bold=bold)
                runs = (a, b) if rng.random() < 0.75 else (Run(src._word(rng) + " ", face, bold=bold), a)
            elif k < 0.35:  # one line, two sizes or weights (split at a space, or two words)
                words = text.split(" ")
                if len(words) < 2:
                    words = [text, src._word(rng)]
                cut = int(rng.integers(1, len(words)))
                other = self._face(rng, " ".join(words[cut:]), display=rng.random() < 0.5) or face
                a = Run(" ".join(words[:cut]) + " ", face, 1.0, bold=bold)
                b = Run(" ".join(words[cut:]), other, rng.uniform(0.45, 1.0), bold=rng.uniform(0, 0.04))
                runs = (a, b) if rng.random() < 0.5 else (Run(b.text + " ", b.face, b.scale, b.bold), Run(a.text.strip(), face, 1.0, bold))  # fmt: skip
            elif k < 0.55:  # a leading bullet, arrow or circled digit (read)
                mark = BULLETS[int(rng.integers(len(BULLETS)))]
                mface = face if covers(face, mark) else self._face(rng, mark)
                if mface is None:
                    continue
                sp = " " if rng.random() < 0.7 else ""
                says = "·" + sp if mark == "ㆍ" else None  # the two look alike; the truth writes `·`
                runs = (Run(mark + sp, mface, rng.uniform(0.6, 1.0), says=says), Run(text, face, bold=bold))
            # a pictogram before or inside the line (not read)
            elif k < 0.75 and (icon := _pictogram(rng)) is not None:
                at = 0 if rng.random() < 0.35 else int(rng.integers(0, len(text) + 1))
                pad = " " * int(rng.integers(0, 4))  # the sign's gap around it
                says = None  # inside a word (or at an end) the gap is not said: `위⚠험` is `위험`
                spaces = [i for i, c in enumerate(text) if c == " "]
                if at and spaces and rng.random() < 0.6:  # round 5: between two words, said as a space
                    cut = spaces[int(rng.integers(len(spaces)))]
                    text, at, says = text[:cut] + text[cut + 1 :], cut, " "
                if rng.random() < 0.5:  # round 4: drawn shapes (a real ⚠ was read `o`)
                    icon = _SHAPE_KINDS[int(rng.integers(len(_SHAPE_KINDS)))]
                    picto = Run(
                        pad + icon + pad, FontFace(SHAPES), rng.uniform(0.7, 1.2), read=False, says=says
                    )
                else:
                    picto = Run(
                        pad + icon + pad, FontFace(_PICTO_FONT), rng.uniform(0.7, 1.3), read=False, says=says
                    )
                runs = tuple(r for r in (
                    Run(text[:at], face, bold=bold),
                    picto,
                    Run(text[at:], face, bold=bold),
                ) if r.text)  # fmt: skip
            elif k < 0.83:  # Latin in parentheses after Korean: `(feat. …)`, `(ver.2)`
                form = _LATIN_PARENS[int(rng.integers(len(_LATIN_PARENS)))]
                w = src.en_words[int(rng.integers(len(src.en_words)))] if src.en_words else "new"
                latin = "(" + form.format(w=w, W=w.upper()[:5], n=int(rng.integers(1, 10))) + ")"
                lface = self._face(rng, latin) or face
                runs = (Run(text + (" " if rng.random() < 0.8 else ""), face, bold=bold),
                        Run(latin, lface, rng.uniform(0.55, 1.0)))  # fmt: skip
            elif k < 0.91:  # round 5: a sign's code of letters and digits, one token (`서R 1R2`)
                line = _code_line(rng, src)
                cface = face if covers(face, line) else self._face(rng, line)
                if cface is None:
                    continue
                runs = (Run(line, cface, bold=bold),)
            else:
                runs = (Run(text, face, bold=bold),)
            if any(r.read and not covers(r.face, r.text) for r in runs):
                # A run in a face without one of its glyphs (a price's `₩`, which none of round
                # 6's Google faces draws) shows a blank where the truth writes the glyph: the
                # recogniser learnt to read `₩` after prices. Drawn again.
                self.skipped += 1
                continue
            hand = self._hand(rng) if not tiny else None
            plan = LinePlan(runs, tiny=tiny, jitter=jitter, hand=hand)
            if not plan.text:
                continue
            if rng.random() < 0.4:
                which = int(rng.integers(1, 4))
                nface = face if rng.random() < 0.7 else self.fonts[int(rng.integers(len(self.fonts)))]
                above = src.sample(rng) if which & 1 else ""
                below = src.sample(rng) if which & 2 else ""
                if covers(nface, above + below):
                    plan = LinePlan(runs, above, below, nface, tiny=tiny, jitter=jitter, hand=hand)
            return plan
        fallback = self._face(rng, "가") or self.fonts[0]
        return LinePlan((Run("가", fallback),))


#: Round 2 draws night, channel-letter, plate and menu looks more often (the real signs' misses).
ROUND2_STYLES = (*STYLES, "neon", "channel", "plate", "menu")


def _code(rng: np.random.Generator) -> str:
    """Round 5: a code of capitals and digits as signs print them in one token (`1R2`, `R4`, `B2`,
    `3F`, `A-3`, `A`)."""
    cap = [chr(ord("A") + int(i)) for i in rng.integers(26, size=2)]
    d = [str(int(i)) for i in rng.integers(1, 10, size=2)]
    forms = [f"{d[0]}{cap[0]}{d[1]}", f"{cap[0]}{d[0]}", cap[0], f"{d[0]}{cap[0]}", f"{cap[0]}{d[0]}{d[1]}",
             f"{cap[0]}-{d[0]}", f"{d[0]}F", f"B{d[0]}", f"{cap[0]}{cap[1]}{d[0]}", f"{d[0]}{d[1]}{cap[0]}"]  # fmt: skip
    return forms[int(rng.integers(len(forms)))]


def _code_line(rng: np.random.Generator, src: TextSource) -> str:
    """Round 5: a Korean word and a sign's code, the code kept in one token and a space between
    them as written (`전시홀 A`, `서R 1R2`, `B2 주차장`): round 4 lost such spaces."""
    word, code = src._word(rng)[:6], _code(rng)
    k = int(rng.integers(5))
    if k == 0:
        return f"{word} {code}"
    if k == 1:  # a syllable with a capital, then the code
        return f"{word[:2]}{chr(ord('A') + int(rng.integers(26)))} {code}"
    if k == 2:
        return f"{code} {word}"
    if k == 3:
        return f"{word} {code} {src._word(rng)[:6]}"
    return f"{word} {code}, {_code(rng)}"


def _paren(rng: np.random.Generator, src: TextSource) -> str:
    """A small parenthesis of a menu or sign: portion, weight, size, hours or a word."""
    n, g = int(rng.integers(1, 5)), int(rng.integers(2, 11)) * 50
    kinds = [f"({n}인분 {g}g)", f"({n}인분)", f"({g}g)", f"({['소', '중', '대', '특'][int(rng.integers(4))]})",
             f"({n}인)", f"({src._word(rng)})", f"(오후{n + 4}시~오후{n + 9}시)", f"({n}개)"]  # fmt: skip
    return kinds[int(rng.integers(len(kinds)))]


@cache
def _pictogram_glyphs() -> str:
    if not Path(_PICTO_FONT).is_file():
        return ""
    return "".join(c for c in PICTOGRAMS if covers(FontFace(_PICTO_FONT), c))


def _pictogram(rng: np.random.Generator) -> str | None:
    glyphs = _pictogram_glyphs()
    return glyphs[int(rng.integers(len(glyphs)))] if glyphs else None


def split_of(name: str, share: float, salt: str = "korean-rec") -> bool:
    """A stable hash split of names (for future rounds that add fonts or photos by share)."""
    h = int(hashlib.sha256(f"{salt}:{name}".encode()).hexdigest()[:8], 16)
    return h / 2**32 < share


def fonttools_available() -> bool:
    return importlib.util.find_spec("fontTools") is not None
