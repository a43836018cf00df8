"""The check stage: every block's output checked after rendering, and repaired where it fails.

Top to bottom, per page:

1. residue, per erased block: `residue.ink_left` (cheap); where it is high, the erased region
   is read again with the page's recogniser (`residue.read_residue`);
2. fit, collision and contrast, per drawn block, from its drawing (layout, ink, colours);
3. legibility, per drawn block the cheap checks find suspicious (or every block with
   ``check.read_back=all``): its ink read back alone (over the erased page) in the target
   language;
4. damage, per block: pixels changed outside the text mask and the drawn ink;
5. repair (``check.mode=repair``), within ``check.budget`` of the page's time, block by block
   in reading order: a block with residue is erased again with a grown mask, then its lines'
   whole boxes, then with the other classical eraser; a drawn block that failed is drawn
   again recoloured, outlined, in a grown box, horizontally, or (lying on other text)
   smaller; each attempt is checked by the same checks and the best one is kept (the first
   drawing wins ties);
6. what still fails is reported: a `Diagnostic` per failed check, and every block's
   `BlockQuality` (score, failed checks, values, repairs kept).

Pixels are only touched inside a repaired block's window: the erased image and the output
there are composed again from the (new) erased pixels and every drawing that covers them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from imtrans.check.contrast import GOOD_CONTRAST, contrast_finding, lettering_contrast, text_contrast
from imtrans.check.damage import damage_finding, on_a_plain_plate, quads_mask, whole_box_finding
from imtrans.check.findings import Finding, quality_of, rank
from imtrans.check.fit import INK_ALPHA, SHRUNK_SHARE, collision_finding, fit_finding, size_finding, spill
from imtrans.check.legibility import legibility_finding, read_along, read_back, read_language
from imtrans.check.residue import (
    LETTER_DIFFERENCE,
    REGION_GROWTH,
    SUSPICIOUS_INK,
    grow_quad,
    ink_left,
    read_residue,
    residue_finding,
    residue_regions,
)
from imtrans.detect.base import Detector
from imtrans.erase.base import Eraser
from imtrans.erase.mask import line_mask, mask_lines
from imtrans.evaluate.metrics import ink_overlap, source_script_chars
from imtrans.languages import drawn_language
from imtrans.recognize.base import Recognizer
from imtrans.render.colours import legible_on
from imtrans.render.draw import BlockRender, DrawnInk, Patch, composite, draw_block, drawn_bounds, drawn_ink
from imtrans.render.layout import layout_direction
from imtrans.settings import Settings
from imtrans.types import (
    Block,
    BlockQuality,
    CheckCode,
    CheckSummary,
    Diagnostic,
    Direction,
    Quad,
    Severity,
    Style,
)

Window = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)

#: Background under the ink this busy (std of luminance, 0-255) makes a block suspicious.
BUSY_BACKGROUND = 40.0
#: A drawn block at or below this many px over the smallest size is suspicious.
SMALL_MARGIN_PX = 2
#: How far a grown box reaches: across the text and along it, as shares of the block's size.
GROW_ACROSS, GROW_ALONG = 0.35, 0.2
#: A drawing that lies on other text is tried again at these shares of its size.
SMALLER_SHARES = (0.85, 0.7)


@dataclass
class Engines:
    """What the check reads and erases with: the page's own engines.

    Attributes:
        detector: Finds the drawn lines when reading back (built on first use).
        recognizer: Reads residue and drawn text.
        eraser: The page's eraser (repairs erase again with it first).
        alternative: The other classical eraser to switch to (None: no switch).
    """

    detector: Callable[[], Detector]
    recognizer: Callable[[], Recognizer]
    eraser: Eraser
    alternative: Callable[[], Eraser | None] = lambda: None


@dataclass(frozen=True)
class CheckResult:
    """What the check stage gives back: the (repaired) images and the page's quality as data."""

    image: np.ndarray | None
    erased: np.ndarray
    mask: np.ndarray
    styles: dict[str, Style]
    quality: dict[str, BlockQuality]
    summary: CheckSummary
    diagnostics: tuple[Diagnostic, ...]
    timings: dict[str, float]
    #: Blocks drawn again by a repair, and whether each new drawing fits its region.
    redrawn: dict[str, bool] = field(default_factory=dict)
    #: Where each block's final drawing put ink (x0, y0, x1, y1), by block id.
    drawn: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    #: Each block's final drawing: its ink and size, by block id.
    ink: dict[str, DrawnInk] = field(default_factory=dict)


@dataclass
class _Budget:
    seconds: float
    spent: float = 0.0

    def left(self) -> bool:
        return self.spent < self.seconds


@dataclass
class _Canvas:
    """The page being checked: the images and each block's drawing. The images are the stage's
    inputs until a repair is kept: then they are copied once (`writable`) and changed in place."""

    original: np.ndarray
    erased: np.ndarray
    mask: np.ndarray
    out: np.ndarray | None
    renders: dict[str, BlockRender]
    kept: list[Quad]
    #: Ids of the lines the erase stage masked as their whole boxes.
    whole_box: frozenset[str] = frozenset()
    read_back: set[str] = field(default_factory=set)
    copied: bool = False
    #: Per pixel, how many drawings put ink there (alpha > `INK_ALPHA`), and touch it at all.
    inked: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    touched: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.uint8))

    def count(self, render: BlockRender, step: int) -> None:
        """Add (``step`` 1) or take off (-1) a drawing's pixels in `inked` and `touched`."""
        if not self.inked.size:
            self.inked = np.zeros(self.original.shape[:2], np.uint8)
            self.touched = np.zeros(self.original.shape[:2], np.uint8)
        patch = render.drawing.patch
        if patch is None:
            return
        x0, y0, x1, y1 = _patch_window(patch)
        for counts, covered in ((self.inked, patch.alpha > INK_ALPHA), (self.touched, patch.alpha > 0)):
            view = counts[y0:y1, x0:x1]
            if step > 0:
                view += covered.astype(np.uint8)
            else:
                view -= covered.astype(np.uint8)

    def writable(self) -> None:
        """Copy the images before the first change (the stage's inputs are never changed)."""
        if not self.copied:
            self.erased, self.mask = self.erased.copy(), self.mask.copy()
            self.out = None if self.out is None else self.out.copy()
            self.copied = True


def check_page(
    original: np.ndarray,
    erased: np.ndarray,
    mask: np.ndarray,
    out: np.ndarray | None,
    erased_blocks: Sequence[Block],
    renders: Sequence[BlockRender],
    kept: Sequence[Block],
    target: str,
    engines: Engines,
    settings: Settings,
    page_seconds: float,
    whole_box: Collection[str] = (),
) -> CheckResult:
    """Check every block's output and, with ``settings.check.mode == "repair"``, repair it.

    Args:
        original: The input image, RGB uint8.
        erased: The erased image (not modified: the result holds a copy).
        mask: The text mask erased (uint8, 255 at text).
        out: The drawn image (None for a job that only erases).
        erased_blocks: The blocks whose lettering was erased.
        renders: The drawn blocks (`render.draw.block_drawings`), in drawing order.
        kept: Blocks whose text was left as it was (collisions with them count).
        target: The language drawn.
        engines: The page's detector, recogniser and eraser.
        settings: The page's settings (check, render and erase sections).
        page_seconds: The page's time before the check; repairs may take ``check.budget`` of it.
        whole_box: Ids of the lines erased as their whole boxes (`TextMask.fallback_line_ids`):
            their blocks fail `CheckCode.WHOLE_BOX` (reported, not repaired).

    Returns:
        A `CheckResult`; its images are the inputs themselves when no repair was kept, else
        repaired copies (the inputs are never changed).
    """
    start = time.perf_counter()
    budget = _Budget(settings.check.budget * page_seconds if settings.check.mode == "repair" else 0.0)
    canvas = _Canvas(
        original=original,
        erased=erased,
        mask=mask,
        out=out,
        renders={r.block.id: r for r in renders},
        kept=[b.quad for b in kept],
        whole_box=frozenset(whole_box),
    )
    for r in renders:
        canvas.count(r, 1)
    original_renders = dict(canvas.renders)
    styles = {r.block.id: r.style for r in renders}
    quality: dict[str, BlockQuality] = {}
    blocks = list(erased_blocks) + [
        r.block for r in renders if r.block.id not in {b.id for b in erased_blocks}
    ]
    for block in blocks:
        findings = _check_block(canvas, block, target, engines, settings)
        repairs: list[str] = []
        attempts = 0
        if settings.check.mode == "repair" and any(not f.passed for f in findings) and budget.left():
            findings, repairs, attempts = _repair(canvas, block, findings, target, engines, settings, budget)
            if block.id in canvas.renders:
                styles[block.id] = canvas.renders[block.id].style
        quality[block.id] = quality_of(findings, tuple(repairs), attempts)
    # A collision can be mended by a later block's repair (its neighbour drawn smaller, zh01's
    # card): what collided is checked again once every block has had its turn.
    for block in blocks:
        q = quality[block.id]
        if CheckCode.COLLISION in q.failed:
            findings = _check_block(canvas, block, target, engines, settings)
            quality[block.id] = quality_of(findings, q.repairs, q.attempts)
    diagnostics = tuple(
        Diagnostic.of(code, _message(code, q), Severity.WARNING, block_id)
        for block_id, q in quality.items()
        for code in q.failed
    )
    seconds = time.perf_counter() - start
    summary = CheckSummary(
        mode=settings.check.mode,
        blocks=len(quality),
        passed=sum(q.passed for q in quality.values()),
        repaired=sum(bool(q.repairs) for q in quality.values()),
        read_back=len(canvas.read_back),
    )
    return CheckResult(
        image=canvas.out,
        erased=canvas.erased,
        mask=canvas.mask,
        styles=styles,
        quality=quality,
        summary=summary,
        diagnostics=diagnostics,
        timings={"check": seconds - budget.spent, "repair": budget.spent},
        redrawn={
            bid: not r.drawing.layout.overflow
            for bid, r in canvas.renders.items()
            if r is not original_renders.get(bid)
        },
        drawn=drawn_bounds(canvas.renders.values(), INK_ALPHA),
        ink=drawn_ink(canvas.renders.values()),
    )


# -- the checks of one block --------------------------------------------------------------------
def _check_block(
    canvas: _Canvas,
    block: Block,
    target: str,
    engines: Engines,
    settings: Settings,
    render: BlockRender | None = None,
    force_read: bool = False,
) -> list[Finding]:
    """Every check of one block, as it stands on the canvas (or with ``render`` drawn instead)."""
    render = render or canvas.renders.get(block.id)
    findings = [_residue(canvas, block, engines)]
    if render is not None and render.drawing.patch is not None:
        findings += _drawn(canvas, block, render, target, engines, settings, findings[0], force_read)
    findings.append(_damage(canvas, block, render))
    if canvas.whole_box:
        lost = [ln for ln in block.lines if ln.id in canvas.whole_box]
        findings.append(
            whole_box_finding(sum(not on_a_plain_plate(canvas.original, canvas.mask, ln.quad) for ln in lost))
        )
    return findings


def _residue(canvas: _Canvas, block: Block, engines: Engines, erased: np.ndarray | None = None,
             mask: np.ndarray | None = None, window: Window | None = None) -> Finding:  # fmt: skip
    """Residue of one block, on the canvas or on a trial ``erased``/``mask`` of ``window``."""
    win = window or _block_window(block, canvas.original.shape, REGION_GROWTH + 0.2)
    x0, y0, x1, y1 = win
    e = canvas.erased[y0:y1, x0:x1] if erased is None else erased
    m = (canvas.mask[y0:y1, x0:x1] if mask is None else mask) > 0
    region = quads_mask([grow_quad(ln.quad, REGION_GROWTH) for ln in block.lines], win)
    boxes = quads_mask([grow_quad(ln.quad, 0.1) for ln in block.lines], win)
    reach = max(2, round(0.2 * max(ln.quad.height for ln in block.lines))) if block.lines else 2
    near, far = residue_regions(m, boxes, region, reach)
    ink = ink_left(canvas.original[y0:y1, x0:x1], e, m, near, far)
    source = source_script_chars(block.text, block.language)
    if ink <= SUSPICIOUS_INK or not source:
        return residue_finding(None, source, ink)
    page = canvas.erased.copy() if erased is not None else canvas.erased
    if erased is not None:
        page[y0:y1, x0:x1] = erased
    chars = read_residue(engines.recognizer(), page, list(block.lines), block.language)
    return residue_finding(chars, source, ink)


def _drawn(
    canvas: _Canvas,
    block: Block,
    render: BlockRender,
    target: str,
    engines: Engines,
    settings: Settings,
    residue: Finding,
    force_read: bool,
) -> list[Finding]:
    """Fit, collision, contrast and (when suspicious) legibility of one drawing."""
    patch = render.drawing.patch
    assert patch is not None
    win = _patch_window(patch)
    x0, y0, x1, y1 = win
    alpha = _alpha_in(patch, win)
    ink = alpha > INK_ALPHA
    layout = render.drawing.layout
    under = canvas.erased[y0:y1, x0:x1][ink]
    fit = fit_finding(layout.overflow, layout.font_px, settings.render.min_font_px, spill(under))
    others = quads_mask(canvas.kept, win)
    own = canvas.renders.get(block.id)
    own_ink = _alpha_in(own.drawing.patch, win) > INK_ALPHA if own and own.drawing.patch else False
    others |= canvas.inked[y0:y1, x0:x1] > own_ink  # more drawings than its own
    # A pair of drawings that touch is one collision for both (eval counts a pair by the
    # smaller's ink): the larger's own share may stay under the limit (ko01's menu lines).
    pairs = (_pair_share(ink, other, win) for oid, other in canvas.renders.items() if oid != block.id)
    collision = collision_finding(ink, others, max(pairs, default=0.0))
    st = render.style
    contrast = text_contrast(st.text_color, under, st.outline_color, layout.stroke_px)
    contrast_f = contrast_finding(contrast, _source_contrast(canvas, block))
    # Sizes compare within one direction: a vertical source's size is read from its columns'
    # width, which a column merged with its neighbours inflates (OpenMantra 009's bubble).
    source_px = render.style.font_size if layout.direction is block.direction else 0.0
    findings = [fit, size_finding(layout.font_px, source_px), collision, contrast_f]
    busy = float(np.std(under.astype(np.float32) @ np.float32([0.299, 0.587, 0.114]))) if len(under) else 0.0
    suspicious = (
        force_read
        or settings.check.read_back == "all"
        or any(not f.passed for f in findings)
        or not residue.passed
        or contrast < GOOD_CONTRAST
        or busy > BUSY_BACKGROUND
        or layout.font_px <= settings.render.min_font_px + SMALL_MARGIN_PX
    )
    if suspicious and ink.any():
        # Read on the ink's box with room around it (the detector needs some background).
        margin = math.ceil(0.8 * layout.font_px)
        h, w = canvas.original.shape[:2]
        read_win = (max(0, x0 - margin), max(0, y0 - margin), min(w, x1 + margin), min(h, y1 + margin))
        composed = _composed(canvas, read_win, {block.id: render})
        ys, xs = np.nonzero(ink)
        dx, dy = x0 - read_win[0], y0 - read_win[1]
        box = (float(xs.min() + dx), float(ys.min() + dy), float(xs.max() + 1 + dx), float(ys.max() + 1 + dy))
        turns = round(render.style.angle / 90.0) % 4  # text at 90 degrees reads upright after a turn
        own = DrawnInk(patch.x0 - read_win[0], patch.y0 - read_win[1], patch.alpha > 0, layout.font_px)
        under = canvas.erased[read_win[1] : read_win[3], read_win[0] : read_win[2]]
        if render.drawing.curve is not None:  # drawn along an arc: read along it
            shift = np.array([read_win[0], read_win[1]], np.float64)
            read = read_along(engines.recognizer(), composed, render.drawing.curve - shift,
                              read_language(render.text, target), alone=(own, under))  # fmt: skip
        else:
            read = read_back(engines.detector(), engines.recognizer(), composed, box,
                             read_language(render.text, target),
                             turns=turns, min_pad=0.6 * layout.font_px, centred_inside=True,
                             alone=(own, under))  # fmt: skip
        canvas.read_back.add(block.id)
        findings.append(legibility_finding(read, render.text))
    return findings


def _pair_share(ink: np.ndarray, other: BlockRender, win: Window) -> float:
    """The share of the smaller of two drawings' ink that lies on the other's: ``ink`` over
    ``win``, and another block's drawing (as eval's `collisions` counts a pair)."""
    patch = other.drawing.patch
    if patch is None:
        return 0.0
    return ink_overlap((win[0], win[1], ink), (patch.x0, patch.y0, patch.alpha > INK_ALPHA))


def _damage(canvas: _Canvas, block: Block, render: BlockRender | None) -> Finding:
    """Pixels changed in the block's window outside every mask and every drawing."""
    win = _block_window(block, canvas.original.shape, 0.5)
    if render is not None and render.drawing.patch is not None:
        win = _union(win, _patch_window(render.drawing.patch))
    x0, y0, x1, y1 = win
    final = canvas.out if canvas.out is not None else canvas.erased
    allowed = cv2.dilate(canvas.mask[y0:y1, x0:x1], np.ones((3, 3), np.uint8)) > 0
    if canvas.touched.size:
        allowed |= canvas.touched[y0:y1, x0:x1] > 0
    if render is not None and render.drawing.patch is not None:
        allowed |= _alpha_in(render.drawing.patch, win) > 0
    return damage_finding(canvas.original[y0:y1, x0:x1], final[y0:y1, x0:x1], allowed)


def _source_contrast(canvas: _Canvas, block: Block) -> float:
    """The old lettering's contrast with the background erased under it."""
    win = _block_window(block, canvas.original.shape, 0.1)
    x0, y0, x1, y1 = win
    o, e = canvas.original[y0:y1, x0:x1], canvas.erased[y0:y1, x0:x1]
    region = quads_mask([ln.quad for ln in block.lines], win)
    letters = (canvas.mask[y0:y1, x0:x1] > 0) & region
    letters &= np.abs(o.astype(np.int16) - e.astype(np.int16)).max(axis=2) > LETTER_DIFFERENCE
    return lettering_contrast(o[letters], e[letters])


# -- repair --------------------------------------------------------------------------------------
def _repair(
    canvas: _Canvas,
    block: Block,
    findings: list[Finding],
    target: str,
    engines: Engines,
    settings: Settings,
    budget: _Budget,
) -> tuple[list[Finding], list[str], int]:
    """Try the repairs for what failed, keep each that ranks better by the same checks."""
    repairs: list[str] = []
    attempts = 0
    failed = {f.code for f in findings if not f.passed}
    if CheckCode.RESIDUE in failed:
        for name, make in _erase_attempts(canvas, block, engines, settings):
            if not budget.left():
                break
            t0 = time.perf_counter()
            attempts += 1
            trial = make()
            if trial is not None:
                win, erased, mask = trial
                residue = _residue(canvas, block, engines, erased, mask, win)
                if rank([residue]) < rank([findings[0]]):
                    _accept_erase(canvas, win, erased, mask)
                    findings = _check_block(canvas, block, target, engines, settings)
                    repairs.append(name)
            budget.spent += time.perf_counter() - t0
            if findings[0].passed:
                break
    render = canvas.renders.get(block.id)
    drawn_failed = {f.code for f in findings if not f.passed} - {
        CheckCode.RESIDUE,
        CheckCode.DAMAGE,
        CheckCode.SHRUNK,
        CheckCode.WHOLE_BOX,
    }
    if render is None or not drawn_failed:
        return findings, repairs, attempts
    for name, make_render in _draw_attempts(canvas, render, drawn_failed, target, settings):
        if not budget.left():
            break
        t0 = time.perf_counter()
        attempts += 1
        try:
            trial_render = make_render()
        except Exception:  # noqa: BLE001 - a failed attempt is an attempt that did not help
            trial_render = None
        if trial_render is not None and trial_render.drawing.patch is not None:
            trial = _check_block(canvas, block, target, engines, settings, trial_render, force_read=True)
            if CheckCode.ILLEGIBLE not in {f.code for f in findings}:
                # Compare like with like: the first drawing read back too.
                findings = _check_block(canvas, block, target, engines, settings, force_read=True)
            if rank(trial) < rank(findings):
                old = canvas.renders[block.id].drawing.patch
                canvas.count(canvas.renders[block.id], -1)
                canvas.renders[block.id] = trial_render
                canvas.count(trial_render, 1)
                assert old is not None and trial_render.drawing.patch is not None
                _recompose(canvas, _union(_patch_window(old), _patch_window(trial_render.drawing.patch)))
                findings = trial
                repairs.append(name)
        budget.spent += time.perf_counter() - t0
        if all(f.passed for f in findings):
            break
    return findings, repairs, attempts


ErasedTrial = tuple[Window, np.ndarray, np.ndarray]


def _erase_attempts(
    canvas: _Canvas, block: Block, engines: Engines, settings: Settings
) -> list[tuple[str, Callable[[], ErasedTrial | None]]]:
    """Erasing again, each a little wider than the last: the grown mask, the lines' whole boxes,
    then the whole boxes with the other classical eraser."""
    dilate = settings.erase.dilate
    win = _block_window(block, canvas.original.shape, 1.5)
    lines = mask_lines(block.lines)[0]  # a grid's columns by its rows, as the erase stage does

    def grown() -> np.ndarray:
        out = np.zeros((win[3] - win[1], win[2] - win[0]), np.uint8)
        for ln in lines:
            grown_line = grow_quad(ln.quad, 0.15)
            found = line_mask(canvas.original, grown_line, dilate + max(3, round(0.1 * ln.quad.height)))
            if found is None:
                continue
            (y, x), m, _ = found
            _paste_max(out, m, x - win[0], y - win[1])
        return out

    def boxes() -> np.ndarray:
        return np.where(quads_mask([grow_quad(ln.quad, 0.15) for ln in lines], win), 255, 0).astype(np.uint8)

    def attempt(
        make_mask: Callable[[], np.ndarray], eraser: Eraser | None
    ) -> Callable[[], ErasedTrial | None]:
        def run() -> ErasedTrial | None:
            if eraser is None:
                return None
            x0, y0, x1, y1 = win
            mask = np.maximum(canvas.mask[y0:y1, x0:x1], make_mask())
            crop = np.ascontiguousarray(canvas.original[y0:y1, x0:x1])
            erased = eraser.erase(crop, mask)
            # Pixels outside the window's mask keep what the page had (another block's repair).
            erased = np.where(mask[..., None] > 0, erased, canvas.erased[y0:y1, x0:x1])
            return win, erased, mask

        return run

    return [
        ("grow_mask", attempt(grown, engines.eraser)),
        ("box_mask", attempt(boxes, engines.eraser)),
        ("switch_eraser", attempt(boxes, engines.alternative())),
    ]


def _accept_erase(canvas: _Canvas, win: Window, erased: np.ndarray, mask: np.ndarray) -> None:
    x0, y0, x1, y1 = win
    canvas.writable()
    canvas.erased[y0:y1, x0:x1] = erased
    canvas.mask[y0:y1, x0:x1] = mask
    _recompose(canvas, win)


def _draw_attempts(
    canvas: _Canvas, render: BlockRender, failed: set[CheckCode], target: str, settings: Settings
) -> list[tuple[str, Callable[[], BlockRender]]]:
    """Drawing again: other colours, an outline, a grown box, horizontal lines; by what failed."""
    block, st = render.block, render.style
    others = [r.block.quad for r in canvas.renders.values() if r.block.id != block.id] + canvas.kept
    language = drawn_language(render.text, target)

    # Never larger than it was drawn: the renderer may have capped it (headings not smaller
    # than body text), and a repair wants room or colour, not size (but a smaller size
    # where the drawing lies on other text).
    largest = max(settings.render.min_font_px, render.drawing.layout.font_px)

    def draw(
        style: Style, quad: Quad | None = None, vertical: bool | None = None, max_px: int = largest
    ) -> BlockRender:
        b = block if quad is None else replace(block, quad=quad)
        update: dict[str, object] = {"max_font_px": max_px}
        if vertical is not None:
            update["vertical_for_cjk"] = vertical
        rs = settings.render.model_copy(update=update)
        drawing = draw_block(b, render.text, style, rs, target, render.font_spec, canvas.erased.shape[:2],
                             image=canvas.erased, obstacles=others)  # fmt: skip
        return BlockRender(block, render.text, style, render.font_spec, drawing)

    patch = render.drawing.patch
    assert patch is not None
    x0, y0, x1, y1 = _patch_window(patch)
    ink = _alpha_in(patch, (x0, y0, x1, y1)) > INK_ALPHA
    under = canvas.erased[y0:y1, x0:x1][ink] if ink.any() else canvas.erased[y0:y1, x0:x1].reshape(-1, 3)
    bg = tuple(int(v) for v in np.median(under, axis=0)) if len(under) else st.background_color
    plain = legible_on(bg)  # type: ignore[arg-type]
    drawn_px = max(1, render.drawing.layout.font_px)
    width = max(2, math.ceil(2 * st.font_size / drawn_px), round(0.08 * st.font_size))
    recoloured = replace(st, text_color=plain, outline_color=None, outline_width=0)
    outlined = replace(st, outline_color=legible_on(st.text_color), outline_width=width)
    out: list[tuple[str, Callable[[], BlockRender]]] = []
    if failed & {CheckCode.LOW_CONTRAST, CheckCode.ILLEGIBLE}:
        out += [("recolour", lambda: draw(recoloured)), ("outline", lambda: draw(outlined))]
    if failed & {CheckCode.OVERFLOW, CheckCode.COLLISION, CheckCode.ILLEGIBLE}:
        out.append(("grow_box", lambda: draw(st, _grown_box(block))))
        vertical = layout_direction(block.direction, language, settings.render.vertical_for_cjk)
        if vertical == Direction.VERTICAL:
            out.append(("horizontal", lambda: draw(st, vertical=False)))
    if CheckCode.COLLISION in failed:
        # First: a drawing on other text wants less room, and a grown box seldom gives it.
        sizes = sorted(
            {max(settings.render.min_font_px, math.floor(k * largest)) for k in SMALLER_SHARES}, reverse=True
        )
        out[:0] = [("smaller", lambda px=px: draw(st, max_px=px)) for px in sizes if px < largest]
    return out


def _grown_box(block: Block) -> Quad:
    """The block's quad grown across its text (more lines) and a little along it."""
    pts = np.asarray(block.quad.points, np.float64)
    ux = (pts[1] - pts[0]) + (pts[2] - pts[3])
    uy = (pts[3] - pts[0]) + (pts[2] - pts[1])
    ux /= np.linalg.norm(ux) or 1.0
    uy /= np.linalg.norm(uy) or 1.0
    along, across = GROW_ALONG * block.quad.width / 2, GROW_ACROSS * block.quad.height / 2
    signs = ((-1, -1), (1, -1), (1, 1), (-1, 1))
    return Quad.from_list(
        [p + sx * along * ux + sy * across * uy for p, (sx, sy) in zip(pts, signs, strict=True)]
    )


# -- pixels -------------------------------------------------------------------------------------
def _recompose(canvas: _Canvas, win: Window) -> None:
    """The output in ``win`` made again from the erased pixels and every drawing over them."""
    if canvas.out is None:
        return
    canvas.writable()
    assert canvas.out is not None
    x0, y0, x1, y1 = win
    canvas.out[y0:y1, x0:x1] = _composed(canvas, win, {})


def _composed(canvas: _Canvas, win: Window, instead: dict[str, BlockRender]) -> np.ndarray:
    """The output's window composed from the erased image and the drawings (``instead`` replacing some)."""
    x0, y0, x1, y1 = win
    out = canvas.erased[y0:y1, x0:x1].copy()
    for block_id, r in canvas.renders.items():
        patch = instead.get(block_id, r).drawing.patch
        if patch is None:
            continue
        part = _patch_part(patch, win)
        if part is not None:
            composite(out, replace(part, x0=part.x0 - x0, y0=part.y0 - y0))
    return out


def _patch_window(patch: Patch) -> Window:
    h, w = patch.alpha.shape
    return patch.x0, patch.y0, patch.x0 + w, patch.y0 + h


def _patch_part(patch: Patch, win: Window) -> Patch | None:
    """The part of a patch inside a window (image coordinates), or None."""
    px0, py0, px1, py1 = _patch_window(patch)
    x0, y0 = max(px0, win[0]), max(py0, win[1])
    x1, y1 = min(px1, win[2]), min(py1, win[3])
    if x1 <= x0 or y1 <= y0:
        return None
    sl = (slice(y0 - py0, y1 - py0), slice(x0 - px0, x1 - px0))
    return Patch(x0, y0, patch.premul[sl], patch.alpha[sl])


def _alpha_in(patch: Patch, win: Window) -> np.ndarray:
    """The patch's alpha over a window (0 where it does not reach)."""
    x0, y0, x1, y1 = win
    out = np.zeros((y1 - y0, x1 - x0), np.float32)
    part = _patch_part(patch, win)
    if part is not None:
        h, w = part.alpha.shape
        out[part.y0 - y0 : part.y0 - y0 + h, part.x0 - x0 : part.x0 - x0 + w] = part.alpha
    return out


def _block_window(block: Block, shape: tuple[int, ...], heights: float) -> Window:
    """The bounds of a block's lines grown by ``heights`` line heights, inside the image."""
    quads = [ln.quad for ln in block.lines] or [block.quad]
    pad = heights * max(q.height for q in quads)
    xs = [p[0] for q in quads for p in q.points]
    ys = [p[1] for q in quads for p in q.points]
    h, w = shape[:2]
    x0, y0 = max(0, math.floor(min(xs) - pad)), max(0, math.floor(min(ys) - pad))
    x1, y1 = min(w, math.ceil(max(xs) + pad) + 1), min(h, math.ceil(max(ys) + pad) + 1)
    return x0, y0, max(x0 + 1, x1), max(y0 + 1, y1)


def _union(a: Window, b: Window) -> Window:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _paste_max(out: np.ndarray, m: np.ndarray, x: int, y: int) -> None:
    """``out = max(out, m)`` with ``m`` placed at (x, y), clipped to ``out``."""
    h, w = out.shape
    mh, mw = m.shape
    xa, ya, xb, yb = max(0, x), max(0, y), min(w, x + mw), min(h, y + mh)
    if xb <= xa or yb <= ya:
        return
    view = out[ya:yb, xa:xb]
    np.maximum(view, m[ya - y : yb - y, xa - x : xb - x], out=view)


def _message(code: CheckCode, q: BlockQuality) -> str:
    """One line for a person: what failed, with its figure, and that repair did not mend it."""
    v = q.values
    tried = f" ({q.attempts} repair attempt(s) did not mend it)" if q.attempts else ""
    text = {
        CheckCode.RESIDUE: f"{v.get('residue_chars', 0):.0f} source-script character(s) still read after erasing",
        CheckCode.ILLEGIBLE: f"the drawn translation reads back with CER {v.get('legibility_cer', 0):.2f}",
        CheckCode.OVERFLOW: f"the translation does not fit its region at {v.get('font_px', 0):.0f} px",
        CheckCode.SHRUNK: f"the translation is drawn at {v.get('font_px', 0):.0f} px, under {SHRUNK_SHARE:g} of "
        f"its source lettering's {v.get('source_px', 0):.0f} px",
        CheckCode.COLLISION: f"{100 * v.get('collision', 0):.0f}% of the drawn text lies on other text",
        CheckCode.LOW_CONTRAST: f"the drawn text's contrast with its background is {v.get('contrast', 0):.1f}:1",
        CheckCode.DAMAGE: f"{100 * v.get('damage', 0):.1f}% of the pixels around the block changed outside its mask",
        CheckCode.WHOLE_BOX: f"{v.get('whole_box_lines', 0):.0f} line(s) erased as their whole box; the fill "
        "may smear what else the box held",
    }[code]
    return text + tried
