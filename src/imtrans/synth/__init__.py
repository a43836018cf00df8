"""Synthetic evaluation data: real sentences drawn on real photos, with full ground truth.

``generate(lang, layout, count, seed, out)`` writes ``count`` kept samples as a dataset
(see `imtrans.evaluate.dataset`): ``manifest.jsonl``, ``images/``, ``backgrounds/``,
``masks/`` and ``datacard.json``. Candidate ``i`` is drawn from a generator seeded by
(seed, language, layout, i) alone, so the first k kept samples are the same whatever
``count`` is, and the same arguments give the same bytes.
"""

from __future__ import annotations

import io
import json
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from imtrans.errors import InputError, OutputError
from imtrans.evaluate.dataset import GTBlock, GTLine, Sample, write_manifest
from imtrans.imageio import atomic_writes
from imtrans.synth import clean
from imtrans.synth.backgrounds import PhotoLibrary
from imtrans.synth.draw import Composition, Degradation, PlacedBlock, choose_degradation, compose, degrade
from imtrans.synth.layouts import (
    LANGUAGES,
    LAYOUTS,
    BlockPlan,
    Decoration,
    block_kinds,
    fonts_for,
    plan_block,
)
from imtrans.synth.text import Corpus, load_corpus
from imtrans.types import join_lines

__all__ = ["Resources", "Summary", "Synthesis", "generate", "synthesise"]

#: Candidates tried per kept sample before giving up (a run never loops forever).
MAX_TRIES_PER_SAMPLE = 4


@dataclass
class Resources:
    """What every sample of a language draws from, loaded once per run."""

    language: str
    corpus: Corpus
    photos: PhotoLibrary
    fonts: list[Any]
    glyphs: clean.GlyphChecker

    @classmethod
    def load(cls, language: str, photo_folders: Sequence[Path] = ()) -> Resources:
        photos = PhotoLibrary(photo_folders)
        return cls(language, load_corpus(language), photos, fonts_for(language), clean.GlyphChecker())


@dataclass
class Synthesis:
    """One candidate sample, before and after degradation; `dropped` says why it is not kept."""

    composition: Composition | None
    image: np.ndarray | None  # degraded: what the pipeline sees
    background: np.ndarray | None  # degraded alike
    degradation: Degradation
    photo: str
    layout: str
    plans: list[BlockPlan]
    dropped: str | None = None

    @property
    def mask(self) -> np.ndarray | None:
        return self.composition.mask if self.composition else None


def _rng(seed: int, language: str, layout: str, index: int) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process.
    return np.random.default_rng([seed, zlib.crc32(language.encode()), zlib.crc32(layout.encode()), index])


def synthesise(
    language: str,
    layout: str,
    seed: int,
    index: int,
    resources: Resources,
    adjust: Any = None,
) -> Synthesis:
    """Make candidate `index` of a run; deterministic in its arguments.

    Args:
        language: ko, en, ja or zh.
        layout: sign, paragraph, bubble, vertical or mixed.
        seed: The run's seed.
        index: The candidate's number in the run.
        resources: Corpus, photos, fonts and glyph checker of `language`.
        adjust: Optional `BlockPlan -> BlockPlan` applied to every plan before drawing
            (tests use it to force a colour or switch shadows off).
    """
    rng = _rng(seed, language, layout, index)
    photo, photo_name = resources.photos.sample(rng)
    kinds = block_kinds(language, layout, rng)
    plans = [plan_block(k, language, resources.corpus, resources.fonts, photo, rng) for k in kinds]
    if adjust is not None:
        plans = [adjust(p) for p in plans]
    degradation = choose_degradation(rng)
    result = Synthesis(None, None, None, degradation, photo_name, kinds[0], plans)
    for plan in plans:
        if reason := resources.glyphs.missing(plan):
            result.dropped = reason
            return result
    comp = compose(photo, plans, rng)
    result.composition = comp
    h, w = photo.shape[:2]
    reasons = [clean.clipped(b, w, h) or clean.low_contrast(b, comp.background) for b in comp.blocks]
    result.dropped = "no_room" if not comp.blocks else next((r for r in reasons if r), None)
    if result.dropped is None:
        result.image, result.background = degrade(comp.image, comp.background, degradation, rng)
    return result


def ground_truth(sample_id: str, synthesis: Synthesis, seed: int, index: int, requested: str) -> Sample:
    """The manifest entry of a kept sample."""
    comp = synthesis.composition
    assert comp is not None and synthesis.image is not None
    h, w = synthesis.image.shape[:2]
    blocks = [_gt_block(f"b{i}", b, comp.background) for i, b in enumerate(comp.blocks)]
    language = blocks[0].language if blocks else ""
    return Sample(
        id=sample_id,
        image=f"images/{sample_id}.png",
        background=f"backgrounds/{sample_id}.png",
        mask=f"masks/{sample_id}.png",
        source_language=language,
        width=w,
        height=h,
        blocks=blocks,
        meta={
            "generator": "imtrans synth",
            "layout": synthesis.layout,
            "requested_layout": requested,
            "seed": seed,
            "candidate": index,
            "photo": synthesis.photo,
            "degradation": synthesis.degradation.to_dict(),
            "mask": "pre-degradation; image == background outside it grown by 2 px (and to 8x8 blocks if JPEG)",
        },
    )


def _gt_block(block_id: str, block: PlacedBlock, background: np.ndarray) -> GTBlock:
    plan, st, deco = block.plan, block.plan.style, block.plan.decoration
    lines = [
        GTLine(quad=q.to_list(), text=t, language=plan.language, direction=plan.direction.value)
        for q, t in zip(block.line_quads, plan.lines, strict=True)
    ]
    x0, y0, x1, y1 = block.region
    under = background[y0:y1, x0:x1][block.warped["cover"] > 0.5]
    bg_colour = deco.fill if deco.kind != "none" else tuple(int(v) for v in np.median(under, axis=0))
    style = {
        # The keys imtrans.types.Style uses, so an estimated style compares field by field.
        "text_color": list(st.fill),
        "background_color": [int(v) for v in bg_colour],
        "outline_color": list(st.outline) if st.outline and st.outline_width else None,
        "outline_width": st.outline_width if st.outline else 0,
        "font_size": st.size,
        "angle": round(plan.angle, 2),
        # What only a generator knows.
        "font": st.font.path.name,
        "font_index": st.font.index,
        "font_name": st.font_name,
        "shadow": {
            "color": list(st.shadow),
            "offset": list(st.shadow_offset),
            "blur": round(st.shadow_blur, 2),
        }
        if st.shadow
        else None,
        "line_spacing": round(st.line_spacing, 3),
        "alignment": st.alignment.value,
        "perspective": round(plan.perspective, 3),
        "kind": plan.kind,
        "decoration": _decoration(deco),
        "contrast": round(clean.block_contrast(block, background), 2),
    }
    return GTBlock(
        id=block_id,
        quad=block.quad.to_list(),
        text=join_lines(list(plan.lines), plan.language),
        language=plan.language,
        direction=plan.direction.value,
        lines=lines,
        style=style,
    )


def _decoration(deco: Decoration) -> dict[str, Any] | None:
    if deco.kind == "none":
        return None
    border = list(deco.border) if deco.border else None
    return {
        "kind": deco.kind,
        "color": list(deco.fill),
        "border_color": border,
        "border_width": deco.border_width,
    }


@dataclass
class Summary:
    """What a run made: counts, drops by reason, timing, where it wrote."""

    language: str
    layout: str
    requested: int
    made: int
    candidates: int
    dropped: dict[str, int] = field(default_factory=dict)
    blocks_skipped: int = 0
    seconds: float = 0.0
    out: str = ""

    def line(self) -> str:
        drops = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items())) or "none"
        per = self.seconds / max(1, self.candidates)
        return (
            f"{self.made}/{self.requested} {self.language}-{self.layout} samples in {self.out} "
            f"({self.candidates} candidates, dropped: {drops}; {per:.3f} s per candidate)"
        )


def generate(
    lang: str,
    layout: str,
    count: int,
    seed: int,
    out: Path,
    photo_folders: Sequence[Path] = (),
    progress: Callable[[int, int, str], None] | None = None,
) -> Summary:
    """Write `count` kept samples of `lang` in `layout` to the dataset directory `out`, drawn on
    the installed photos and those of `photo_folders`; `progress(kept, count, sample id)` is
    called after each kept sample.

    Raises:
        InputError: Unknown language or layout, vertical for ko/en, a negative count, or a
            photo folder that is missing or empty.
        OutputError: `out` cannot be written.
        ModelMissingError: A text source package is not installed.
    """
    if lang not in LANGUAGES:
        raise InputError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    if layout == "vertical" and lang not in ("ja", "zh"):
        raise InputError(f"the vertical layout is for ja and zh only, not {lang}")
    if count < 0:
        raise InputError(f"--count must be 0 or more, got {count}")
    out = Path(out)
    try:
        for sub in ("images", "backgrounds", "masks"):
            (out / sub).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror}") from None
    start = time.perf_counter()
    res = Resources.load(lang, photo_folders)
    summary = Summary(lang, layout, count, 0, 0, out=str(out))
    samples: list[Sample] = []
    index = 0
    while summary.made < count and index < MAX_TRIES_PER_SAMPLE * count + 20:
        syn = synthesise(lang, layout, seed, index, res)
        if syn.composition is not None:
            summary.blocks_skipped += syn.composition.skipped
        if syn.dropped:
            summary.dropped[syn.dropped] = summary.dropped.get(syn.dropped, 0) + 1
        else:
            sample_id = f"{lang}-{layout}-{summary.made:05d}"
            sample = ground_truth(sample_id, syn, seed, index, layout)
            _write_sample(out, sample, syn)
            samples.append(sample)
            summary.made += 1
            if progress is not None:
                progress(summary.made, count, sample_id)
        index += 1
    summary.candidates = index
    summary.seconds = time.perf_counter() - start
    write_manifest(samples, out)
    card = {
        "generator": "imtrans synth",
        "settings": {"lang": lang, "layout": layout, "count": count, "seed": seed},
        "counts": {
            "made": summary.made,
            "candidates": index,
            "dropped": summary.dropped,
            "blocks_skipped_no_room": summary.blocks_skipped,
        },
        "text_sources": [s.__dict__ for s in res.corpus.sources],
        "text_stats": res.corpus.stats(),
        "photos": res.photos.sources(),
        "fonts": [name for _, name in res.fonts],
        "relation": "mask = image != background before degradation; after it, image == background "
        "outside the mask grown by 2 px, and to whole 8x8 blocks when the sample was JPEG-compressed",
    }
    with atomic_writes() as w:
        w.write_text(out / "datacard.json", json.dumps(card, ensure_ascii=False, indent=2) + "\n")
    return summary


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    # Level 1: PNG at the default level takes longer than drawing the sample.
    Image.fromarray(a).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _write_sample(out: Path, sample: Sample, syn: Synthesis) -> None:
    assert syn.image is not None and syn.background is not None and syn.mask is not None
    with atomic_writes() as w:
        w.write_bytes(out / sample.image, _png(syn.image))
        w.write_bytes(out / str(sample.background), _png(syn.background))
        w.write_bytes(out / str(sample.mask), _png(syn.mask))
