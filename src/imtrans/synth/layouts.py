"""What to draw where: a `BlockPlan` per text block, for each layout.

A plan holds everything random about a block (its lines, font, size, colours, outline,
shadow, decoration, rotation, perspective and where it should go), so that `draw.py`
is a deterministic function of the plan. Layouts:

- ``sign``: 1-3 panels (or lettering straight on the photo) of 1-3 short lines, often
  bold, sometimes rotated or seen at an angle.
- ``paragraph``: 1-2 blocks of wrapped sentences, on a paper card or on the photo.
- ``bubble``: 1-4 comic speech bubbles (white ellipse, outline, tail), text centred.
- ``vertical`` (ja, zh only): 1-3 blocks of columns read right to left, in bubbles,
  on cards or on the photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from imtrans.errors import InputError
from imtrans.render.breaking import break_text, break_vertical
from imtrans.render.fonts import FontSpec, nanum_fonts
from imtrans.synth.text import Corpus, Kind
from imtrans.types import Alignment, Direction

RGB = tuple[int, int, int]
BlockKind = Literal["sign", "paragraph", "bubble", "vertical"]
LAYOUTS = ("sign", "paragraph", "bubble", "vertical", "mixed")
LANGUAGES = ("ko", "en", "ja", "zh")

_CJK_DIR = Path("/usr/share/fonts/opentype/noto")
_NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
# Face index of each language inside the Noto CJK collections (see imtrans.render.fonts).
_CJK_INDEX = {"ja": 0, "ko": 1, "zh": 2}


@dataclass(frozen=True)
class Decoration:
    """What sits behind a block's text and belongs to the clean background (a panel, a bubble)."""

    kind: Literal["none", "panel", "card", "bubble"] = "none"
    fill: RGB = (255, 255, 255)
    border: RGB | None = None
    border_width: int = 0
    padding: int = 0  # between the text's ink and the decoration's edge, in px
    radius: int = 0  # corner radius of panels and cards
    tail_angle: float = 90.0  # bubble tail direction, degrees, 90 = straight down


@dataclass(frozen=True)
class TextStyle:
    """How a block's letters look."""

    font: FontSpec
    font_name: str
    size: int
    fill: RGB
    outline: RGB | None = None
    outline_width: int = 0
    shadow: RGB | None = None
    shadow_offset: tuple[int, int] = (0, 0)
    shadow_blur: float = 0.0
    line_spacing: float = 1.3  # line pitch / font size
    alignment: Alignment = Alignment.LEFT


@dataclass(frozen=True)
class BlockPlan:
    """One text block, fully decided; `draw.render_block` turns it into pixels."""

    kind: BlockKind
    language: str
    lines: tuple[str, ...]
    direction: Direction
    style: TextStyle
    decoration: Decoration
    angle: float = 0.0  # rotation, degrees, counter-clockwise positive
    perspective: float = 0.0  # corner jitter as a fraction of the block's short side
    centre: tuple[float, float] = (0.5, 0.5)  # wished position, fractions of the image
    may_cross_edge: bool = False  # placed partly off the image (a photo cuts signs too)
    extra: dict[str, object] = field(default_factory=dict)


def fonts_for(language: str) -> list[tuple[FontSpec, str]]:
    """Every installed face that writes `language`, with a display name, in a fixed order."""
    out: list[tuple[FontSpec, str]] = []
    if language in _CJK_INDEX:
        for family in ("NotoSansCJK", "NotoSerifCJK"):
            for weight in ("Regular", "Bold"):
                path = _CJK_DIR / f"{family}-{weight}.ttc"
                if path.is_file():
                    out.append((FontSpec(path, _CJK_INDEX[language]), f"{path.name}#{_CJK_INDEX[language]}"))
        if language == "ko":
            out += [(spec, spec.path.name) for spec in nanum_fonts()]
    else:
        for family in ("NotoSans", "NotoSansDisplay", "NotoSerif", "NotoSerifDisplay"):
            for weight in ("Regular", "Bold", "Italic", "BoldItalic"):
                path = _NOTO_DIR / f"{family}-{weight}.ttf"
                if path.is_file():
                    out.append((FontSpec(path, 0), path.name))
    return out


def block_kinds(language: str, layout: str, rng: np.random.Generator) -> list[BlockKind]:
    """The kinds of the blocks of one sample.

    Raises:
        InputError: ``vertical`` for a language not written in columns (ko, en).
    """
    if layout == "vertical" and language not in ("ja", "zh"):
        raise InputError(f"the vertical layout is for ja and zh only, not {language}")
    if layout == "mixed":
        choices: list[BlockKind] = ["sign", "paragraph", "bubble"] + (
            ["vertical"] if language in ("ja", "zh") else []
        )
        layout = choices[int(rng.integers(len(choices)))]
    counts = {"sign": (1, 3), "paragraph": (1, 2), "bubble": (1, 4), "vertical": (1, 3)}
    lo, hi = counts[layout]
    return [layout] * int(rng.integers(lo, hi + 1))  # type: ignore[list-item]


def plan_block(
    kind: BlockKind,
    language: str,
    corpus: Corpus,
    fonts: list[tuple[FontSpec, str]],
    photo: np.ndarray,
    rng: np.random.Generator,
) -> BlockPlan:
    """Decide one block of `kind`: text, wrapping, font, colours, decoration and pose."""
    h, w = photo.shape[:2]
    centre = (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8)))
    local = _local_colour(photo, centre, rng)
    spec, font_name = fonts[int(rng.integers(len(fonts)))]
    planner = {"sign": _sign, "paragraph": _paragraph, "bubble": _bubble, "vertical": _vertical}[kind]
    return planner(language, corpus, spec, font_name, (w, h), local, centre, rng)


# --- one planner per kind -------------------------------------------------------------


def _sign(language, corpus, spec, font_name, size, local, centre, rng):  # type: ignore[no-untyped-def]
    w, h = size
    n = int(rng.choice([1, 1, 2, 2, 3]))
    lines = tuple(dict.fromkeys(_pick(corpus, "short", rng) for _ in range(n)))  # no line twice
    px = int(rng.uniform(0.035, 0.09) * max(w, h))
    longest = max(len(x) for x in lines) * (0.55 if language == "en" else 1.0)
    px = max(16, min(px, int(0.8 * w / max(longest, 1))))
    on_panel = rng.random() < 0.65
    if on_panel:
        panel, ink = _SIGN_COLOURS[int(rng.integers(len(_SIGN_COLOURS)))]
        border = ink if rng.random() < 0.4 else None
        deco = Decoration(
            "panel", panel, border, int(rng.integers(2, 6)) if border else 0,
            padding=int(px * rng.uniform(0.3, 0.8)), radius=int(px * rng.uniform(0, 0.4)),
        )  # fmt: skip
        style = TextStyle(spec, font_name, px, ink, line_spacing=float(rng.uniform(1.15, 1.5)))
    else:
        deco = Decoration()
        style = _on_photo_style(spec, font_name, px, local, rng)
    style = _with(style, alignment=_alignment(rng, centre_weight=0.7))
    return BlockPlan(
        "sign", language, lines, Direction.HORIZONTAL, style, deco,
        angle=float(rng.normal(0, 6)) if rng.random() < 0.6 else 0.0,
        perspective=float(rng.uniform(0, 0.12)) if rng.random() < 0.5 else 0.0,
        centre=centre, may_cross_edge=rng.random() < 0.05,
    )  # fmt: skip


def _paragraph(language, corpus, spec, font_name, size, local, centre, rng):  # type: ignore[no-untyped-def]
    w, h = size
    px = int(rng.uniform(0.018, 0.034) * max(w, h))
    px = max(13, px)
    text = _join([_pick(corpus, "sentence", rng) for _ in range(int(rng.integers(1, 4)))], language)
    width = rng.uniform(0.3, 0.7) * w
    font = spec.load(px)
    lines = tuple(break_text(text, language, width, font.getlength))[: max(2, int(0.6 * h / (px * 1.5)))]
    on_card = rng.random() < 0.6
    if on_card:
        paper = tuple(int(v) for v in rng.integers(225, 256, 3))
        deco = Decoration(
            "card", paper, None, 0, padding=int(px * rng.uniform(0.6, 1.5)), radius=int(rng.integers(0, 6))
        )
        ink = tuple(int(v) for v in rng.integers(0, 70, 3))
        style = TextStyle(spec, font_name, px, ink)  # type: ignore[arg-type]
    else:
        deco = Decoration()
        style = _on_photo_style(spec, font_name, px, local, rng, outline_p=0.3)
    style = _with(
        style, line_spacing=float(rng.uniform(1.2, 1.7)), alignment=_alignment(rng, centre_weight=0.15)
    )
    return BlockPlan(
        "paragraph", language, lines, Direction.HORIZONTAL, style, deco,
        angle=float(rng.normal(0, 2.5)) if rng.random() < 0.5 else 0.0,
        perspective=float(rng.uniform(0, 0.06)) if rng.random() < 0.3 else 0.0, centre=centre,
    )  # fmt: skip


def _bubble(language, corpus, spec, font_name, size, local, centre, rng):  # type: ignore[no-untyped-def]
    w, h = size
    px = max(14, int(rng.uniform(0.022, 0.04) * max(w, h)))
    text = _join([_pick(corpus, "utterance", rng) for _ in range(int(rng.choice([1, 1, 2])))], language)
    font = spec.load(px)
    # A bubble's text is about as wide as it is tall; wrap to the square root of its area.
    width = max(px * 3.0, (font.getlength(text) * px * 1.3) ** 0.5 * 1.3)
    lines = tuple(break_text(text, language, width, font.getlength))
    ink = (0, 0, 0) if rng.random() < 0.85 else tuple(int(v) for v in rng.integers(0, 90, 3))
    border = (0, 0, 0) if rng.random() < 0.9 else ink
    deco = Decoration(
        "bubble", (255, 255, 255), border, int(rng.integers(2, 5)), padding=int(px * 0.4),
        tail_angle=float(rng.uniform(40, 140)),
    )  # fmt: skip
    style = TextStyle(
        spec, font_name, px, ink, line_spacing=float(rng.uniform(1.1, 1.4)), alignment=Alignment.CENTRE
    )  # type: ignore[arg-type]
    return BlockPlan(
        "bubble", language, lines, Direction.HORIZONTAL, style, deco,
        angle=float(rng.normal(0, 3)) if rng.random() < 0.3 else 0.0, centre=centre,
    )  # fmt: skip


def _vertical(language, corpus, spec, font_name, size, local, centre, rng):  # type: ignore[no-untyped-def]
    w, h = size
    px = max(16, int(rng.uniform(0.024, 0.045) * max(w, h)))
    kind: Kind = "utterance" if rng.random() < 0.6 else "short"
    text = _join([_pick(corpus, kind, rng) for _ in range(int(rng.choice([1, 1, 2])))], language)
    column = rng.uniform(4, 12) * px
    columns = tuple(break_vertical(text, language, min(column, 0.8 * h), lambda s: len(s) * px))[:8]
    r = rng.random()
    if r < 0.45:
        deco = Decoration("bubble", (255, 255, 255), (0, 0, 0), int(rng.integers(2, 5)), padding=int(px * 0.4),
                          tail_angle=float(rng.uniform(40, 140)))  # fmt: skip
        style = TextStyle(spec, font_name, px, (0, 0, 0))
    elif r < 0.75:
        paper = tuple(int(v) for v in rng.integers(225, 256, 3))
        deco = Decoration("card", paper, None, 0, padding=int(px * rng.uniform(0.5, 1.2)))  # type: ignore[arg-type]
        style = TextStyle(spec, font_name, px, tuple(int(v) for v in rng.integers(0, 70, 3)))  # type: ignore[arg-type]
    else:
        deco = Decoration()
        style = _on_photo_style(spec, font_name, px, local, rng)
    style = _with(style, line_spacing=float(rng.uniform(1.15, 1.5)))
    return BlockPlan(
        "vertical", language, columns, Direction.VERTICAL, style, deco,
        angle=float(rng.normal(0, 2)) if rng.random() < 0.3 else 0.0, centre=centre,
    )  # fmt: skip


# --- helpers ------------------------------------------------------------------------------

#: Sign panel colour and lettering colour, as on real street, shop and office signs.
_SIGN_COLOURS: list[tuple[RGB, RGB]] = [
    ((0, 102, 68), (255, 255, 255)),  # road sign green
    ((0, 61, 140), (255, 255, 255)),  # road sign blue
    ((180, 30, 35), (255, 255, 255)),
    ((250, 250, 245), (20, 20, 20)),
    ((20, 20, 22), (255, 215, 0)),
    ((20, 20, 22), (255, 255, 255)),
    ((255, 204, 0), (15, 15, 15)),
    ((110, 70, 40), (250, 240, 220)),  # wooden shop sign
    ((235, 235, 235), (200, 20, 30)),
]


def _pick(corpus: Corpus, kind: Kind, rng: np.random.Generator) -> str:
    texts = corpus.texts[kind]
    return texts[int(rng.integers(len(texts)))]


def _join(parts: list[str], language: str) -> str:
    return ("" if language in ("ja", "zh") else " ").join(parts)


def _alignment(rng: np.random.Generator, centre_weight: float) -> Alignment:
    r = rng.random()
    if r < centre_weight:
        return Alignment.CENTRE
    return Alignment.LEFT if r < centre_weight + (1 - centre_weight) * 0.75 else Alignment.RIGHT


def _with(style: TextStyle, **changes: object) -> TextStyle:
    from dataclasses import replace

    return replace(style, **changes)  # type: ignore[arg-type]


def _local_colour(photo: np.ndarray, centre: tuple[float, float], rng: np.random.Generator) -> RGB:
    """Mean colour of the photo around where the block should go."""
    h, w = photo.shape[:2]
    cx, cy = int(centre[0] * w), int(centre[1] * h)
    r = max(8, min(w, h) // 8)
    patch = photo[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r]
    return tuple(int(v) for v in patch.reshape(-1, 3).mean(axis=0))  # type: ignore[return-value]


def _luminance(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _on_photo_style(
    spec: FontSpec, font_name: str, px: int, local: RGB, rng: np.random.Generator, outline_p: float = 0.55
) -> TextStyle:
    """Lettering straight on the photo: a colour that stands out, often an outline or a shadow.

    One block in twenty-five gets a colour drawn with no regard for the photo; some of
    those are illegible, and the cleaning step must catch them.
    """
    dark_bg = _luminance(local) < 128
    if rng.random() < 0.04:
        fill: RGB = tuple(int(v) for v in rng.integers(0, 256, 3))  # type: ignore[assignment]
    elif dark_bg:
        fill = tuple(int(v) for v in rng.integers(200, 256, 3))  # type: ignore[assignment]
    else:
        fill = tuple(int(v) for v in rng.integers(0, 60, 3))  # type: ignore[assignment]
    if rng.random() < 0.25:  # a saturated accent colour instead (red, yellow, cyan...)
        accents = [(230, 30, 40), (255, 220, 0), (0, 200, 230), (255, 120, 0), (40, 200, 60)]
        fill = accents[int(rng.integers(len(accents)))]
    outline, width = None, 0
    if rng.random() < outline_p:
        outline = (0, 0, 0) if _luminance(fill) > 110 else (255, 255, 255)
        width = int(rng.integers(1, max(2, px // 10) + 1))
    shadow, offset, blur = None, (0, 0), 0.0
    if rng.random() < 0.3:
        shadow = (0, 0, 0)
        d = max(1, px // 18)
        offset = (int(rng.integers(1, d + 2)), int(rng.integers(1, d + 2)))
        blur = float(rng.uniform(0, 2.0))
    return TextStyle(spec, font_name, px, fill, outline, width, shadow, offset, blur)
