"""Batch inputs: expand the INPUTS of `imtrans batch` into documents and their page jobs.

An input is an image, a folder (searched recursively), a CBZ/ZIP archive or a PDF. Each
becomes a `Document` (what is written to OUT_DIR) holding one `PageJob` per page to
translate. A job names where its page lives (a file, an archive member, a PDF page) and
carries the page's content hash; the worker reads the page itself (`read_page`), so jobs
stay small enough to send to other processes or machines.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

import numpy as np

from imtrans.errors import InputError
from imtrans.imageio import frame_count, load_image
from imtrans.settings import ImageSettings

#: Image suffixes read as pages (Pillow reads them all); output keeps the suffix where it can.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
#: Suffixes Pillow writes back in the same format; other images are written as PNG.
_WRITABLE = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
ARCHIVE_SUFFIXES = frozenset({".cbz", ".zip"})
PDF_SUFFIXES = frozenset({".pdf"})

DocumentKind = Literal["image", "archive", "pdf", "frames"]

#: Bytes read at a time from an archive member (hashing and copying never hold a whole member).
CHUNK = 1 << 20


@dataclass(frozen=True)
class PageJob:
    """One page to translate: where it is, what it hashes to, how to encode the result.

    Attributes:
        key: Unique in the batch and stable across runs: ``rel`` for an image,
            ``rel!member`` for an archive member, ``rel#page=N`` (1-based) for a PDF page.
        path: The input file.
        member: Archive member name, for archive pages.
        pdf_page: 0-based page index, for PDF pages.
        frame: 0-based page or frame index, for pages of a multi-page TIFF or an animation.
        dpi: Resolution PDF pages are rendered at.
        out_format: Pillow format the translated page is encoded in (PNG, JPEG, ...).
        layers: Also make the page's layers file: "svg", "psd", or None (`imtrans.export`).
        input_hash: sha256 of the page's bytes (for a PDF page: of the file, page and dpi; for
            a frame: of the file and the frame).
    """

    key: str
    path: str
    member: str | None = None
    pdf_page: int | None = None
    frame: int | None = None
    dpi: int = 150
    out_format: str = "PNG"
    input_hash: str = ""
    layers: str | None = None


@dataclass(frozen=True)
class Document:
    """One output of the batch (an image, an archive, a PDF, or a multi-frame image) and its pages.

    Attributes:
        kind: image, archive, pdf, or frames (a multi-page TIFF or an animated GIF, WebP or PNG,
            written back as the same kind of file).
        path: The input file.
        rel: Output path relative to OUT_DIR (posix form).
        jobs: Its pages in order (one for an image).
        error: Why the file could not be opened (a corrupt archive or PDF); it then has no jobs.
    """

    kind: DocumentKind
    path: Path
    rel: str
    jobs: tuple[PageJob, ...] = ()
    error: str | None = None


def expand_inputs(
    inputs: Sequence[Path],
    dpi: int = 150,
    exclude: Path | None = None,
    limits: ImageSettings | None = None,
) -> list[Document]:
    """Every document named by INPUTS, folders searched recursively, in a stable order.

    Args:
        inputs: Files and folders.
        dpi: Resolution PDF pages are rendered at.
        exclude: A folder whose files are never inputs (OUT_DIR, when it lies inside an input folder).
        limits: Image limits: an archive member over `max_bytes` (as declared, uncompressed) is
            not read, its page fails.

    Raises:
        InputError: An input does not exist, or a file given by name is of a kind batch
            does not read, or two inputs would write the same output.
    """
    if not inputs:
        raise InputError("no inputs given")
    limits = limits or ImageSettings()
    documents: list[Document] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            base = path.resolve().name
            for file in _walk(path, exclude.resolve() if exclude else None):
                rel = str(PurePosixPath(base, *file.relative_to(path).parts))
                documents.append(_document(file, rel, dpi, limits))
        elif path.is_file():
            if _kind(path) is None:
                raise InputError(f"{path}: not an image, CBZ/ZIP archive or PDF (by its extension)")
            documents.append(_document(path, path.name, dpi, limits))
        else:
            raise InputError(f"no such file or folder: {path}")
    _check_unique(documents)
    return documents


def _walk(folder: Path, exclude: Path | None) -> Iterator[Path]:
    """Files batch can read under `folder`, sorted, hidden files and folders and `exclude` left out."""
    for file in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in file.relative_to(folder).parts)
        if hidden or not file.is_file() or _kind(file) is None:
            continue
        if exclude is not None and file.resolve().is_relative_to(exclude):
            continue
        yield file


def _kind(path: Path) -> DocumentKind | None:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in ARCHIVE_SUFFIXES:
        return "archive"
    if suffix in PDF_SUFFIXES:
        return "pdf"
    return None


def _document(path: Path, rel: str, dpi: int, limits: ImageSettings) -> Document:
    kind = _kind(path)
    if kind == "archive":
        return _archive(path, rel, limits)
    if kind == "pdf":
        return _pdf(path, rel, dpi)
    data = path.read_bytes()
    file_hash = _sha256(data)
    frames = _frames(data)
    if frames > 1:
        # Every page of a multi-page TIFF, every frame of an animation: written back as one file.
        jobs = tuple(
            PageJob(
                f"{rel}#frame={i + 1}", str(path), frame=i, input_hash=_sha256(f"{file_hash}:{i}".encode())
            )
            for i in range(frames)
        )
        return Document("frames", path, rel, jobs)
    out_rel = output_name(rel)
    job = PageJob(out_rel, str(path), out_format=_format(out_rel), input_hash=file_hash)
    return Document("image", path, out_rel, (job,))


def _frames(data: bytes) -> int:
    """Pages or frames of an image file, from its header (1 when it cannot even be opened)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return frame_count(im)
    except Exception:  # noqa: BLE001 - an unreadable image is one page; its worker reports why
        return 1


def output_name(name: str) -> str:
    """The output name of an image page: the same, or with a .png suffix where Pillow cannot write it."""
    p = PurePosixPath(name)
    return name if p.suffix.lower() in _WRITABLE else str(p.with_suffix(".png"))


def _format(name: str) -> str:
    return _WRITABLE[PurePosixPath(name).suffix.lower()]


def _archive(path: Path, rel: str, limits: ImageSettings) -> Document:
    try:
        with zipfile.ZipFile(path) as zf:
            jobs = []
            for info in zf.infolist():
                if info.is_dir() or PurePosixPath(info.filename).suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                try:
                    digest = _member_hash(zf, info, limits.max_bytes)
                except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as e:
                    # A member that cannot even be read (bad CRC, encrypted) is a failed page, not a failed batch.
                    digest = f"unreadable:{e}"
                out_member = output_name(info.filename)
                key = f"{rel}!{info.filename}"
                jobs.append(
                    PageJob(
                        key,
                        str(path),
                        member=info.filename,
                        out_format=_format(out_member),
                        input_hash=digest,
                    )
                )
    except (zipfile.BadZipFile, OSError) as e:
        return Document("archive", path, rel, error=f"{path}: not a readable ZIP archive ({e})")
    return Document("archive", path, rel, tuple(jobs))


def _pdf(path: Path, rel: str, dpi: int) -> Document:
    import pypdfium2 as pdfium

    data = path.read_bytes()
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        return Document("pdf", path, rel, error=f"{path}: not a readable PDF ({e})")
    try:
        count = len(pdf)
    finally:
        pdf.close()
    file_hash = _sha256(data)
    jobs = tuple(
        PageJob(
            f"{rel}#page={i + 1}",
            str(path),
            pdf_page=i,
            dpi=dpi,
            input_hash=_sha256(f"{file_hash}:{i}:{dpi}".encode()),
        )
        for i in range(count)
    )
    return Document("pdf", path, rel, jobs)


def _check_unique(documents: list[Document]) -> None:
    seen: dict[str, Path] = {}
    for doc in documents:
        if doc.rel in seen:
            raise InputError(f"{seen[doc.rel]} and {doc.path} would both be written to {doc.rel}; rename one")
        seen[doc.rel] = doc.path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _member_hash(zf: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> str:
    """sha256 of an archive member, read a chunk at a time; a member declared over `max_bytes` is not read.

    zipfile never returns more than a member's declared size (and checks its CRC at the end),
    so the declared size bounds what is read even when the archive lies.
    """
    if info.file_size > max_bytes:
        return f"too-large:{info.file_size}:{info.CRC}"
    digest = hashlib.sha256()
    with zf.open(info) as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- reading a page (in the worker) ----------------------------------------------------------
def source_bytes(job: PageJob, max_bytes: int | None = None) -> bytes:
    """The bytes a page is read from: the image file, the archive member, or the whole PDF.

    Args:
        job: The page.
        max_bytes: Refuse an archive member whose declared uncompressed size is larger
            (a zip bomb is refused before a byte of it is inflated).

    Raises:
        InputError: The file or member cannot be read (missing, bad CRC, encrypted, too large).
    """
    try:
        if job.member is not None:
            with zipfile.ZipFile(job.path) as zf:
                info = zf.getinfo(job.member)
                if max_bytes is not None and info.file_size > max_bytes:
                    raise InputError(
                        f"{job.key}: member is {info.file_size} bytes uncompressed, over the limit of "
                        f"{max_bytes} (setting image.max_bytes)"
                    )
                return zf.read(info)
        return Path(job.path).read_bytes()
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError, KeyError) as e:
        raise InputError(f"{job.key}: cannot read ({e})") from None


def read_page(job: PageJob, limits: ImageSettings, data: bytes | None = None) -> np.ndarray:
    """The page as an RGB uint8 array, from `data` (see `source_bytes`) or else from disk.

    Raises:
        InputError: The page is not a readable image, or is over the pixel limit.
    """
    if job.pdf_page is not None:
        return _render_pdf_page(job, limits, data)
    raw = source_bytes(job, limits.max_bytes) if data is None else data
    try:
        return load_image(raw, limits, frame=job.frame if job.frame is not None else 0)
    except InputError as e:
        # load_image names bytes "<bytes>"; name the page instead.
        raise InputError(str(e).replace("<bytes>", job.key)) from None


def _render_pdf_page(job: PageJob, limits: ImageSettings, data: bytes | None) -> np.ndarray:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data if data is not None else job.path)
    except pdfium.PdfiumError as e:
        raise InputError(f"{job.key}: not a readable PDF ({e})") from None
    try:
        page = pdf[job.pdf_page]
        width, height = page.get_size()
        scale = job.dpi / 72
        pixels = width * scale * height * scale
        if not pixels > 0:
            raise InputError(f"{job.key}: the page has no area")
        if pixels > limits.max_pixels:
            raise InputError(
                f"{job.key}: rendered at {job.dpi} dpi the page is {pixels / 1e6:.1f} MP, over the limit of "
                f"{limits.max_pixels / 1e6:.1f} MP (lower --dpi or raise image.max_pixels)"
            )
        image = page.render(scale=scale).to_pil().convert("RGB")
    except pdfium.PdfiumError as e:
        raise InputError(f"{job.key}: cannot render ({e})") from None
    finally:
        pdf.close()
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
