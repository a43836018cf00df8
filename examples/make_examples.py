"""Re-create the bundled example images from real CC0 photos (scikit-image) and Debian fonts.

    python examples/make_examples.py

The photos come from scikit-image's sample data (brick: CC0Textures, coffee: CC0 by Rachel
Michetti); the lettering is drawn here with Noto Sans CJK. Output is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from skimage import data

from imtrans.render.fonts import font_for

HERE = Path(__file__).parent


def sign_ko() -> Image.Image:
    """A green Korean direction sign mounted on a brick wall."""
    wall = np.stack([data.brick()] * 3, axis=-1).astype(float)
    wall = (wall * np.array([1.0, 0.78, 0.66])).clip(0, 255).astype(np.uint8)  # brick red tint
    img = Image.fromarray(wall).resize((900, 600), Image.LANCZOS)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((120, 90, 780, 510), radius=28, fill=(16, 100, 62), outline=(235, 235, 235), width=8)
    bold = font_for("ko", bold=True)
    draw.text((450, 200), "서울역", font=bold.load(110), fill=(255, 255, 255), anchor="mm")
    draw.text((450, 350), "시청 방면", font=bold.load(64), fill=(255, 255, 255), anchor="mm")
    draw.text((450, 445), "출구 3번", font=font_for("ko").load(48), fill=(250, 215, 60), anchor="mm")
    return img.filter(ImageFilter.GaussianBlur(0.6))


def notice_ja() -> Image.Image:
    """A Japanese shop notice on a paper card beside a coffee cup."""
    img = Image.fromarray(data.coffee()).resize((900, 600), Image.LANCZOS)
    card = Image.new("RGB", (360, 250), (246, 240, 226))
    d = ImageDraw.Draw(card)
    font = font_for("ja", bold=True)
    d.text((180, 60), "営業時間", font=font.load(52), fill=(60, 30, 20), anchor="mm")
    d.text((180, 140), "午前十時から", font=font_for("ja").load(40), fill=(60, 30, 20), anchor="mm")
    d.text((180, 195), "午後八時まで", font=font_for("ja").load(40), fill=(60, 30, 20), anchor="mm")
    card = card.rotate(6, expand=True, fillcolor=(0, 0, 0))
    mask = Image.new("L", (360, 250), 255).rotate(6, expand=True)
    img.paste(card, (480, 40), mask)
    return img


def main() -> None:
    for name, make in (("sign_ko.png", sign_ko), ("notice_ja.png", notice_ja)):
        make().save(HERE / name, optimize=True)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
