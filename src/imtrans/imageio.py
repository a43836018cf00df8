"""Load images with limits; write outputs atomically (temp file, then rename)."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from imtrans.errors import InputError, OutputError
from imtrans.settings import ImageSettings

_SAVE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
}


def load_image(source: str | Path | bytes, limits: ImageSettings | None = None) -> np.ndarray:
    """Read an image file (or its bytes) as RGB uint8 (H, W, 3), refusing what is not a sane image.

    EXIF orientation is applied; transparency is composited onto white.

    Raises:
        InputError: missing, empty, too large, corrupt or not an image.
    """
    limits = limits or ImageSettings()
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"no such image file: {path}")
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise InputError(f"{path}: file is {size} bytes, over the limit of {limits.max_bytes}")
        data = path.read_bytes()
    if not data:
        raise InputError(f"{name}: file is empty")
    if len(data) > limits.max_bytes:
        raise InputError(f"{name}: {len(data)} bytes, over the limit of {limits.max_bytes}")
    try:
        with warnings.catch_warnings():
            # Pillow warns at MAX_IMAGE_PIXELS and raises at twice that; we check the header ourselves.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            if w * h > limits.max_pixels:
                raise InputError(
                    f"{name}: image is {w}x{h} = {w * h / 1e6:.1f} MP, over the limit of "
                    f"{limits.max_pixels / 1e6:.1f} MP (setting image.max_pixels)"
                )
            if w == 0 or h == 0:
                raise InputError(f"{name}: image has no pixels")
            im = ImageOps.exif_transpose(im)
            rgb = _to_rgb(im)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{name}: not an image file (or a format Pillow cannot read)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses past twice its own limit before we see the size.
        raise InputError(
            f"{name}: image is over the limit of {limits.max_pixels / 1e6:.1f} MP (decompression bomb guard)"
        ) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{name}: corrupt or truncated image ({e})") from None
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")


def image_format(path: str | Path) -> str:
    """Pillow format name for an output path, from its suffix."""
    fmt = _SAVE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_SAVE_FORMATS))
        raise OutputError(f"{path}: unknown image extension; use one of {known}")
    return fmt


def encode_image(image: np.ndarray, fmt: str = "PNG") -> bytes:
    """Encode an RGB array in memory."""
    buf = io.BytesIO()
    params = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(image).save(buf, format=fmt, **params)
    return buf.getvalue()


@contextlib.contextmanager
def atomic_writes() -> Iterator[AtomicWriter]:
    """Stage several output files, then rename all of them into place, or none if anything failed."""
    writer = AtomicWriter()
    try:
        yield writer
        writer.commit()
    finally:
        writer.discard()


class AtomicWriter:
    """Writes each file to a temp file beside its target; `commit` renames them all."""

    def __init__(self) -> None:
        self._staged: list[tuple[str, Path]] = []

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        target = Path(path)
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise OutputError(f"cannot write {target}: folder {folder} does not exist")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
        except OSError as e:
            raise OutputError(f"cannot write {target}: {e.strerror}") from None
        self._staged.append((tmp, target))
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as e:
            raise OutputError(f"cannot write {target}: {e.strerror}") from None

    def write_image(self, path: str | Path, image: np.ndarray) -> None:
        self.write_bytes(path, encode_image(image, image_format(path)))

    def write_text(self, path: str | Path, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    def commit(self) -> None:
        for tmp, target in self._staged:
            try:
                os.replace(tmp, target)
            except OSError as e:
                raise OutputError(f"cannot write {target}: {e.strerror}") from None
        self._staged.clear()

    def discard(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._staged.clear()


def save_image(path: str | Path, image: np.ndarray) -> None:
    """Write one image atomically."""
    with atomic_writes() as w:
        w.write_image(path, image)
