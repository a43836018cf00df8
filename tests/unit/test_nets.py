"""The learned eraser's networks and losses (imtrans.nets), on small hand-made tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch  # in the [test] extra: a missing torch must fail, not skip

from imtrans.evaluate.metrics import ghost_slope
from imtrans.nets import (
    Discriminator,
    GatedConv,
    Generator,
    GeneratorConfig,
    count_parameters,
    ghost_slope_loss,
    gradient_l1,
    hinge_d,
    hinge_g,
    hole_l1,
    hole_mse,
    tint_loss,
    widen,
)
from imtrans.nets.data import SplitRule


def _batch(n: int = 2, h: int = 32, w: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    image = torch.rand(n, 3, h, w, generator=g) * 2 - 1
    mask = (torch.rand(n, 1, h, w, generator=g) > 0.7).float()
    return image, mask


def test_generator_keeps_shape_and_copies_known_pixels_exactly() -> None:
    torch.manual_seed(0)
    gen = Generator().eval()
    image, mask = _batch()
    with torch.no_grad():
        out = gen(image, mask)
    assert out.shape == image.shape
    known = mask.expand_as(image) == 0
    assert torch.equal(out[known], image[known])
    assert out.abs().max() <= 1.0


def test_generator_is_small_enough_for_cpu_inference() -> None:
    assert count_parameters(Generator()) < 2_000_000
    assert count_parameters(Generator(GeneratorConfig((16, 32, 64, 128), 3))) < 5_000_000


def test_gated_conv_shapes_with_stride_and_dilation() -> None:
    x = torch.zeros(2, 5, 32, 40)
    assert GatedConv(5, 7)(x).shape == (2, 7, 32, 40)
    assert GatedConv(5, 7, stride=2)(x).shape == (2, 7, 16, 20)
    assert GatedConv(5, 7, dilation=4)(x).shape == (2, 7, 32, 40)


def test_discriminator_scores_patches() -> None:
    image, mask = _batch(h=64, w=96)
    assert Discriminator(8)(image, mask).shape == (2, 1, 8, 12)


def test_widening_keeps_what_the_generator_computes_and_then_can_learn() -> None:
    torch.manual_seed(0)
    small = Generator(GeneratorConfig((4, 6, 8, 10), 2))
    for p in small.parameters():  # trained-looking weights, not the damped initial output layer
        p.data.normal_(0, 0.3)
    big = widen(small, GeneratorConfig((6, 8, 12, 16), 2))
    image, mask = _batch()
    with torch.no_grad():
        assert torch.allclose(small.eval()(image, mask), big.eval()(image, mask), atol=1e-5)
    assert count_parameters(big) > count_parameters(small)
    # The new channels' outgoing weights start at zero but get gradients.
    big.train()
    hole_l1(big(image, mask), torch.zeros_like(image), mask).backward()
    assert big.out.weight.grad[:, 4:].abs().sum() > 0
    with pytest.raises(ValueError, match="cannot widen"):
        widen(small, GeneratorConfig((2, 6, 8, 10), 2))
    with pytest.raises(ValueError, match="cannot widen"):
        widen(small, GeneratorConfig((4, 6, 8, 10), 3))


def test_a_generator_that_sees_the_text_starts_as_the_one_it_grew_from_and_then_uses_it() -> None:
    torch.manual_seed(0)
    blind = Generator(GeneratorConfig((4, 6, 8, 10), 2))
    for p in blind.parameters():
        p.data.normal_(0, 0.3)
    seeing = widen(blind, GeneratorConfig((4, 6, 8, 10), 2, sees_text=True))
    image, mask = _batch()
    other_text = torch.where(mask > 0, -image, image)  # same background, other pixels under the mask
    with torch.no_grad():
        assert torch.allclose(blind.eval()(image, mask), seeing.eval()(image, mask), atol=1e-5)
        assert torch.allclose(seeing(image, mask), seeing(other_text, mask), atol=1e-5)
    seeing.train()
    hole_l1(seeing(image, mask), torch.zeros_like(image), mask).backward()
    assert seeing.enc0.conv.weight.grad[:, 7:].abs().sum() > 0  # the masked pixels' weights learn
    with torch.no_grad():
        seeing.enc0.conv.weight[:, 7:] += 0.5
        assert not torch.allclose(seeing.eval()(image, mask), seeing(other_text, mask), atol=1e-3)
        assert torch.allclose(blind(image, mask), blind(other_text, mask), atol=1e-5)  # blind: ignores them
    with pytest.raises(ValueError, match="cannot widen"):
        widen(seeing, GeneratorConfig((4, 6, 8, 10), 2))


def test_hole_l1_weighs_hole_and_known_pixels_apart() -> None:
    target = torch.zeros(1, 3, 2, 2)
    output = torch.zeros(1, 3, 2, 2)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    output[:, :, 0, 0] = 0.5  # error 0.5 in the hole
    output[:, :, 1, 1] = 0.3  # error 0.3 at one of three known pixels: mean 0.1
    assert hole_l1(output, target, mask).item() == pytest.approx(0.5)
    assert hole_l1(output, target, mask, hole=6.0, valid=1.0).item() == pytest.approx(3.1)
    assert hole_l1(output, target, torch.zeros_like(mask), hole=6.0).item() == 0.0


def test_hole_l1_per_crop_or_pooled_over_pixels() -> None:
    target = torch.zeros(2, 3, 4, 4)
    output = torch.ones(2, 3, 4, 4)
    output[1] = 3.0
    mask = torch.zeros(2, 1, 4, 4)
    mask[0, :, :2] = 1.0  # 8 hole pixels with error 1
    mask[1, :, 0, 0] = 1.0  # 1 hole pixel with error 3
    assert hole_l1(output, target, mask).item() == pytest.approx(2.0)  # (1 + 3) / 2 crops
    assert hole_l1(output, target, mask, pooled=True).item() == pytest.approx(11 / 9)  # per pixel


def test_hole_mse_squares_errors_inside_the_hole_per_crop() -> None:
    target = torch.zeros(2, 3, 4, 4)
    output = torch.full((2, 3, 4, 4), 5.0)  # outside the hole: ignored
    mask = torch.zeros(2, 1, 4, 4)
    mask[0, :, 0, :2] = 1.0
    output[0, :, 0, :2] = 2.0  # error 2 -> 4
    assert hole_mse(output, target, mask).item() == pytest.approx((4 + 0) / 2)  # crop 1: empty hole


def test_ghost_slope_loss_is_the_ghost_metric_on_the_tensor_scale() -> None:
    rng = np.random.default_rng(0)
    clean = rng.integers(60, 200, (2, 12, 16, 3)).astype(np.uint8)
    original = clean.copy()
    original[:, 3:9, 4:12] = 250  # bright letters
    mask = np.zeros((2, 12, 16), np.uint8)
    mask[:, 2:10, 3:13] = 255
    ghost = 0.7 * clean.astype(float) + 0.3 * original  # a lighter copy of the letters
    negative = 1.2 * clean.astype(float) - 0.2 * original  # a darker one: counts as much
    erased = clean.copy()
    erased[0][mask[0] > 0] = np.rint(ghost[0][mask[0] > 0])
    erased[1][mask[1] > 0] = np.rint(negative[1][mask[1] > 0]).clip(0, 255)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5 - 1

    m = torch.from_numpy(mask > 0).float()[:, None]
    want = [abs(ghost_slope(erased[i], clean[i], original[i], mask[i])) for i in range(2)]
    assert want == pytest.approx([0.3, 0.2], abs=0.01)
    assert ghost_slope_loss(t(erased), t(clean), t(original), m).item() == pytest.approx(
        np.mean(want), abs=1e-4
    )
    # the target itself leaves no ghost; without letter pixels the loss is 0
    assert ghost_slope_loss(t(clean), t(clean), t(original), m).item() == 0.0
    assert ghost_slope_loss(t(erased), t(clean), t(clean), m).item() == 0.0


def test_tint_loss_is_the_fills_mean_colour_shift_over_the_letters() -> None:
    clean = np.full((1, 10, 10, 3), 100, np.uint8)
    original = clean.copy()
    original[:, 3:7, 3:7] = (20, 220, 230)  # cyan letters
    mask = np.zeros((1, 10, 10), np.uint8)
    mask[:, 2:8, 2:8] = 255

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5 - 1

    m = torch.from_numpy(mask > 0).float()[:, None]
    tinted = clean.copy()
    tinted[:, 3:7, 3:7] = (100, 130, 133)  # the fill drifts towards cyan over the letters only
    want = (0 + 30 + 33) / 3 / 127.5
    assert tint_loss(t(tinted), t(clean), t(original), m).item() == pytest.approx(want, abs=1e-5)
    # texture that averages to the truth is no tint; the target is none; no letters, no loss
    checker = np.where(np.indices((4, 4)).sum(0) % 2, 10, -10)[..., None]  # +-10 levels, mean 0
    noisy = clean.copy()
    noisy[:, 3:7, 3:7] = 100 + checker
    assert tint_loss(t(noisy), t(clean), t(original), m).item() == pytest.approx(0.0, abs=1e-6)
    assert tint_loss(t(clean), t(clean), t(original), m).item() == 0.0
    assert tint_loss(t(tinted), t(clean), t(clean), m).item() == 0.0


def test_hinge_losses() -> None:
    sure = torch.tensor([2.0, 3.0])
    assert hinge_d(sure, -sure).item() == 0.0  # confident and right: no loss
    assert hinge_d(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(2.0)
    assert hinge_d(torch.tensor([0.5]), torch.tensor([-0.5])).item() == pytest.approx(1.0)
    assert hinge_g(torch.tensor([1.0, -3.0])).item() == pytest.approx(1.0)


def test_gradient_l1_sees_edges_not_offsets() -> None:
    target = torch.zeros(1, 1, 8, 8)
    target[..., :, 4:] = 1.0  # a vertical edge
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., 2:6, 2:6] = 1.0
    flat = torch.full_like(target, 0.5)
    assert gradient_l1(target + 0.3, target, mask).item() == pytest.approx(0.0, abs=1e-6)
    assert gradient_l1(flat, target, mask).item() > 0.0
    assert gradient_l1(flat, target, torch.zeros_like(mask)).item() == 0.0


def test_split_holds_out_a_crop_only_when_seed_photo_and_font_all_are() -> None:
    rule = SplitRule(test_seeds=(2,), photo_share=0.25, font_share=0.25)
    photo_in, photo_out, font_in, font_out = (
        "astronaut",
        "gravel",
        "NotoSansCJK-Regular.ttc",
        "NotoSerifCJK-Regular.ttc",
    )
    assert not rule.held_out_photo(photo_in) and rule.held_out_photo(photo_out)
    assert not rule.held_out_font(font_in) and rule.held_out_font(font_out)
    assert rule.side(2, photo_out, font_out) == "test"
    assert rule.side(1, photo_in, font_in) == "train"
    # Any one held-out ingredient keeps a crop out of training; all three make it a test crop.
    assert rule.side(1, photo_out, font_in) is None
    assert rule.side(1, photo_in, font_out) is None
    assert rule.side(2, photo_in, font_in) is None
    assert rule.side(2, photo_out, font_in) is None


def test_coarse_fill_restores_a_flat_colour_and_keeps_known_pixels() -> None:
    from imtrans.nets.eraser import coarse_fill

    image = torch.full((1, 3, 64, 64), 0.4)
    image[:, 1] = -0.2
    valid = torch.ones(1, 1, 64, 64)
    valid[..., 10:50, 5:60] = 0.0  # a 40 px thick hole
    known = image * valid
    filled = coarse_fill(known, valid)
    assert torch.allclose(filled, image, atol=1e-4)
    keep = valid.expand_as(image) == 1
    assert torch.equal(filled[keep], image[keep])


def test_an_untrained_generator_starts_near_the_coarse_fill() -> None:
    from imtrans.nets.eraser import coarse_fill

    torch.manual_seed(0)
    image, mask = _batch(h=32, w=32)
    with torch.no_grad():
        out = Generator().eval()(image, mask)
    want = coarse_fill(image * (1 - mask), 1 - mask).clamp(-1, 1)
    assert (out - want).abs().mean() < 0.05
