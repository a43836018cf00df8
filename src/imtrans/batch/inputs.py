"""Batch inputs: expand the INPUTS of `imtrans batch` into documents and their page jobs.

An input is an image, a folder (searched recursively), a CBZ/ZIP archive or a PDF. Each
becomes a `Document` (what is written to OUT_DIR) holding one `PageJob` per page to
translate. A job names where its page lives (a file, an archive member, a PDF page) and
carries the page's content hash; the worker reads the page itself (`read_page`), so jobs
stay small enough to send to other processes or machines.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

import numpy as np

from imtrans.errors import InputError
from imtrans.imageio import load_image
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

DocumentKind = Literal["image", "archive", "pdf"]


@dataclass(frozen=True)
class PageJob:
    """One page to translate: where it is, what it hashes to, how to encode the result.

    Attributes:
        key: Unique in the batch and stable across runs: ``rel`` for an image,
            ``rel!member`` for an archive member, ``rel#page=N`` (1-based) for a PDF page.
        path: The input file.
        member: Archive member name, for archive pages.
        pdf_page: 0-based page index, for PDF pages.
        dpi: Resolution PDF pages are rendered at.
        out_format: Pillow format the translated page is encoded in (PNG, JPEG, ...).
        input_hash: sha256 of the page's bytes (for a PDF page: of the file, page and dpi).
    """

    key: str
    path: str
    member: str | None = None
    pdf_page: int | None = None
    dpi: int = 150
    out_format: str = "PNG"
    input_hash: str = ""


@dataclass(frozen=True)
class Document:
    """One output of the batch (an image, an archive or a PDF) and the pages that make it.

    Attributes:
        kind: image, archive or pdf.
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


def expand_inputs(inputs: Sequence[Path], dpi: int = 150, exclude: Path | None = None) -> list[Document]:
    """Every document named by INPUTS, folders searched recursively, in a stable order.

    Args:
        inputs: Files and folders.
        dpi: Resolution PDF pages are rendered at.
        exclude: A folder whose files are never inputs (OUT_DIR, when it lies inside an input folder).

    Raises:
        InputError: An input does not exist, or a file given by name is of a kind batch
            does not read, or two inputs would write the same output.
    """
    if not inputs:
        raise InputError("no inputs given")
    documents: list[Document] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            base = path.resolve().name
            for file in _walk(path, exclude.resolve() if exclude else None):
                documents.append(
                    _document(file, str(PurePosixPath(base, *file.relative_to(path).parts)), dpi)
                )
        elif path.is_file():
            if _kind(path) is None:
                raise InputError(f"{path}: not an image, CBZ/ZIP archive or PDF (by its extension)")
            documents.append(_document(path, path.name, dpi))
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


def _document(path: Path, rel: str, dpi: int) -> Document:
    kind = _kind(path)
    if kind == "archive":
        return _archive(path, rel)
    if kind == "pdf":
        return _pdf(path, rel, dpi)
    out_rel = output_name(rel)
    job = PageJob(out_rel, str(path), out_format=_format(out_rel), input_hash=_sha256(path.read_bytes()))
    return Document("image", path, out_rel, (job,))


def output_name(name: str) -> str:
    """The output name of an image page: the same, or with a .png suffix where Pillow cannot write it."""
    p = PurePosixPath(name)
    return name if p.suffix.lower() in _WRITABLE else str(p.with_suffix(".png"))


def _format(name: str) -> str:
    return _WRITABLE[PurePosixPath(name).suffix.lower()]


def _archive(path: Path, rel: str) -> Document:
    try:
        with zipfile.ZipFile(path) as zf:
            jobs = []
            for info in zf.infolist():
                if info.is_dir() or PurePosixPath(info.filename).suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                try:
                    digest = _sha256(zf.read(info))
                except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as e:
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


# -- reading a page (in the worker) ----------------------------------------------------------
def source_bytes(job: PageJob) -> bytes:
    """The bytes a page is read from: the image file, the archive member, or the whole PDF.

    Raises:
        InputError: The file or member cannot be read (missing, bad CRC, encrypted).
    """
    try:
        if job.member is not None:
            with zipfile.ZipFile(job.path) as zf:
                return zf.read(job.member)
        return Path(job.path).read_bytes()
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as e:
        raise InputError(f"{job.key}: cannot read ({e})") from None


def read_page(job: PageJob, limits: ImageSettings, data: bytes | None = None) -> np.ndarray:
    """The page as an RGB uint8 array, from `data` (see `source_bytes`) or else from disk.

    Raises:
        InputError: The page is not a readable image, or is over the pixel limit.
    """
    if job.pdf_page is not None:
        return _render_pdf_page(job, limits, data)
    raw = source_bytes(job) if data is None else data
    try:
        return load_image(raw, limits)
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
