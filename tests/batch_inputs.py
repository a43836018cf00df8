"""Inputs the batch tests build: copies of the bundled examples, a CBZ of them, a PDF of them."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from PIL import Image

from imtrans.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SIGN = EXAMPLES / "sign_ko.png"  # Korean: "서울역" and "시청 방면 출구 3번", in examples/glossary.csv
NOTICE = EXAMPLES / "notice_ja.png"  # Japanese opening hours, in examples/glossary.csv

#: Starts like a PNG, then stops: Pillow reports it truncated.
CORRUPT_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def glossary_settings(tmp: Path, **overrides: object) -> Settings:
    """English target through the bundled glossary, with a translation cache of the test's own."""
    return Settings().with_overrides(
        {
            "translate.target": "en",
            "translate.translator": "glossary",
            "translate.glossary": str(EXAMPLES / "glossary.csv"),
            "translate.cache_path": str(tmp / "cache.sqlite3"),
            **overrides,
        }
    )


def image_folder(folder: Path, copies: int = 1) -> list[Path]:
    """`folder`/sign_N.png and `folder`/notices/notice_N.png, `copies` of each; a README that is not an image."""
    (folder / "notices").mkdir(parents=True, exist_ok=True)
    (folder / "README.txt").write_text("not an image\n")
    files = []
    for i in range(copies):
        files.append(Path(shutil.copy(SIGN, folder / f"sign_{i}.png")))
        files.append(Path(shutil.copy(NOTICE, folder / "notices" / f"notice_{i}.png")))
    return files


def comic_archive(path: Path, corrupt: bool = True) -> Path:
    """A CBZ: 001 the sign, 002 a truncated PNG (if `corrupt`), 003 the notice, and ComicInfo.xml."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(SIGN, "001.png")
        if corrupt:
            zf.writestr("002.png", CORRUPT_PNG)
        zf.write(NOTICE, "003.png")
        zf.writestr("ComicInfo.xml", "<ComicInfo><Title>test</Title></ComicInfo>")
    return path


def two_page_pdf(path: Path, dpi: int = 150) -> Path:
    """A PDF whose two pages are the sign and the notice at `dpi` (rendering at that dpi gives them back)."""
    pages = [Image.open(p).convert("RGB") for p in (SIGN, NOTICE)]
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=dpi)
    return path
