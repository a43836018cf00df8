"""Losses of the learned eraser.

* `hole_l1`: L1 with the hole (mask == 1) weighted apart from the known pixels. The
  generator composites its prediction into the hole only, so on its output the known part is
  exact; the loss is meant for the raw fill and the hole term is what matters.
* `hinge_d` / `hinge_g`: the hinge adversarial loss (SN-PatchGAN, Miyato et al. 2018),
  critic scores averaged over patches.
* `gradient_l1`: L1 between the finite-difference gradients of output and target inside the
  (slightly grown) hole. L1 alone is satisfied by a blurred mean fill; this term asks for
  the target's edges and texture contrast and is cheap, so it earns its place before the
  critic is switched on.
* `hole_mse`: mean squared error inside the hole. The held-out score is the PSNR of the
  pooled squared error, whose best fill where texture cannot be predicted is the mean, not
  the median that L1 asks for; a small weight of it tilts the fill that way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hole_l1(
    output: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    hole: float = 1.0,
    valid: float = 0.0,
    pooled: bool = False,
) -> torch.Tensor:
    """Weighted mean absolute error: ``hole * mean_hole |o - t| + valid * mean_valid |o - t|``.

    Args:
        output: (N, C, H, W).
        target: (N, C, H, W).
        mask: (N, 1, H, W), 1 in the hole.
        hole: Weight of the mean error inside the hole.
        valid: Weight of the mean error outside it.
        pooled: Take each mean over all the batch's pixels at once, so every pixel weighs
            the same (as in the held-out PSNR of the pooled error, which large holes over
            texture dominate), instead of per image.

    Returns:
        A scalar. By default each mean is taken per image over its own pixels (and channels),
        then averaged over the batch, so a crop with a large hole (a whole masked box) counts
        as much as one with a few thin strokes; an empty region adds 0.
    """
    err = (output - target).abs()
    c = output.shape[1]
    dims = (0, 1, 2, 3) if pooled else (1, 2, 3)
    in_hole = (err * mask).sum(dims) / (mask.sum(dims) * c).clamp(min=1.0)
    outside = (err * (1 - mask)).sum(dims) / ((1 - mask).sum(dims) * c).clamp(min=1.0)
    return (hole * in_hole + valid * outside).mean()


def hole_mse(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error inside the hole, per image over its own pixels and channels, then
    averaged over the batch (as `hole_l1` by default); an empty hole adds 0."""
    dims = (1, 2, 3)
    err = (output - target).square() * mask
    return (err.sum(dims) / (mask.sum(dims) * output.shape[1]).clamp(min=1.0)).mean()


#: A letter pixel differs from the clean background by more than this in some channel: 30
#: levels of 255 on the [-1, 1] scale (``imtrans.evaluate.metrics.ghost_slope``'s default).
LETTER_DIFFERENCE = 30 / 127.5


def letter_pixels(
    image: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, min_difference: float = LETTER_DIFFERENCE
) -> torch.Tensor:
    """(N, 1, H, W) float, 1 on the hole's letter pixels: where ``image`` differs from
    ``target`` by more than ``min_difference`` in some channel (below it: background, blur or
    fringe)."""
    return mask * ((image - target).abs().amax(dim=1, keepdim=True) > min_difference).float()


def ghost_slope_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    image: torch.Tensor,
    mask: torch.Tensor,
    min_difference: float = LETTER_DIFFERENCE,
) -> torch.Tensor:
    """Mean over crops of ``|slope|``, the slope of ``output - target`` on ``image - target``
    over the letter pixels (`letter_pixels`).

    Args:
        output: (N, C, H, W) the generator's output.
        target: (N, C, H, W) the clean background.
        image: (N, C, H, W) the input with its text.
        mask: (N, 1, H, W), 1 in the hole.
        min_difference: See `letter_pixels`.

    Returns:
        A scalar: 0 when the fill's error does not follow the letters; crops without letter
        pixels add 0.
    """
    letter = image - target
    sel = letter_pixels(image, target, mask, min_difference)
    dims = (1, 2, 3)
    xx = (letter * letter * sel).sum(dims)
    xy = (letter * (output - target) * sel).sum(dims)
    slope = xy / xx.clamp(min=1e-6)
    return slope.abs().mean()


def tint_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    image: torch.Tensor,
    mask: torch.Tensor,
    min_difference: float = LETTER_DIFFERENCE,
) -> torch.Tensor:
    """Mean over crops and channels of ``|mean(output - target)|`` over the letter pixels (as
    in `ghost_slope_loss`): a fill tinted as a whole (towards the letters' colour, say),
    whatever its shape. The ghost slope counts such a shift only as far as it lines up with
    the letters' difference, and hole L1 averages it with every other hole pixel.

    Returns:
        A scalar on the [-1, 1] scale; crops without letter pixels add 0.
    """
    sel = letter_pixels(image, target, mask, min_difference)
    shift = ((output - target) * sel).sum((2, 3)) / sel.sum((2, 3)).clamp(min=1.0)  # (N, C)
    return shift.abs().mean()


def gradient_l1(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of horizontal and vertical gradients, where either pixel of a
    difference is in the hole.

    Returns:
        A scalar; 0 when the mask is empty.
    """
    region = F.max_pool2d(mask, 3, stride=1, padding=1)  # the hole and its one-px border
    total = output.new_zeros(())
    count = output.new_zeros(())
    for dim in (2, 3):
        do = torch.diff(output, dim=dim)
        dt = torch.diff(target, dim=dim)
        n = region.shape[dim]
        r = region.narrow(dim, 0, n - 1) * region.narrow(dim, 1, n - 1)
        total = total + ((do - dt).abs() * r).sum()
        count = count + r.sum() * output.shape[1]
    return total / count.clamp(min=1.0)


def hinge_d(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Critic hinge loss: ``mean(relu(1 - real)) + mean(relu(1 + fake))``."""
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def hinge_g(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss: ``-mean(fake)``."""
    return -fake_scores.mean()
