"""Real photos to draw on: scikit-image's sample photos, Debian's mate-backgrounds nature set,
and any folders of photos the user adds (`imtrans synth --photos DIR`).

Each sample gets a random crop of one photo at a random aspect ratio, resized so that
its long side is 512-1024 px, and flipped half of the time. Photos are decoded on first
use and kept by the `PhotoLibrary` (an object the generator owns, not a module-level
cache) at most 1600 px on their long side, which is all a 1024 px crop needs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from imtrans.errors import InputError, ModelMissingError

_MATE_NATURE = Path("/usr/share/backgrounds/mate/nature")

#: scikit-image sample photos without text in them, and their licences (from skimage.data's docstrings).
_SKIMAGE_PHOTOS = {
    "astronaut": "public domain (NASA)",
    "coffee": "CC0 (Rachel Michetti)",
    "chelsea": "CC0 (Stefan van der Walt)",
    "rocket": "public domain (SpaceX)",
    "brick": "CC0 (CC0Textures)",
    "grass": "CC0 (CC0Textures)",
    "gravel": "CC0 (CC0Textures)",
    "camera": "CC0 (Lav Varshney)",
    "coins": "no known copyright restrictions (Brooklyn Museum)",
    "hubble_deep_field": "public domain (NASA)",
}

#: Files of an added photo folder that are read (the folder is not searched below its top level).
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")

LONG_SIDE = (512, 1024)
_KEEP_SIDE = 1600


@dataclass(frozen=True)
class Photo:
    """One source photo: a name, where it came from, its licence, and how to read it."""

    name: str
    source: str
    licence: str
    path: str  # a file, or "skimage:NAME" for scikit-image's bundled data


class PhotoLibrary:
    """The photos installed on this machine, then those of `extra` folders, in a fixed order,
    each decoded on first use.

    Raises:
        InputError: An extra folder is missing, holds no photo, or a photo's name (its file
            name without suffix, which the data card and the eraser's held-out split go by)
            is taken already.
    """

    def __init__(self, extra: Sequence[Path] = ()) -> None:
        self.photos: list[Photo] = []
        self._pixels: dict[int, np.ndarray] = {}
        if importlib.util.find_spec("skimage") is not None:
            for name, licence in _SKIMAGE_PHOTOS.items():
                self.photos.append(Photo(name, "scikit-image (PyPI)", licence, f"skimage:{name}"))
        for path in sorted(_MATE_NATURE.glob("*.jpg")) if _MATE_NATURE.is_dir() else []:
            self.photos.append(Photo(path.stem, "mate-backgrounds (Debian)", "GPL-2+", str(path)))
        for folder in map(Path, extra):
            self._add_folder(folder)
        if not self.photos:
            raise ModelMissingError(
                "no background photos: install scikit-image or the Debian package mate-backgrounds"
            )

    def _add_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            raise InputError(f"photo folder {folder} does not exist")
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"photo folder {folder} holds no {', '.join(PHOTO_SUFFIXES)} file")
        taken = {p.name for p in self.photos}
        for path in files:
            if path.stem in taken:
                raise InputError(f"two photos are named {path.stem!r}; rename {path}")
            taken.add(path.stem)
            # The licence of a user's photo is theirs to know; the data card names the folder.
            self.photos.append(
                Photo(path.stem, f"added folder {folder}", "as given by the folder's owner", str(path))
            )

    def sources(self) -> list[dict[str, str]]:
        return [{"name": p.name, "source": p.source, "licence": p.licence} for p in self.photos]

    def pixels(self, i: int) -> np.ndarray:
        """Photo `i` as RGB, at most 1600 px on its long side."""
        if i not in self._pixels:
            photo = self.photos[i]
            if photo.path.startswith("skimage:"):
                from skimage import data  # imported here: only the generator needs scikit-image

                self._pixels[i] = _rgb(getattr(data, photo.name)())
            else:
                with Image.open(photo.path) as im:
                    im.draft("RGB", (_KEEP_SIDE, _KEEP_SIDE))  # JPEG decodes at 1/2, 1/4 scale: faster
                    self._pixels[i] = _shrink(np.asarray(im.convert("RGB")))
        return self._pixels[i]

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """A random crop of a random photo, long side 512-1024 px; returns (RGB, photo name)."""
        i = int(rng.integers(len(self.photos)))
        src = self.pixels(i)
        sh, sw = src.shape[:2]
        aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1.7))))  # width / height
        long_side = int(rng.integers(LONG_SIDE[0], LONG_SIDE[1] + 1))
        out_w, out_h = (
            (long_side, round(long_side / aspect)) if aspect >= 1 else (round(long_side * aspect), long_side)
        )
        # The largest crop of that aspect that fits, then a random fraction of it.
        cw = min(sw, sh * aspect)
        scale = rng.uniform(0.45, 1.0)
        cw, ch = max(16, int(cw * scale)), max(16, int(cw * scale / aspect))
        ch = min(ch, sh)
        x0 = int(rng.integers(0, sw - cw + 1))
        y0 = int(rng.integers(0, sh - ch + 1))
        crop = src[y0 : y0 + ch, x0 : x0 + cw]
        interp = cv2.INTER_AREA if cw > out_w else cv2.INTER_CUBIC
        out = cv2.resize(crop, (out_w, out_h), interpolation=interp)
        if rng.random() < 0.5:
            out = out[:, ::-1]
        return np.ascontiguousarray(out), self.photos[i].name


def _rgb(a: np.ndarray) -> np.ndarray:
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=2)
    return _shrink(np.ascontiguousarray(a[..., :3].astype(np.uint8)))


def _shrink(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    if max(h, w) <= _KEEP_SIDE:
        return a
    f = _KEEP_SIDE / max(h, w)
    return cv2.resize(a, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
