"""The pipeline, top to bottom: detect, recognise, group, translate, erase, render, check.

A `Pipeline` holds the loaded models of one settings model; build it once and call it
for many images. Every call returns a `PageResult`: the page data (blocks, translations,
styles, diagnostics, timings, resolved settings) plus the images it produced.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import numpy as np

from imtrans.detect.base import Detector
from imtrans.erase.base import Eraser
from imtrans.erase.mask import TextMask
from imtrans.errors import ModelMissingError
from imtrans.group import group_lines
from imtrans.languages import has_letters
from imtrans.recognize.base import Recognizer
from imtrans.recognize.grid import grid_columns
from imtrans.settings import Settings
from imtrans.translate.base import Translator
from imtrans.types import (
    Block,
    DetectCode,
    Diagnostic,
    EraseCode,
    Page,
    RecognizeCode,
    RenderCode,
    Severity,
    Style,
    TranslateCode,
    Translation,
)

if TYPE_CHECKING:
    from imtrans.check.stage import CheckResult
    from imtrans.render.draw import BlockRender, DrawnInk


@dataclass(frozen=True)
class PageResult:
    """What a pipeline call gives back: the page data and the images made from it."""

    page: Page
    image: np.ndarray
    erased: np.ndarray | None = None
    mask: np.ndarray | None = None
    #: Where each block's translation was drawn: its ink's bounds (x0, y0, x1, y1) in the image.
    drawn: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    #: Each block's drawing: its ink and size (`render.draw.DrawnInk`).
    ink: dict[str, DrawnInk] = field(default_factory=dict)

    @property
    def blocks(self) -> tuple[Block, ...]:
        return self.page.blocks

    def to_json(self, indent: int | None = 2) -> str:
        return self.page.to_json(indent)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the translated image, its format by the suffix (.png, .jpg, .webp, ...), or for a
        `.json` path the page JSON; to a temp file beside `path`, then renamed."""
        from imtrans.imageio import atomic_writes

        with atomic_writes() as w:
            if os.fspath(path).lower().endswith(".json"):
                w.write_text(path, self.to_json())
            else:
                w.write_image(path, self.image)

    def save_layers(
        self, path: str | os.PathLike[str], original: np.ndarray | str | os.PathLike[str] | None = None
    ) -> None:
        """Write the page as layers, `.psd` or `.svg` (`imtrans.export.write_layers`): the original
        (an RGB array or a path; hidden; left out when None), the erased image and a layer per
        drawn block, in SVG as editable text."""
        from imtrans.export import write_layers

        write_layers(self, path, original)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


class Pipeline:
    """The stages of one `Settings`. Stages not handed in are built from the settings on first
    use (`registry.py`) and stay loaded; a service hands in the engines its pipelines share.

    Args:
        settings: What to do; default `Settings()`.
        detector, recognizer, eraser: Ready stages to use instead of building them.
        translator: A ready translator, used for every source language.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        detector: Detector | None = None,
        recognizer: Recognizer | None = None,
        translator: Translator | None = None,
        eraser: Eraser | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._detector = detector
        self._recognizer = recognizer
        self._eraser = eraser
        self._translator = translator
        self._translators: dict[str, Translator] = {}
        self._switch_eraser: Eraser | None = None

    @cached_property
    def versions(self) -> dict[str, str]:
        """Versions of imtrans and of what its stages run on (`registry.Registry.packages`),
        recorded in every result. Stages not built yet are not built for this."""
        from imtrans.registry import REGISTRIES, settings_backend

        ready = {"detect": self._detector, "recognize": self._recognizer, "erase": self._eraser}
        ready["translate"] = self._translator
        packages = ["imtrans", "pillow"]
        for stage, registry in REGISTRIES.items():
            stage_object = ready[stage]
            if stage_object is None:
                stage_object = registry.backend(settings_backend(stage, getattr(self.settings, stage)))
            packages += [p for p in registry.packages(stage_object) if p not in packages]
        return _versions(packages)

    # -- stages, built on first use ------------------------------------------------------
    @property
    def detector(self) -> Detector:
        if self._detector is None:
            from imtrans.detect import make_detector

            self._detector = make_detector(self.settings.detect)
        return self._detector

    @property
    def recognizer(self) -> Recognizer:
        if self._recognizer is None:
            from imtrans.recognize import make_recognizer

            self._recognizer = make_recognizer(self.settings.recognize)
        return self._recognizer

    @property
    def eraser(self) -> Eraser:
        if self._eraser is None:
            from imtrans.erase import make_eraser

            self._eraser = make_eraser(self.settings.erase)
        return self._eraser

    def translator(self, source: str) -> Translator:
        """The translator for one source language (local models are per language pair)."""
        if self._translator is not None:
            return self._translator
        if source not in self._translators:
            from imtrans.translate import make_translator

            self._translators[source] = make_translator(self.settings.translate, source)
        return self._translators[source]

    # -- the three jobs ---------------------------------------------------------------------
    def ocr(self, image: np.ndarray) -> PageResult:
        """Detect, recognise and group; the image comes back unchanged."""
        timings: dict[str, float] = {}
        page = self._read(image, timings)
        return PageResult(page=page.with_(timings=timings), image=image)

    def erase(self, image: np.ndarray) -> PageResult:
        """Remove every text found; blocks are reported but not translated."""
        timings: dict[str, float] = {}
        page = self._read(image, timings)
        erased, text, notes = self._erase(image, page.blocks, timings)
        page = page.with_(diagnostics=page.diagnostics + notes, timings=timings)
        checked = self._check(image, erased, text, None, page.blocks, [], [], "", timings)
        return _with_check(PageResult(page=page, image=erased, erased=erased, mask=text.mask), checked)

    def translate(self, image: np.ndarray) -> PageResult:
        """The whole job: read, translate, erase, render."""
        from imtrans.render import estimate_styles
        from imtrans.render.draw import drawn_bounds, drawn_ink

        timings: dict[str, float] = {}
        target = self.settings.translate.target
        # 1-3. detect, recognise, group
        page = self._read(image, timings)
        diagnostics = list(page.diagnostics)
        # Text already in the target language, and numbers or marks with no letters (prices,
        # "..."), stay as they are: not erased, not redrawn.
        todo = [b for b in page.blocks if b.language != target and has_letters(b.text)]
        diagnostics += [
            Diagnostic.of(
                TranslateCode.ALREADY_TARGET, f"block is already {target}; left as is", Severity.INFO, b.id
            )
            if has_letters(b.text)
            else Diagnostic.of(
                TranslateCode.NO_LETTERS, "block has no letters (numbers or marks); left as is",
                Severity.INFO, b.id,
            )
            for b in page.blocks
            if b.language == target or not has_letters(b.text)
        ]  # fmt: skip
        # 4. translate whole blocks, one request per source language
        with _timed(timings, "translate"):
            translations, notes = self._translate(todo)
        diagnostics += notes
        # A block the translator could not translate (a glossary miss) keeps its original lettering.
        missed = {d.block_id for d in notes if d.code == TranslateCode.GLOSSARY_MISS}
        # Blocks no translator could take (no model installed) are erased all the same: the
        # erased page and its styles come back, for translations typed in later (re-render).
        unserved = [b for b in todo if b.id not in translations]
        translations = {k: v for k, v in translations.items() if k not in missed}
        todo = [b for b in todo if b.id in translations]
        # 5. erase the source lettering (styles are read from the original pixels first)
        erased, text, erase_notes = self._erase(image, todo + unserved, timings, page.blocks)
        diagnostics += erase_notes
        with _timed(timings, "style"):
            styles: dict[str, Style] = estimate_styles(
                image, todo + unserved, text.mask, text.fallback_line_ids
            )
        # 6. render the translations in the original style, clear of the lettering left as it is
        kept = [b for b in page.blocks if b.id not in {x.id for x in todo + unserved}]
        with _timed(timings, "render"):
            out, render_notes, renders = self._render(erased, todo, translations, styles, target, kept)
        diagnostics += render_notes
        page = page.with_(
            translations=translations,
            styles=styles,
            diagnostics=tuple(diagnostics),
            timings=timings,
            target_lang=target,
        )
        # 7. check every block's output; repair what fails, within the time budget
        checked = self._check(image, erased, text, out, todo + unserved, renders, kept, target, timings)
        result = PageResult(
            page=page, image=out, erased=erased, mask=text.mask, drawn=drawn_bounds(renders),
            ink=drawn_ink(renders),
        )  # fmt: skip
        return _with_check(result, checked)

    def erase_page(self, image: np.ndarray, page: Page) -> PageResult:
        """Erase the lines of an already-read page (no detection or recognition again)."""
        timings: dict[str, float] = {}
        earlier = _making_time(page)
        erased, text, notes = self._erase(image, page.blocks, timings)
        page = page.with_(diagnostics=page.diagnostics + notes, timings=timings)
        checked = self._check(image, erased, text, None, page.blocks, [], [], "", timings, earlier)
        return _with_check(PageResult(page=page, image=erased, erased=erased, mask=text.mask), checked)

    def rerender(self, image: np.ndarray, page: Page) -> PageResult:
        """Draw a page's (edited) translations again, without detecting or recognising."""
        from imtrans.render import estimate_styles
        from imtrans.render.draw import drawn_bounds, drawn_ink

        timings: dict[str, float] = {}
        todo = [b for b in page.blocks if b.id in page.translations]
        erased, text, erase_notes = self._erase(image, todo, timings, page.blocks)
        unstyled = [b for b in todo if not page.styles.get(b.id)]
        with _timed(timings, "style"):
            missing = estimate_styles(image, unstyled, text.mask, text.fallback_line_ids)
        styles = {b.id: page.styles.get(b.id) or missing[b.id] for b in todo}
        kept = [b for b in page.blocks if b.id not in page.translations]
        with _timed(timings, "render"):
            out, notes, renders = self._render(
                erased, todo, page.translations, styles, page.target_lang, kept
            )
        earlier = _making_time(page)
        page = page.with_(styles=styles, diagnostics=erase_notes + tuple(notes), timings=timings)
        checked = self._check(
            image, erased, text, out, todo, renders, kept, page.target_lang, timings, earlier
        )
        result = PageResult(
            page=page, image=out, erased=erased, mask=text.mask, drawn=drawn_bounds(renders),
            ink=drawn_ink(renders),
        )  # fmt: skip
        return _with_check(result, checked)

    # -- steps shared by the jobs -----------------------------------------------------------
    def _read(self, image: np.ndarray, timings: dict[str, float]) -> Page:
        """Steps 1-3: detect lines, recognise them, group them into blocks.

        A page turned by 90, 180 or 270 degrees (see `detect/orientation.py`) is read again
        turned upright, and its lines and blocks are put back in the frame of `image`.
        """
        from imtrans.detect import orientation

        source = self.settings.recognize.source
        with _timed(timings, "detect"):
            lines = self.detector.detect(image)
        with _timed(timings, "recognize"):
            lines = self.recognizer.recognize(image, lines, source)
        angle = 0
        if self.settings.detect.orientation == "auto" and orientation.needs_check(lines):
            with _timed(timings, "orientation"):
                reader = orientation.engines_reader(self.recognizer, source)
                angle = orientation.find_rotation(image, lines, reader).angle
        if angle:
            upright = orientation.turn_image(image, angle)
            with _timed(timings, "detect"):
                lines = self.detector.detect(upright)
            with _timed(timings, "recognize"):
                lines = self.recognizer.recognize(upright, lines, source)
        if self.settings.recognize.grid_columns:
            read_on = upright if angle else image
            with _timed(timings, "recognize"):
                lines = grid_columns(
                    lines, lambda columns: self.recognizer.recognize(read_on, columns, source)
                )
        with _timed(timings, "group"):
            blocks = group_lines(lines, self.settings.group, upright if angle else image)
        if angle:
            h, w = image.shape[:2]
            blocks = [orientation.block_to_stored(b, angle, w, h) for b in blocks]
        dropped = len(lines) - sum(len(b.lines) for b in blocks)
        diagnostics = []
        if angle:
            diagnostics.append(
                Diagnostic.of(
                    DetectCode.PAGE_ROTATED,
                    f"page read turned {angle} degrees clockwise; lines mapped back to the image",
                    Severity.INFO,
                )
            )
        if dropped:
            diagnostics.append(
                Diagnostic.of(
                    RecognizeCode.UNREAD_LINES,
                    f"{dropped} detected line(s) could not be read with enough confidence",
                    Severity.INFO,
                )
            )
        languages = {b.language for b in blocks}
        return Page(
            width=int(image.shape[1]),
            height=int(image.shape[0]),
            blocks=tuple(blocks),
            diagnostics=tuple(diagnostics),
            source_lang=languages.pop() if len(languages) == 1 else ("mixed" if languages else ""),
            settings=self.settings.to_dict(),
            versions=self.versions,
        )

    def _translate(self, blocks: list[Block]) -> tuple[dict[str, Translation], list[Diagnostic]]:
        from imtrans.translate import translate_blocks

        target = self.settings.translate.target
        translations: dict[str, Translation] = {}
        notes: list[Diagnostic] = []
        by_source: dict[str, list[Block]] = {}
        for b in blocks:
            by_source.setdefault(b.language, []).append(b)
        for source, group in by_source.items():
            try:
                found, found_notes = translate_blocks(self.translator(source), group, source, target)
            except ModelMissingError as e:  # no model for this pair: the page is read and erased
                notes.append(
                    Diagnostic.of(TranslateCode.NO_TRANSLATOR, f"{len(group)} block(s) not translated: {e}")
                )
                continue
            translations.update(found)
            notes += found_notes
        return translations, notes

    def _render(
        self,
        erased: np.ndarray,
        blocks: list[Block],
        translations: dict[str, Translation],
        styles: dict[str, Style],
        target: str,
        kept: Sequence[Block] = (),
    ) -> tuple[np.ndarray, list[Diagnostic], list[BlockRender]]:
        """Step 6: the translations drawn on the erased image, clear of the ``kept`` blocks'
        lettering (what `render_page` draws), and each block's drawing (the check reads and
        repairs them; the result says where each was drawn)."""
        from imtrans.render.draw import block_drawings, composite

        fixed = [b.quad for b in kept]
        notes: list[Diagnostic] = []
        out = erased.copy()
        renders = []
        for r in block_drawings(
            erased, blocks, translations, styles, self.settings.render, target, notes, fixed
        ):
            assert r.drawing.patch is not None  # block_drawings leaves out blocks off the image
            composite(out, r.drawing.patch)
            renders.append(r)
        return out, notes, renders

    def _check(
        self,
        image: np.ndarray,
        erased: np.ndarray,
        text: TextMask,
        out: np.ndarray | None,
        erased_blocks: Sequence[Block],
        renders: list[BlockRender],
        kept: list[Block],
        target: str,
        timings: dict[str, float],
        earlier: float = 0.0,
    ) -> CheckResult | None:
        """Step 7: every block's output checked and, with ``check.mode=repair``, repaired
        (`imtrans.check`); None when ``check.mode`` is off.

        Repairs may take ``check.budget`` of the page's time: this call's stages, plus
        ``earlier``, the time the page took to read where this call did not read it (a
        re-render, or eval erasing a page it read).
        """
        from imtrans.check import Engines, check_page

        if self.settings.check.mode == "off":
            return None
        engines = Engines(
            detector=lambda: self.detector,
            recognizer=lambda: self.recognizer,
            eraser=self.eraser,
            alternative=self._other_eraser,
        )
        page_seconds = earlier + sum(timings.values())
        checked = check_page(image, erased, text.mask, out, erased_blocks, renders, kept, target, engines,
                             self.settings, page_seconds, whole_box=text.fallback_line_ids)  # fmt: skip
        for stage, seconds in checked.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
        return checked

    def _other_eraser(self) -> Eraser | None:
        """The classical eraser a residue repair switches to: ns for telea, telea for the rest."""
        if self._switch_eraser is None:
            from imtrans.erase import make_eraser
            from imtrans.settings import stage_settings

            other = "ns" if self.settings.erase.backend == "telea" else "telea"
            self._switch_eraser = make_eraser(
                stage_settings("erase", backend=other, dilate=self.settings.erase.dilate)
            )
        return self._switch_eraser

    def _erase(
        self,
        image: np.ndarray,
        blocks: list[Block] | tuple[Block, ...],
        timings: dict[str, float],
        page_blocks: Sequence[Block] = (),
    ) -> tuple[np.ndarray, TextMask, tuple[Diagnostic, ...]]:
        """Step 5: the text mask of every line of ``blocks`` and the image with it filled.

        The lines of ``page_blocks`` left in place (already in the target language, not
        translated) are text all the same: not read as the background of a line beside them.

        Returns:
            The erased image, the mask (with the lines masked as whole boxes), and a
            warning per such line: its fill may smear, and its style is not read from it.
        """
        from imtrans.erase.mask import build_text_mask, mask_lines

        with _timed(timings, "erase"):
            lines = [ln for b in blocks for ln in b.lines]
            kept = [ln for b in page_blocks for ln in b.lines if ln.id not in {x.id for x in lines}]
            masked, owner = mask_lines(lines)
            # A grid erased by its rows is not also kept by a column left in another block.
            erased_grids = {ln.grid_rows for ln in lines if ln.grid_rows}
            kept = [ln for ln in kept if ln.grid_rows not in erased_grids]
            text = build_text_mask(image, masked, self.settings.erase.dilate, mask_lines(kept)[0])
            text = replace(
                text, fallback_line_ids=tuple(dict.fromkeys(owner[i] for i in text.fallback_line_ids))
            )
            erased = self.eraser.erase(image, text.mask) if lines else image.copy()
        block_of = {ln.id: b.id for b in blocks for ln in b.lines}
        notes = tuple(
            Diagnostic.of(
                EraseCode.WHOLE_BOX_MASK,
                f"line {line_id}: its lettering could not be told from the background, so its "
                "whole box was erased (the fill may smear there)",
                Severity.WARNING,
                block_of.get(line_id),
            )
            for line_id in text.fallback_line_ids
        )
        return erased, text, notes


def _making_time(page: Page) -> float:
    """The time a page's recorded stages took, its check left out (the base of a repair budget)."""
    return sum(v for k, v in page.timings.items() if k not in ("check", "repair"))


def _with_check(result: PageResult, checked: CheckResult | None) -> PageResult:
    """The result with the check's repaired images, styles, quality, summary and diagnostics."""
    if checked is None:  # no check ran: a page read from JSON must not keep an earlier verdict
        return replace(result, page=result.page.with_(quality={}, check=None))
    # A block a repair drew again so that it fits no longer overflows: its render note goes.
    fixed = {bid for bid, fits in checked.redrawn.items() if fits}
    kept = tuple(
        d for d in result.page.diagnostics if not (d.code == RenderCode.OVERFLOW and d.block_id in fixed)
    )
    page = result.page.with_(
        styles={**result.page.styles, **checked.styles},
        diagnostics=kept + checked.diagnostics,
        quality=checked.quality,
        check=checked.summary,
    )
    image = checked.image if checked.image is not None else checked.erased
    drawn = {**result.drawn, **checked.drawn}
    ink = {**result.ink, **checked.ink}
    return PageResult(page=page, image=image, erased=checked.erased, mask=checked.mask, drawn=drawn, ink=ink)


def _versions(packages: list[str]) -> dict[str, str]:
    out = {}
    for pkg in packages:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out
