"""Carry a Korean recogniser round to a lent GPU machine: pack it here, unpack and train there.

    python training/pack_device.py pack --extra-fonts runs/train-fonts     # here: writes carry/
    # there, through the device tool (one call; carry=["carry"], timeout_s=600):
    python3 training/pack_device.py train -- --seed 12                     # + train_recognizer options

A lent machine (the `device` tool, not every session has one) starts bare: Python 3.12 with torch,
numpy, OpenCV, Pillow, fontTools, scikit-image, onnx and onnxruntime, but none of Debian's Korean
faces or photos, no wordfreq, konlpy or rapidocr, no network; the repository's files and the
carried ones travel together, 64 MiB at most, and one command runs 10 minutes at most. `pack`
writes ``carry/`` (ignored by git):

- ``fonts.tar.xz``: the training and validation faces cut down to the charset (`pack_fonts.py`),
  less the faces of `LEAVE_OUT` (the largest once packed, to fit; the validation sets there lack
  NanumGothicEcoBold, so their figures are for watching only: a round is measured here);
- ``photos/``: Debian's mate-backgrounds photos, the background library's second half
  (`PhotoLibrary`), scaled to 1,024 px on the longer side;
- ``texts.json``: the training texts (`TextSource.save`), read there with ``--texts``;
- ``ppocr_rec.onnx.xz``: PP-OCRv6's recogniser graph with its weights zeroed
  (`recognizer.skeleton_graph`), which ``--ppocr`` builds the net on;
- ``wheels/``: the wheels the training's imports need beyond the machine's (`WHEELS`, the
  versions of this environment), for its Python (``--python-version``, 3.12 there);

and checks that the repository and ``carry/`` together fit. `train` (there) first runs the
training's one-step smoke test on the GPU with the carried data (a broken carry costs seconds, not
the call), then the round: from the shipped file (``--init``), `ROUND` options, then the ones
given after ``--``; it writes ``korean_rec_last.onnx``, ``korean_rec_best.onnx``, ``log.jsonl``
and ``config.json`` to ``$OUT``. Measure the files here (`korean_rec_eval.py --model F
--synthetic 200`, then the dev sets), as every round has been.
"""

from __future__ import annotations

import argparse
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARRY = ROOT / "carry"
LIMIT = 64 * 2**20  # the device tool's working tree, carried files included
#: What the training imports beyond the device's packages (its KINDS.md), and onnx2torch.
WHEELS = (
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-inspection",
    "shapely",
    "rapidfuzz",
    "onnx2torch",
)
#: Faces left out of the carry, the largest once packed (Nanum Eco's dotted outlines, two Euljiro
#: display faces): with them repository and carry come to about 76 MB.
LEAVE_OUT = ("*Eco*", "BMEuljiro10yearslater*", "BMEuljirooraeorae*")
#: Where the smoke step and the round train (the other cores render lines).
ON_GPU = ("--threads", "2", "--device", "cuda")
#: A round's options on the GPU (before those given after ``--``): the time, not the steps, ends it.
ROUND = ("--steps", "100000", "--minutes", "6", "--batch", "64", "--lr", "1e-4", "--head-lr", "4e-4",
         "--warmup", "100", "--val-every", "500", "--checkpoint-every", "500", "--made-up", "0.3",
         "--seed", "11", *ON_GPU)  # fmt: skip
MATE_PHOTOS = Path("/usr/share/backgrounds/mate/nature")


def tree_bytes() -> int:
    """Bytes of what the device tool sends besides the carry: tracked and untracked, not ignored files."""
    names = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    return sum((ROOT / n.decode()).stat().st_size for n in names if n and (ROOT / n.decode()).is_file())


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pack(dest: Path, extra_fonts: str, python_version: str, leave_out: tuple[str, ...]) -> int:
    """Write the carry (fonts, photos, texts, graph, wheels) to ``dest``; the bytes it holds."""
    import cv2

    from imtrans.nets.recdata import TextSource
    from imtrans.nets.recognizer import skeleton_graph

    sys.path.insert(0, str(Path(__file__).parent))
    from pack_fonts import main as pack_fonts

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        fonts = Path(tmp) / "fonts"
        pack_fonts(
            ["--dest", str(fonts), "--leave-out", *leave_out]
            + (["--extra", extra_fonts] if extra_fonts else [])
        )
        with tarfile.open(dest / "fonts.tar.xz", "w:xz") as tar:
            tar.add(fonts, arcname="fonts")
        graph = Path(tmp) / "ppocr_rec.onnx"
        skeleton_graph(graph)
        (dest / "ppocr_rec.onnx.xz").write_bytes(lzma.compress(graph.read_bytes(), preset=9))
    (dest / "photos").mkdir()
    for photo in sorted(MATE_PHOTOS.glob("*.jpg")):
        img = cv2.imread(str(photo), cv2.IMREAD_COLOR)
        scale = min(1.0, 1024 / max(img.shape[:2]))
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(dest / "photos" / photo.name), img, [cv2.IMWRITE_JPEG_QUALITY, 88])
    TextSource.load().save(dest / "texts.json")
    pins = [f"{name}=={version(name)}" for name in WHEELS]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--implementation",
         "cp", "--python-version", python_version, "--platform", "manylinux2014_x86_64", "--platform",
         "manylinux_2_28_x86_64", "-d", str(dest / "wheels"), *pins],
        check=True,
    )  # fmt: skip
    for part in sorted(dest.iterdir()):
        size = folder_bytes(part) if part.is_dir() else part.stat().st_size
        print(f"{part.name}: {size / 1e6:.1f} MB")
    return folder_bytes(dest)


def unpack(carry: Path, work: Path) -> dict[str, Path]:
    """Fonts, graph and wheels of ``carry`` under ``work``; the paths the training is given."""
    work.mkdir(parents=True, exist_ok=True)
    with tarfile.open(carry / "fonts.tar.xz") as tar:
        tar.extractall(work, filter="data")
    graph = work / "ppocr_rec.onnx"
    graph.write_bytes(lzma.decompress((carry / "ppocr_rec.onnx.xz").read_bytes()))
    site = work / "site"
    wheels = sorted(str(p) for p in (carry / "wheels").glob("*.whl"))
    if wheels:  # none where the machine has every package (the test here)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target",
                        str(site), *wheels], check=True)  # fmt: skip
    return {"fonts": work / "fonts", "graph": graph, "site": site}


def train(carry: Path, out: Path, rest: list[str], work: Path) -> int:
    """Unpack under ``work``, the smoke step, then the round; its files into ``out``."""
    paths = unpack(carry, work)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(paths["site"])])}
    script = str(ROOT / "training" / "train_recognizer.py")
    data = ["--init", str(ROOT / "src/imtrans/recognize/models/korean_rec.onnx"), "--ppocr", str(paths["graph"]),
            "--texts", str(carry / "texts.json"), "--photos", str(carry / "photos"),
            "--system-fonts", str(paths["fonts"] / "system"), "--extra-fonts", str(paths["fonts"] / "extra"),
            "--workers", str(max(1, (os.cpu_count() or 2) - 2))]  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    run = work / "run"
    for stale in (work / "smoke", run):  # a call again on the same machine starts afresh
        shutil.rmtree(stale, ignore_errors=True)
    smoke = [sys.executable, script, "--smoke", "--out", str(work / "smoke"), *data, *ON_GPU, *rest]
    if subprocess.run(smoke, env=env, check=False).returncode != 0:
        print("the smoke step failed: the round was not started", file=sys.stderr)
        return 1
    cmd = [sys.executable, script, "--out", str(run), *data, *ROUND, *rest, "--export",
           str(out / "korean_rec_last.onnx")]  # fmt: skip
    done = subprocess.run(cmd, env=env, check=False).returncode
    for name in ("log.jsonl", "config.json"):
        if (run / name).exists():
            shutil.copy(run / name, out / name)
    if (run / "best.pt").exists():
        subprocess.run([sys.executable, script, "--out", str(run), "--ppocr", str(paths["graph"]), "--export-from",
                        "best", "--export", str(out / "korean_rec_best.onnx")], env=env, check=False)  # fmt: skip
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("pack", help="write carry/ here")
    p.add_argument("--dest", type=Path, default=CARRY)
    p.add_argument("--extra-fonts", default="", help="the fetched faces (training/fetch_fonts.py)")
    p.add_argument("--python-version", default="3.12", help="the device's Python, for the wheels")
    p.add_argument("--leave-out", nargs="*", default=list(LEAVE_OUT), help="face file patterns to leave out")
    t = verbs.add_parser("train", help="on the device: unpack carry/, smoke step, round; files to $OUT")
    t.add_argument("--carry", type=Path, default=CARRY)
    t.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "device-out")))
    t.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "imtrans-device",
                   help="where the carry is unpacked and the run kept")  # fmt: skip
    t.add_argument("rest", nargs="*", help="train_recognizer.py options, after --")
    args = parser.parse_args(argv)
    if args.verb == "train":
        return train(args.carry, args.out, args.rest, args.work)
    carried = pack(args.dest, args.extra_fonts, args.python_version, tuple(args.leave_out))
    tree = tree_bytes()
    total = tree + carried
    print(f"repository {tree / 1e6:.1f} MB + carry {carried / 1e6:.1f} MB = {total / 1e6:.1f} MB "
          f"(limit {LIMIT / 1e6:.1f} MB)")  # fmt: skip
    if total > LIMIT:
        print("over the device tool's limit: leave out more faces (--leave-out)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
