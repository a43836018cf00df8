"""The learned eraser backend (`gan`): tiling, write-back contract, errors; the training smoke test.

Most tests run a hand-built ONNX model that fills every hole with 0 (grey 128), so they check
where the backend writes, never how good the shipped weights are.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fixtures import gradient_background

from imtrans.erase import make_eraser
from imtrans.erase.gan import GanEraser, GanSettings
from imtrans.erase.telea import TeleaEraser, TeleaSettings
from imtrans.errors import ModelMissingError

ROOT = Path(__file__).resolve().parents[2]
GREY = 128  # the constant model's fill: 0.0 in [-1, 1]


@pytest.fixture(scope="module")
def grey_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ONNX model with the generator's interface: filled = image * (1 - mask)."""
    # onnx and torch come with the [test] extra: a missing one must fail, not skip.
    import onnx
    from onnx import TensorProto, helper

    dims = ["n", 3, "h", "w"]
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["one", "mask"], ["keep"]),
            helper.make_node("Mul", ["image", "keep"], ["filled"]),
        ],
        "grey",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, dims),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["n", 1, "h", "w"])],
        [helper.make_tensor_value_info("filled", TensorProto.FLOAT, dims)],
        [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("gan") / "grey.onnx"
    onnx.save(model, path)
    return path


def _network_only(model: Path) -> GanEraser:
    return GanEraser(GanSettings(flat_tolerance=0.0), model_path=model)


def _image(h: int = 300, w: int = 400, seed: int = 3) -> np.ndarray:
    return gradient_background(w, h, seed=seed)


def test_pixels_outside_the_mask_come_back_bit_for_bit_and_every_masked_pixel_is_filled(
    grey_model: Path,
) -> None:
    image = _image()
    rng = np.random.default_rng(0)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[40:70, 30:300] = (rng.random((30, 270)) > 0.6) * 255  # a line of "strokes"
    mask[150:160, 50:60] = 255
    mask[200:203, 100:380] = 255
    before = image.copy()
    out = _network_only(grey_model).erase(image, mask)
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert np.array_equal(image, before)  # the input is not modified
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert (out[mask > 0] == GREY).all()


def test_masks_at_the_image_borders(grey_model: Path) -> None:
    image = _image(101, 157)  # not multiples of 8
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[:6, :] = 255  # along the top edge
    mask[:, -3:] = 255  # the right edge
    mask[-10:, :12] = 255  # the bottom-left corner
    out = _network_only(grey_model).erase(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert (out[mask > 0] == GREY).all()


def test_thick_holes_are_downscaled_and_large_boxes_split(grey_model: Path) -> None:
    image = _image(900, 1300)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[100:400, 100:420] = 255  # 300 px thick: run at reduced scale
    mask[600:640, 20:1280] = 255  # 1260 px long: more than one tile
    eraser = _network_only(grey_model)
    shapes: list[tuple[int, ...]] = []
    run = eraser._run
    eraser._run = lambda x, m: (shapes.append(x.shape), run(x, m))[1]  # type: ignore[method-assign]
    out = eraser.erase(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert (out[mask > 0] == GREY).all()
    assert all(s[1] % 8 == 0 and s[2] % 8 == 0 and max(s[1:3]) <= 512 for s in shapes)
    assert sum(s[0] for s in shapes) >= 4  # the long box in several tiles, the thick one in one


def test_equal_tiles_run_as_one_batch(grey_model: Path) -> None:
    image = _image()
    mask = np.zeros(image.shape[:2], np.uint8)
    for y in (60, 140, 220):
        mask[y : y + 8, 100:200] = 255
    eraser = _network_only(grey_model)
    batches: list[int] = []
    run = eraser._run
    eraser._run = lambda x, m: (batches.append(len(x)), run(x, m))[1]  # type: ignore[method-assign]
    eraser.erase(image, mask)
    assert batches == [3]


def test_flat_surroundings_are_filled_without_the_network(grey_model: Path) -> None:
    image = np.full((120, 200, 3), (200, 180, 160), np.uint8)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[50:60, 40:160] = 255
    image[mask > 0] = (10, 10, 10)
    out = GanEraser(GanSettings(), model_path=grey_model).erase(image, mask)
    assert (out == (200, 180, 160)).all()


def test_the_gan_keeps_the_flat_fast_path_to_plainer_backgrounds_than_telea(grey_model: Path) -> None:
    # Dark sky with noise of std-dev 6: flat for Telea's tolerance (12), not for the gan's (4),
    # whose network reads the stars between the strokes that a flat plane would paint over.
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(20, 6, (120, 200, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[50:60, 40:160] = 255
    assert (
        TeleaEraser(TeleaSettings()).flat_tolerance == 12
        and GanEraser(model_path=grey_model).flat_tolerance == 4
    )
    flat = GanEraser(GanSettings(flat_tolerance=12), model_path=grey_model).erase(image, mask)
    assert flat[mask > 0].std() < 2  # one plane
    out = GanEraser(GanSettings(), model_path=grey_model).erase(image, mask)
    assert (out[mask > 0] == GREY).all()  # the grey model's fill: the network ran


def test_greyscale_images(grey_model: Path) -> None:
    image = _image()[:, :, 0].copy()
    mask = np.zeros(image.shape, np.uint8)
    mask[100:120, 50:250] = 255
    out = _network_only(grey_model).erase(image, mask)
    assert out.shape == image.shape
    assert np.array_equal(out[mask == 0], image[mask == 0])


def test_empty_mask_returns_a_copy(grey_model: Path) -> None:
    image = _image()
    out = _network_only(grey_model).erase(image, np.zeros(image.shape[:2], np.uint8))
    assert out is not image and np.array_equal(out, image)


def test_missing_model_names_the_file_and_the_fallback(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.onnx"
    with pytest.raises(ModelMissingError) as e:
        GanEraser(model_path=missing)
    message = str(e.value)
    assert str(missing) in message and "--set erase.backend=telea" in message and "\n" not in message


def test_the_factory_builds_the_shipped_model_and_it_keeps_the_contract() -> None:
    eraser = make_eraser(GanSettings(flat_tolerance=0.0))
    assert eraser.name == "gan"
    image = _image()
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[100:130, 40:360:3] = 255
    out = eraser.erase(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert eraser.model_path.stat().st_size <= 20_000_000  # the weights ship inside the package


def test_a_black_and_white_page_stored_as_rgb_gets_grey_fills_from_the_shipped_model() -> None:
    eraser = make_eraser(GanSettings(flat_tolerance=0.0))
    colour = _image()
    grey = np.repeat(colour[:, :, :1], 3, axis=2)
    mask = np.zeros(colour.shape[:2], np.uint8)
    mask[100:140, 40:360] = 255
    for image in (colour, grey):
        image[mask > 0] = 255  # white lettering under the mask
    filled = eraser.erase(grey, mask)[mask > 0].astype(int)
    assert (filled[:, 0] == filled[:, 1]).all() and (filled[:, 1] == filled[:, 2]).all()
    filled = eraser.erase(colour, mask)[mask > 0].astype(int)
    assert (filled[:, 0] != filled[:, 1]).any()  # a colour page keeps its colours


@pytest.fixture(scope="module")
def synth_sets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few `imtrans synth` samples: train/ (seed 1) and test/ (seed 2)."""
    from imtrans.synth import generate

    root = tmp_path_factory.mktemp("synth")
    generate("en", "mixed", 3, 1, root / "train")
    generate("en", "mixed", 2, 2, root / "test")
    return root


def test_training_crops_are_aligned_and_the_mask_covers_the_grown_text(synth_sets: Path) -> None:
    from imtrans.nets.data import EraserCrops

    ds = EraserCrops([synth_sets / "train"], "all", size=64, train=True, seed=0)
    assert len(ds) > 0
    item = ds[0]
    assert item["image"].shape == (3, 64, 64) and item["target"].shape == (3, 64, 64)
    assert item["mask"].shape == (1, 64, 64) and set(item["mask"].unique().tolist()) <= {0.0, 1.0}
    assert item["image"].min() >= -1 and item["image"].max() <= 1
    # Unaugmented crops: image == target wherever the grown mask is 0, up to the blur's and
    # JPEG's reach that the synth README describes (most pixels, certainly).
    val = EraserCrops([synth_sets / "train"], "all", size=64, train=False)
    im, tg, m = val.crop(0)
    assert m.any() and np.array_equal(val.crop(0)[2], m)  # deterministic
    same = (im == tg).all(axis=2)
    assert same[m == 0].mean() > 0.5 and not same[m > 0].all()


@pytest.mark.slow
def test_training_script_runs_one_step_and_exports_a_model_onnxruntime_agrees_with(
    synth_sets: Path, tmp_path: Path
) -> None:
    onnx_path = tmp_path / "run" / "eraser.onnx"
    cmd = [sys.executable, str(ROOT / "training" / "train_eraser.py"), "--smoke", "--split", "false", "--threads", "1",
           "--train", str(synth_sets / "train"), "--test", str(synth_sets / "test"), "--out", str(tmp_path / "run"),
           "--export", str(onnx_path)]  # fmt: skip
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "exported" in done.stdout and "val 1" in done.stdout
    assert (tmp_path / "run" / "last.pt").is_file() and (tmp_path / "run" / "log.jsonl").is_file()
    # The exported model plugs into the backend.
    image = _image()
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[100:130, 40:360:3] = 255
    out = _network_only(onnx_path).erase(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    # Resuming continues from the checkpoint (here with a moving average of the weights and the
    # ghost and tint losses from now on).
    done = subprocess.run(
        cmd[:-2]
        + ["--resume", "--steps", "2", "--ema", "0.5", "--ghost-weight", "0.2", "--tint-weight", "1"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "start at step 1" in done.stdout and "step 2:" in done.stdout and " tint " in done.stdout
    import torch  # the training extra; the backend tests above need only onnxruntime

    assert torch.load(tmp_path / "run" / "last.pt", weights_only=False)["ema_updates"] == 1
    # A wider network seeded from the checkpoint (and its critic) starts where it left off.
    grown = tmp_path / "grown"
    args = cmd[: cmd.index("--out") + 1] + [str(grown), "--init-from", str(tmp_path / "run" / "last.pt"),
                                            "--init-critic", "true", "--widths", "16", "32", "48", "128"]  # fmt: skip
    widened = subprocess.run(args, check=False, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert widened.returncode == 0, widened.stderr[-2000:]
    psnr = re.compile(r"val (\d+) .*?PSNR-in-mask gan ([\d.]+)")
    before = dict(psnr.findall(done.stdout))["2"]
    assert dict(psnr.findall(widened.stdout))["0"] == before
