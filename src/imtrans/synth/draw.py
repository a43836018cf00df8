"""Turn block plans into pixels and ground truth, then degrade image and background alike.

Each block is drawn upright on its own canvas as float coverage layers (decoration;
shadow, fill+outline, fill) and mapped onto the photo with one homography (rotation and
perspective), so line quads are the canvas's exact ink boxes mapped by the same matrix.

The relation between the outputs, which the tests check:

1. ``background_clean`` = photo with the decorations (panels, cards, bubbles) composited.
2. ``image_clean`` = ``background_clean`` with the text layer (shadow, outline, fill)
   composited; pixels with zero text coverage are copied, so they are equal.
3. ``mask`` = 255 exactly where ``image_clean != background_clean`` (any channel).
4. ``degrade`` applies the same blur (5x5 kernel), the same noise field and the same
   JPEG round trip (4:4:4, no chroma subsampling) to both. Afterwards they are equal
   outside `unchanged_region(mask, jpeg)`: the mask dilated by 2 px (the blur's reach),
   grown to whole 8x8 JPEG blocks when JPEG was applied (a block is coded on its own).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageChops, ImageDraw

from imtrans.render.layout import em_top, vertical_features
from imtrans.synth.layouts import BlockPlan, Decoration
from imtrans.types import Alignment, Direction, Quad

#: How far the blur reaches (a 5x5 kernel), so how far the mask is grown for the agreement check.
BLUR_REACH = 2
JPEG_BLOCK = 8
_SUPERSAMPLE = 2  # decorations are drawn at twice the size, then area-averaged: smooth edges


@dataclass
class BlockLayers:
    """A block drawn upright on its own canvas (float32 coverage in 0..1)."""

    deco_rgb: np.ndarray  # (h, w, 3) colour premultiplied by deco_alpha
    deco_alpha: np.ndarray
    shadow: np.ndarray
    cover: np.ndarray  # fill and outline
    fill: np.ndarray
    line_boxes: list[tuple[float, float, float, float]]  # ink box of each line (x0, y0, x1, y1)

    @property
    def size(self) -> tuple[int, int]:
        return self.fill.shape[1], self.fill.shape[0]


@dataclass
class PlacedBlock:
    """A block mapped onto the image: its plan, its homography and its quads."""

    plan: BlockPlan
    matrix: np.ndarray  # canvas -> image, 3x3
    line_quads: list[Quad]
    quad: Quad
    region: tuple[int, int, int, int]  # image box that the warped layers cover (x0, y0, x1, y1)
    warped: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Composition:
    """The undegraded result: background, image, mask and the placed blocks."""

    background: np.ndarray
    image: np.ndarray
    mask: np.ndarray
    blocks: list[PlacedBlock]
    skipped: int  # blocks that found no room


# --- one block on its canvas --------------------------------------------------------------


def render_block(plan: BlockPlan) -> BlockLayers:
    """Draw a block's decoration and text upright, with margins for outline, shadow and tail."""
    st = plan.style
    font = st.font.load(st.size)
    stroke = st.outline_width if st.outline else 0
    px = st.size
    pitch = px * st.line_spacing
    if plan.direction == Direction.VERTICAL:
        tw = (len(plan.lines) - 1) * pitch + px
        th = max(len(c) for c in plan.lines) * px
    else:
        asc, desc = font.getmetrics()
        widths = [font.getlength(t) for t in plan.lines]
        tw = max(widths)
        th = (len(plan.lines) - 1) * pitch + asc + desc
    ex, ey, shape = _decoration_extent(plan.decoration, tw, th, st.size)
    reach = stroke + abs(st.shadow_offset[0]) + abs(st.shadow_offset[1]) + math.ceil(3 * st.shadow_blur) + 4
    ex, ey = max(ex, reach) + stroke, max(ey, reach) + stroke
    w, h = math.ceil(tw + 2 * ex), math.ceil(th + 2 * ey)
    fill_im = Image.new("L", (w, h), 0)
    cover_im = Image.new("L", (w, h), 0) if stroke else fill_im
    boxes: list[tuple[float, float, float, float]] = []
    if plan.direction == Direction.VERTICAL:
        feats = vertical_features()
        drop = -em_top(font, px)
        for i, column in enumerate(plan.lines):
            cx = ex + tw - px / 2 - i * pitch  # right to left
            cells = [(cx - font.getlength(ch) / 2, ey + j * px + drop, ch) for j, ch in enumerate(column)]
            box = (cx - px, ey - px, cx + px, ey + (len(column) + 1) * px)
            boxes.append(_draw_run(fill_im, cover_im, cells, box, font, stroke, feats))
    else:
        for i, line in enumerate(plan.lines):
            lw = font.getlength(line)
            slack = tw - lw
            x = ex + {Alignment.LEFT: 0.0, Alignment.CENTRE: slack / 2, Alignment.RIGHT: slack}[st.alignment]
            y = ey + asc + i * pitch
            box = (x - px, y - asc - px / 2, x + lw + px, y + desc + px / 2)
            boxes.append(_draw_run(fill_im, cover_im, [(x, y, line)], box, font, stroke, None))
    fill = np.asarray(fill_im, np.float32) / 255.0
    cover = np.asarray(cover_im, np.float32) / 255.0 if stroke else fill
    shadow = np.zeros_like(fill)
    if st.shadow is not None:
        dx, dy = st.shadow_offset
        shadow = cv2.warpAffine(cover, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h))
        if st.shadow_blur > 0:
            shadow = cv2.GaussianBlur(shadow, (0, 0), st.shadow_blur)
        shadow *= 0.85
    deco_rgb, deco_alpha = _draw_decoration(plan.decoration, (w, h), (ex, ey, ex + tw, ey + th), shape)
    return BlockLayers(deco_rgb, deco_alpha, shadow, cover, fill, boxes)


def _draw_run(
    fill: Image.Image,
    cover: Image.Image,
    pieces: list[tuple[float, float, str]],
    box: tuple[float, float, float, float],
    font: Any,
    stroke: int,
    feats: list[str] | None,
) -> tuple[float, float, float, float]:
    """Draw one line (or column) in a scratch image to get its exact ink box, then add it to the layers."""
    x0, y0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x1, y1 = min(fill.width, math.ceil(box[2])), min(fill.height, math.ceil(box[3]))
    f = Image.new("L", (x1 - x0, y1 - y0), 0)
    c = Image.new("L", f.size, 0) if stroke else f
    df, dc = ImageDraw.Draw(f), ImageDraw.Draw(c)
    for x, y, text in pieces:
        df.text((x - x0, y - y0), text, fill=255, font=font, anchor="ls", features=feats)
        if stroke:
            dc.text(
                (x - x0, y - y0), text, fill=255, font=font, anchor="ls", features=feats, stroke_width=stroke
            )
    ink = c.getbbox() or (0, 0, 0, 0)
    region = (x0, y0, x1, y1)
    fill.paste(ImageChops.lighter(fill.crop(region), f), region)
    if stroke:
        cover.paste(ImageChops.lighter(cover.crop(region), c), region)
    return (x0 + ink[0], y0 + ink[1], x0 + ink[2], y0 + ink[3])


def _decoration_extent(
    deco: Decoration, tw: float, th: float, px: int
) -> tuple[float, float, dict[str, float]]:
    """Canvas margin around the text box (x, y) that the decoration needs, and its shape."""
    p, bw = deco.padding, deco.border_width
    if deco.kind == "bubble":
        # The ellipse through the corners of the padded text box, with the box's aspect ratio.
        a, b = (tw / 2 + p) * math.sqrt(2), (th / 2 + p) * math.sqrt(2)
        # A lone column or line would make a needle; real bubbles are no thinner than 1:1.8.
        a, b = max(a, b / 1.8), max(b, a / 1.8)
        tail = max(12.0, 0.5 * min(a, b))
        return a - tw / 2 + tail + bw + 3, b - th / 2 + tail + bw + 3, {"a": a, "b": b, "tail": tail}
    if deco.kind in ("panel", "card"):
        return p + bw + 2, p + bw + 2, {}
    return 0.0, 0.0, {}


def _draw_decoration(
    deco: Decoration,
    size: tuple[int, int],
    text_box: tuple[float, float, float, float],
    shape: dict[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Premultiplied colour and alpha of a panel, card or bubble (zeros for none)."""
    w, h = size
    if deco.kind == "none":
        return np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.float32)
    s = _SUPERSAMPLE
    inner = Image.new("L", (w * s, h * s), 0)
    d = ImageDraw.Draw(inner)
    x0, y0, x1, y1 = text_box
    bw = deco.border_width
    if deco.kind == "bubble":
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        a, b, tail = shape["a"], shape["b"], shape["tail"]
        d.ellipse([s * (cx - a), s * (cy - b), s * (cx + a), s * (cy + b)], fill=255)
        t = math.radians(deco.tail_angle)
        spread = 0.22
        base = [(cx + 0.8 * a * math.cos(t + k), cy + 0.8 * b * math.sin(t + k)) for k in (-spread, spread)]
        bend = 0.25 * (1 if math.cos(t) > 0 else -1)
        tip = (cx + (a + tail) * math.cos(t + bend), cy + (b + tail) * math.sin(t + bend))
        d.polygon([(s * x, s * y) for x, y in (base[0], tip, base[1])], fill=255)
        outer = inner
        if bw:
            k = 2 * s * bw + 1
            outer = Image.fromarray(
                cv2.dilate(np.asarray(inner), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
            )
    else:
        m = deco.padding + bw
        rect = [s * (x0 - m), s * (y0 - m), s * (x1 + m), s * (y1 + m)]
        outer = Image.new("L", inner.size, 0)
        ImageDraw.Draw(outer).rounded_rectangle(rect, radius=s * deco.radius, fill=255)
        inset = [rect[0] + s * bw, rect[1] + s * bw, rect[2] - s * bw, rect[3] - s * bw]
        d.rounded_rectangle(inset, radius=max(0, s * (deco.radius - bw)), fill=255)
    a_in = cv2.resize(np.asarray(inner, np.float32) / 255.0, (w, h), interpolation=cv2.INTER_AREA)
    a_out = cv2.resize(np.asarray(outer, np.float32) / 255.0, (w, h), interpolation=cv2.INTER_AREA)
    border = np.float32(deco.border if deco.border is not None else deco.fill)
    rgb = a_out[..., None] * border + a_in[..., None] * (np.float32(deco.fill) - border)
    return rgb.astype(np.float32), a_out


# --- placing blocks on the photo ----------------------------------------------------------


def pose_matrix(plan: BlockPlan, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Canvas -> coordinates centred on the origin: perspective jitter of the corners, then rotation."""
    w, h = size
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-1, 1, (4, 2)) * plan.perspective * min(w, h)
    dst = (src - np.float32([w / 2, h / 2]) + jitter).astype(np.float32)
    persp = cv2.getPerspectiveTransform(src, dst)
    t = math.radians(plan.angle)  # counter-clockwise as seen, with y pointing down
    rot = np.array([[math.cos(t), math.sin(t), 0], [-math.sin(t), math.cos(t), 0], [0, 0, 1]])
    return rot @ persp


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(np.asarray(points, np.float64).reshape(-1, 1, 2), matrix).reshape(-1, 2)


def _translate(tx: float, ty: float) -> np.ndarray:
    return np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], np.float64)


def place(
    plan: BlockPlan,
    layers: BlockLayers,
    image_size: tuple[int, int],
    taken: list[tuple[float, float, float, float]],
    rng: np.random.Generator,
    tries: int = 25,
) -> np.ndarray | None:
    """A canvas -> image matrix that puts the block where it fits and overlaps no other, or None."""
    W, H = image_size
    w, h = layers.size
    pose = pose_matrix(plan, (w, h), rng)
    corners = _apply(pose, np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    for k in range(tries):
        if k == 0:
            cx, cy = plan.centre[0] * W, plan.centre[1] * H
        elif plan.may_cross_edge:
            cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        else:
            if hi[0] - lo[0] > W or hi[1] - lo[1] > H:
                return None
            cx, cy = rng.uniform(-lo[0], W - hi[0]), rng.uniform(-lo[1], H - hi[1])
        box = (cx + lo[0], cy + lo[1], cx + hi[0], cy + hi[1])
        inside = box[0] >= 0 and box[1] >= 0 and box[2] <= W and box[3] <= H
        if (inside or plan.may_cross_edge) and not any(_overlap(box, t) for t in taken):
            taken.append(box)
            return _translate(cx, cy) @ pose
    return None


def _overlap(a: tuple[float, ...], b: tuple[float, ...], gap: float = 4) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def compose(photo: np.ndarray, plans: list[BlockPlan], rng: np.random.Generator) -> Composition:
    """Draw every block that finds room onto the photo; return background, image, mask and blocks."""
    H, W = photo.shape[:2]
    background = photo.astype(np.float32)
    taken: list[tuple[float, float, float, float]] = []
    placed: list[PlacedBlock] = []
    skipped = 0
    for plan in plans:
        layers = render_block(plan)
        matrix = place(plan, layers, (W, H), taken, rng)
        if matrix is None:
            skipped += 1
            continue
        block = _warp(plan, layers, matrix, (W, H))
        if block is None:  # entirely off the image
            skipped += 1
            continue
        x0, y0, x1, y1 = block.region
        da = block.warped["deco_alpha"][..., None]
        background[y0:y1, x0:x1] = background[y0:y1, x0:x1] * (1 - da) + block.warped["deco_rgb"]
        placed.append(block)
    background_u8 = _to_u8(background)
    image = background_u8.astype(np.float32)
    for block in placed:
        _composite_text(image, block)
    image_u8 = _to_u8(image)
    mask = np.where((image_u8 != background_u8).any(axis=2), 255, 0).astype(np.uint8)
    return Composition(background_u8, image_u8, mask, placed, skipped)


def _warp(
    plan: BlockPlan, layers: BlockLayers, matrix: np.ndarray, image_size: tuple[int, int]
) -> PlacedBlock | None:
    W, H = image_size
    w, h = layers.size
    corners = _apply(matrix, np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    x0, y0 = (max(0, math.floor(v)) for v in corners.min(axis=0))
    x1, y1 = min(W, math.ceil(corners[:, 0].max()) + 1), min(H, math.ceil(corners[:, 1].max()) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    local = _translate(-x0, -y0) @ matrix
    size = (x1 - x0, y1 - y0)

    def warp(a: np.ndarray) -> np.ndarray:
        return cv2.warpPerspective(
            a, local, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )

    deco = warp(np.dstack([layers.deco_rgb, layers.deco_alpha]))
    text = warp(np.dstack([layers.shadow, layers.cover, layers.fill]))
    warped = {
        "deco_rgb": deco[..., :3], "deco_alpha": deco[..., 3],
        "shadow": text[..., 0], "cover": text[..., 1], "fill": text[..., 2],
    }  # fmt: skip
    quads = [_box_quad(matrix, b) for b in layers.line_boxes]
    bx = [b for b in layers.line_boxes]
    union = (min(b[0] for b in bx), min(b[1] for b in bx), max(b[2] for b in bx), max(b[3] for b in bx))
    return PlacedBlock(plan, matrix, quads, _box_quad(matrix, union), (x0, y0, x1, y1), warped)


def _box_quad(matrix: np.ndarray, box: tuple[float, float, float, float]) -> Quad:
    """An upright canvas box mapped to the image; its first edge is the box's top (across a column too)."""
    x0, y0, x1, y1 = box
    return Quad.from_list(_apply(matrix, np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])))


def _composite_text(image: np.ndarray, block: PlacedBlock) -> None:
    """Shadow, then outline (the cover), then fill, each over what is below, in place."""
    st = block.plan.style
    x0, y0, x1, y1 = block.region
    region = image[y0:y1, x0:x1]
    layers = []
    if st.shadow is not None:
        layers.append((block.warped["shadow"], st.shadow))
    if st.outline is not None and st.outline_width:
        layers.append((block.warped["cover"], st.outline))
    layers.append((block.warped["fill"], st.fill))
    for alpha, colour in layers:
        a = alpha[..., None]
        region[:] = region * (1 - a) + np.float32(colour) * a


def _to_u8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


# --- photometric degradations -------------------------------------------------------------


@dataclass(frozen=True)
class Degradation:
    """What `degrade` did (the same to image and background); recorded in each sample's meta."""

    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    jpeg_quality: int = 0  # 0: no JPEG round trip

    def to_dict(self) -> dict[str, float]:
        return {"blur_sigma": round(self.blur_sigma, 3), "noise_sigma": round(self.noise_sigma, 3),
                "jpeg_quality": self.jpeg_quality}  # fmt: skip


def choose_degradation(rng: np.random.Generator) -> Degradation:
    """Mild camera and compression artefacts, each present in some samples only."""
    blur = float(rng.uniform(0.4, 1.0)) if rng.random() < 0.3 else 0.0
    noise = float(rng.uniform(1.0, 5.0)) if rng.random() < 0.4 else 0.0
    jpeg = int(rng.integers(50, 96)) if rng.random() < 0.5 else 0
    return Degradation(blur, noise, jpeg)


def degrade(
    image: np.ndarray, background: np.ndarray, spec: Degradation, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the same blur, the same noise field and the same JPEG round trip to both arrays."""
    out = []
    noise = rng.normal(0, spec.noise_sigma, image.shape).astype(np.float32) if spec.noise_sigma else None
    for a in (image, background):
        if spec.blur_sigma:
            a = cv2.GaussianBlur(a, (2 * BLUR_REACH + 1, 2 * BLUR_REACH + 1), spec.blur_sigma)
        if noise is not None:
            a = _to_u8(a.astype(np.float32) + noise)
        if spec.jpeg_quality:
            buf = io.BytesIO()
            # 4:4:4: without chroma subsampling each 8x8 block decodes on its own (see unchanged_region).
            Image.fromarray(a).save(buf, format="JPEG", quality=spec.jpeg_quality, subsampling=0)
            a = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        out.append(np.ascontiguousarray(a))
    return out[0], out[1]


def unchanged_region(mask: np.ndarray, jpeg: bool) -> np.ndarray:
    """Where the degraded image must equal the degraded background (bool, True = equal).

    Outside the mask grown by the blur's reach, and, after a JPEG round trip, outside every
    8x8 block that holds a grown-mask pixel.
    """
    k = 2 * BLUR_REACH + 1
    grown = cv2.dilate(mask, np.ones((k, k), np.uint8)) > 0
    if jpeg:
        h, w = grown.shape
        hb, wb = -(-h // JPEG_BLOCK), -(-w // JPEG_BLOCK)
        pad = np.zeros((hb * JPEG_BLOCK, wb * JPEG_BLOCK), bool)
        pad[:h, :w] = grown
        blocks = pad.reshape(hb, JPEG_BLOCK, wb, JPEG_BLOCK).any(axis=(1, 3))
        grown = np.repeat(np.repeat(blocks, JPEG_BLOCK, 0), JPEG_BLOCK, 1)[:h, :w]
    return ~grown
