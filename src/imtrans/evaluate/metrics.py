"""Evaluation metrics as pure functions, plus small accumulators with `update` / `summary`.

Every function here takes plain values (strings, `Quad`s, uint8 arrays) and returns a number or a
small record, so each can be tested as a golden table. The accumulators sum a dataset's worth of
results; their `summary()` is a flat `dict[str, float]` that a report can print as it is.

Conventions:
    * Text is compared after `normalise_text` (NFKC, CJK-aware whitespace).
    * Geometry is polygon geometry (shapely): a quad's area is its polygon's area.
    * 0/0 follows the ICDAR Robust Reading convention (see `prf`); an undefined mean is NaN.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely  # type: ignore[import-untyped]
from rapidfuzz.distance import Levenshtein
from sacrebleu.metrics import BLEU, CHRF
from shapely.geometry import Polygon  # type: ignore[import-untyped]

from imtrans.languages import script_counts
from imtrans.types import Quad

#: PSNR of two identical images (the true value is infinite).
PSNR_CAP = 100.0

# ---------------------------------------------------------------------------------------------
# Text


def _no_space_char(ch: str) -> bool:
    """Han, kana, or CJK / fullwidth punctuation: characters written without word spaces."""
    o = ord(ch)
    if 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x2FA1F:
        return not ch.isspace()
    c = script_counts(ch)
    return bool(c["han"] or c["kana"])


_SPACES = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Normalise a text before comparing it.

    NFKC (fullwidth letters and digits become ASCII, halfwidth kana become fullwidth); whitespace
    next to a Han, kana or CJK punctuation character is removed (Japanese and Chinese have no word
    spaces, so a space there is layout, not text); Hangul keeps its word spaces; any other run of
    whitespace becomes one space; leading and trailing whitespace goes.

    Args:
        text: Any text.

    Returns:
        The normalised text.

    Examples:
        >>> normalise_text("葬儀屋 さん\\n")
        '葬儀屋さん'
        >>> normalise_text("시청  방면")
        '시청 방면'
    """
    t = unicodedata.normalize("NFKC", text).strip()

    def repl(m: re.Match[str]) -> str:
        before = t[m.start() - 1] if m.start() > 0 else ""
        after = t[m.end()] if m.end() < len(t) else ""
        if (before and _no_space_char(before)) or (after and _no_space_char(after)):
            return ""
        return " "

    return _SPACES.sub(repl, t)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions, each costing 1), on raw text."""
    return int(Levenshtein.distance(a, b))


def cer(hyp: str, ref: str) -> float:
    """Character error rate of one text: edits / reference length, after `normalise_text`.

    An empty reference counts as length 1, so `cer("ab", "") == 2.0` and `cer("", "") == 0.0`.
    The value is not capped at 1.
    """
    h, r = normalise_text(hyp), normalise_text(ref)
    return edit_distance(h, r) / max(1, len(r))


def normalised_edit_distance(hyp: str, ref: str) -> float:
    """Edits / length of the longer text, after `normalise_text`: in [0, 1], 0 when both are empty."""
    h, r = normalise_text(hyp), normalise_text(ref)
    return edit_distance(h, r) / max(len(h), len(r), 1)


def source_script_chars(text: str, source_language: str) -> int:
    """Characters of `text` written in the source language's script.

    Counts Hangul for ko, kana and Han for ja, Han for zh, Cyrillic for ru, and Latin letters
    (Basic Latin to Latin Extended-B, and Latin Extended Additional) for every other language.
    Used to find source text left behind in a translated image.

    Args:
        text: Text read from an image.
        source_language: ISO 639-1 code; a region suffix ("zh-Hant", "pt_BR") is ignored.
    """
    lang = source_language.strip().lower().replace("_", "-").split("-")[0]
    if lang in ("ko", "ja", "zh"):
        c = script_counts(text)
        return {"ko": c["hangul"], "ja": c["kana"] + c["han"], "zh": c["han"]}[lang]
    if lang == "ru":
        return sum(1 for ch in text if ch.isalpha() and 0x0400 <= ord(ch) <= 0x04FF)
    return sum(1 for ch in text if ch.isalpha() and (ord(ch) < 0x250 or 0x1E00 <= ord(ch) <= 0x1EFF))


# ---------------------------------------------------------------------------------------------
# Geometry


def quad_polygon(q: Quad) -> Polygon:
    """The quad as a polygon; a self-crossing quad (corners out of order) becomes its convex hull.

    `buffer(0)` would keep only one lobe of a bow-tie, a quarter of the rectangle that was meant.
    """
    p = Polygon(q.points)
    return p if p.is_valid else p.convex_hull


def _polygons(quads: Sequence[Quad]) -> np.ndarray:
    return np.array([quad_polygon(q) for q in quads], dtype=object)


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU and intersection areas, shape (len(a), len(b))."""
    if len(a) == 0 or len(b) == 0:
        z = np.zeros((len(a), len(b)))
        return z, z
    inter = shapely.area(shapely.intersection(a[:, None], b[None, :]))
    union = shapely.area(a)[:, None] + shapely.area(b)[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou, inter


def quad_iou(a: Quad, b: Quad) -> float:
    """Intersection over union of two quads as polygons (a self-crossing quad counts as its hull).

    Returns 0.0 when both have zero area.
    """
    iou, _ = _iou_matrix(_polygons([a]), _polygons([b]))
    return float(iou[0, 0])


@dataclass(frozen=True)
class Matching:
    """A one-to-one matching of predicted quads to ground-truth quads.

    Attributes:
        pairs: (pred index, truth index) of each true positive, by pred index.
        missed: Truth indices left unmatched (ignored truth is never missed).
        false: Pred indices left unmatched that do not lie on ignored truth.
        ignored: Pred indices that matched or lie on ignored truth: neither true nor false.
    """

    pairs: list[tuple[int, int]]
    missed: list[int]
    false: list[int]
    ignored: list[int] = field(default_factory=list)

    @property
    def tp(self) -> int:
        return len(self.pairs)

    @property
    def n_pred(self) -> int:
        """Predictions that count: true positives and false ones (ignored ones do not count)."""
        return len(self.pairs) + len(self.false)

    @property
    def n_true(self) -> int:
        """Truth that counts: matched and missed (ignored truth does not count)."""
        return len(self.pairs) + len(self.missed)


def match_quads(
    pred: Sequence[Quad],
    truth: Sequence[Quad],
    *,
    iou: float = 0.5,
    ignore: Sequence[bool] | None = None,
) -> Matching:
    """Match predictions to truth one-to-one, greedily by descending IoU.

    Every (pred, truth) pair with IoU >= `iou` is a candidate, ignored truth included; the best
    remaining pair is taken first (ties: lower pred index, then lower truth index). A prediction
    taken by an ignored truth, or left unmatched with at least half of its area inside an ignored
    truth (ICDAR's "don't care" rule), is neither a true nor a false positive.

    Args:
        pred: Predicted quads.
        truth: Ground-truth quads.
        iou: Minimum IoU of a match.
        ignore: Per truth quad, True for "don't care" regions (ICDAR "###").

    Returns:
        The matching.
    """
    ign = [False] * len(truth) if ignore is None else [bool(x) for x in ignore]
    if len(ign) != len(truth):
        raise ValueError(f"ignore has {len(ign)} flags for {len(truth)} truth quads")
    pp, tp_ = _polygons(pred), _polygons(truth)
    ious, inter = _iou_matrix(pp, tp_)
    cand = [(-float(ious[i, j]), i, j) for i, j in zip(*np.nonzero(ious >= iou), strict=True)]
    cand.sort()
    used_p: set[int] = set()
    used_t: set[int] = set()
    pairs: list[tuple[int, int]] = []
    ignored: set[int] = set()
    for _, i, j in cand:
        if i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        if ign[j]:
            ignored.add(int(i))
        else:
            pairs.append((int(i), int(j)))
    false: list[int] = []
    areas = shapely.area(pp) if len(pp) else np.zeros(0)
    ign_cols = [j for j, f in enumerate(ign) if f]
    for i in range(len(pred)):
        if i in used_p:
            continue
        a = float(areas[i])
        if ign_cols and a > 0 and max(float(inter[i, j]) for j in ign_cols) >= 0.5 * a:
            ignored.add(i)
        else:
            false.append(i)
    missed = [j for j in range(len(truth)) if j not in used_t and not ign[j]]
    return Matching(pairs=sorted(pairs), missed=missed, false=false, ignored=sorted(ignored))


def prf(tp: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    """Precision, recall and their harmonic mean (H-mean, F1).

    Empty cases follow the ICDAR Robust Reading evaluation: with nothing true, recall is 1.0 and
    precision is 1.0 if nothing was predicted, else 0.0; with something true and nothing predicted,
    precision is 0.0. The H-mean is 0.0 when precision and recall are both 0.

    Raises:
        ValueError: tp is negative or exceeds n_pred or n_true.
    """
    if tp < 0 or tp > n_pred or tp > n_true:
        raise ValueError(f"inconsistent counts: tp={tp}, n_pred={n_pred}, n_true={n_true}")
    if n_true == 0:
        recall = 1.0
        precision = 1.0 if n_pred == 0 else 0.0
    else:
        recall = tp / n_true
        precision = tp / n_pred if n_pred else 0.0
    hmean = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, hmean


def coverage(pred: Sequence[Quad], truth: Sequence[Quad]) -> list[float]:
    """Per truth quad, the share of its area covered by the union of the predicted quads.

    Returns NaN for a truth quad of zero area.
    """
    tt = _polygons(truth)
    if len(tt) == 0:
        return []
    union = shapely.union_all(_polygons(pred)) if len(pred) else Polygon()
    areas = shapely.area(tt)
    covered = shapely.area(shapely.intersection(tt, union))
    return [float(c / a) if a > 0 else math.nan for c, a in zip(covered, areas, strict=True)]


def collisions(inks: Sequence[tuple[int, int, np.ndarray]], *, min_share: float = 0.02) -> int:
    """Number of pairs of drawings whose ink overlaps by more than `min_share` of the smaller's.

    Args:
        inks: ``(x0, y0, mask)`` per drawing: a bool mask of where it put ink, its window's
            top-left corner in the image.
        min_share: Overlapping ink pixels, as a share of the smaller drawing's ink, above
            which a pair collides. (Drawn blocks' boxes overlap on any packed menu; their
            ink does not unless one is drawn over the other.)
    """
    return sum(
        ink_overlap(inks[i], inks[j]) > min_share for i in range(len(inks)) for j in range(i + 1, len(inks))
    )


def ink_overlap(a: tuple[int, int, np.ndarray], b: tuple[int, int, np.ndarray]) -> float:
    """The share of the smaller of two drawings' ink that lies on the other's; each drawing
    ``(x0, y0, mask)`` as in `collisions` (0 when they do not meet or one has no ink)."""
    (xa, ya, ma), (xb, yb, mb) = a, b
    x0, y0 = max(xa, xb), max(ya, yb)
    x1, y1 = min(xa + ma.shape[1], xb + mb.shape[1]), min(ya + ma.shape[0], yb + mb.shape[0])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    both = int((ma[y0 - ya : y1 - ya, x0 - xa : x1 - xa] & mb[y0 - yb : y1 - yb, x0 - xb : x1 - xb]).sum())
    smaller = min(int(ma.sum()), int(mb.sum()))
    return both / smaller if both and smaller else 0.0


def residue_chars(
    regions: Sequence[tuple[Sequence[Quad], str]],
    found: Sequence[tuple[Quad, str]],
    *,
    margin: float = 4.0,
    unscored: Sequence[Quad] = (),
) -> list[int]:
    """Per true block, the source-script characters read again on its text after erasing.

    A block's text lies in its quads: its lines' where the truth has lines (so a logo's
    letter between two true lines, never text to erase, is not counted), else the block's
    own. A line read from the erased image belongs to every block with a quad holding its
    centre (the quads grown by `margin` px, for detector boxes that sit a little off the
    truth); its characters are counted in that block's language with `source_script_chars`.
    A line centred in an `unscored` quad (text whose truth is not known, such as an illegible
    line inside a block) counts nowhere: the true characters it would be weighed against are
    not counted either.

    Args:
        regions: ``(quads, language)`` per true block.
        found: ``(quad, text)`` per line read from the erased image.
        margin: Pixels the quads are grown by.
        unscored: Quads where what is read is not scored.
    """
    centres = [quad_polygon(q).centroid for q, _ in found]
    holes = [quad_polygon(q) for q in unscored]
    scored = [not any(h.contains(c) for h in holes) for c in centres]
    out = []
    for quads, lang in regions:
        areas = [quad_polygon(q).buffer(margin) for q in quads]
        out.append(sum(source_script_chars(text, lang)
                       for c, ok, (_, text) in zip(centres, scored, found, strict=True)
                       if ok and any(a.contains(c) for a in areas)))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# Images


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")


def _mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    m = np.asarray(mask) > 0
    if m.shape != shape[:2] and m.shape != shape:
        raise ValueError(f"mask of shape {m.shape} does not fit an image of shape {shape}")
    if m.ndim == 2 and len(shape) == 3:
        m = np.repeat(m[:, :, None], shape[2], axis=2)
    return m


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB (data range 255).

    Args:
        a: An image, (H, W) or (H, W, C) uint8.
        b: Another of the same shape.
        mask: Optional (H, W) or same-shape mask, bool or 0/255: only pixels inside count.

    Returns:
        The PSNR, capped at `PSNR_CAP` (100 dB, also the value for identical images); NaN when
        the mask is empty.
    """
    from skimage.metrics import mean_squared_error, peak_signal_noise_ratio

    _check_pair(a, b)
    if mask is None:
        mse = float(mean_squared_error(a, b))
        if mse == 0:
            return PSNR_CAP
        return min(PSNR_CAP, float(peak_signal_noise_ratio(a, b, data_range=255)))
    m = _mask(mask, a.shape)
    if not m.any():
        return math.nan
    d = a[m].astype(np.float64) - b[m].astype(np.float64)
    mse = float(np.mean(d * d))
    if mse == 0:
        return PSNR_CAP
    return min(PSNR_CAP, 10 * math.log10(255.0**2 / mse))


def ghost_slope(erased: np.ndarray, clean: np.ndarray, original: np.ndarray, mask: np.ndarray,
                min_difference: int = 30) -> float:  # fmt: skip
    """How much of the lettering an eraser left in its fill: 0 = no trace, 1 = letters kept.

    Over the letters' own pixels (inside ``mask``, where ``original`` differs from ``clean`` by
    more than ``min_difference`` levels in some channel), the least-squares slope of the fill's
    error (``erased - clean``) on the letters' difference (``original - clean``). An eraser
    that reads the pixels under the mask can leave faint "ghosts" of large letters that OCR
    does not read; this catches them where a clean background is known (synthetic data).

    Args:
        erased: The eraser's output, uint8 (H, W) or (H, W, C).
        clean: The true background, same shape.
        original: The image with its text, same shape.
        mask: (H, W) mask the eraser filled, bool or 0/255.
        min_difference: Levels (0-255) by which a pixel must differ from the background to
            count as a letter pixel (below it, blur and JPEG fringe).

    Returns:
        The slope; NaN when there are no letter pixels.
    """
    _check_pair(erased, clean)
    _check_pair(original, clean)
    m = _mask(mask, clean.shape)
    letter = original.astype(np.int16) - clean.astype(np.int16)
    far = np.abs(letter) if letter.ndim == 2 else np.abs(letter).max(axis=2, keepdims=True)
    sel = m & (far > min_difference)
    if not sel.any():
        return math.nan
    x = letter[sel].astype(np.float64)
    y = erased[sel].astype(np.float64) - clean[sel].astype(np.float64)
    return float((x * y).sum() / (x * x).sum())


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Structural similarity of two uint8 images (skimage, 7x7 window, data range 255).

    Colour images are compared per channel (`channel_axis=-1`). With a mask, the result is the
    mean of the full SSIM map over the pixels inside it (NaN when the mask is empty); without, the
    mean over the whole image. Images smaller than 7 pixels on a side use a smaller odd window.

    Raises:
        ValueError: shapes differ or a side is shorter than 3 pixels.
    """
    from skimage.metrics import structural_similarity

    _check_pair(a, b)
    side = min(a.shape[0], a.shape[1])
    win = min(7, side if side % 2 else side - 1)
    if win < 3:
        raise ValueError(f"image of shape {a.shape} is too small for SSIM")
    channel_axis = -1 if a.ndim == 3 else None
    mean, smap = structural_similarity(
        a, b, data_range=255, channel_axis=channel_axis, full=True, win_size=win
    )
    if mask is None:
        return float(mean)
    m = _mask(mask, a.shape)
    if not m.any():
        return math.nan
    return float(np.mean(smap[m]))


# ---------------------------------------------------------------------------------------------
# Style (the lettering's size, colour, outline and angle, as `imtrans.render` estimates them)


def colour_difference(a: Sequence[int], b: Sequence[int]) -> float:
    """CIEDE2000 difference of two sRGB colours (0-255 per channel).

    About 2 is barely visible side by side; above about 10 reads as another colour.
    """
    from skimage.color import deltaE_ciede2000, rgb2lab

    lab = rgb2lab(np.array([[a, b]], dtype=np.float64) / 255.0)
    return float(deltaE_ciede2000(lab[0, 0], lab[0, 1]))


def angle_difference(a: float, b: float) -> float:
    """Absolute difference of two angles in degrees, in [0, 180]."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


@dataclass(frozen=True)
class StyleAgreement:
    """One block's estimated style against the true one.

    Attributes:
        size_ratio: Estimated font size / true font size (px per em; 1 is exact).
        text_colour: CIEDE2000 between the estimated and true text colour.
        outline_agrees: Both have an outline or neither has.
        angle_error: Degrees between the estimated and true angle.
    """

    size_ratio: float
    text_colour: float
    outline_agrees: bool
    angle_error: float


def style_agreement(
    font_size: float,
    text_color: Sequence[int],
    has_outline: bool,
    angle: float,
    truth: dict[str, object],
) -> StyleAgreement:
    """Compare an estimated style with a true one as `imtrans synth` records it (``font_size``,
    ``text_color``, ``outline_width``, ``angle``)."""
    true_size = float(truth["font_size"])  # type: ignore[arg-type]
    return StyleAgreement(
        size_ratio=font_size / true_size if true_size > 0 else math.nan,
        text_colour=colour_difference(text_color, truth["text_color"]),  # type: ignore[arg-type]
        outline_agrees=has_outline == bool(truth.get("outline_width")),
        angle_error=angle_difference(angle, float(truth.get("angle", 0.0))),  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------------
# Translation


@dataclass(frozen=True)
class Score:
    """A corpus-level score and sacrebleu's signature of how it was computed."""

    value: float
    signature: str


def bleu_tokenizer(target: str) -> str:
    """The sacrebleu tokenizer for a target language: zh for Chinese, char for Japanese and
    Korean (ja-mecab and ko-mecab need extra packages, flores needs a download), 13a otherwise."""
    lang = target.strip().lower().replace("_", "-").split("-")[0]
    return {"zh": "zh", "ja": "char", "ko": "char"}.get(lang, "13a")


def _check_corpus(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses for {len(refs)} references")


def corpus_bleu(hyps: Sequence[str], refs: Sequence[str], target: str) -> Score:
    """Corpus BLEU (sacrebleu defaults, one reference per segment), tokenised for `target`.

    Returns NaN with the signature for an empty corpus.

    Raises:
        ValueError: The lists differ in length.
    """
    _check_corpus(hyps, refs)
    return _score(BLEU(tokenize=bleu_tokenizer(target)), hyps, refs)


def corpus_chrf(hyps: Sequence[str], refs: Sequence[str]) -> Score:
    """Corpus chrF (sacrebleu defaults: character 6-grams, beta 2, no word n-grams).

    Returns NaN with the signature for an empty corpus.

    Raises:
        ValueError: The lists differ in length.
    """
    _check_corpus(hyps, refs)
    return _score(CHRF(), hyps, refs)


def _score(metric: BLEU | CHRF, hyps: Sequence[str], refs: Sequence[str]) -> Score:
    if not hyps:
        # sacrebleu fills its signature (nrefs) while scoring: score a dummy pair for it.
        metric.corpus_score(["x"], [["x"]])
        return Score(value=math.nan, signature=str(metric.get_signature()))
    value = metric.corpus_score(list(hyps), [list(refs)]).score
    return Score(value=float(value), signature=str(metric.get_signature()))


# ---------------------------------------------------------------------------------------------
# Accumulators


@dataclass
class DetectionAccumulator:
    """Sums matchings over a dataset; `summary` gives micro-averaged precision, recall, H-mean."""

    tp: int = 0
    n_pred: int = 0
    n_true: int = 0

    def update(self, matching: Matching) -> None:
        """Add one image's matching (ignored predictions and truth do not count)."""
        self.tp += matching.tp
        self.n_pred += matching.n_pred
        self.n_true += matching.n_true

    def summary(self) -> dict[str, float]:
        p, r, h = prf(self.tp, self.n_pred, self.n_true)
        return {
            "precision": p,
            "recall": r,
            "hmean": h,
            "tp": float(self.tp),
            "n_pred": float(self.n_pred),
            "n_true": float(self.n_true),
        }


@dataclass
class TextAccumulator:
    """Sums recognition results: corpus CER, exact-match rate, mean normalised edit distance."""

    edits: int = 0
    ref_chars: int = 0
    exact: int = 0
    ned_sum: float = 0.0
    n: int = 0

    def update(self, hyp: str, ref: str) -> None:
        """Add one (hypothesis, reference) pair; both are normalised with `normalise_text`."""
        h, r = normalise_text(hyp), normalise_text(ref)
        e = edit_distance(h, r)
        self.edits += e
        self.ref_chars += len(r)
        self.exact += h == r
        self.ned_sum += e / max(len(h), len(r), 1)
        self.n += 1

    def summary(self) -> dict[str, float]:
        """cer = total edits / total reference characters; exact and ned are means over pairs.

        All NaN (and n 0) before the first update.
        """
        if not self.n:
            return {"cer": math.nan, "exact": math.nan, "ned": math.nan, "n": 0.0}
        return {
            "cer": self.edits / max(1, self.ref_chars),
            "exact": self.exact / self.n,
            "ned": self.ned_sum / self.n,
            "n": float(self.n),
        }


@dataclass
class MeanAccumulator:
    """Collects values (NaN and None are skipped); `summary` gives mean, median and count."""

    values: list[float] = field(default_factory=list)

    def update(self, value: float | None) -> None:
        if value is None or math.isnan(value):
            return
        self.values.append(float(value))

    def summary(self) -> dict[str, float]:
        if not self.values:
            return {"mean": math.nan, "median": math.nan, "n": 0.0}
        return {
            "mean": statistics.fmean(self.values),
            "median": float(statistics.median(self.values)),
            "n": float(len(self.values)),
        }
