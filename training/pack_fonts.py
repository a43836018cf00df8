"""Pack the Korean recogniser's training faces small enough to carry to a machine without them.

    python training/pack_fonts.py --dest runs/font-pack                         # Debian's faces
    python training/pack_fonts.py --dest runs/font-pack --extra runs/train-fonts   # + fetched faces
    python training/pack_fonts.py --dest runs/font-pack --leave-out '*Eco*'          # not these faces
    python training/train_recognizer.py --system-fonts runs/font-pack/system --extra-fonts runs/font-pack/extra ...

A lent GPU machine starts bare, without Debian's Korean font packages, and takes at most 64 MiB
of carried files (the device tool's limit, repository included). Training draws only the
recogniser's charset (`korean_charset`: the 2,350 KS X 1001 syllables, jamo, ASCII, sign
symbols) and `recdata.PICTOGRAMS`, so each face is cut down to those glyphs (fontTools'
subsetter, hinting dropped, layout features kept) without changing a drawn line: the faces
fontconfig lists for Korean (`fc-list :lang=ko`, the Noto CJK collections at their Korean
face) go to ``DEST/system``, to stand in for fontconfig there (`--system-fonts`, every split:
training, held-out, brush/pen/serif), and the fetched faces to ``DEST/extra`` (`--extra-fonts`,
training only). ``DEST/fonts.json`` lists each face's source, sizes before and after and sha256;
the script prints the totals, and ``DEST.tar.xz`` is written with ``--archive``.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

from imtrans.nets.recdata import PICTOGRAMS, FontFace, korean_fonts
from imtrans.recognize.korean import korean_charset


def subset_face(face: FontFace, text: str) -> bytes:
    """The face (a .ttc's face at its index) cut down to the glyphs of ``text``, as a .ttf/.otf file's bytes."""
    font = TTCollection(face.path).fonts[face.index] if face.path.endswith(".ttc") else TTFont(face.path)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def pack(faces: list[FontFace], dest: Path, text: str) -> list[dict[str, object]]:
    """Each face subset into ``dest`` (named as recdata names it, so the held-out lists still
    match; a .ttc's face saved as .ttf); their manifest rows."""
    dest.mkdir(parents=True, exist_ok=True)
    rows = []
    for face in faces:
        data = subset_face(face, text)
        name = face.name.split("#")[0]
        if name.endswith(".ttc"):  # a collection's Korean face, on its own (CFF outlines: .otf)
            name = name[: -len(".ttc")] + (".otf" if data[:4] == b"OTTO" else ".ttf")
        (dest / name).write_bytes(data)
        rows.append({"file": name, "source": face.path, "index": face.index,
                     "bytes_before": Path(face.path).stat().st_size, "bytes": len(data),
                     "sha256": hashlib.sha256(data).hexdigest()})  # fmt: skip
        print(f"{name}: {rows[-1]['bytes_before'] / 1e6:.1f} -> {len(data) / 1e6:.2f} MB", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True, help="folder to write system/ and extra/ into")
    parser.add_argument(
        "--extra", default="", help="a folder of fetched training faces (training/fetch_fonts.py)"
    )
    parser.add_argument("--archive", action="store_true", help="also write DEST.tar.xz")
    parser.add_argument("--leave-out", nargs="*", default=[], help="face file name patterns not to pack")
    args = parser.parse_args(argv)
    text = "".join(korean_charset()) + PICTOGRAMS
    system = korean_fonts()
    if not system:
        raise SystemExit(
            "fontconfig lists no Korean face here (install fonts-nanum, fonts-unfonts-core, ...)"
        )
    fetched = sorted(set(korean_fonts(args.extra)) - set(system), key=lambda f: f.name) if args.extra else []
    left = [
        f for f in system + fetched if any(fnmatch.fnmatch(f.name.split("#")[0], g) for g in args.leave_out)
    ]
    if left:
        print(f"left out {len(left)} faces: {', '.join(sorted(f.name for f in left))}", flush=True)
    rows = {"system": pack([f for f in system if f not in left], args.dest / "system", text)}
    if args.extra:
        rows["extra"] = pack([f for f in fetched if f not in left], args.dest / "extra", text)
    (args.dest / "fonts.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    for part, items in rows.items():
        before = sum(int(r["bytes_before"]) for r in items) / 1e6  # type: ignore[call-overload]
        after = sum(int(r["bytes"]) for r in items) / 1e6  # type: ignore[call-overload]
        print(f"{part}: {len(items)} faces, {before:.0f} MB -> {after:.1f} MB")
    if args.archive:
        archive = args.dest.with_name(args.dest.name + ".tar.xz")
        tmp = archive.with_suffix(".tmp")
        with tarfile.open(tmp, "w:xz") as tar:
            tar.add(args.dest, arcname=args.dest.name)
        tmp.replace(archive)
        print(f"{archive}: {archive.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
