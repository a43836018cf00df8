"""`imtrans render`: draw a page JSON's translations onto its image again, in another font or size.

Nothing is detected or recognised again: the page's lines are erased and its translations
drawn (`Pipeline.rerender`), with the settings the page records unless told otherwise.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from imtrans.errors import InputError
from imtrans.render.layout import SOURCE_SIZE_CAP
from imtrans.settings import Settings, parse_assignments, resolve_settings
from imtrans.types import Page

if TYPE_CHECKING:
    from imtrans.pipeline import PageResult


def read_page(path: Path) -> Page:
    """A page from a JSON file written by `translate --json` (or the service).

    Raises:
        InputError: The file is missing, not JSON, or not a page.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no such page JSON: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a JSON file ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict) or not {"width", "height", "blocks"} <= set(data):
        raise InputError(f"{path}: not a page JSON (it needs width, height and blocks)")
    try:
        page = Page.from_dict(data)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise InputError(f"{path}: not a valid page JSON ({type(e).__name__}: {e})") from None
    if page.width <= 0 or page.height <= 0:
        raise InputError(f"{path}: the page has no pixels ({page.width}x{page.height})")
    return page


def redraw_settings(
    page_path: Path, page: Page, config: Path | None, sets: list[str] | None, font: Path | None
) -> Settings:
    """The settings to draw with: `config`, else those the page records, else the defaults;
    then the `--set` overrides and the font (`render.font_path`)."""
    overrides = parse_assignments(sets)
    if font is not None:
        overrides["render.font_path"] = str(font)
    if config is None and page.settings:
        base = Settings.load(page_path)  # a result JSON: its recorded settings
        return base.with_overrides(overrides) if overrides else base
    return resolve_settings(config, None, **overrides)


def redraw(image: np.ndarray, page: Page, settings: Settings, scale: float = 1.0) -> PageResult:
    """Erase the page's translated lines on `image` and draw its translations, `scale` times the
    size the renderer would draw them at with `settings`.

    The renderer draws each block at the largest size that fits its region, at most 1.2x the
    source lettering's size (`Style.font_size`), within `render.min_font_px` to
    `max_font_px`. With a scale, the page is drawn once as it is, then each block again with
    its size cap at `scale` times the size it got (the limits widened to allow it): smaller
    text always fits; larger text is made smaller again, where its region has no room for it,
    down to `min_font_px`. The outline keeps its width relative to the size.
    """
    from imtrans.export.layers import page_layers
    from imtrans.pipeline import Pipeline

    pipeline = Pipeline(settings)
    result = pipeline.rerender(image, page)
    if scale == 1:
        return result
    drawn = {t.block_id: t.font_px for t in page_layers(result, settings=settings.render).texts}
    styles = dict(result.page.styles)  # the recorded styles, and any the rerender estimated
    for block_id, px in drawn.items():
        style = styles[block_id]
        # fit_block's cap is ceil(SOURCE_SIZE_CAP * font_size): exactly `target` for this size.
        target = max(1, round(px * scale))
        size = (target - 0.5) / SOURCE_SIZE_CAP
        outline = max(1, round(style.outline_width * size / style.font_size)) if style.outline_width else 0
        styles[block_id] = replace(style, font_size=size, outline_width=outline)
    r = settings.render
    limits = {
        "render.min_font_px": min(r.min_font_px, max(4, math.floor(r.min_font_px * scale))),
        "render.max_font_px": max(r.max_font_px, math.ceil(r.max_font_px * scale)),
    }
    again = Pipeline(settings.with_overrides(limits), eraser=pipeline.eraser)
    return again.rerender(image, page.with_(styles=styles))


def check_size(image: np.ndarray, page: Page, image_name: str) -> None:
    """Refuse an image whose size is not the page's.

    Raises:
        InputError: The sizes differ.
    """
    h, w = image.shape[:2]
    if (w, h) != (page.width, page.height):
        raise InputError(
            f"{image_name} is {w}x{h}, but the page JSON describes a {page.width}x{page.height} image"
        )
