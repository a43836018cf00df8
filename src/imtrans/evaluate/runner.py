"""Run the pipeline over a dataset and measure each stage against its ground truth.

Per sample, top to bottom:

1. read: `Pipeline.ocr` (detect, recognise, group), as the translator would;
2. det: detected lines against true lines (IoU 0.5, one to one); with block-level truth
   only (OpenMantra bubbles), the share of true boxes that detected lines fall into;
3. ocr: the text of matched lines (or of predicted blocks gathered per true block);
4. erase: the detected text erased; PSNR/SSIM against the clean background, whole image
   and inside the true text mask; residue = the pipeline run again on the erased image,
   source-script characters it still finds inside true text regions;
5. render / e2e: each predicted block gets the reference text of the true block it lies in
   (the `reference` translator: the dataset's own translation in the target language, or the
   block's own true text when the dataset has none, so rendering is measured apart from
   machine translation), is drawn by `Pipeline.rerender`, and is read back: legibility CER,
   fit, collisions (pairs of drawings whose ink overlaps); e2e = share of true blocks whose
   text came out legible. With a real translator (`translator` not "reference") the pipeline
   translates and BLEU/chrF are computed against the references.

Every number carries the run's signature (dataset and its fingerprint, settings hash,
versions); failures are counted per class (see `FAILURE_CLASSES`).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from shapely.ops import unary_union

from imtrans.check.legibility import ILLEGIBLE_CER, legibility_cer, read_along, read_back, read_language
from imtrans.errors import ConfigError, ImtransError
from imtrans.evaluate.baselines import Baseline, make_baseline, package_version
from imtrans.evaluate.dataset import Dataset, GTBlock, Sample
from imtrans.evaluate.metrics import (
    PSNR_CAP,
    MeanAccumulator,
    TextAccumulator,
    cer,
    collisions,
    corpus_bleu,
    corpus_chrf,
    coverage,
    edit_distance,
    match_quads,
    normalise_text,
    prf,
    psnr,
    quad_polygon,
    residue_chars,
    source_script_chars,
    ssim,
    style_agreement,
)
from imtrans.evaluate.reading import (
    MISREAD_CER,  # a matched line (or block) read with a higher CER is misread
    OWN_SHARE,  # a predicted block belongs to the true block holding this share of its area
    PageReading,
    ReadingAccumulator,
    score_reading,
    truth_regions,
)
from imtrans.imageio import load_image
from imtrans.pipeline import Pipeline
from imtrans.render.draw import DrawnInk, arc_of
from imtrans.settings import Settings, settings_hash
from imtrans.types import Block, Page, Quad, RenderCode, Stage, Style, Translation

#: What eval measures: the pipeline stages with truth to compare with, and the whole page ("e2e").
STAGES = (Stage.DETECT, Stage.RECOGNIZE, Stage.ERASE, Stage.RENDER, "e2e")


class Metric(StrEnum):
    """Every figure a sample records, named ``stage.figure`` (the keys of its JSON ``metrics``)."""

    CHECK_BLOCKS = "check.blocks"
    CHECK_PASSED = "check.passed"
    CHECK_REPAIRED = "check.repaired"
    DETECT_BOX_COVERAGE = "detect.box_coverage"
    DETECT_BOXES_FOUND = "detect.boxes_found"
    DETECT_FALSE = "detect.false"
    DETECT_FOUND = "detect.found"
    DETECT_MISSED = "detect.missed"
    DETECT_N_PRED = "detect.n_pred"
    DETECT_N_TRUE = "detect.n_true"
    DETECT_TP = "detect.tp"
    E2E_DELIVERED = "e2e.delivered"
    ERASE_PSNR = "erase.psnr"
    ERASE_PSNR_MASK = "erase.psnr_mask"
    ERASE_PSNR_MASK_INPUT = "erase.psnr_mask_input"
    ERASE_RESIDUE_CHARS = "erase.residue_chars"
    ERASE_RESIDUE_RATE = "erase.residue_rate"
    ERASE_SSIM = "erase.ssim"
    ERASE_SSIM_MASK = "erase.ssim_mask"
    ERASE_TRUTH_CHARS = "erase.truth_chars"
    RECOGNIZE_CER = "recognize.cer"
    RECOGNIZE_CHARS = "recognize.chars"
    RECOGNIZE_EDITS = "recognize.edits"
    RECOGNIZE_EXACT = "recognize.exact"
    RECOGNIZE_N = "recognize.n"
    RECOGNIZE_NED = "recognize.ned"
    RENDER_BLOCKS = "render.blocks"
    RENDER_COLLISIONS = "render.collisions"
    RENDER_FIT = "render.fit"
    RENDER_LEGIBILITY_CER = "render.legibility_cer"
    STYLE_ANGLE_ERROR = "style.angle_error"
    STYLE_COLOUR_DE = "style.colour_de"
    STYLE_COLOUR_WITHIN_10 = "style.colour_within_10"
    STYLE_LOG_SIZE_RATIO = "style.log_size_ratio"
    STYLE_N = "style.n"
    STYLE_OUTLINE_AGREES = "style.outline_agrees"
    STYLE_SIZE_WITHIN_25 = "style.size_within_25"


class FailureClass(StrEnum):
    """What went wrong with a true block or line; counted per sample and in the summary."""

    MISSED_TEXT = "missed_text"  # a true line (or box) less than half covered by detected lines
    FALSE_TEXT = "false_text"  # a detected line less than a quarter of which lies on true text
    SPLIT_BLOCK = "split_block"  # one true block read as two or more blocks
    MERGED_BLOCK = "merged_block"  # one predicted block spanning two or more true blocks
    MISREAD = "misread"  # a matched line (or block) read with CER > 0.2
    RESIDUE = "residue"  # a true block where source-script text is still found after erasing
    OVERFLOW = "overflow"  # a translation that did not fit its block at the minimum size
    ILLEGIBLE_RENDER = "illegible_render"  # a rendered block read back with CER > 0.5


FAILURE_CLASSES = tuple(FailureClass)
#: A true line is missed when detected lines cover less than this share of it ...
MISSED_BELOW = 0.5
#: ... and a detected line is false text when less than this share of it lies on true lines.
FALSE_BELOW = 0.25


@dataclass
class SampleOutcome:
    """What one sample gave: flat metrics, failure counts, images for the report."""

    id: str
    metrics: dict[Metric, float] = field(default_factory=dict)
    failures: Counter[FailureClass] = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    images: dict[str, np.ndarray] = field(default_factory=dict)
    boxes: dict[str, list[Quad]] = field(default_factory=dict)
    #: How each reader (imtrans, then each baseline) read the page's true regions.
    readings: dict[str, PageReading] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metrics": {k: _finite(v) for k, v in sorted(self.metrics.items())},
            "failures": dict(sorted(self.failures.items())),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "error": self.error,
            "reading": {
                name: [
                    {"truth": r.truth, "read": r.reading, "language": r.language, "found": r.found,
                     "edits": r.edits, "chars": r.chars, "box": [round(v, 1) for v in r.box]}
                    for r in page.regions
                ]
                for name, page in self.readings.items()
            },
        }  # fmt: skip


def signature(
    dataset: Dataset, settings: Settings, stages: Sequence[str], target: str, translator: str
) -> str:
    """The string every reported number carries: what data, which settings, which code."""
    parts = [
        f"data:{dataset.name}@{dataset.fingerprint}",
        f"n:{len(dataset.samples)}",
        f"stages:{','.join(stages)}",
        f"target:{target}",
        f"translator:{translator}",
        f"settings:{settings_hash(settings)[:8]}",
    ]
    for pkg in ("imtrans", "rapidocr", "onnxruntime", "tesserocr", "opencv-python-headless", "sacrebleu"):
        parts.append(f"{pkg}:{package_version(pkg)}")
    return "|".join(parts)


class Evaluator:
    """Measures one settings model on datasets (models load once and stay loaded).

    Args:
        settings: Pipeline settings; `translate.target` is the target language.
        stages: Which of `STAGES` to measure.
        translator: "reference" (the dataset's own translations) or "pipeline" (the
            translator the settings configure; BLEU/chrF need references).
        keep_images: Keep per-sample images in the outcomes (the HTML report needs them).
        baselines: Raw engines (`imtrans.evaluate.baselines.BASELINES`) whose reading of each
            image is scored beside imtrans's, in the same run (`doc["reading"]`).
    """

    def __init__(
        self,
        settings: Settings,
        stages: Sequence[str] = STAGES,
        *,
        translator: str = "reference",
        keep_images: bool = True,
        baselines: Sequence[str] = (),
    ) -> None:
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            raise ConfigError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
        if translator not in ("reference", "pipeline"):
            raise ConfigError(f"unknown eval translator {translator!r}; use reference or pipeline")
        self.settings = settings
        self.stages = tuple(s for s in STAGES if s in stages)
        self.translator = translator
        self.keep_images = keep_images
        self.pipeline = Pipeline(settings)
        self.baselines: list[Baseline] = [make_baseline(name) for name in dict.fromkeys(baselines)]

    @property
    def target(self) -> str:
        return self.settings.translate.target

    def run(
        self, dataset: Dataset, progress: Callable[[int, int, str], None] | None = None
    ) -> tuple[dict[str, Any], list[SampleOutcome]]:
        """Measure every sample; returns the results document and the per-sample outcomes."""
        outcomes: list[SampleOutcome] = []
        translations: list[tuple[str, str]] = []  # (hypothesis, reference) per true block
        start = time.perf_counter()
        for i, sample in enumerate(dataset.samples):
            if progress:
                progress(i, len(dataset.samples), sample.id)
            try:
                outcome, pairs = self.sample(dataset, sample)
            except ImtransError as e:
                outcome, pairs = SampleOutcome(sample.id, error=f"{type(e).__name__}: {e}"), []
            outcomes.append(outcome)
            translations += pairs
        if progress:
            progress(len(dataset.samples), len(dataset.samples), "")
        tr_name = (
            "reference" if self.translator == "reference" else self.settings.translate.resolved_translator
        )
        doc = {
            "signature": signature(dataset, self.settings, self.stages, self.target, tr_name),
            "dataset": {
                "name": dataset.name,
                "root": str(dataset.root),
                "fingerprint": dataset.fingerprint,
                "samples": len(dataset.samples),
            },
            "settings": self.settings.to_dict(),
            "stages": list(self.stages),
            "summary": summarise(outcomes, self.stages),
            "failures": dict(sum((o.failures for o in outcomes), Counter())),
            "samples": [o.to_dict() for o in outcomes],
            "seconds": round(time.perf_counter() - start, 2),
        }
        for cls in FAILURE_CLASSES:
            doc["failures"].setdefault(cls, 0)
        doc["reading"] = self._reading_summary(outcomes)
        if translations:
            hyps, refs = zip(*translations, strict=True)
            bleu, chrf = corpus_bleu(list(hyps), list(refs), self.target), corpus_chrf(list(hyps), list(refs))
            doc["summary"]["translation"] = {
                "bleu": round(bleu.value, 2),
                "chrf": round(chrf.value, 2),
                "segments": len(hyps),
                "bleu_signature": bleu.signature,
                "chrf_signature": chrf.signature,
            }
        return doc, outcomes

    def _reading_summary(self, outcomes: Sequence[SampleOutcome]) -> dict[str, Any]:
        """Per reader: figures per language, failure counts, grouping, whether the true regions
        were lines or boxes (OpenMantra), and what the reader was."""
        names = ["imtrans"] + [b.name for b in self.baselines]
        described = {
            "imtrans": f"imtrans:{package_version('imtrans')}|settings:{settings_hash(self.settings)[:8]}"
        }
        described.update({b.name: b.describe() for b in self.baselines})
        out: dict[str, Any] = {}
        for name in names:
            acc = ReadingAccumulator()
            scored = [o for o in outcomes if name in o.readings]
            for o in scored:
                acc.update(o.readings[name])
            out[name] = {
                "summary": {k: {kk: _finite(vv) for kk, vv in v.items()} for k, v in acc.summary().items()},
                "failures": acc.failures(),
                "grouping": {k: _finite(v) for k, v in acc.grouping().items()},
                "regions": "lines" if all(o.readings[name].line_truth for o in scored) else "boxes",
                "reader": described[name],
            }
        return out

    # -- one sample -------------------------------------------------------------------------
    def sample(self, dataset: Dataset, sample: Sample) -> tuple[SampleOutcome, list[tuple[str, str]]]:
        """Measure one sample; returns its outcome and (hypothesis, reference) translation pairs."""
        out = SampleOutcome(sample.id)
        image = load_image(dataset.path(sample.image), self.settings.image)
        read = self.pipeline.ocr(image)
        page = read.page
        out.timings.update(page.timings)
        out.images["original"] = image
        truth_blocks = sample.blocks
        owners = _owners(page.blocks, truth_blocks)
        out.boxes = {
            "truth": [b.to_quad() for b in truth_blocks] + [ln.to_quad() for ln in sample.lines],
            "found": [ln.quad for ln in page.lines],
        }
        regions, line_truth = truth_regions(sample)
        block_of = {ln.id: b.id for b in page.blocks for ln in b.lines}
        out.readings["imtrans"] = score_reading(page.lines, regions, line_truth, block_of)
        languages = sorted({r.language for r in regions if r.language})
        for baseline in self.baselines:
            start = time.perf_counter()
            found = baseline.read(image, languages)
            out.timings[f"baseline.{baseline.name}"] = time.perf_counter() - start
            out.readings[baseline.name] = score_reading(found, regions, line_truth)
        if Stage.DETECT in self.stages:
            self._detection(sample, page, out)
        if Stage.RECOGNIZE in self.stages:
            self._recognition(sample, page, owners, out)
        _block_failures(page, truth_blocks, owners, out)
        if Stage.ERASE in self.stages:
            self._erasing(dataset, sample, image, page, out)
        pairs: list[tuple[str, str]] = []
        if Stage.RENDER in self.stages or "e2e" in self.stages:
            pairs = self._rendering(sample, image, page, owners, out)
        if not self.keep_images:
            out.images.clear()
        return out, pairs

    def _detection(self, sample: Sample, page: Page, out: SampleOutcome) -> None:
        found = [ln.quad for ln in page.lines]
        truth_lines = sample.lines
        if truth_lines:
            truth = [ln.to_quad() for ln in truth_lines]
            m = match_quads(found, truth, iou=0.5, ignore=[ln.ignore for ln in truth_lines])
            out.metrics[Metric.DETECT_TP] = len(m.pairs)
            out.metrics[Metric.DETECT_N_TRUE] = sum(not ln.ignore for ln in truth_lines)
            out.metrics[Metric.DETECT_N_PRED] = len(m.pairs) + len(m.false)
            # Failures by coverage, not IoU: a detector's box carries a margin that a tight
            # true box lacks, so a line found whole can still score IoU < 0.5.
            covered = coverage(found, truth)
            missed = [
                i for i, ln in enumerate(truth_lines) if not ln.ignore and not covered[i] >= MISSED_BELOW
            ]
            on_truth = coverage(truth, found)
            false = [j for j, c in enumerate(on_truth) if not c >= FALSE_BELOW]
            out.metrics[Metric.DETECT_MISSED] = len(missed)
            out.metrics[Metric.DETECT_FALSE] = len(false)
            out.metrics[Metric.DETECT_FOUND] = len(found)
            out.failures[FailureClass.MISSED_TEXT] += len(missed)
            out.failures[FailureClass.FALSE_TEXT] += len(false)
            out.boxes["missed"] = [truth[i] for i in missed]
            out.boxes["false"] = [found[j] for j in false]
        boxes = [b.to_quad() for b in sample.blocks if not _dont_care(b)]
        if boxes:
            cover = coverage(found, boxes)
            hit = [c >= MISSED_BELOW or _has_line_inside(found, b) for b, c in zip(boxes, cover, strict=True)]
            out.metrics[Metric.DETECT_BOX_COVERAGE] = float(np.nanmean(cover))
            out.metrics[Metric.DETECT_BOXES_FOUND] = float(np.mean(hit))
            if not truth_lines:
                out.failures[FailureClass.MISSED_TEXT] += hit.count(False)
                out.boxes["missed"] = [b for b, h in zip(boxes, hit, strict=True) if not h]

    def _recognition(
        self, sample: Sample, page: Page, owners: dict[str, int | None], out: SampleOutcome
    ) -> None:
        truth_lines = sample.lines
        pairs: list[tuple[str, str]] = []
        if truth_lines:
            m = match_quads(
                [ln.quad for ln in page.lines],
                [ln.to_quad() for ln in truth_lines],
                iou=0.5,
                ignore=[ln.ignore for ln in truth_lines],
            )
            pairs = [(page.lines[p].text, truth_lines[t].text) for p, t in m.pairs]
        else:
            for i, gt in enumerate(sample.blocks):
                mine = [b.text for b in page.blocks if owners.get(b.id) == i]
                if mine and gt.text:
                    pairs.append(("".join(mine) if _cjk(gt.language) else " ".join(mine), gt.text))
        if not pairs:
            return
        texts = TextAccumulator()
        for hyp, ref in pairs:
            texts.update(hyp, ref)
            if cer(hyp, ref) > MISREAD_CER:
                out.failures[FailureClass.MISREAD] += 1
        summary = texts.summary()
        # Edits and characters are kept per sample so the dataset CER is a ratio of sums.
        out.metrics[Metric.RECOGNIZE_EDITS] = float(
            sum(edit_distance(normalise_text(h), normalise_text(r)) for h, r in pairs)
        )
        out.metrics[Metric.RECOGNIZE_CHARS] = float(sum(len(normalise_text(r)) for _, r in pairs))
        out.metrics[Metric.RECOGNIZE_CER] = summary["cer"]
        out.metrics[Metric.RECOGNIZE_EXACT] = summary["exact"]
        out.metrics[Metric.RECOGNIZE_NED] = summary["ned"]
        out.metrics[Metric.RECOGNIZE_N] = float(len(pairs))

    def _erasing(
        self, dataset: Dataset, sample: Sample, image: np.ndarray, page: Page, out: SampleOutcome
    ) -> None:
        erased = self.pipeline.erase_page(image, page)
        out.timings[Stage.ERASE] = erased.page.timings.get(Stage.ERASE, 0.0)
        _add_check_time(out, erased.page)
        out.images["erased"] = erased.image
        if sample.background:
            clean = load_image(dataset.path(sample.background), self.settings.image)
            out.metrics[Metric.ERASE_PSNR] = psnr(erased.image, clean)
            out.metrics[Metric.ERASE_SSIM] = ssim(erased.image, clean)
            if sample.mask:
                mask = load_image(dataset.path(sample.mask), self.settings.image)[..., 0] > 127
                if mask.any():
                    out.metrics[Metric.ERASE_PSNR_MASK] = psnr(erased.image, clean, mask)
                    out.metrics[Metric.ERASE_SSIM_MASK] = ssim(erased.image, clean, mask)
                    out.metrics[Metric.ERASE_PSNR_MASK_INPUT] = psnr(
                        image, clean, mask
                    )  # before erasing: the floor
        again = self.pipeline.ocr(erased.image).page
        regions = residue_regions(sample)
        truth_chars = sum(source_script_chars(text, lang) for _, text, lang in regions)
        per_block = residue_chars([(quads, lang) for quads, _, lang in regions],
                                  [(ln.quad, ln.text) for ln in again.lines],
                                  unscored=unscored_lines(sample))  # fmt: skip
        left = sum(per_block)
        if any(per_block):
            out.failures[FailureClass.RESIDUE] += sum(1 for n in per_block if n)
        out.metrics[Metric.ERASE_RESIDUE_CHARS] = float(left)
        out.metrics[Metric.ERASE_TRUTH_CHARS] = float(truth_chars)
        out.metrics[Metric.ERASE_RESIDUE_RATE] = left / truth_chars if truth_chars else 0.0

    def _rendering(
        self, sample: Sample, image: np.ndarray, page: Page, owners: dict[str, int | None], out: SampleOutcome
    ) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.translator == "reference":
            target, translations = reference_translations(page, sample, owners, self.target)
            result = self.pipeline.rerender(image, page.with_(translations=translations, target_lang=target))
        else:
            target = self.target
            result = self.pipeline.translate(image)
            translations = dict(result.page.translations)
            for i, gt in enumerate(sample.blocks):
                ref = gt.translations.get(target)
                if ref:
                    mine = [
                        translations[b.id].text
                        for b in page.blocks
                        if owners.get(b.id) == i and b.id in translations
                    ]
                    pairs.append((" ".join(mine), ref))
        out.timings[Stage.RENDER] = result.page.timings.get(Stage.RENDER, 0.0)
        if result.page.check is not None:
            out.timings[Stage.CHECK] = result.page.timings.get("check", 0.0) + result.page.timings.get(
                "repair", 0.0
            )
            out.metrics[Metric.CHECK_BLOCKS] = float(result.page.check.blocks)
            out.metrics[Metric.CHECK_PASSED] = float(result.page.check.passed)
            out.metrics[Metric.CHECK_REPAIRED] = float(result.page.check.repaired)
        out.images["translated"] = result.image
        drawn = [b for b in page.blocks if translations.get(b.id) and translations[b.id].text.strip()]
        bad = {
            d.block_id
            for d in result.page.diagnostics
            if d.code in (RenderCode.OVERFLOW, RenderCode.OUTSIDE_IMAGE, RenderCode.RENDER_FAILED)
        }
        out.failures[FailureClass.OVERFLOW] += sum(1 for b in drawn if b.id in bad)
        if not drawn:
            return pairs
        legibility = []
        delivered: set[int] = set()
        for b in drawn:
            language = read_language(translations[b.id].text, target)
            read_back = self._read_back(
                result.image, b, language, result.page.styles.get(b.id), result.drawn.get(b.id),
                result.erased, result.ink.get(b.id),
            )  # fmt: skip
            c = legibility_cer(read_back, translations[b.id].text)
            legibility.append(c)
            if c > ILLEGIBLE_CER:
                out.failures[FailureClass.ILLEGIBLE_RENDER] += 1
            elif owners.get(b.id) is not None:
                delivered.add(owners[b.id])  # type: ignore[arg-type]
        out.metrics[Metric.RENDER_LEGIBILITY_CER] = float(np.mean(legibility))
        out.metrics[Metric.RENDER_FIT] = 1 - sum(1 for b in drawn if b.id in bad) / len(drawn)
        ink = [result.ink[b.id] for b in drawn if b.id in result.ink]
        # Ink drawn on other ink (as the check's collision, on every pixel a drawing touched).
        out.metrics[Metric.RENDER_COLLISIONS] = float(collisions([(k.x0, k.y0, k.mask) for k in ink]))
        out.metrics[Metric.RENDER_BLOCKS] = float(len(drawn))
        scored = [i for i, b in enumerate(sample.blocks) if not _dont_care(b)]
        if scored:
            out.metrics[Metric.E2E_DELIVERED] = len(delivered & set(scored)) / len(scored)
        _style_agreement(result.page, drawn, sample.blocks, owners, out)
        return pairs

    def _read_back(
        self,
        image: np.ndarray,
        block: Block,
        language: str,
        style: Style | None = None,
        drawn: tuple[int, int, int, int] | None = None,
        erased: np.ndarray | None = None,
        ink: DrawnInk | None = None,
    ) -> str:
        """Read the rendered text where it was drawn (its ink's bounds, with room around them as
        the check reads it; else the block's box), in the target language, turned upright when
        it was drawn at 90, 180 or 270 degrees (a page read turned). Text drawn past the block's
        box (a bubble, a row run on along) is read whole, and neighbours' text stays out: with
        its ``ink`` and the ``erased`` page, the drawing is read alone, as the check reads it
        (`check.legibility.read_back`)."""
        turns = round(style.angle / 90.0) % 4 if style is not None else 0
        curve = arc_of(block)
        if curve is not None:  # drawn along its arc, as the check reads it
            return read_along(self.pipeline.recognizer, image, curve, language,
                              alone=(ink, erased) if ink is not None and erased is not None else None)  # fmt: skip
        if drawn is None:
            return read_back(
                self.pipeline.detector,
                self.pipeline.recognizer,
                image,
                block.quad.bbox,
                language,
                turns=turns,
            )
        size = style.font_size if style is not None and style.font_size > 0 else 0.2 * (drawn[3] - drawn[1])
        return read_back(
            self.pipeline.detector, self.pipeline.recognizer, image, tuple(float(v) for v in drawn),
            language, pad=0.0, turns=turns, min_pad=0.6 * size, centred_inside=True,
            alone=(ink, erased) if ink is not None and erased is not None else None,
        )  # fmt: skip


def reference_translations(
    page: Page, sample: Sample, owners: dict[str, int | None], target: str
) -> tuple[str, dict[str, Translation]]:
    """The `reference` translator: each predicted block gets its true block's reference text.

    The target is `target` when every true block with text has a reference in it; otherwise
    the source language, and each block gets its own true text (rendering measured on its own).
    A reference is a whole block's: the first predicted block (reading order) of a true block
    split in several carries it all, and further fragments get an empty translation, so they
    are erased and left blank. Its own true text is known line by line: each fragment gets the
    true lines it holds (`split_truth`).
    """
    with_text = [gt for gt in sample.blocks if gt.text]
    use_refs = bool(with_text) and all(gt.translations.get(target) for gt in with_text)
    lang = (
        target if use_refs else (sample.source_language or (with_text[0].language if with_text else target))
    )
    parts = {} if use_refs else split_truth(page.blocks, sample.blocks, owners)
    out: dict[str, Translation] = {}
    given: set[int] = set()
    for b in page.blocks:
        i = owners.get(b.id)
        if i is None:
            continue
        gt = sample.blocks[i]
        if b.id in parts:
            text = parts[b.id]
        else:
            text = "" if i in given else (gt.translations[target] if use_refs else gt.text)
        out[b.id] = Translation(b.id, text, b.language, lang, "reference")
        given.add(i)
    return lang, out


def split_truth(
    blocks: Sequence[Block], truth: Sequence[GTBlock], owners: dict[str, int | None]
) -> dict[str, str]:
    """The true text of each fragment of a true block split over several predicted blocks.

    Each true line goes to the fragment whose lines cover most of it (none when they cover
    none); a fragment's text is its true lines joined in the truth's order, "" when it holds
    none. True blocks predicted whole are left out (their text is the block's).
    """
    fragments: dict[int, list[Block]] = {}
    for b in blocks:
        i = owners.get(b.id)
        if i is not None:
            fragments.setdefault(i, []).append(b)
    out: dict[str, str] = {}
    for i, parts in fragments.items():
        if len(parts) < 2:
            continue
        mine: dict[str, list[str]] = {b.id: [] for b in parts}
        shapes = {
            b.id: unary_union([quad_polygon(ln.quad) for ln in b.lines] or [quad_polygon(b.quad)])
            for b in parts
        }
        for ln in truth[i].lines:
            if ln.ignore or not ln.text:
                continue
            true = quad_polygon(ln.to_quad())
            cover = {bid: shape.intersection(true).area for bid, shape in shapes.items()}
            best = max(cover, key=lambda bid: cover[bid])
            if cover[best] > 0:
                mine[best].append(ln.text)
        out.update({bid: " ".join(texts) for bid, texts in mine.items()})
    return out


def summarise(outcomes: Sequence[SampleOutcome], stages: Sequence[str]) -> dict[str, dict[str, float]]:
    """Dataset-level figures from per-sample outcomes (counts summed, ratios from the sums)."""
    ok = [o for o in outcomes if o.error is None]
    summary: dict[str, dict[str, float]] = {
        "run": {"samples": len(outcomes), "errors": len(outcomes) - len(ok)}
    }

    def total(key: Metric) -> float:
        return float(sum(o.metrics.get(key, 0.0) for o in ok))

    def mean(key: Metric) -> dict[str, float]:
        acc = MeanAccumulator()
        for o in ok:
            if key in o.metrics:
                acc.update(o.metrics[key])
        return acc.summary()

    if Stage.DETECT in stages:
        det: dict[str, float] = {}
        if any(Metric.DETECT_TP in o.metrics for o in ok):
            tp, n_pred, n_true = (
                total(Metric.DETECT_TP),
                total(Metric.DETECT_N_PRED),
                total(Metric.DETECT_N_TRUE),
            )
            p, r, h = prf(int(tp), int(n_pred), int(n_true))
            det.update(
                {"precision": p, "recall": r, "hmean": h, "tp": tp, "n_pred": n_pred, "n_true": n_true}
            )
            found = total(Metric.DETECT_FOUND)
            det["recall_cover"] = 1 - total(Metric.DETECT_MISSED) / n_true if n_true else float("nan")
            det["precision_cover"] = 1 - total(Metric.DETECT_FALSE) / found if found else float("nan")
        for key in (Metric.DETECT_BOXES_FOUND, Metric.DETECT_BOX_COVERAGE):
            m = mean(key)
            if m.get("n"):
                det[key.split(".", 1)[1]] = m["mean"]
        summary[Stage.DETECT] = det
    if Stage.RECOGNIZE in stages and any(Metric.RECOGNIZE_N in o.metrics for o in ok):
        chars = total(Metric.RECOGNIZE_CHARS)
        summary[Stage.RECOGNIZE] = {
            "cer": total(Metric.RECOGNIZE_EDITS) / chars if chars else float("nan"),
            "exact": _weighted(ok, Metric.RECOGNIZE_EXACT, Metric.RECOGNIZE_N),
            "ned": _weighted(ok, Metric.RECOGNIZE_NED, Metric.RECOGNIZE_N),
            "pairs": total(Metric.RECOGNIZE_N),  # lines matched (or true blocks read), as compared
        }
    if Stage.ERASE in stages:
        er: dict[str, float] = {}
        for key in (
            Metric.ERASE_PSNR,
            Metric.ERASE_SSIM,
            Metric.ERASE_PSNR_MASK,
            Metric.ERASE_SSIM_MASK,
            Metric.ERASE_PSNR_MASK_INPUT,
        ):
            figures = mean(key)
            name = key.split(".", 1)[1]
            er[name] = figures["mean"]
            if key in (Metric.ERASE_PSNR, Metric.ERASE_PSNR_MASK):
                # A sample erased to exactly its clean background scores the cap (100 dB) and pulls
                # the mean up; the median and the share of such samples say how much.
                er[f"{name}_median"] = figures["median"]
                values = [o.metrics[key] for o in ok if key in o.metrics and not math.isnan(o.metrics[key])]
                er[f"{name}_identical_share"] = (
                    sum(v >= PSNR_CAP for v in values) / len(values) if values else math.nan
                )
        truth = total(Metric.ERASE_TRUTH_CHARS)
        er["residue_rate"] = total(Metric.ERASE_RESIDUE_CHARS) / truth if truth else 0.0
        summary[Stage.ERASE] = {k: v for k, v in er.items() if not math.isnan(v)}
    if Stage.RENDER in stages or "e2e" in stages:
        blocks = total(Metric.RENDER_BLOCKS)
        summary[Stage.RENDER] = {
            "legibility_cer": _weighted(ok, Metric.RENDER_LEGIBILITY_CER, Metric.RENDER_BLOCKS),
            "fit": _weighted(ok, Metric.RENDER_FIT, Metric.RENDER_BLOCKS),
            "collisions": total(Metric.RENDER_COLLISIONS),
            "blocks": blocks,
        }
        if any(Metric.E2E_DELIVERED in o.metrics for o in ok):
            summary["e2e"] = {"delivered": mean(Metric.E2E_DELIVERED)["mean"]}
        checked = total(Metric.CHECK_BLOCKS)
        if checked:
            summary[Stage.CHECK] = {
                "blocks": checked,
                "passed": total(Metric.CHECK_PASSED),
                "repaired": total(Metric.CHECK_REPAIRED),
                "flagged_share": 1 - total(Metric.CHECK_PASSED) / checked,
            }
        styled = total(Metric.STYLE_N)
        if styled:
            summary["style"] = {
                "size_ratio": math.exp(total(Metric.STYLE_LOG_SIZE_RATIO) / styled),  # geometric mean
                "size_within_25": total(Metric.STYLE_SIZE_WITHIN_25) / styled,
                "colour_de": total(Metric.STYLE_COLOUR_DE) / styled,
                "colour_within_10": total(Metric.STYLE_COLOUR_WITHIN_10) / styled,
                "outline_agrees": total(Metric.STYLE_OUTLINE_AGREES) / styled,
                "angle_error": total(Metric.STYLE_ANGLE_ERROR) / styled,
                "blocks": styled,
            }
    timing = {}
    for stage in (Stage.DETECT, Stage.RECOGNIZE, Stage.GROUP, Stage.ERASE, Stage.RENDER, Stage.CHECK):
        vals = [o.timings[stage] for o in ok if stage in o.timings]
        if vals:
            timing[stage] = float(np.median(vals))
    summary["seconds_median"] = timing
    return {k: {kk: _finite(vv) for kk, vv in v.items()} for k, v in summary.items()}


# -- geometry helpers ---------------------------------------------------------------------------
def _owners(blocks: Sequence[Block], truth: Sequence[GTBlock]) -> dict[str, int | None]:
    """Each predicted block's true block: the one holding most (>= OWN_SHARE) of its area."""
    polys = [quad_polygon(gt.to_quad()) for gt in truth]
    out: dict[str, int | None] = {}
    for b in blocks:
        mine = quad_polygon(b.quad)
        area = max(mine.area, 1e-9)
        best, share = None, 0.0
        for i, p in enumerate(polys):
            s = mine.intersection(p).area / area
            if s > share:
                best, share = i, s
        out[b.id] = best if share >= OWN_SHARE else None
    return out


def _style_agreement(
    page: Page,
    drawn: Sequence[Block],
    truth: Sequence[GTBlock],
    owners: dict[str, int | None],
    out: SampleOutcome,
) -> None:
    """Sums over the drawn blocks whose true block records a style (synthetic sets): the
    estimated size, text colour, outline and angle against it (`style_agreement`)."""
    sums: Counter[str] = Counter()
    for b in drawn:
        i, style = owners.get(b.id), page.styles.get(b.id)
        if i is None or style is None or not {"font_size", "text_color"} <= truth[i].style.keys():
            continue
        a = style_agreement(style.font_size, style.text_color, style.outline_color is not None, style.angle,
                            truth[i].style)  # fmt: skip
        sums[Metric.STYLE_N] += 1
        sums[Metric.STYLE_LOG_SIZE_RATIO] += math.log(a.size_ratio)
        sums[Metric.STYLE_SIZE_WITHIN_25] += abs(a.size_ratio - 1) <= 0.25
        sums[Metric.STYLE_COLOUR_DE] += a.text_colour
        sums[Metric.STYLE_COLOUR_WITHIN_10] += a.text_colour <= 10
        sums[Metric.STYLE_OUTLINE_AGREES] += a.outline_agrees
        sums[Metric.STYLE_ANGLE_ERROR] += a.angle_error
    out.metrics.update({k: float(v) for k, v in sums.items()})


def _add_check_time(out: SampleOutcome, page: Page) -> None:
    """The check stage's time (checks and repairs) of one pipeline call, added to the sample's."""
    if page.check is not None:
        spent = page.timings.get("check", 0.0) + page.timings.get("repair", 0.0)
        out.timings[Stage.CHECK] = out.timings.get(Stage.CHECK, 0.0) + spent


def residue_regions(sample: Sample) -> list[tuple[list[Quad], str, str]]:
    """(quads, text, language) of each true block residue is counted in.

    The quads are where the block's known text lies: its readable lines' (a block with line
    truth), else the block's own quad (box truth only, as OpenMantra's). Illegible regions
    ("###", null text) are left out, as everywhere else: what was written there is not known,
    so what is read there after erasing cannot be scored.
    """
    out = []
    for gt in sample.blocks:
        if _dont_care(gt):
            continue
        quads = [ln.to_quad() for ln in gt.lines if not ln.ignore] or [gt.to_quad()]
        out.append((quads, gt.text, gt.language or sample.source_language))
    return out


def unscored_lines(sample: Sample) -> list[Quad]:
    """Quads of the illegible lines ("###", null text) of blocks that residue is counted in.

    Such a line's text is not in its block's true characters, so what is read there after
    erasing (a card the detector never found, inside a sign's block) is not counted either.
    """
    return [ln.to_quad() for gt in sample.blocks if not _dont_care(gt) for ln in gt.lines if ln.ignore]


def _dont_care(block: GTBlock) -> bool:
    """A block whose every line is marked ignore (ICDAR "###") is scored nowhere."""
    return bool(block.lines) and all(ln.ignore for ln in block.lines)


def _has_line_inside(found: Sequence[Quad], box: Quad) -> bool:
    region = quad_polygon(box)
    for q in found:
        p = quad_polygon(q)
        if p.area > 0 and p.intersection(region).area >= 0.5 * p.area:
            return True
    return False


def _block_failures(
    page: Page, truth: Sequence[GTBlock], owners: dict[str, int | None], out: SampleOutcome
) -> None:
    per_truth = Counter(i for i in owners.values() if i is not None)
    out.failures[FailureClass.SPLIT_BLOCK] += sum(1 for n in per_truth.values() if n > 1)
    polys = [quad_polygon(gt.to_quad()) for gt in truth]
    for b in page.blocks:
        mine = quad_polygon(b.quad)
        spanned = sum(1 for p in polys if p.area > 0 and mine.intersection(p).area >= 0.5 * p.area)
        if spanned > 1:
            out.failures[FailureClass.MERGED_BLOCK] += 1


def _weighted(outcomes: Sequence[SampleOutcome], key: Metric, weight: Metric) -> float:
    num = sum(o.metrics[key] * o.metrics.get(weight, 0.0) for o in outcomes if key in o.metrics)
    den = sum(o.metrics.get(weight, 0.0) for o in outcomes if key in o.metrics)
    return num / den if den else float("nan")


def _cjk(language: str) -> bool:
    return language in ("ja", "zh")


def _finite(v: float) -> float | None:
    v = float(v)
    return None if math.isnan(v) or math.isinf(v) else round(v, 4)
