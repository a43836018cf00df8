"""Training crops for the learned eraser, from `imtrans synth` dataset directories.

Each crop is centred on a text line (a random point along it when training, its centre
when validating) and carries three aligned arrays:

* ``image``: what the pipeline sees (text drawn, blurred, noisy, maybe JPEG);
* ``target``: the exact clean background under the same degradation (``backgrounds/``);
* ``mask``: the sample's text mask grown by `DILATE` px, as the pipeline's
  ``erase.dilate`` grows its own (and the synth mask is pre-degradation: the blur
  spreads ink about 2 px further).

The split (`SplitRule`) keeps the held-out set honest: fonts and photos are hashed into
"held out" buckets, and a crop is held-out only if its sample comes from a held-out seed,
its photo is held out and its block's font is held out; it is a training crop only if
none of the three holds. Everything else is used by neither side, so no held-out font
or photo is ever seen in training.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from imtrans.evaluate.dataset import Sample, read_manifest

#: Mask growth in px (the pipeline's default ``erase.dilate``).
DILATE = 2


@dataclass(frozen=True)
class SplitRule:
    """Which crops are training and which held-out data.

    ``held_out(name)`` is true when the first 8 hex digits of ``sha256(salt + ":" + name)``,
    read as a number in [0, 1), fall below the share. Photos are named by
    ``meta["photo"]`` (e.g. ``gravel``), fonts by the block style's ``font`` (the file name),
    so every language drawn from one font file (the Noto CJK collections serve ja, ko and zh)
    shares its fate. The default salt was picked among the first hundred so that, with the
    photos and fonts installed in 2026-11 (22 photos, 37 + 16 + 4 font files), the held-out
    side gets 6 photos (gravel, coins, hubble_deep_field, Garden, Storm, Wood) and at least
    one font of every language (ja and zh: NotoSerifCJK-Regular.ttc).

    Attributes:
        test_seeds: Synth seeds whose samples may be held out; all others may be training.
        photo_share: Share of photo names held out.
        font_share: Share of font names held out.
        salt: Changes the buckets without changing the shares.
    """

    test_seeds: tuple[int, ...] = (2,)
    photo_share: float = 0.25
    font_share: float = 0.25
    salt: str = "imtrans-eraser-16"

    def _held(self, name: str, share: float) -> bool:
        h = hashlib.sha256(f"{self.salt}:{name}".encode()).hexdigest()
        return int(h[:8], 16) / 2**32 < share

    def held_out_photo(self, photo: str) -> bool:
        return self._held(photo, self.photo_share)

    def held_out_font(self, font: str) -> bool:
        return self._held(font, self.font_share)

    def side(self, seed: int, photo: str, font: str) -> str | None:
        """``"train"``, ``"test"`` or None (the crop belongs to neither split)."""
        test_seed = seed in self.test_seeds
        held_photo, held_font = self.held_out_photo(photo), self.held_out_font(font)
        if test_seed and held_photo and held_font:
            return "test"
        if not (test_seed or held_photo or held_font):
            return "train"
        return None


@dataclass(frozen=True)
class LineRef:
    """One text line of one sample: where to centre a crop."""

    sample: int
    quad: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class _Entry:
    root: Path
    sample: Sample


#: Line height (px) that crops show text at; larger lettering is scaled down to it.
LINE_PX = 32.0


def _font_of(block_style: dict[str, object]) -> str:
    return str(block_style.get("font", "")).split("#")[0]


def index_lines(
    dirs: Iterable[Path], side: str, rule: SplitRule | None = None
) -> tuple[list[_Entry], list[LineRef]]:
    """The samples and lines of ``dirs`` that fall in split ``side`` (``"train"`` or ``"test"``).

    Args:
        dirs: `imtrans synth` output directories (each with a ``manifest.jsonl``).
        side: Which split to keep; ``"all"`` keeps every line (no split).
        rule: The split rule; `SplitRule()` by default.
    """
    rule = rule or SplitRule()
    entries: list[_Entry] = []
    lines: list[LineRef] = []
    for d in dirs:
        data = read_manifest(Path(d))
        for sample in data.samples:
            if sample.background is None or sample.mask is None:
                continue
            seed = int(sample.meta.get("seed", -1))
            photo = str(sample.meta.get("photo", ""))
            mine = []
            for block in sample.blocks:
                if side != "all" and rule.side(seed, photo, _font_of(block.style)) != side:
                    continue
                mine += [tuple(map(tuple, ln.quad)) for ln in block.lines if not ln.ignore]
            if mine:
                entries.append(_Entry(data.root, sample))
                lines += [LineRef(len(entries) - 1, q) for q in mine]  # type: ignore[arg-type]
    return entries, lines


def _read_rgb(path: Path) -> np.ndarray:
    a = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if a is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(a, cv2.COLOR_BGR2RGB)


def grow_mask(mask: np.ndarray, dilate: int = DILATE) -> np.ndarray:
    """Grow a uint8 mask by ``dilate`` px with an elliptical kernel (as `imtrans.erase.mask`)."""
    if dilate <= 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
    return cv2.dilate(mask, kernel)


def _origin(shape: tuple[int, ...], cx: float, cy: float, side: int) -> tuple[int, int]:
    """Top-left (x0, y0) of a ``side`` window centred near (cx, cy), shifted inside the image
    when it fits, centred on the image where the image is smaller."""
    h, w = shape[:2]
    x0 = round(cx - side / 2)
    y0 = round(cy - side / 2)
    x0 = min(max(x0, 0), w - side) if w >= side else -((side - w) // 2)
    y0 = min(max(y0, 0), h - side) if h >= side else -((side - h) // 2)
    return x0, y0


def _window(arr: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """The ``side`` x ``side`` window at (x0, y0), reflect-padded where it leaves the image."""
    h, w = arr.shape[:2]
    top, left = max(0, -y0), max(0, -x0)
    bottom, right = max(0, y0 + side - h), max(0, x0 + side - w)
    crop = arr[max(0, y0) : min(h, y0 + side), max(0, x0) : min(w, x0 + side)]
    if top or left or bottom or right:
        crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    return crop


class EraserCrops(Dataset):
    """Crops centred on text lines of synth datasets, as float tensors for the eraser.

    Items are dicts of ``image`` and ``target`` (3, S, S) in [-1, 1] and ``mask`` (1, S, S)
    in {0, 1}. With ``train=True`` every item is a fresh random crop of a random point of
    its line, scale-jittered, flipped / transposed and colour-jittered identically for image
    and target; with ``train=False`` the crop is the line's centre, unchanged, so held-out
    metrics are comparable from run to run.

    Args:
        dirs: Synth output directories.
        side: ``"train"``, ``"test"`` or ``"all"`` (see `SplitRule`).
        size: Crop side in px (a multiple of 8).
        train: Random crops and augmentations.
        rule: The split rule.
        dilate: Mask growth in px.
        seed: Seed of the augmentation stream (each item also mixes in its index and a
            counter of items drawn, so epochs differ but runs repeat).
        cache_mb: Decoded samples are kept in memory up to this size (least recently used
            dropped first): decoding three PNGs costs ~80 ms, a training step ~0.1 s per crop.
        box_prob: Share of training crops whose centre line is masked as a whole (grown)
            box, like the pipeline's fallback mask on busy backgrounds.
        flat_keep: Share of random crops kept when `is_textured` says their background is
            flat (the others are redrawn, up to 4 times): 1 keeps all.
    """

    def __init__(
        self,
        dirs: Sequence[Path],
        side: str,
        size: int = 128,
        train: bool = True,
        rule: SplitRule | None = None,
        dilate: int = DILATE,
        seed: int = 0,
        cache_mb: float = 3072,
        box_prob: float = 0.1,
        flat_keep: float = 1.0,
    ) -> None:
        if size % 8:
            raise ValueError(f"crop size must be a multiple of 8, got {size}")
        self.entries, self.lines = index_lines(dirs, side, rule)
        self.size, self.train, self.dilate, self.seed = size, train, dilate, seed
        self._draws = 0
        self.box_prob = box_prob
        self.flat_keep = flat_keep
        self.cache_bytes = int(cache_mb * 2**20)
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._cached = 0

    def __len__(self) -> int:
        return len(self.lines)

    def _load(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if k in self._cache:
            self._cache.move_to_end(k)
            return self._cache[k]
        entry = self.entries[k]
        s = entry.sample
        image = _read_rgb(entry.root / s.image)
        target = _read_rgb(entry.root / s.background)  # type: ignore[operator]
        mask = cv2.imread(str(entry.root / s.mask), cv2.IMREAD_GRAYSCALE)  # type: ignore[operator]
        if mask is None:
            raise FileNotFoundError(entry.root / s.mask)  # type: ignore[operator]
        arrays = (image, target, mask)
        self._cache[k] = arrays
        self._cached += sum(a.nbytes for a in arrays)
        while self._cached > self.cache_bytes and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached -= sum(a.nbytes for a in old)
        return arrays

    def crop(
        self, index: int, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The uint8 arrays (image, target, mask) of one crop, before tensor conversion."""
        ref = self.lines[index]
        image, target, mask = self._load(ref.sample)
        q = np.asarray(ref.quad, np.float64)
        # Large lettering is seen at about LINE_PX high, as the backend downscales thick holes:
        # at native scale a 90 px line fills a 128 px crop and leaves no context to fill from.
        fit = max(1.0, float(np.linalg.norm(q[3] - q[0])) / LINE_PX)
        if rng is None:
            cx, cy = q.mean(axis=0)
            scale = fit
        else:
            # A random point of the line (so long lines are covered end to end), jittered.
            a, b = rng.random(2)
            top = q[0] + a * (q[1] - q[0])
            bottom = q[3] + a * (q[2] - q[3])
            cx, cy = top + b * (bottom - top) + rng.uniform(-0.2, 0.2, 2) * self.size
            scale = fit * float(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
        side = max(8, round(self.size * scale))
        x0, y0 = _origin(image.shape, cx, cy, side)
        d = self.dilate
        m = grow_mask(_window(mask, x0 - d, y0 - d, side + 2 * d), d)[d : d + side, d : d + side]
        if rng is not None and rng.random() < self.box_prob:
            # The pipeline masks a whole line box when it cannot separate text from a busy
            # background: train on such holes too.
            box = np.zeros_like(m)
            cv2.fillPoly(box, [np.round((q - (x0, y0)) * 16).astype(np.int32)], 255, shift=4)
            m = np.maximum(m, grow_mask(box, d + 1))
        im, tg = _window(image, x0, y0, side), _window(target, x0, y0, side)
        if side != self.size:
            interp = cv2.INTER_AREA if side > self.size else cv2.INTER_LINEAR
            im = cv2.resize(im, (self.size, self.size), interpolation=interp)
            tg = cv2.resize(tg, (self.size, self.size), interpolation=interp)
            # Linear resize then "any coverage": the mask never shrinks off a glyph's fringe.
            m = cv2.resize(m, (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        m = np.where(m > 0, np.uint8(255), np.uint8(0))
        if rng is not None:
            im, tg, m = _augment(im, tg, m, rng)
        return im, tg, m

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = None
        if self.train:
            self._draws += 1
            rng = np.random.default_rng([self.seed, index, self._draws])
        return self.item(index, rng)

    def item(self, index: int, rng: np.random.Generator | None) -> dict[str, torch.Tensor]:
        """One crop as tensors; random (augmented) with ``rng``, the line's centre without.

        The training script draws with its own ``rng`` per step, so a resumed run repeats
        the crops an uninterrupted one would have seen.
        """
        im, tg, m = self.crop(index, rng)
        if rng is not None and self.flat_keep < 1.0:
            # Flat surroundings are filled exactly by the backend's fast path, not the network:
            # draw again (from a random line) for most of them, so training sees texture.
            for _ in range(4):
                if is_textured(tg, m) or rng.random() < self.flat_keep:
                    break
                im, tg, m = self.crop(int(rng.integers(len(self))), rng)
        return {
            "image": to_tensor(im),
            "target": to_tensor(tg),
            "mask": torch.from_numpy(m > 0).float()[None],
        }


def is_textured(target: np.ndarray, mask: np.ndarray, tolerance: float = 12.0) -> bool:
    """Whether the known background around a hole varies: the per-channel std of ``target`` on a
    3 px ring around ``mask`` is ``tolerance`` or more (as Telea's ``erase.flat_tolerance``, but
    without the colour plane: a gradient counts as textured here)."""
    ring = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))) > 0
    ring &= mask == 0
    return bool(ring.sum() >= 8 and target[ring].std(axis=0).max() >= tolerance)


def _augment(
    im: np.ndarray, tg: np.ndarray, m: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flip, transpose and colour-jitter image and target identically (mask: geometry only)."""
    if rng.random() < 0.5:
        im, tg, m = im[:, ::-1], tg[:, ::-1], m[:, ::-1]
    if rng.random() < 0.25:
        im, tg, m = im[::-1], tg[::-1], m[::-1]
    if rng.random() < 0.25:
        im, tg, m = im.transpose(1, 0, 2), tg.transpose(1, 0, 2), m.T
    # Per-channel gain and a common offset; sometimes grey; sometimes inverted.
    gain = rng.uniform(0.8, 1.2, 3) * rng.uniform(0.85, 1.15)
    offset = rng.uniform(-20, 20)
    grey = rng.random() < 0.1
    invert = rng.random() < 0.1

    def jitter(a: np.ndarray) -> np.ndarray:
        f = a.astype(np.float32)
        if grey:
            f = np.repeat(f @ np.array([[0.299], [0.587], [0.114]], np.float32), 3, axis=2)
        f = f * gain + offset
        if invert:
            f = 255.0 - f
        return np.clip(np.rint(f), 0, 255).astype(np.uint8)

    return jitter(im), jitter(tg), np.ascontiguousarray(m)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) to float (3, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float() / 127.5 - 1.0


def to_uint8(t: torch.Tensor) -> np.ndarray:
    """Float (3, H, W) in [-1, 1] to uint8 (H, W, 3)."""
    a = ((t.detach().clamp(-1, 1) + 1.0) * 127.5).round().byte()
    return a.permute(1, 2, 0).cpu().numpy()
