"""Load images with limits; write outputs atomically (temp file, then rename)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from imtrans.errors import InputError, OutputError
from imtrans.settings import ImageSettings

log = logging.getLogger(__name__)

_SAVE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
}


def load_image(
    source: str | Path | bytes, limits: ImageSettings | None = None, frame: int | None = None
) -> np.ndarray:
    """Read an image file (or its bytes) as RGB uint8 (H, W, 3), refusing what is not a sane image.

    EXIF orientation is applied; transparency is composited onto white; 16-bit, 32-bit and
    float images are scaled to 8 bits, CMYK and palette images converted. The size in the
    header is checked against `limits` before any pixel is decoded.

    Args:
        source: A path or the file's bytes.
        limits: Byte and pixel limits (default: `ImageSettings()`).
        frame: The page (multi-page TIFF) or frame (animated GIF, WebP, PNG) to read; None
            reads the first and logs a warning when there are others.

    Raises:
        InputError: missing, empty, too large, corrupt or not an image, or no such frame.
    """
    limits = limits or ImageSettings()
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    data = _read_bytes(source, limits) if not isinstance(source, bytes) else source
    with _opened(data, name, limits) as im:
        frames = frame_count(im)
        if frame is not None and frame > 0:
            if frame >= frames:
                raise InputError(f"{name}: has {frames} frame(s), no frame {frame + 1}")
            im.seek(frame)
        elif frame is None and frames > 1:
            log.warning(
                "%s has %d pages or frames; only the first is translated (imtrans batch translates each)",
                name,
                frames,
            )
        check_pixels(name, im.size, limits)
        rgb = to_rgb(ImageOps.exif_transpose(im))
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


@dataclass(frozen=True)
class ImageHeader:
    """What an image file declares about itself, read without decoding its pixels."""

    width: int
    height: int
    frames: int
    format: str


def probe_image(data: bytes, limits: ImageSettings, name: str = "<bytes>") -> ImageHeader:
    """Size, frames and format of an image, checked against `limits`, without decoding its pixels.

    Raises:
        InputError: empty, over the byte or pixel limit, or not an image Pillow recognises.
    """
    with _opened(data, name, limits) as im:
        header = ImageHeader(im.size[0], im.size[1], frame_count(im), im.format or "")
    check_pixels(name, (header.width, header.height), limits)
    return header


@contextlib.contextmanager
def _opened(data: bytes, name: str, limits: ImageSettings) -> Iterator[Image.Image]:
    """Pillow's image of `data` (header read, pixels not yet), every failure inside the block an InputError."""
    if not data:
        raise InputError(f"{name}: file is empty")
    if len(data) > limits.max_bytes:
        raise InputError(f"{name}: {len(data)} bytes, over the limit of {limits.max_bytes}")
    _raise_pillow_guard(limits.max_pixels)
    try:
        with warnings.catch_warnings():
            # Pillow warns at MAX_IMAGE_PIXELS and raises at twice that; we check the header ourselves.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                yield im
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{name}: not an image file (or a format Pillow cannot read)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses past twice its own limit before we see the size.
        raise InputError(
            f"{name}: image is over the limit of {limits.max_pixels / 1e6:.1f} MP (decompression bomb guard)"
        ) from None
    except MemoryError:
        raise InputError(f"{name}: not enough memory to decode the image") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{name}: corrupt or truncated image ({_one_line(e)})") from None
    except Exception as e:  # noqa: BLE001 - any decoder's failure (AVIF raises RuntimeError) is the input's
        raise InputError(f"{name}: cannot decode the image ({type(e).__name__}: {_one_line(e)})") from None


def _read_bytes(source: str | Path, limits: ImageSettings) -> bytes:
    path = Path(source)
    if not path.is_file():
        raise InputError(f"no such image file: {path}")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise InputError(f"{path}: file is {size} bytes, over the limit of {limits.max_bytes}")
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def check_pixels(name: str, size: tuple[int, int], limits: ImageSettings) -> None:
    """Refuse a (width, height) over the pixel limit, or with no pixels, before decoding.

    Raises:
        InputError: over `limits.max_pixels`, or zero width or height.
    """
    w, h = size
    if w * h > limits.max_pixels:
        raise InputError(
            f"{name}: image is {w}x{h} = {w * h / 1e6:.1f} MP, over the limit of "
            f"{limits.max_pixels / 1e6:.1f} MP (setting image.max_pixels)"
        )
    if w <= 0 or h <= 0:
        raise InputError(f"{name}: image has no pixels")


#: Formats whose extra frames are pages or animation (an MPO's second frame is a preview or depth map).
MULTI_FRAME_FORMATS = frozenset({"TIFF", "GIF", "WEBP", "PNG"})


def frame_count(im: Image.Image) -> int:
    """Pages or animation frames of an open image (1 for formats whose extra frames are not pages)."""
    if im.format not in MULTI_FRAME_FORMATS:
        return 1
    return max(1, int(getattr(im, "n_frames", 1) or 1))


def _raise_pillow_guard(max_pixels: int) -> None:
    """Let our own pixel limit decide: raise Pillow's decompression-bomb guard to it where it is lower.

    Pillow's guard is a process-wide setting; it is only ever raised here, never lowered, so
    concurrent loads with different limits still each check their own limit from the header.
    """
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = max_pixels


def _one_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def to_rgb(im: Image.Image) -> Image.Image:
    """Any mode Pillow decodes as 8-bit RGB: transparency onto white, deeper samples scaled to 8 bits."""
    if im.mode.startswith("I") or im.mode == "F":
        return Image.fromarray(_to_uint8(np.asarray(im), im.mode)).convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        if im.mode == "La":
            im = im.convert("LA")
        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")


def _to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Grey samples of any depth to 0-255.

    16-bit samples are divided by 257; 32-bit integers likewise when they fit 16 bits (and
    are kept when they fit 8); floats in 0-1 are multiplied by 255 (kept when they fit
    0-255); anything else is stretched from its minimum to its maximum.
    """
    a = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if mode.startswith("I;16"):
        a = a / 257
    elif lo < 0 or hi > (65535 if mode == "I" else 255):
        a = (a - lo) * (255 / (hi - lo))  # hi > lo: the range is wider than the sample size
    elif mode == "I" and hi > 255:
        a = a / 257
    elif mode == "F" and hi <= 1:
        a = a * 255
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


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
        fd, tmp = temp_beside(target)
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


def temp_beside(target: Path) -> tuple[int, str]:
    """Open a temp file beside `target` (``.NAME.*.part``) with the mode a new file gets under the umask.

    `tempfile.mkstemp` makes every file 0600; an output renamed into place should have the
    mode `open()` would have given it (0644 under the usual umask 022).

    Raises:
        OutputError: the folder cannot be written.
    """
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as e:
        raise OutputError(f"cannot write {target}: {e.strerror}") from None
    with contextlib.suppress(OSError):  # a file system without modes (FAT) keeps its own
        os.fchmod(fd, 0o666 & ~current_umask())
    return fd, tmp


def current_umask() -> int:
    """This process's umask, read without changing it where the system allows (Linux /proc)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: set and put back (briefly process-wide)
    os.umask(mask)
    return mask


def refuse_overwrite(inputs: Iterable[str | Path], outputs: Iterable[str | Path | None]) -> None:
    """Refuse an output path that names one of the inputs: translating a file must not replace it.

    Raises:
        OutputError: an output is the same file as an input.
    """
    sources = [Path(p) for p in inputs]
    for out in outputs:
        if out is None:
            continue
        target = Path(out)
        for source in sources:
            if _same_file(source, target):
                raise OutputError(f"output {target} is the input file {source}; choose another output name")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def save_image(path: str | Path, image: np.ndarray) -> None:
    """Write one image atomically."""
    with atomic_writes() as w:
        w.write_image(path, image)
