"""The evaluation dataset manifest: one JSON object per line (JSONL), one per image.

A manifest lives in a directory; every path in it is relative to that directory.

    {"id": "ko-sign-00007",
     "image": "images/ko-sign-00007.png",          # what the pipeline sees
     "background": "backgrounds/ko-sign-00007.png",  # optional: the same image without text
     "mask": "masks/ko-sign-00007.png",             # optional: 255 where text pixels differ
     "source_language": "ko",
     "width": 800, "height": 600,
     "blocks": [
       {"id": "b0",
        "quad": [[x, y], [x, y], [x, y], [x, y]],   # imtrans.types.Quad convention
        "text": "시청 방면",                          # the block's text ("" when unknown)
        "language": "ko", "direction": "horizontal",
        "lines": [{"quad": [...], "text": "시청 방면", "language": "ko", "direction": "horizontal",
                   "ignore": false}],               # [] when only block-level truth exists
        "translations": {"en": "To City Hall"},     # reference translations, by language
        "style": {"font": "NanumGothic.ttf", "colour": [255, 255, 255], ...}}],
     "meta": {"layout": "sign", "seed": 7, ...}}   # free-form: how the sample was made

Lines marked `ignore` (ICDAR's "###", illegible by construction) count neither as missed
nor as false detections.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from imtrans.errors import InputError
from imtrans.imageio import atomic_writes
from imtrans.types import Quad

MANIFEST_NAME = "manifest.jsonl"

QuadPoints = list[tuple[float, float]]


def _four_points(v: Any) -> QuadPoints:
    pts = [(float(p[0]), float(p[1])) for p in v]
    if len(pts) != 4:
        raise ValueError(f"a quad needs 4 points, got {len(pts)}")
    return pts


class GTLine(BaseModel):
    """One ground-truth line."""

    model_config = ConfigDict(extra="forbid")

    quad: QuadPoints
    text: str = ""
    language: str = ""
    direction: Literal["horizontal", "vertical"] = "horizontal"
    ignore: bool = False

    _check_quad = field_validator("quad", mode="before")(_four_points)

    def to_quad(self) -> Quad:
        return Quad.from_list(self.quad)


class GTBlock(BaseModel):
    """One ground-truth block (paragraph, bubble, sign panel) and its reference translations."""

    model_config = ConfigDict(extra="forbid")

    id: str
    quad: QuadPoints
    text: str = ""
    language: str = ""
    direction: Literal["horizontal", "vertical"] = "horizontal"
    lines: list[GTLine] = Field(default_factory=list)
    translations: dict[str, str] = Field(default_factory=dict)
    style: dict[str, Any] = Field(default_factory=dict)

    _check_quad = field_validator("quad", mode="before")(_four_points)

    def to_quad(self) -> Quad:
        return Quad.from_list(self.quad)


class Sample(BaseModel):
    """One image of a dataset with its ground truth; paths relative to the manifest's directory."""

    model_config = ConfigDict(extra="forbid")

    id: str
    image: str
    background: str | None = None
    mask: str | None = None
    source_language: str = ""
    width: int
    height: int
    blocks: list[GTBlock] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def lines(self) -> list[GTLine]:
        """All ground-truth lines, block by block."""
        return [ln for b in self.blocks for ln in b.lines]


class Dataset(BaseModel):
    """A named list of samples rooted at a directory (where relative paths resolve)."""

    name: str
    root: Path
    samples: list[Sample]

    def path(self, relative: str) -> Path:
        return self.root / relative

    @property
    def fingerprint(self) -> str:
        """Short hash of the samples' ground truth: part of every metric's signature."""
        h = hashlib.sha256()
        for s in self.samples:
            h.update(s.model_dump_json().encode())
        return h.hexdigest()[:12]


def read_manifest(path: Path) -> Dataset:
    """Load a manifest file (or a directory holding `manifest.jsonl`).

    Raises:
        InputError: The file is missing or a line is not a valid sample.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise InputError(f"no dataset manifest at {path}")
    samples = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            samples.append(Sample.model_validate_json(raw))
        except ValueError as e:
            first = str(e).splitlines()[0]
            raise InputError(f"{path}:{n}: not a valid sample ({first})") from None
    return Dataset(name=path.parent.name, root=path.parent, samples=samples)


def write_manifest(samples: Iterable[Sample], path: Path) -> Path:
    """Write samples as JSONL, atomically (a temp file renamed into place)."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path = path / MANIFEST_NAME
    lines = [json.dumps(s.model_dump(exclude_defaults=False), ensure_ascii=False) for s in samples]
    with atomic_writes() as writer:
        writer.write_bytes(path, ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8"))
    return path
