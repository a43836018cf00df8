"""Train the learned eraser (`imtrans.nets`) on `imtrans synth` data; export it to ONNX.

    python training/train_eraser.py --train /data/train_* --test /data/test_* --out runs/eraser
    python training/train_eraser.py --config eraser.yaml --steps 8000       # file, then overrides
    python training/train_eraser.py --out runs/eraser --resume              # continue the last checkpoint
    python training/train_eraser.py --out runs/eraser --resume --steps 12000        # continue, to more steps
    python training/train_eraser.py --init-from runs/small/best.pt --widths 16 32 96 256 ...  # grow a trained one
    python training/train_eraser.py --out runs/eraser --export-from best --export src/imtrans/erase/models/eraser_gan.onnx
    python training/train_eraser.py --smoke --train DIR --test DIR --out /tmp/x --export /tmp/x/g.onnx

Every field of `Config` is a command-line option (``--hole-weight 6``); a JSON or YAML file
given with ``--config`` sets defaults first. The resolved config is written to
``OUT/config.json``; ``OUT/log.jsonl`` gets one JSON object per logged step and per
validation, and stdout a short line for each. ``OUT/last.pt`` is the checkpoint (networks,
optimisers, step); ``OUT/best.pt`` the generator with the best held-out PSNR inside the mask.
``--resume`` keeps the saved config except the fields given again, and trains on to ``steps``.

Steps (one page):
1. resolve the config, seed, threads; 2. index training and held-out crops (`SplitRule`);
3. build networks and optimisers, resume if asked; 4. per step: a batch of random crops, the
critic's hinge step (once the adversarial phase starts), the generator's step (hole L1 +
gradient L1 + ghost slope + tint + hinge), cosine learning rate; 5. every ``val_every`` steps: PSNR /
SSIM inside the mask on the held-out crops and the letters left in textured fills
(`ghost_slope`), next to Telea on the same crops; 6. checkpoint; 7. export to ONNX and check
onnxruntime against torch.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from imtrans.erase.telea import TeleaEraser
from imtrans.evaluate.metrics import PSNR_CAP, ghost_slope, ssim
from imtrans.nets.data import EraserCrops, SplitRule, is_textured, to_uint8
from imtrans.nets.eraser import (
    Discriminator,
    Generator,
    GeneratorConfig,
    count_parameters,
    export_onnx,
    widen,
)
from imtrans.nets.losses import ghost_slope_loss, gradient_l1, hinge_d, hinge_g, hole_l1, hole_mse, tint_loss


@dataclass
class Config:
    """Everything that decides a training run (saved as OUT/config.json)."""

    train: list[str] = field(default_factory=list)  # synth dirs for training crops
    test: list[str] = field(default_factory=list)  # synth dirs for held-out crops
    out: str = "runs/eraser"
    seed: int = 0
    threads: int = 2
    steps: int = 6000
    batch: int = 8
    crop: int = 128
    box_prob: float = 0.1  # share of crops whose centre line is masked as a whole box
    flat_keep: float = 0.3  # share of flat-background crops kept (others redrawn): texture matters
    lr: float = 5e-4  # generator; cosine decay to lr * lr_final after warmup
    lr_d: float = 2e-4
    lr_final: float = 0.05
    warmup: int = 200
    # >0: validate, keep and export an exponential moving average of the generator's weights
    # with this decay; the held-out score of one step's weights swings by tenths of a dB
    ema: float = 0.0
    hole_weight: float = 1.0
    pool_pixels: bool = False  # hole L1 over the batch's pixels, not per crop (see hole_l1)
    valid_weight: float = 0.0  # the output copies known pixels, so this is 0 by design
    mse_weight: float = 0.0  # hole MSE beside hole L1: the held-out PSNR rewards the mean fill
    grad_weight: float = 1.0
    # |ghost slope| of the fill over the letters' pixels (losses.ghost_slope_loss): faint copies
    # of large letters over texture, which L1 counts like any other error
    ghost_weight: float = 0.0
    # |mean colour shift| of the fill over the letters' pixels (losses.tint_loss): a smear in the
    # colour of large coloured letters, which the slope barely counts
    tint_weight: float = 0.0
    adv_weight: float = 0.01
    adv_start: int = 2000  # steps of reconstruction losses only before the critic joins
    # a checkpoint (best.pt or last.pt) whose generator seeds this one, widened (`widen`) if narrower
    init_from: str = ""
    init_critic: bool = False  # also take init_from's critic (same d_width), not a fresh one
    widths: list[int] = field(default_factory=lambda: list(GeneratorConfig().widths))
    middle: int = GeneratorConfig().middle
    sees_text: bool = False  # the generator also sees the masked pixels (GeneratorConfig.sees_text)
    d_width: int = 32
    # held-out split (see imtrans.nets.data.SplitRule); split=false uses the train and test
    # dirs whole (for sets made apart by other means, and the smoke test)
    split: bool = True
    test_seeds: list[int] = field(default_factory=lambda: list(SplitRule().test_seeds))
    photo_share: float = SplitRule().photo_share
    font_share: float = SplitRule().font_share
    salt: str = SplitRule().salt
    log_every: int = 25
    val_every: int = 500
    val_max: int = 300  # held-out crops per validation (the first ones, fixed)
    checkpoint_every: int = 500
    cache_mb: float = 3072


SMOKE = {"steps": 1, "batch": 2, "crop": 64, "val_every": 1, "val_max": 4, "checkpoint_every": 1, "log_every": 1,
         "warmup": 0, "adv_start": 0}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace, set[str]]:
    """The config: defaults, then ``--config FILE``, then ``--smoke``, then explicit options.

    Returns:
        The config, the script's own options, and the names of the fields set explicitly
        (by the file, ``--smoke`` or an option): a resumed run takes only those from here.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="JSON or YAML file of Config fields")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--export", type=Path, help="write the generator as ONNX here at the end")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: one step, a few crops")
    parser.add_argument(
        "--export-from", choices=["last", "best"], help="only export OUT/last.pt or OUT/best.pt to --export"
    )
    for f in dataclasses.fields(Config):
        kind = str(f.type)
        opt = "--" + f.name.replace("_", "-")
        if kind.startswith("list"):
            elem = int if "int" in kind else str
            parser.add_argument(opt, nargs="+", type=elem, default=None)
        else:
            parser.add_argument(
                opt, type={"int": int, "float": float, "str": str, "bool": _bool}[kind], default=None
            )
    args = parser.parse_args(argv)
    values: dict[str, Any] = dataclasses.asdict(Config())
    if args.config:
        text = args.config.read_text(encoding="utf-8")
        loaded = json.loads(text) if args.config.suffix == ".json" else _yaml(text)
        unknown = set(loaded) - set(values)
        if unknown:
            parser.error(f"unknown config fields in {args.config}: {', '.join(sorted(unknown))}")
        values.update(loaded)
        explicit = set(loaded)
    else:
        explicit = set()
    if args.smoke:
        values.update(SMOKE)
        explicit |= set(SMOKE)
    for name in values:
        given = getattr(args, name)
        if given is not None:
            values[name] = given
            explicit.add(name)
    return Config(**values), args, explicit


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _yaml(text: str) -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(text) or {})


def lr_factor(step: int, cfg: Config) -> float:
    """Linear warmup, then cosine decay from 1 to ``lr_final``."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def batch_at(ds: EraserCrops, step: int, cfg: Config) -> dict[str, torch.Tensor]:
    """The training batch of ``step``: a function of (seed, step), so resuming repeats it."""
    rng = np.random.default_rng([cfg.seed, step])
    items = [ds.item(int(i), rng) for i in rng.integers(len(ds), size=cfg.batch)]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


class Validator:
    """Held-out crops with Telea's results on them computed once; scores a generator.

    Scores are PSNR (of the pooled error) and mean SSIM inside the mask, for all crops and for the
    *textured* ones (`is_textured`: the background ring around the hole has a per-channel
    std of 12 or more; the backends' flat-fill fast path takes most of the others), and the mean
    `ghost_slope` over the textured crops. ``telea`` is the project's backend (flat fill or
    OpenCV per cluster); ``telea_cv2`` is plain ``cv2.inpaint(..., 3, INPAINT_TELEA)`` with the
    same mask.
    """

    def __init__(self, ds: EraserCrops, limit: int) -> None:
        n = min(len(ds), limit)
        self.crops = [ds.crop(i) for i in range(n)]
        self.textured = [is_textured(tg, m) for _, tg, m in self.crops]
        telea = TeleaEraser()
        self.baselines: dict[str, dict[str, float]] = {}
        self.baselines["telea"] = self._scores([telea.erase(im, m) for im, _, m in self.crops])
        self.baselines["telea_cv2"] = self._scores(
            [cv2.inpaint(im, m, 3, cv2.INPAINT_TELEA) for im, _, m in self.crops]
        )

    def _scores(self, outputs: list[np.ndarray]) -> dict[str, float]:
        """PSNR of the pooled squared error of all masked pixels (per-crop PSNRs would let the
        exact flat fills, capped at 100 dB, dominate a mean), the mean SSIM over crops, and the
        mean `ghost_slope` (letters left in the fill) over the textured crops."""
        rows = []
        ghosts = []
        for o, (im, tg, m), t in zip(outputs, self.crops, self.textured, strict=True):
            d = o[m > 0].astype(np.float64) - tg[m > 0]
            rows.append((float((d * d).sum()), d.size, ssim(o, tg, m), t))
            if t:
                ghosts.append(ghost_slope(o, tg, im, m))

        def pooled(sel: list[tuple[float, int, float, bool]]) -> tuple[float, float]:
            n = sum(r[1] for r in sel)
            if not n:
                return math.nan, math.nan
            mse = sum(r[0] for r in sel) / n
            p = min(PSNR_CAP, 10 * math.log10(255.0**2 / mse)) if mse > 0 else PSNR_CAP
            return p, float(np.nanmean([r[2] for r in sel]))

        p_all, s_all = pooled(rows)
        p_tex, s_tex = pooled([r for r in rows if r[3]])
        ghosts = [g for g in ghosts if not math.isnan(g)]  # crops without letter pixels
        ghost = float(np.mean(ghosts)) if ghosts else math.nan
        return {"psnr": p_all, "ssim": s_all, "psnr_textured": p_tex, "ssim_textured": s_tex,
                "ghost_textured": ghost, "n_textured": float(sum(self.textured))}  # fmt: skip

    @torch.no_grad()
    def __call__(self, gen: Generator, batch: int = 16) -> dict[str, Any]:
        gen.eval()
        outputs: list[np.ndarray] = []
        for i in range(0, len(self.crops), batch):
            chunk = self.crops[i : i + batch]
            image = torch.stack(
                [torch.from_numpy(im).permute(2, 0, 1).float() / 127.5 - 1 for im, _, _ in chunk]
            )
            mask = torch.stack([torch.from_numpy(m > 0).float()[None] for _, _, m in chunk])
            out = gen(image, mask)
            for o, (im, _, m) in zip(out, chunk, strict=True):
                filled = im.copy()
                filled[m > 0] = to_uint8(o)[m > 0]
                outputs.append(filled)
        gen.train()
        return {"n": len(self.crops), "gan": self._scores(outputs), **self.baselines}


def generator_config(cfg: Config) -> GeneratorConfig:
    """The generator's shape fields of a run's config."""
    return GeneratorConfig(tuple(cfg.widths), cfg.middle, cfg.sees_text)  # type: ignore[arg-type]


def generator_of(saved: dict[str, Any]) -> Generator:
    """The generator of a loaded checkpoint (``last.pt`` or ``best.pt``; its moving average
    when the run kept one), built from the checkpoint's saved config."""
    gen = Generator(generator_config(Config(**saved["config"])))
    gen.load_state_dict(saved.get("generator_ema", saved["generator"]))
    return gen


def save(path: Path, **state: Any) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def export_and_check(gen: Generator, path: Path) -> float:
    """Export to ONNX and return the max |onnxruntime - torch| on a 1x(72x136) input."""
    import onnxruntime as ort

    path.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(gen, str(path))
    g = torch.Generator().manual_seed(0)
    image = torch.rand(2, 3, 72, 136, generator=g) * 2 - 1
    mask = (torch.rand(2, 1, 72, 136, generator=g) > 0.7).float()
    with torch.no_grad():
        want = gen.eval()(image, mask).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"image": image.numpy(), "mask": mask.numpy()})[0]
    diff = float(np.abs(got - want).max())
    if diff > 1e-4:
        raise SystemExit(f"onnxruntime differs from torch by {diff:.2e} on {path}")
    return diff


def main(argv: list[str] | None = None) -> None:
    # 1. config, seed, threads
    cfg, args, explicit = parse_args(argv)
    torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    if args.export_from:
        if not args.export:
            raise SystemExit("--export-from needs --export PATH.onnx")
        saved = torch.load(out / f"{args.export_from}.pt", weights_only=False)
        diff = export_and_check(generator_of(saved), args.export)
        print(f"exported {args.export} from {out / args.export_from}.pt (step {saved['step']}; "
              f"onnxruntime vs torch: max |diff| {diff:.1e})")  # fmt: skip
        return
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "last.pt"
    state = None
    if args.resume:
        if not ckpt_path.is_file():
            raise SystemExit(f"--resume: no checkpoint at {ckpt_path}")
        state = torch.load(ckpt_path, weights_only=False)
        # A resumed run keeps its saved config, except the fields set again (e.g. more --steps).
        saved = Config(**state["config"])
        cfg = dataclasses.replace(saved, **{k: getattr(cfg, k) for k in explicit})
        torch.set_num_threads(cfg.threads)
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")
    log = (out / "log.jsonl").open("a", encoding="utf-8")

    def emit(record: dict[str, Any], line: str) -> None:
        log.write(json.dumps(record) + "\n")
        log.flush()
        print(line, flush=True)

    # 2. data
    rule = SplitRule(tuple(cfg.test_seeds), cfg.photo_share, cfg.font_share, cfg.salt)
    train_side, test_side = ("train", "test") if cfg.split else ("all", "all")
    train_ds = EraserCrops([Path(d) for d in cfg.train], train_side, cfg.crop, True, rule, seed=cfg.seed,
                           cache_mb=cfg.cache_mb, box_prob=cfg.box_prob, flat_keep=cfg.flat_keep)  # fmt: skip
    test_ds = EraserCrops([Path(d) for d in cfg.test], test_side, cfg.crop, False, rule, cache_mb=512)
    if not len(train_ds):
        raise SystemExit(f"no training crops in {cfg.train} (split rule {rule})")

    # 3. networks, optimisers, resume
    gen = Generator(generator_config(cfg))
    disc = Discriminator(cfg.d_width)
    if cfg.init_from and state is None:
        seed_ckpt = torch.load(cfg.init_from, weights_only=False)
        gen = widen(generator_of(seed_ckpt), gen.config)
        if cfg.init_critic:  # a fresh critic's first judgements shake a trained generator
            disc.load_state_dict(seed_ckpt["discriminator"])
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    step, best = 0, -math.inf
    if state is not None:
        gen.load_state_dict(state["generator"])
        disc.load_state_dict(state["discriminator"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step, best = state["step"], state.get("best", -math.inf)
    # What is validated and exported: the generator, or the moving average of its weights.
    ema = AveragedModel(gen, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema)) if cfg.ema > 0 else None
    if ema is not None and state is not None and "generator_ema" in state:
        ema.module.load_state_dict(state["generator_ema"])
        ema.n_averaged.fill_(state["ema_updates"])  # else its next update would copy, not average
    shipped = ema.module if ema is not None else gen
    emit(
        {"event": "start", "step": step, "train_crops": len(train_ds), "train_samples": len(train_ds.entries),
         "test_crops": len(test_ds), "test_samples": len(test_ds.entries), "g_params": count_parameters(gen),
         "d_params": count_parameters(disc), "torch": torch.__version__, "python": platform.python_version()},
        f"start at step {step}: {len(train_ds)} train lines ({len(train_ds.entries)} samples), "
        f"{len(test_ds)} held-out lines ({len(test_ds.entries)} samples); G {count_parameters(gen):,} params, "
        f"D {count_parameters(disc):,}",
    )  # fmt: skip
    validator = Validator(test_ds, cfg.val_max) if len(test_ds) and step < cfg.steps else None

    def checkpoint() -> None:
        averaged: dict[str, Any] = {}
        if ema is not None:
            averaged = {"generator_ema": shipped.state_dict(), "ema_updates": int(ema.n_averaged)}
        save(ckpt_path, generator=gen.state_dict(), **averaged, discriminator=disc.state_dict(),
             opt_g=opt_g.state_dict(), opt_d=opt_d.state_dict(), step=step, best=best,
             config=dataclasses.asdict(cfg))  # fmt: skip

    def validate() -> None:
        nonlocal best
        v = validator(shipped)  # type: ignore[misc]
        if v["gan"]["psnr"] > best:
            best = v["gan"]["psnr"]
            nets = {"generator": shipped.state_dict(), "discriminator": disc.state_dict()}
            save(out / "best.pt", **nets, step=step, val=v, config=dataclasses.asdict(cfg))
        g, t = v["gan"], v["telea"]
        emit({"event": "val", "step": step, **v},
             f"val {step} ({v['n']} crops, {int(g['n_textured'])} textured): PSNR-in-mask gan {g['psnr']:.2f} "
             f"telea {t['psnr']:.2f} (cv2 {v['telea_cv2']['psnr']:.2f}), textured gan {g['psnr_textured']:.2f} "
             f"telea {t['psnr_textured']:.2f}; SSIM-in-mask gan {g['ssim']:.3f} telea {t['ssim']:.3f}, "
             f"textured gan {g['ssim_textured']:.3f} telea {t['ssim_textured']:.3f}; "
             f"ghost (textured) gan {g['ghost_textured']:.3f} telea {t['ghost_textured']:.3f}")  # fmt: skip

    # 4. train (a fresh run is validated first: the untrained generator is the coarse fill alone)
    if validator is not None and step == 0 and cfg.steps > 0:
        validate()
    gen.train()
    tick = time.perf_counter()
    while step < cfg.steps:
        for opt, base in ((opt_g, cfg.lr), (opt_d, cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = base * lr_factor(step, cfg)
        b = batch_at(train_ds, step, cfg)
        image, target, mask = b["image"], b["target"], b["mask"]
        adversarial = step >= cfg.adv_start and cfg.adv_weight > 0
        output = gen(image, mask)
        loss_d = torch.zeros(())
        if adversarial:
            opt_d.zero_grad(set_to_none=True)
            loss_d = hinge_d(disc(target, mask), disc(output.detach(), mask))
            loss_d.backward()
            opt_d.step()
        l1 = hole_l1(output, target, mask, cfg.hole_weight, cfg.valid_weight, cfg.pool_pixels)
        mse = hole_mse(output, target, mask)
        grad = gradient_l1(output, target, mask)
        ghost = ghost_slope_loss(output, target, image, mask)
        tint = tint_loss(output, target, image, mask)
        adv = hinge_g(disc(output, mask)) if adversarial else torch.zeros(())
        loss = (l1 + cfg.mse_weight * mse + cfg.grad_weight * grad + cfg.ghost_weight * ghost
                + cfg.tint_weight * tint + cfg.adv_weight * adv)  # fmt: skip
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        if ema is not None:
            ema.update_parameters(gen)
        step += 1
        if step % cfg.log_every == 0 or step == cfg.steps:
            now = time.perf_counter()
            sps = cfg.log_every / (now - tick) if step % cfg.log_every == 0 else math.nan
            tick = now
            rec = {"event": "train", "step": step, "l1": l1.item(), "mse": mse.item(), "grad": grad.item(),
                   "ghost": ghost.item(), "tint": tint.item(), "adv": adv.item(), "d": loss_d.item(), "lr": opt_g.param_groups[0]["lr"],
                   "steps_per_s": sps}  # fmt: skip
            emit(rec, f"step {step}: l1 {l1.item():.4f} mse {mse.item():.5f} grad {grad.item():.4f} "
                      f"ghost {ghost.item():.3f} tint {tint.item():.4f} adv {adv.item():+.3f} d {loss_d.item():.3f} lr {rec['lr']:.2e} "
                      f"({sps:.2f} steps/s)")  # fmt: skip
        # 5. validation
        if validator is not None and (step % cfg.val_every == 0 or step == cfg.steps):
            validate()
            tick = time.perf_counter()  # steps/s counts training only
        # 6. checkpoint
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            checkpoint()

    # 7. export
    if args.export:
        diff = export_and_check(shipped, args.export)
        emit({"event": "export", "step": step, "path": str(args.export), "max_abs_diff": diff},
             f"exported {args.export} at step {step} (onnxruntime vs torch: max |diff| {diff:.1e})")  # fmt: skip
    log.close()


if __name__ == "__main__":
    main()
