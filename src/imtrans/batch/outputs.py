"""Where batch outputs go in OUT_DIR, and how they are written: pages, archives, PDFs.

Layout, for an input document at output path REL (see `inputs.Document.rel`):

- an image: ``OUT_DIR/REL`` (the translated image) and ``OUT_DIR/REL.json`` (its page JSON);
  with ``--layers svg|psd`` also ``OUT_DIR/REL.svg`` (or ``.psd``), its layers;
- an archive or PDF: ``OUT_DIR/REL`` (the same kind of file, assembled from its pages once
  they are all through) and ``OUT_DIR/REL.json`` (every page's JSON or error, in order);
  each page is first kept in ``OUT_DIR/.imtrans-batch/pages/REL/NNNNN.ext`` (+ ``.json``),
  so that a rerun redoes only the pages that need it and assembles again; with ``--layers``
  each page's layers go to ``OUT_DIR/REL.layers/NNNNN.svg`` (or ``.psd``), NNNNN the page
  number, as the document's JSON numbers its pages.

Every file is written to a temp file beside its target and renamed into place, so a batch
killed at any moment leaves whole files or none; `remove_stale_temps` clears the temp files
a killed run could not.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from imtrans.batch.inputs import CHUNK, Document, output_name, source_bytes
from imtrans.errors import ImtransError, OutputError
from imtrans.imageio import atomic_writes, encode_image, load_image, temp_beside
from imtrans.settings import ImageSettings
from imtrans.types import Block, Direction, Page

#: Bytes of a copied archive member kept in memory; more spill to a temp file beside the output.
_SPOOL_BYTES = 4 << 20

#: The batch's own folder inside OUT_DIR: the manifest and the pages of archives and PDFs.
WORK_DIR = ".imtrans-batch"

#: Adobe's standard CJK fonts: PDF readers supply them, so the invisible text needs no embedded font.
_CID_FONTS = {"ko": "HYSMyeongJo-Medium", "ja": "HeiseiMin-W3", "zh": "STSong-Light"}


class OutputDir:
    """Paths of every output of a batch under one OUT_DIR."""

    def __init__(self, root: Path, layers: str | None = None) -> None:
        self.root = Path(root)
        self.layers = layers
        self.work = self.root / WORK_DIR
        self.manifest_path = self.work / "manifest.json"

    def prepare(self) -> None:
        """Create OUT_DIR and the work folder and make sure files can be written there.

        Raises:
            OutputError: OUT_DIR cannot be created or written (one line).
        """
        try:
            self.work.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-test.", suffix=".part", dir=self.work)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise OutputError(f"cannot write to output folder {self.root}: {e.strerror or e}") from None

    def page_paths(self, doc: Document, index: int) -> tuple[Path, Path]:
        """(image, json) of page `index` of `doc`."""
        if doc.kind == "image":
            image = self.root / doc.rel
        else:
            job = doc.jobs[index]
            suffix = PurePosixPath(output_name(job.member)).suffix if job.member is not None else ".png"
            image = self.work / "pages" / doc.rel / f"{index + 1:05d}{suffix.lower()}"
        return image, image.with_name(image.name + ".json")

    def layers_path(self, doc: Document, index: int, fmt: str | None = None) -> Path | None:
        """The layers file of page `index` of `doc` in `fmt` (default: the batch's), or None
        when the batch makes none."""
        fmt = fmt or self.layers
        if fmt is None:
            return None
        if doc.kind == "image":
            image = self.root / doc.rel
            return image.with_name(f"{image.name}.{fmt}")
        return self.root / f"{doc.rel}.layers" / f"{index + 1:05d}.{fmt}"

    def document_paths(self, doc: Document) -> tuple[Path, Path]:
        """(file, json) of a whole document."""
        target = self.root / doc.rel
        return target, target.with_name(target.name + ".json")

    def targets(self, documents: Sequence[Document]) -> list[Path]:
        """Every file the batch may write."""
        out = [self.manifest_path]
        for doc in documents:
            out += self.document_paths(doc)
            for i in range(len(doc.jobs)):
                out += self.page_paths(doc, i)
                layers = self.layers_path(doc, i)
                if layers is not None:
                    out.append(layers)
        return out

    def remove_stale_temps(self, documents: Sequence[Document]) -> int:
        """Delete temp files a killed run left beside our targets (``.NAME.*.part``); return how many."""
        by_folder: dict[Path, set[str]] = {}
        for target in self.targets(documents):
            by_folder.setdefault(target.parent, set()).add(target.name)
        removed = 0
        for folder, names in by_folder.items():
            if not folder.is_dir():
                continue
            for tmp in folder.glob(".*.part"):
                if any(tmp.name.startswith(f".{name}.") for name in names):
                    with contextlib.suppress(OSError):
                        tmp.unlink()
                        removed += 1
        return removed


def write_page(
    image_path: Path,
    json_path: Path,
    image: bytes,
    page_json: str,
    layers: tuple[Path, bytes] | None = None,
) -> None:
    """Write a translated page, its JSON and (path, bytes) its layers file, all or none."""
    _make_parent(image_path)
    if layers is not None:
        _make_parent(layers[0])
    with atomic_writes() as w:
        w.write_bytes(image_path, image)
        w.write_text(json_path, page_json)
        if layers is not None:
            w.write_bytes(*layers)


def remove_page(*paths: Path | None) -> None:
    """Remove what an earlier run wrote for a page that now failed (or a layers file it no
    longer makes): no output stands for an old input. None entries are skipped."""
    for path in paths:
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """A temp file path beside `target`, renamed onto it when the block ends without error."""
    _make_parent(target)
    fd, tmp = temp_beside(target)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except OSError as e:
        raise OutputError(f"cannot write {target}: {e.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror}") from None


# -- documents ------------------------------------------------------------------------------
def write_document_json(path: Path, doc: Document, pages: Sequence[dict]) -> None:
    """The JSON beside an archive or PDF: its source and every page's JSON or error, in order."""
    data = {"source": str(doc.path), "kind": doc.kind, "pages": list(pages)}
    with atomic_writes() as w:
        w.write_text(path, json.dumps(data, ensure_ascii=False, indent=1))


def assemble_archive(target: Path, doc: Document, translated: Mapping[str, Path]) -> list[str]:
    """Write a ZIP/CBZ like the input, each translated page in place of its original.

    Members keep their order, names (a page Pillow cannot write back becomes .png) and dates;
    pages that failed, and members that are not images, are copied unchanged: streamed a
    chunk at a time (a zip bomb is never held in memory), and kept even when their CRC is
    wrong (the bytes are the original's; only the checksum is new).

    Args:
        target: The output archive.
        doc: The input archive.
        translated: Member name -> translated page file, for the pages that succeeded.

    Returns:
        One line for each member that could not be copied (its data cannot be decompressed).
    """
    lost: list[str] = []
    with zipfile.ZipFile(doc.path) as src, atomic_file(target) as tmp, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            page = translated.get(info.filename)
            if page is not None:
                out = zipfile.ZipInfo(output_name(info.filename), info.date_time)
                out.compress_type, out.external_attr = info.compress_type, info.external_attr
                dst.writestr(out, page.read_bytes())
                continue
            try:
                _copy_member(src, info, dst, target.parent)
            except (
                zipfile.BadZipFile,
                OSError,
                RuntimeError,
                ValueError,
                EOFError,
                NotImplementedError,
            ) as e:
                lost.append(f"{doc.rel}!{info.filename}: left out of the archive, cannot be read ({e})")
    return lost


def _copy_member(src: zipfile.ZipFile, info: zipfile.ZipInfo, dst: zipfile.ZipFile, folder: Path) -> None:
    """Copy one member, decompressed a chunk at a time into a spool (memory, then a temp file).

    The spool comes first so that a member whose data breaks off half-way is left out whole
    rather than written in part.
    """
    with tempfile.SpooledTemporaryFile(_SPOOL_BYTES, dir=folder) as spool:
        with src.open(info) as f:
            if hasattr(f, "_expected_crc"):
                # Keep a page whose stored checksum is wrong: its bytes are still the original's
                # (the README promises a failed page's original in the output archive).
                f._expected_crc = None
            shutil.copyfileobj(f, spool, CHUNK)
        spool.seek(0)
        out = zipfile.ZipInfo(info.filename, info.date_time)
        out.compress_type, out.external_attr, out.comment = (
            info.compress_type,
            info.external_attr,
            info.comment,
        )
        out.file_size = info.file_size
        with dst.open(out, "w", force_zip64=info.file_size >= zipfile.ZIP64_LIMIT // 2) as w:
            shutil.copyfileobj(spool, w, CHUNK)


def assemble_pdf(
    target: Path,
    doc: Document,
    translated: Mapping[int, tuple[Path, Page]],
    text_layer: bool,
    limits: ImageSettings | None = None,
) -> None:
    """Write a PDF of the translated pages, each at its original page size, as JPEG (quality 92).

    A page that failed is rendered from the original at the batch's dpi, or lower where that
    would pass the pixel limit (a page refused for its size is not rendered past it here
    either), so the PDF keeps every page in place. With `text_layer`, each page also gets
    its text as invisible text (the translation of translated blocks, the recognised text of
    the others) at the blocks' positions, so that the PDF can be searched and the text selected.

    Args:
        target: The output PDF.
        doc: The input PDF.
        translated: Page index -> (translated page image, its page data), for the pages that succeeded.
        text_layer: Add the invisible text.
        limits: The pixel limit for failed pages rendered again (default: `ImageSettings()`).
    """
    import pypdfium2 as pdfium
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    max_pixels = (limits or ImageSettings()).max_pixels
    source = pdfium.PdfDocument(doc.path)
    try:
        with atomic_file(target) as tmp:
            pdf = canvas.Canvas(str(tmp), invariant=True, pageCompression=1)
            for index, job in enumerate(doc.jobs):
                width, height = source[index].get_size()
                pdf.setPageSize((width, height))
                if index in translated:
                    image_path, page = translated[index]
                    with Image.open(image_path) as im:
                        image = im.convert("RGB")
                else:
                    page = None
                    scale = bounded_scale(width, height, job.dpi / 72, max_pixels)
                    image = source[index].render(scale=scale).to_pil().convert("RGB")
                # JPEG inside the PDF (as scanned documents are): a quarter of the size of Flate, and faster.
                jpeg = encode_image(np.asarray(image), "JPEG")
                pdf.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width, height)
                if text_layer and page is not None:
                    _draw_text_layer(pdf, page, width / image.width, height / image.height, height)
                pdf.showPage()
            pdf.save()
    finally:
        source.close()


def bounded_scale(width: float, height: float, scale: float, max_pixels: int) -> float:
    """`scale`, lowered so that a `width` x `height` page rendered at it has at most `max_pixels`."""
    area = max(width * height, 1e-6)
    return min(scale, math.sqrt(max_pixels / area) * 0.999)


def assemble_frames(
    target: Path, doc: Document, translated: Mapping[int, Path], limits: ImageSettings
) -> list[str]:
    """Write a multi-page TIFF or an animated GIF, WebP or PNG of the translated frames.

    A frame that failed is the original frame; one that cannot even be read is left out
    (and reported). Frame durations and the loop count are the original's.

    Returns:
        One line for each frame left out.
    """
    from PIL import Image

    data = source_bytes(doc.jobs[0], limits.max_bytes)
    with Image.open(io.BytesIO(data)) as im:
        fmt = im.format or "PNG"
        durations = []
        for i in range(len(doc.jobs)):
            im.seek(i)
            durations.append(int(im.info.get("duration", 100) or 100))
        loop = im.info.get("loop", 0)
    frames: list[Image.Image] = []
    kept: list[int] = []
    lost: list[str] = []
    for index, job in enumerate(doc.jobs):
        try:
            if index in translated:
                with Image.open(translated[index]) as page:
                    frames.append(page.convert("RGB"))
            else:
                frames.append(Image.fromarray(load_image(data, limits, frame=index)))
            kept.append(index)
        except (ImtransError, OSError) as e:
            lost.append(f"{job.key}: left out of {doc.rel}, cannot be read ({e})")
    if not frames:
        raise OutputError(f"{doc.rel}: no frame could be read")
    params: dict[str, object] = {"save_all": True, "append_images": frames[1:]}
    if fmt in ("GIF", "WEBP", "PNG"):
        params.update(duration=[durations[i] for i in kept], loop=loop)
    with atomic_file(target) as tmp:
        frames[0].save(tmp, format=fmt, **params)
    return lost


def _draw_text_layer(pdf: object, page: Page, sx: float, sy: float, page_height: float) -> None:
    """Each block's text as one invisible line stretched over the block's box (PDF text render mode 3)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    for block in page.blocks:
        translation = page.translations.get(block.id)
        text, language = (
            (translation.text, translation.target_lang) if translation else (block.text, block.language)
        )
        text = " ".join(text.split())
        if not text or not block.lines:
            continue
        x0, y0, x1, y1 = _bbox(block)
        across = (x1 - x0) * sx if block.direction == Direction.VERTICAL else (y1 - y0) * sy
        size = max(1.0, across / len(block.lines))
        font = _pdf_font(language)
        obj = pdf.beginText()  # type: ignore[attr-defined]
        obj.setTextRenderMode(3)  # invisible: neither filled nor stroked, but searchable
        obj.setFont(font, size)
        width = stringWidth(text, font, size)
        if width > 0:
            obj.setHorizScale(100.0 * (x1 - x0) * sx / width)
        obj.setTextOrigin(x0 * sx, page_height - y0 * sy - size * 0.85)
        obj.textLine(text)
        pdf.drawText(obj)  # type: ignore[attr-defined]


def _bbox(block: Block) -> tuple[float, float, float, float]:
    boxes = [ln.quad.bbox for ln in block.lines]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _pdf_font(language: str) -> str:
    """A registered reportlab font that maps `language`'s characters to Unicode."""
    from reportlab.pdfbase import pdfmetrics

    registered = pdfmetrics.getRegisteredFontNames()
    if language in _CID_FONTS:
        name = _CID_FONTS[language]
        if name not in registered:
            from reportlab.pdfbase.cidfonts import UnicodeCIDFont

            pdfmetrics.registerFont(UnicodeCIDFont(name))
        return name
    from imtrans.render.fonts import font_for

    spec = font_for(language)  # Noto Sans: Latin, Cyrillic, Vietnamese
    name = f"imtrans-{spec.path.stem}"
    if name not in registered:
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(name, str(spec.path), subfontIndex=spec.index))
    return name
