"""The learned eraser's networks: a mask-conditioned gated-convolution U-Net and a PatchGAN critic.

Conventions (shared with `imtrans.erase.gan`, which runs the exported generator without torch):

* images are float tensors (N, 3, H, W) in [-1, 1] (``uint8 / 127.5 - 1``);
* masks are (N, 1, H, W), 1.0 on pixels to fill (text), 0.0 elsewhere;
* H and W are multiples of `Generator.multiple` (8: three stride-2 levels).

The generator sees the image with the masked pixels set to 0 (mid-grey) plus the mask (and,
with ``sees_text``, the masked pixels themselves as separate channels), and returns the input
with only the masked pixels replaced by its prediction, so a perfect copy of the known pixels
is built in rather than learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class GeneratorConfig:
    """Widths of the generator.

    Attributes:
        widths: Channels at full, 1/2, 1/4 and 1/8 resolution.
        middle: Gated 3x3 blocks at 1/8 resolution, with dilations 2, 4, 8, 2, 4, 8, ... (receptive
            field; a 128 px training crop is 16 cells wide at 1/8, so 16 would see only padding).
        sees_text: Also feed the pixels under the mask (the lettering, its fringe and the
            background between strokes that the grown mask covers). Inpainting proper throws
            them away; a text eraser can tell lettering from background in them and keep the
            background. Off for the networks trained before it existed.
    """

    widths: tuple[int, int, int, int] = (12, 24, 48, 96)
    middle: int = 2
    sees_text: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"widths": list(self.widths), "middle": self.middle, "sees_text": self.sees_text}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> GeneratorConfig:
        widths = tuple(int(w) for w in d.get("widths", cls.widths))  # type: ignore[attr-defined]
        return cls(widths=widths, middle=int(d.get("middle", cls.middle)),  # type: ignore[arg-type]
                   sees_text=bool(d.get("sees_text", False)))  # fmt: skip

    @property
    def inputs(self) -> int:
        """Channels into the first convolution: known pixels, mask, coarse fill (, masked pixels)."""
        return 10 if self.sees_text else 7


class GatedConv(nn.Module):
    """Gated convolution (Yu et al., "Free-Form Image Inpainting with Gated Convolution", 2019).

    One convolution makes 2 * ``out_ch`` channels: features and a soft gate per pixel and
    channel, ``leaky_relu(features) * sigmoid(gate)``. The gate learns where the input is
    valid, which a plain convolution cannot tell from a zeroed hole.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.conv = nn.Conv2d(in_ch, 2 * out_ch, kernel, stride=stride, padding=pad, dilation=dilation)
        self.out_ch = out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features, gate = torch.split(self.conv(x), self.out_ch, dim=1)
        return F.leaky_relu(features, 0.2) * torch.sigmoid(gate)


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


def coarse_fill(known: torch.Tensor, valid: torch.Tensor, levels: int = 3, spread: int = 3) -> torch.Tensor:
    """A smooth first guess of the hole: push-pull normalised averaging of the known pixels.

    Push: average known colours and their weights down ``levels`` halvings, then spread them
    ``spread`` more cells at the coarsest level (3x3 means), so holes up to about
    ``2 * 2**levels * (spread + 1)`` px wide (64 px by default) get a value. Pull: back up
    level by level, where a cell has known pixels keep their mean, elsewhere take the
    bilinearly upsampled coarser guess. Cheap (pools and resizes) and exportable.

    Args:
        known: (N, C, H, W) image with the hole zeroed; H, W multiples of ``2**levels``.
        valid: (N, 1, H, W), 1 on known pixels.

    Returns:
        (N, C, H, W): ``known`` outside the hole, the guess inside it.
    """
    nums, dens = [known], [valid]
    for _ in range(levels):
        nums.append(F.avg_pool2d(nums[-1], 2))
        dens.append(F.avg_pool2d(dens[-1], 2))
    num, den = nums[-1], dens[-1]
    for _ in range(spread):
        num = F.avg_pool2d(num, 3, stride=1, padding=1, count_include_pad=False)
        den = F.avg_pool2d(den, 3, stride=1, padding=1, count_include_pad=False)
    guess = num / (den + 1e-6)
    for lvl in range(levels - 1, -1, -1):
        up = F.interpolate(guess, scale_factor=2.0, mode="bilinear", align_corners=False)
        cover = torch.clamp(dens[lvl] * 4.0, 0.0, 1.0)
        guess = cover * nums[lvl] / (dens[lvl] + 1e-6) + (1.0 - cover) * up
    return known + guess * (1.0 - valid)


class Generator(nn.Module):
    """Gated U-Net: fills the masked pixels of an image.

    The hole is first filled by `coarse_fill` (a smooth push-pull average of the known
    pixels); the network sees image, mask and that guess, and adds a correction to the guess.
    Without this prior a small network on a CPU budget learns even flat fills slowly.
    Encoder: gated convolutions at full, 1/2, 1/4 and 1/8 resolution; middle: dilated gated
    blocks at 1/8; decoder: nearest upsampling, skip concatenation and plain 3x3
    convolutions (the gates matter where the hole is still unknown, in the encoder).
    """

    multiple = 8

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or GeneratorConfig()
        c0, c1, c2, c3 = self.config.widths
        self.enc0 = GatedConv(self.config.inputs, c0, 3)
        self.enc1 = GatedConv(c0, c1, 3, stride=2)
        self.enc2 = GatedConv(c1, c2, 3, stride=2)
        self.enc3 = GatedConv(c2, c3, 3, stride=2)
        self.middle = nn.Sequential(
            *[GatedConv(c3, c3, 3, dilation=2 ** (i % 3 + 1)) for i in range(self.config.middle)]
        )
        self.dec2 = nn.Conv2d(c3 + c2, c2, 3, padding=1)
        self.dec1 = nn.Conv2d(c2 + c1, c1, 3, padding=1)
        self.dec0 = nn.Conv2d(c1 + c0, c0, 3, padding=1)
        self.out = nn.Conv2d(c0, 3, 3, padding=1)
        # Start close to the coarse fill: the network learns a correction (texture, edges).
        # Small, not zero: a zero last layer passes no gradient back, and Adam's epsilon then
        # swallows the tiny ones of the first steps (tried: the net stayed the coarse fill).
        with torch.no_grad():
            self.out.weight.mul_(0.1)
            nn.init.zeros_(self.out.bias)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill the hole.

        Args:
            image: (N, 3, H, W) in [-1, 1]; values under the mask are ignored unless
                ``config.sees_text``.
            mask: (N, 1, H, W), 1 where pixels are to be filled.

        Returns:
            (N, 3, H, W) in [-1, 1]: ``image`` where mask == 0, the prediction where mask == 1
            (blended linearly for fractional mask values).
        """
        known = image * (1.0 - mask)
        coarse = coarse_fill(known, 1.0 - mask)
        seen = [known, mask, coarse, image * mask] if self.config.sees_text else [known, mask, coarse]
        e0 = self.enc0(torch.cat(seen, dim=1))
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        e3 = self.middle(self.enc3(e2))
        d2 = F.leaky_relu(self.dec2(torch.cat([_up(e3), e2], dim=1)), 0.2)
        d1 = F.leaky_relu(self.dec1(torch.cat([_up(d2), e1], dim=1)), 0.2)
        d0 = F.leaky_relu(self.dec0(torch.cat([_up(d1), e0], dim=1)), 0.2)
        pred = torch.clamp(coarse + self.out(d0), -1.0, 1.0)
        return known + pred * mask


class Discriminator(nn.Module):
    """PatchGAN critic with spectral normalisation: one real/fake score per ~46 px patch.

    Input: image (N, 3, H, W) and mask (N, 1, H, W), so it can judge the filled area in
    context. Output: (N, 1, H/8, W/8) raw scores (hinge loss).
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        sn = nn.utils.spectral_norm
        w = width
        self.net = nn.Sequential(
            sn(nn.Conv2d(4, w, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(w, 2 * w, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(2 * w, 4 * w, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(4 * w, 4 * w, 3, padding=1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(4 * w, 1, 3, padding=1)),
        )

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([image, mask], dim=1))


def widen(small: Generator, config: GeneratorConfig) -> Generator:
    """A wider generator that computes exactly what ``small`` computes, to train on from there.

    Net2Net-style growth (Chen et al., 2016) without splitting: every old channel keeps its
    weights; each new channel gets the usual random weights into it and zero weights out of it
    into the old channels, so at first it changes nothing downstream, while its outgoing
    weights still get gradients and learn. This lets a long-trained small network seed a
    larger one instead of a wide run starting over from the coarse fill.

    Args:
        small: The trained generator.
        config: The new widths, each at least the old one; the same number of middle blocks
            (a gated block is not residual, so a new one cannot start as the identity).
            ``sees_text`` may be switched on: the masked pixels' channels start with zero
            weights into the old channels, like any new input.

    Returns:
        The new generator (training mode), equal to ``small`` on every input up to float error.
    """
    old, new = small.config, config
    shrinks = any(n < o for n, o in zip(new.widths, old.widths, strict=True)) or new.inputs < old.inputs
    if new.middle != old.middle or shrinks:
        raise ValueError(
            f"cannot widen {old} to {new}: widths must not shrink, middle must stay, sees_text stay on"
        )
    big = Generator(config)
    o0, o1, o2, o3 = old.widths
    n0, n1, n2, n3 = new.widths

    def same(n: int) -> list[int]:
        return list(range(n))

    def gated(o: int, n: int) -> list[int]:  # features, then gates, in one convolution's outputs
        return [*range(o), *range(n, n + o)]

    def concat(a_old: int, a_new: int, b_old: int) -> list[int]:  # cat([a, b]) of a decoder input
        return [*range(a_old), *range(a_new, a_new + b_old)]

    # (layer name, where the old output channels go, where the old input channels go)
    layers = [
        ("enc0.conv", gated(o0, n0), same(old.inputs)),
        ("enc1.conv", gated(o1, n1), same(o0)),
        ("enc2.conv", gated(o2, n2), same(o1)),
        ("enc3.conv", gated(o3, n3), same(o2)),
        *[(f"middle.{i}.conv", gated(o3, n3), same(o3)) for i in range(old.middle)],
        ("dec2", same(o2), concat(o3, n3, o2)),
        ("dec1", same(o1), concat(o2, n2, o1)),
        ("dec0", same(o0), concat(o1, n1, o0)),
        ("out", same(3), same(o0)),
    ]
    src, dst = small.state_dict(), big.state_dict()
    with torch.no_grad():
        for name, outs, ins in layers:
            w, b = dst[f"{name}.weight"], dst[f"{name}.bias"]
            out_idx, in_idx = torch.tensor(outs), torch.tensor(ins)
            w[out_idx] = 0.0  # new inputs add nothing to old outputs...
            w[out_idx[:, None], in_idx] = src[f"{name}.weight"]  # ...old to old as trained
            b[out_idx] = src[f"{name}.bias"]
    big.load_state_dict(dst)
    return big


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def export_onnx(generator: Generator, path: str, opset: int = 17) -> None:
    """Write the generator as ONNX with dynamic batch, height and width.

    Inputs ``image`` (N, 3, H, W) float32 in [-1, 1] and ``mask`` (N, 1, H, W) float32;
    output ``filled`` (N, 3, H, W). H and W must be multiples of `Generator.multiple`.
    The generator's config is stored in the model's metadata (``imtrans.config``).
    """
    import json

    generator = generator.eval()
    dummy = (torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 64, 64))
    axes = {0: "n", 2: "h", 3: "w"}
    torch.onnx.export(
        generator,
        dummy,
        path,
        input_names=["image", "mask"],
        output_names=["filled"],
        dynamic_axes={"image": axes, "mask": axes, "filled": axes},
        opset_version=opset,
        dynamo=False,
    )
    import onnx

    model = onnx.load(path)
    meta = model.metadata_props.add()
    meta.key = "imtrans.config"
    meta.value = json.dumps({"generator": generator.config.to_dict(), "multiple": Generator.multiple})
    onnx.save(model, path)


__all__ = [
    "Discriminator",
    "GatedConv",
    "Generator",
    "GeneratorConfig",
    "count_parameters",
    "export_onnx",
    "widen",
]
