"""The Korean line recogniser: PP-OCRv6's small recogniser in PyTorch with a new CTC output layer.

The backbone (PPLCNetV3 + SVTR neck, 3 M parameters) comes from the ONNX file inside the
rapidocr wheel, converted with `onnx2torch` (exact: max difference 4e-6 on the softmax). The
converter does not take ``auto_pad=SAME_UPPER`` (two 2x2 convolutions and a max-pool of the
stem), so those become explicit pads ``[0, 0, 1, 1]`` first, which is what SAME_UPPER means at
stride 1. The old output layer (120 -> 18,710 classes) is replaced by one over
`imtrans.recognize.korean.korean_charset()`; the rows of characters the old dictionary had
(ASCII, symbols) start from the old weights, the Hangul rows from small random weights.

Conventions are PP-OCR's (and `imtrans.recognize.korean`'s, which runs the export without
torch): input (N, 3, 48, W) BGR in [-1, 1], output (N, W / 8, classes) softmax, class 0 the
CTC blank. The network keeps its batch-norm statistics (it is always in eval mode; only the
weights train).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

#: The graph's last feature tensor (N, T, 120), the input of the old output layer.
_FEATURES = "p2o.pd_op.transpose.8.0"
_HEAD_WEIGHT = "linear_8.w_0"
_HEAD_BIAS = "linear_8.b_0"


def ppocr_rec_path() -> Path:
    """The PP-OCRv6 small recogniser inside the installed rapidocr wheel."""
    import rapidocr

    return Path(rapidocr.__file__).parent / "models" / "PP-OCRv6_rec_small.onnx"


def _import_convert():
    """`onnx2torch.convert`. onnx2torch imports torchvision at start-up for two converters this
    graph does not use (NonMaxSuppression, RoiAlign); torchvision is not installed beside the CPU
    build of torch here (PyPI's fails to load next to it), so an empty stand-in module takes its
    place when the real one cannot be imported. Install onnx2torch with ``--no-deps``
    (`scripts/install.sh`), or pip brings a CUDA build of torch with torchvision."""
    import sys
    import types

    stand_ins: dict[str, types.ModuleType] = {}
    try:
        import torchvision  # noqa: F401
    except Exception:  # noqa: BLE001 (missing, or PyPI's build failing beside torch's CPU file)
        ops = types.ModuleType("torchvision.ops")
        ops.roi_align = None  # type: ignore[attr-defined]
        ops.nms = None  # type: ignore[attr-defined]
        stand_ins = {"torchvision": types.ModuleType("torchvision"), "torchvision.ops": ops}
        stand_ins["torchvision"].ops = ops  # type: ignore[attr-defined]
        sys.modules.update(stand_ins)
    try:
        from onnx2torch import convert
    finally:
        # onnx2torch keeps its own references; the process must not see a torchvision that is
        # not there (transformers asks importlib for it, and a stand-in has no spec).
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    return convert


def _load_graph(path: Path):
    import onnx

    model = onnx.load(str(path))
    for node in model.graph.node:
        for attr in list(node.attribute):
            if attr.name == "auto_pad" and attr.s == b"SAME_UPPER":
                node.attribute.remove(attr)
                node.attribute.append(onnx.helper.make_attribute("pads", [0, 0, 1, 1]))
    return model


class KoreanRecognizerNet(nn.Module):
    """Backbone (converted PP-OCRv6 graph up to its 120-d features) + linear CTC head + softmax.

    Build one with `from_ppocr`; a checkpoint's ``state_dict`` loads into a net built the same way.
    """

    def __init__(self, backbone: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, classes) unnormalised scores."""
        return self.head(self.backbone(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x).softmax(dim=2)

    def train(self, mode: bool = True) -> KoreanRecognizerNet:
        """Batch norm keeps PP-OCR's statistics: the modules stay in eval mode whatever `mode` is."""
        return super().train(False)

    @classmethod
    def from_ppocr(cls, charset: list[str], onnx_path: Path | None = None) -> KoreanRecognizerNet:
        """The PP-OCRv6 recogniser with an output layer over `charset` (blank first, then `charset`)."""
        from onnx import numpy_helper

        model = _load_graph(onnx_path or ppocr_rec_path())
        old_chars = model.metadata_props[0].value.split("\n") if model.metadata_props else []
        weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        w_old, b_old = weights[_HEAD_WEIGHT], weights[_HEAD_BIAS]  # (120, 18710), (18710,)
        backbone = _backbone(model, _FEATURES)

        head = nn.Linear(w_old.shape[0], len(charset) + 1)
        with torch.no_grad():
            nn.init.normal_(head.weight, std=0.02)
            head.bias.fill_(float(np.median(b_old)))
            head.weight[0] = torch.from_numpy(w_old[:, 0])  # blank
            head.bias[0] = float(b_old[0])
            old_index = {c: i + 1 for i, c in enumerate(old_chars)}
            old_index[" "] = len(old_chars) + 1  # PP-OCR appends the space after its dictionary
            for j, ch in enumerate(charset, start=1):
                i = old_index.get(ch)
                if i is not None and i < w_old.shape[1]:
                    head.weight[j] = torch.from_numpy(w_old[:, i])
                    head.bias[j] = float(b_old[i])
        return cls(backbone, head).train()

    @classmethod
    def from_onnx(cls, path: Path, charset: list[str]) -> KoreanRecognizerNet:
        """A net `export_onnx` wrote (the shipped ``korean_rec.onnx``), trainable again: its graph up
        to the output layer converted back to PyTorch, the layer's weights copied. A new round can
        start from the shipped file when its run's checkpoints are gone. The export folded batch
        norm into the convolutions, so the state dict's names are the export's, not `from_ppocr`'s:
        a run started from a file is built from that file again when it resumes. Such a net
        trains and reads at any width, but its own export does not yet (the converted graph's
        shapes are traced as constants; `docs/training.md`).

        Raises:
            ValueError: The file's charset (its ``character`` metadata) is not ``charset``.
        """
        from onnx import numpy_helper

        model = _load_graph(path)
        chars = {p.key: p.value for p in model.metadata_props}.get("character", "").split("\n")
        if chars != charset:
            raise ValueError(f"{path} reads another charset ({len(chars)} characters, not {len(charset)})")
        # The output layer: the graph's last MatMul (features x weight), then Add (bias), then Softmax.
        matmul = [n for n in model.graph.node if n.op_type == "MatMul"][-1]
        add = next(n for n in model.graph.node if n.op_type == "Add" and matmul.output[0] in n.input)
        weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        features, w_name = (matmul.input[0], matmul.input[1])
        b_name = next(i for i in add.input if i in weights)
        w, b = weights[w_name], weights[b_name]  # (120, classes), (classes,)
        head = nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(w.T.copy()))
            head.bias.copy_(torch.from_numpy(b.copy()))
        return cls(_backbone(model, features), head).train()


def _backbone(model, features: str) -> nn.Module:
    """The graph's nodes that lead to ``features``, with ``features`` as the output, in PyTorch."""
    import onnx

    keep, needed = [], {features}
    for node in reversed(model.graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(node.input)
    del model.graph.node[:]
    model.graph.node.extend(reversed(keep))
    del model.graph.output[:]
    model.graph.output.append(onnx.helper.make_tensor_value_info(features, onnx.TensorProto.FLOAT, None))
    used = {i for n in model.graph.node for i in n.input}
    kept_init = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept_init)
    backbone = _import_convert()(model)
    _make_trainable(backbone)
    return backbone


def _make_trainable(graph: nn.Module) -> None:
    """onnx2torch keeps the matmul weights of the attention blocks as buffers; make every float
    buffer with more than one element a parameter, so that the whole network trains."""
    for module in graph.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            continue  # running statistics stay buffers
        for name, buf in list(module.named_buffers(recurse=False)):
            if buf is not None and buf.is_floating_point() and buf.numel() > 1:
                delattr(module, name)
                module.register_parameter(name, nn.Parameter(buf.clone()))


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def export_onnx(net: KoreanRecognizerNet, charset: list[str], path: str | Path, opset: int = 17) -> None:
    """Write the net as ONNX: input ``x`` (N, 3, 48, W), output (N, W / 8, classes) probabilities,
    dynamic N and W; the charset in the metadata (``character``, one per line, as PP-OCR does)."""
    import onnx

    net = net.eval()
    axes_in, axes_out = {0: "n", 3: "w"}, {0: "n", 1: "t"}
    torch.onnx.export(
        net,
        (torch.zeros(1, 3, 48, 160),),
        str(path),
        input_names=["x"],
        output_names=["probs"],
        dynamic_axes={"x": axes_in, "probs": axes_out},
        opset_version=opset,
        dynamo=False,
    )
    model = onnx.load(str(path))
    meta = model.metadata_props.add()
    meta.key = "character"
    meta.value = "\n".join(charset)
    onnx.save(model, str(path))


__all__ = ["KoreanRecognizerNet", "count_parameters", "export_onnx", "ppocr_rec_path"]
