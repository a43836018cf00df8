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
_BatchNorm = nn.modules.batchnorm._BatchNorm


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

    Build one with `from_ppocr`, or with `from_onnx` from an exported file (the same modules with
    the file's weights); a checkpoint's ``state_dict`` loads into a net built either way.
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
    def from_onnx(cls, path: Path, charset: list[str], graph: Path | None = None) -> KoreanRecognizerNet:
        """A net `export_onnx` wrote (the shipped ``korean_rec.onnx``), trainable and exportable
        again: a `from_ppocr` net (the same modules and state-dict names, so its checkpoints load
        like any run's) with the file's weights. A new round can start from the shipped file when
        its run's checkpoints are gone.

        The file's weights are matched to the net's parameters in the order the graphs use them,
        each shape checked. The export folded the graph's three batch norms into their convolutions
        (``W_f = s W``, ``b_f = s (c - mean) + beta``, ``s = gamma / sqrt(var + eps)``): the net
        keeps PP-OCR's statistics and ``gamma`` and takes ``W = W_f / s`` and ``beta`` so that conv
        then batch norm is the file's conv (its ``gamma`` may have trained: only the product is
        in the file). Last, the net must read as onnxruntime reads the file (width 160, within 1e-4;
        2.4e-7 measured with the shipped file). `graph` is the PP-OCRv6 file whose graph and
        batch-norm statistics the net is built from (default the rapidocr wheel's; see
        `skeleton_graph` for a machine without it).

        Raises:
            ValueError: The file's charset (its ``character`` metadata) is not ``charset``, its
                weights are not PP-OCRv6's recogniser's in number or shape, or the rebuilt net
                does not read as the file does.
        """
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        chars = {p.key: p.value for p in model.metadata_props}.get("character", "").split("\n")
        if chars != charset:
            raise ValueError(f"{path} reads another charset ({len(chars)} characters, not {len(charset)})")
        net = cls.from_ppocr(charset, graph)
        nodes = list(model.graph.node)
        weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        # The output layer: the graph's last MatMul (features x weight), then Add (bias), then Softmax.
        head_at = max(i for i, n in enumerate(nodes) if n.op_type == "MatMul")
        add = next(n for n in nodes[head_at:] if n.op_type == "Add" and nodes[head_at].output[0] in n.input)
        w, b = weights[nodes[head_at].input[1]], weights[next(i for i in add.input if i in weights)]
        if w.shape != (net.head.in_features, net.head.out_features) or b.shape != (net.head.out_features,):
            raise ValueError(
                f"{path}'s output layer is {w.shape} + {b.shape}, not {tuple(net.head.weight.T.shape)}"
            )
        file_weights = _weights_in_use_order(nodes[:head_at], weights)
        with torch.no_grad():
            _load_folded(net.backbone, file_weights, path)
            net.head.weight.copy_(torch.from_numpy(w.T.copy()))
            net.head.bias.copy_(torch.from_numpy(b.copy()))
        diff = _difference_from_file(net, path)
        if diff > 1e-4:
            raise ValueError(
                f"the net rebuilt from {path} does not read as the file does (max difference {diff:.1e})"
            )
        return net.train()


def skeleton_graph(dest: Path, src: Path | None = None) -> int:
    """Write PP-OCRv6's recogniser (`src`, default the rapidocr wheel's) with every weight matrix
    and kernel zeroed: the graph and batch-norm statistics `from_onnx(graph=dest)` builds on, on a
    machine without rapidocr (a lent GPU machine), in a file that compresses to a few hundred KB.
    Every zeroed tensor is one the loaded file replaces, and `from_onnx` checks that the net reads
    as its file does. Returns the number of zeroed tensors."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(src or ppocr_rec_path()))
    zeroed = 0
    for i, tensor in enumerate(model.graph.initializer):
        array = numpy_helper.to_array(tensor)
        if array.ndim >= 2 and array.dtype.kind == "f":
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.zeros_like(array), tensor.name))
            zeroed += 1
    tmp = Path(dest).with_suffix(".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(dest)
    return zeroed


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
        if isinstance(module, _BatchNorm):
            continue  # running statistics stay buffers
        for name, buf in list(module.named_buffers(recurse=False)):
            if buf is not None and buf.is_floating_point() and buf.numel() > 1:
                delattr(module, name)
                module.register_parameter(name, nn.Parameter(buf.clone()))


def _weights_in_use_order(nodes: list, weights: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """The float initializers of more than one element that ``nodes`` use, in the order they are
    first used. (Scalars and shape constants are the converter's, the same in every file.)"""
    order: list[tuple[str, np.ndarray]] = []
    seen: set[str] = set()
    for node in nodes:
        for name in node.input:
            array = weights.get(name)
            if array is not None and name not in seen and array.dtype.kind == "f" and array.size > 1:
                seen.add(name)
                order.append((name, array))
    return order


def _load_folded(graph: torch.fx.GraphModule, file_weights: list[tuple[str, np.ndarray]], path: Path) -> None:
    """Copy an export's backbone weights into ``graph`` (a `from_ppocr` backbone), matched in the
    order both graphs first use them. A convolution whose only user is a batch norm takes two of
    the file's weights, the folded conv's weight and bias (`_unfold`); every other parameter one.

    Raises:
        ValueError: The file's weights differ from the graph's parameters in number or shape.
    """
    modules = dict(graph.named_modules())
    params = dict(graph.named_parameters())
    pending = iter(file_weights)
    loaded: set[str] = set()

    def take(what: str, shape: tuple[int, ...]) -> torch.Tensor:
        item = next(pending, None)
        if item is None:
            raise ValueError(f"{path} has fewer weights than PP-OCRv6's recogniser (none left for {what})")
        name, array = item
        if array.shape != shape:
            raise ValueError(
                f"{path} is not PP-OCRv6's recogniser: its weight {name} is {array.shape} where {what} "
                f"is {shape}"
            )
        return torch.from_numpy(array.copy())

    for node in graph.graph.nodes:
        if node.op == "call_module" and not isinstance(modules[node.target], _BatchNorm):
            module = modules[node.target]
            norm_name = _norm_after(node, modules)
            if norm_name is not None:
                norm = modules[norm_name]
                conv = next(m for m in module.modules() if isinstance(m, nn.Conv2d))
                folded_w = take(f"{node.target}'s weight", tuple(conv.weight.shape))
                folded_b = take(f"{node.target}'s bias", (conv.out_channels,))
                _unfold(conv, norm, folded_w, folded_b)
                loaded.update(f"{norm_name}.{n}" for n, _ in norm.named_parameters())
            else:
                for name, param in module.named_parameters():
                    param.copy_(take(f"{node.target}.{name}", tuple(param.shape)))
            loaded.update(f"{node.target}.{n}" for n, _ in module.named_parameters())
        # weights read through get_attr (the attention's matmuls, layer norms, learnable scales)
        for arg in node.all_input_nodes:
            if arg.op == "get_attr" and arg.target in params and arg.target not in loaded:
                params[arg.target].copy_(take(arg.target, tuple(params[arg.target].shape)))
                loaded.add(arg.target)
    extra = next(pending, None)
    if extra is not None:
        raise ValueError(f"{path} has more weights than PP-OCRv6's recogniser ({extra[0]} is left over)")
    missing = sorted(set(params) - loaded)
    if missing:
        raise ValueError(f"the net's parameters {missing[:3]} are used in a way the loader does not know")


def _norm_after(node: torch.fx.Node, modules: dict[str, nn.Module]) -> str | None:
    """The batch norm module that is the only user of ``node``'s output, if there is one."""
    users = list(node.users)
    if len(users) == 1 and users[0].op == "call_module" and isinstance(modules[users[0].target], _BatchNorm):
        return str(users[0].target)
    return None


def _unfold(conv: nn.Conv2d, norm: _BatchNorm, folded_w: torch.Tensor, folded_b: torch.Tensor) -> None:
    """Set ``conv``'s weight and ``norm``'s shift (beta) so that ``norm(conv(x))`` in eval mode is
    the folded conv ``folded_w * x + folded_b``; ``norm``'s statistics and scale (gamma) stay.
    Computed in float64, so the only rounding is the final float32."""
    scale = norm.weight.double() / torch.sqrt(norm.running_var.double() + norm.eps)
    if not bool(torch.all(scale != 0)):
        raise ValueError("a batch norm with a zero scale cannot take a folded convolution")
    conv.weight.copy_(folded_w.double() / scale.view(-1, *[1] * (folded_w.dim() - 1)))
    conv_bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
    norm.bias.copy_(folded_b.double() - scale * (conv_bias - norm.running_mean.double()))


def _difference_from_file(net: KoreanRecognizerNet, path: Path, width: int = 160) -> float:
    """The largest difference between the net's probabilities and onnxruntime's of the file on a
    random batch at the export's width (160: a file that runs only there is still read)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 48, width)).astype(np.float32)
    with torch.no_grad():
        mine = net(torch.from_numpy(x)).numpy()
    theirs = session.run(None, {session.get_inputs()[0].name: x})[0]
    return float(np.abs(theirs - mine).max())


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
