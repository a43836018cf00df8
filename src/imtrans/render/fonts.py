"""Fonts per language, from the fonts Debian installs (fonts-noto-cjk, fonts-nanum, fonts-noto-core)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from imtrans.errors import ModelMissingError

_CJK_DIR = Path("/usr/share/fonts/opentype/noto")
_NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
_NANUM_DIR = Path("/usr/share/fonts/truetype/nanum")

# Index of each language's face inside the Noto CJK collections.
_CJK_INDEX = {"ja": 0, "ko": 1, "zh": 2}


@dataclass(frozen=True)
class FontSpec:
    """A font file and the face index inside it (.ttc collections hold several)."""

    path: Path
    index: int = 0

    def load(self, size: int) -> ImageFont.FreeTypeFont:
        return _load(str(self.path), self.index, int(size))


@lru_cache(maxsize=256)
def _load(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    # FreeType faces are immutable once loaded; caching by (file, face, size) saves ~1 ms per call.
    return ImageFont.truetype(path, size=size, index=index)


def font_for(language: str, *, bold: bool = False, override: Path | None = None) -> FontSpec:
    """The font to draw `language` with: Noto Sans CJK (right face) for ko/ja/zh, Noto Sans otherwise."""
    if override is not None:
        if not Path(override).is_file():
            raise ModelMissingError(f"font file not found: {override}")
        return FontSpec(Path(override), 0)
    weight = "Bold" if bold else "Regular"
    if language in _CJK_INDEX:
        spec = FontSpec(_CJK_DIR / f"NotoSansCJK-{weight}.ttc", _CJK_INDEX[language])
        package = "fonts-noto-cjk"
    else:
        spec = FontSpec(_NOTO_DIR / f"NotoSans-{weight}.ttf", 0)
        package = "fonts-noto-core"
    if not spec.path.is_file():
        raise ModelMissingError(f"font {spec.path} is missing; install the Debian package {package}")
    return spec


def nanum_fonts() -> list[FontSpec]:
    """All installed Nanum faces (Korean; pen and brush styles come with fonts-nanum-extra)."""
    return [FontSpec(p) for p in sorted(_NANUM_DIR.glob("*.ttf"))]
