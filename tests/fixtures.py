"""Images the tests draw themselves: known text, in real fonts, at known places."""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from imtrans.render.fonts import font_for
from imtrans.types import Quad


@dataclass
class Rendered:
    image: np.ndarray  # RGB uint8 with text
    background: np.ndarray  # the same image without text
    mask: np.ndarray  # uint8, 255 where a text pixel differs from the background
    quads: list[Quad]  # one per line, axis-aligned


def gradient_background(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A smooth two-colour gradient with mild noise: not flat, so inpainting has work to do."""
    rng = np.random.default_rng(seed)
    c0 = rng.integers(150, 255, 3)
    c1 = rng.integers(150, 255, 3)
    t = np.linspace(0, 1, w)[None, :, None]
    img = c0 * (1 - t) + c1 * t
    img = np.repeat(img, h, axis=0)
    img = img + rng.normal(0, 2, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_lines(
    lines: list[str],
    language: str,
    *,
    size: int = 40,
    width: int = 800,
    height: int | None = None,
    color: tuple[int, int, int] = (20, 20, 20),
    background: np.ndarray | tuple[int, int, int] = (255, 255, 255),
    origin: tuple[int, int] = (40, 40),
    spacing: float = 1.6,
    letter_spacing: int = 0,
) -> Rendered:
    """Draw horizontal lines of text top to bottom; return image, clean background, mask, line quads."""
    font = font_for(language).load(size)
    if height is None:
        height = origin[1] * 2 + int(size * spacing * len(lines))
    if isinstance(background, np.ndarray):
        bg = background[:height, :width].copy()
    else:
        bg = np.zeros((height, width, 3), np.uint8)
        bg[:] = background
    img = Image.fromarray(bg)
    draw = ImageDraw.Draw(img)
    quads = []
    x0, y = origin
    for text in lines:
        x = x0
        for ch in text if letter_spacing else [text]:
            draw.text((x, y), ch, font=font, fill=color)
            x += draw.textlength(ch, font=font) + letter_spacing
        l, t, r, b = draw.textbbox((x0, y), text, font=font) if not letter_spacing else (x0, y, x, y + size)
        quads.append(Quad.from_rect(l, t, r if not letter_spacing else x - letter_spacing, b))
        y += int(size * spacing)
    out = np.asarray(img)
    mask = (np.abs(out.astype(int) - bg.astype(int)).max(axis=2) > 0).astype(np.uint8) * 255
    return Rendered(out, bg, mask, quads)


def render_vertical(
    columns: list[str], language: str, *, size: int = 40, width: int = 400, height: int = 600
) -> Rendered:
    """Draw vertical columns right to left (Japanese/Chinese reading order), one glyph per step."""
    font = font_for(language).load(size)
    bg = np.full((height, width, 3), 255, np.uint8)
    img = Image.fromarray(bg)
    draw = ImageDraw.Draw(img)
    quads = []
    x = width - 40 - size
    for text in columns:
        y = 40
        for ch in text:
            draw.text((x, y), ch, font=font, fill=(0, 0, 0))
            y += int(size * 1.1)
        # Vertical convention: first edge runs across the column (see imtrans.types).
        quads.append(Quad.from_rect(x, 40, x + size, y))
        x -= int(size * 1.8)
    out = np.asarray(img)
    mask = (np.abs(out.astype(int) - bg.astype(int)).max(axis=2) > 0).astype(np.uint8) * 255
    return Rendered(out, bg, mask, quads)


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve `root` over HTTP on 127.0.0.1 (a free port) while the block runs; yields the base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def rotated_quad(cx: float, cy: float, w: float, h: float, degrees: float) -> Quad:
    """A w x h rectangle centred at (cx, cy), turned `degrees` counter-clockwise on screen (y is down)."""
    t = math.radians(degrees)
    along = np.array([math.cos(t), -math.sin(t)])
    down = np.array([math.sin(t), math.cos(t)])
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return Quad.from_list([np.array([cx, cy]) + a * along + b * down for a, b in corners])


#: The real development sets live beside the checkout (`../shared/data`), never in the repository.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_dataset(name: str) -> Path:
    """The folder of a real development set (`openmantra-dev`, `realphotos-dev`).

    CI keeps `../shared/data` beside the checkout and sets `CI`, so there a missing folder
    fails the test; on a machine without the data the test is skipped, saying why.
    """
    import os

    import pytest

    folder = SHARED_DATA / name
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{folder} is missing: CI keeps ../shared/data beside the checkout")
        pytest.skip(f"{folder} not found (the real development sets live in ../shared/data)")
    return folder


def badge(
    text: str,
    size: int,
    radius: float,
    *,
    width: int = 640,
    height: int = 480,
    ink: tuple[int, int, int] = (240, 230, 210),
    plate: tuple[int, int, int] = (190, 90, 40),
    lang: str = "en",
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A round badge: `text` set along the top of a circle of `radius` (glyph by glyph, each turned
    to the arc, as logos set it) above a ring of the same colour.

    Returns:
        The image (RGB uint8) and the ring's bounding box (x0, y0, x1, y1).
    """
    img = Image.new("RGB", (width, height), plate)
    cx, cy = width / 2, height / 2 + radius / 2
    font = font_for(lang, bold=True).load(size)
    draw = ImageDraw.Draw(img)
    widths = [draw.textlength(c, font=font) for c in text]
    track = size * 0.08
    angle = -math.pi / 2 - (sum(widths) + track * (len(text) - 1)) / radius / 2
    for c, w in zip(text, widths, strict=True):
        at = angle + w / 2 / radius
        glyph = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((size, size), c, font=font, fill=(*ink, 255), anchor="ms")
        glyph = glyph.rotate(-math.degrees(at + math.pi / 2), resample=Image.BICUBIC, center=(size, size))
        x, y = cx + radius * math.cos(at), cy + radius * math.sin(at)
        img.paste(glyph, (int(x - size), int(y - size)), glyph)
        angle += (w + track) / radius
    r = radius * 0.8
    ring = (round(cx - r), round(cy - r), round(cx + r), round(cy + r))
    draw.ellipse(ring, outline=ink, width=max(1, size // 8))
    return np.asarray(img), ring
