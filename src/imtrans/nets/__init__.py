"""Trainable networks of imtrans (the learned eraser). Needs torch: ``pip install imtrans[train]``.

Inference never imports this package: `imtrans.erase.gan` runs the exported ONNX file
through onnxruntime. See README.md for the design.
"""

from imtrans.nets.eraser import (
    Discriminator,
    GatedConv,
    Generator,
    GeneratorConfig,
    count_parameters,
    export_onnx,
    widen,
)
from imtrans.nets.losses import ghost_slope_loss, gradient_l1, hinge_d, hinge_g, hole_l1, hole_mse, tint_loss

__all__ = [
    "Discriminator",
    "GatedConv",
    "Generator",
    "GeneratorConfig",
    "count_parameters",
    "export_onnx",
    "ghost_slope_loss",
    "gradient_l1",
    "hinge_d",
    "hinge_g",
    "hole_l1",
    "hole_mse",
    "tint_loss",
    "widen",
]
