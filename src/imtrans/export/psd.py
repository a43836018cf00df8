"""Write page layers as a Photoshop document (psd-tools).

Layers, bottom to top: the original (hidden; the erased image covers it), the erased
background, and one pixel layer per block, named after it, holding exactly the pixels the
render stage drew (straight alpha) at their place. Text is not written as a type layer:
psd-tools cannot create Photoshop type layers (their engine data, font and layout records),
so each block is a pixel layer; the SVG output has the editable text.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from imtrans.errors import OutputError
from imtrans.export.layers import PageLayers

#: The largest width or height a PSD (version 1) document may have.
PSD_MAX_SIDE = 30000


def psd_bytes(layers: PageLayers) -> bytes:
    """The PSD document of a page's layers.

    Raises:
        OutputError: The page is wider or taller than a PSD allows.
    """
    from psd_tools import PSDImage

    if max(layers.width, layers.height) > PSD_MAX_SIDE:
        raise OutputError(
            f"a PSD is at most {PSD_MAX_SIDE} px a side; this page is {layers.width}x{layers.height}"
        )
    # RGBA: layers keep their own transparency channel (in an RGB document psd-tools would
    # store a layer's alpha as a layer mask instead).
    psd = PSDImage.new("RGBA", (layers.width, layers.height), color=(255, 255, 255, 255))
    if layers.original is not None:
        _add(psd, "original", layers.original, 0, 0).visible = False
    _add(psd, "erased", layers.erased, 0, 0)
    for text in layers.texts:
        _add(psd, text.name, text.rgba, text.x0, text.y0)
    buf = io.BytesIO()
    psd.save(buf)
    return buf.getvalue()


def _add(psd, name: str, pixels: np.ndarray, left: int, top: int):  # psd-tools types
    image = Image.fromarray(pixels, "RGBA" if pixels.shape[2] == 4 else "RGB").convert("RGBA")
    layer = psd.create_pixel_layer(image, name="layer", top=top, left=left)
    layer.name = name  # the setter stores a Unicode name (the constructor's is MacRoman only)
    return layer
