"""Editable outputs: a translated page as layers, in PSD or SVG.

```python
from imtrans.export import write_layers
write_layers(result, "page.svg", original=image)   # or "page.psd"; result.save_layers does the same
```
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from imtrans.errors import OutputError
from imtrans.export.layers import PageLayers, TextLayer, composite_layers, page_layers
from imtrans.imageio import atomic_writes, load_image
from imtrans.settings import RenderSettings

if TYPE_CHECKING:
    from imtrans.pipeline import PageResult

#: Layer file formats by suffix.
LAYER_FORMATS = {".psd": "psd", ".svg": "svg"}

__all__ = [
    "LAYER_FORMATS",
    "PageLayers",
    "TextLayer",
    "composite_layers",
    "layer_format",
    "layers_bytes",
    "page_layers",
    "write_layers",
]


def layer_format(path: str | Path) -> str:
    """ "psd" or "svg", from a path's suffix.

    Raises:
        OutputError: Any other suffix.
    """
    fmt = LAYER_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise OutputError(f"{path}: unknown layers extension; use .psd or .svg")
    return fmt


def layers_bytes(
    result: PageResult,
    fmt: str,
    original: np.ndarray | str | Path | None = None,
    settings: RenderSettings | None = None,
) -> bytes:
    """The layers file of a result in memory ("psd" or "svg"); `write_layers` says what it holds."""
    if isinstance(original, (str, os.PathLike)):
        original = load_image(original)
    layers = page_layers(result, original, settings)
    if fmt == "psd":
        from imtrans.export.psd import psd_bytes

        return psd_bytes(layers)
    if fmt == "svg":
        from imtrans.export.svg import svg_bytes

        return svg_bytes(layers)
    raise OutputError(f"unknown layers format {fmt!r}; use psd or svg")


def write_layers(
    result: PageResult,
    path: str | Path,
    original: np.ndarray | str | Path | None = None,
    settings: RenderSettings | None = None,
) -> None:
    """Write a translated page as layers, by the path's suffix: `.psd` or `.svg`.

    Bottom to top: the original image (hidden, when given), the erased background, and one
    layer per drawn block, named after it (``b0: Seoul Station``) and placed where the render
    stage draws it. In SVG each block's translation is a `<text>` (editable); in PSD it is a
    pixel layer. Written to a temp file beside `path`, then renamed.

    Args:
        result: A translate or render result (`PageResult` with its erased image).
        path: The output file.
        original: The input image (an RGB array or a path), or None to leave that layer out.
        settings: Render settings; default: those the page records.

    Raises:
        OutputError: Unknown suffix, or the file cannot be written.
        InputError: The result has no erased image, or the original is not the page's size.
    """
    data = layers_bytes(result, layer_format(path), original, settings)
    with atomic_writes() as w:
        w.write_bytes(path, data)
