"""Fetch the extra Korean training faces (Google Fonts, SIL OFL 1.1) from the npm registry.

    python training/fetch_fonts.py                        # into ~/.cache/imtrans/train-fonts
    python training/fetch_fonts.py --dest runs/fonts      # elsewhere
    python training/train_recognizer.py ... --extra-fonts ~/.cache/imtrans/train-fonts

Debian packages hold 79 training faces, few of them handwriting; the held-out pens are where the
recogniser errs most (`src/imtrans/recognize/models/MODEL_CARD.md`). Fontsource's npm packages
carry Google Fonts' Korean families as web fonts: each weight's ``korean`` subset (``.woff``, zlib
so no brotli is needed) holds every KS X 1001 syllable and printable ASCII; it is unwrapped to a
plain ``.ttf`` named ``<family>-<weight>.ttf``. Families that are the same design as a Debian face
are left out (Nanum, Noto, Baedal Minjok's Jua, Do Hyeon and Kirang Haerang) and so is Yeon Sung,
which is BMYEONSUNG, a held-out face. ``fonts.json`` in the folder lists each file's package,
version, licence, category, syllable count and sha256. Training only: nothing here is shipped and
the recogniser's validation sets draw only Debian's faces.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: Fontsource packages of Google Fonts' Korean families, not already installed from Debian.
FAMILIES = (
    "gaegu", "gamja-flower", "hi-melody", "poor-story", "single-day", "east-sea-dokdo", "cute-font",
    "black-and-white-picture", "stylish", "song-myung", "gugi", "black-han-sans", "sunflower",
    "gothic-a1", "gowun-batang", "gowun-dodum", "hahmlet", "ibm-plex-sans-kr", "orbit", "dongle",
    "diphylleia", "gasoek-one", "bagel-fat-one", "moirai-one", "grandiflora-one",
)  # fmt: skip
DEFAULT_DEST = Path.home() / ".cache" / "imtrans" / "train-fonts"


def fetch(family: str, dest: Path, work: Path) -> list[dict[str, object]]:
    """npm pack one family and unwrap each weight's Korean subset to ``dest``; its manifest rows."""
    from fontTools.ttLib import TTFont

    from imtrans.nets.recdata import ks_syllables

    done = subprocess.run(
        ["npm", "pack", f"@fontsource/{family}", "--json", "--pack-destination", str(work)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    tgz = work / json.loads(done.stdout)[0]["filename"]
    with tarfile.open(tgz) as tar:
        tar.extractall(work / family, filter="data")
    pkg = work / family / "package"
    meta = json.loads((pkg / "metadata.json").read_text(encoding="utf-8"))
    version = json.loads((pkg / "package.json").read_text(encoding="utf-8"))["version"]
    wanted = {ord(c) for c in ks_syllables()}
    rows = []
    for weight in meta["weights"]:
        src = pkg / "files" / f"{family}-korean-{weight}-normal.woff"
        if not src.exists():
            continue
        font = TTFont(src)
        font.flavor = None
        cmap = font.getBestCmap() or {}
        syllables = len(wanted & set(cmap))
        if syllables < len(wanted) * 0.95:  # a partial face would skip most texts
            continue
        out = dest / f"{family}-{weight}.ttf"
        tmp = out.with_suffix(".tmp")
        font.save(tmp)
        tmp.replace(out)
        rows.append({
            "file": out.name, "package": f"@fontsource/{family}", "version": version,
            "family": meta["family"], "weight": weight, "category": meta.get("category", ""),
            "licence": meta["license"]["type"], "syllables": syllables,
            "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    parser.add_argument("families", nargs="*", default=list(FAMILIES))
    args = parser.parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for family in args.families:
            try:
                got = fetch(family, args.dest, Path(tmp))
            except (subprocess.SubprocessError, OSError, KeyError, ValueError) as exc:
                print(f"{family}: not fetched ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
                continue
            print(f"{family}: {', '.join(str(r['file']) for r in got) or 'no full Korean weight'}")
            rows += got
    manifest = args.dest / "fonts.json"
    manifest.with_suffix(".tmp").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    manifest.with_suffix(".tmp").replace(manifest)
    print(f"{len(rows)} faces in {args.dest}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
