"""Train the Korean line recogniser (`imtrans.nets.recognizer`) on rendered lines; export it to ONNX.

    python training/train_recognizer.py --out runs/korean_rec                      # train (defaults below)
    python training/train_recognizer.py --config rec.yaml --steps 8000             # file, then overrides
    python training/train_recognizer.py --out runs/korean_rec --resume             # continue the last checkpoint
    python training/train_recognizer.py --out runs/korean_rec --resume --steps 12000   # continue, to more steps
    python training/train_recognizer.py --out runs/korean_rec --resume --new-round --steps 5000 --warmup 50  # a new round
    python training/train_recognizer.py --out runs/korean_rec --real ../shared/data/realphotos-dev  # + real CER
    python training/train_recognizer.py --out runs/korean_rec --export-from best --export src/imtrans/recognize/models/korean_rec.onnx
    python training/train_recognizer.py --smoke --out /tmp/x --export /tmp/x/rec.onnx
    python training/train_recognizer.py --out runs/r8 --init src/imtrans/recognize/models/korean_rec.onnx --warp 0.3 ...
                                                                                    # from the shipped file
    python training/train_recognizer.py --out runs/r9 --init src/imtrans/recognize/models/korean_rec.onnx --made-up 0.3 ...
                                                                                    # made-up hands (round 9)
    python training/train_recognizer.py --out runs/korean_rec --workers 1          # render batches on another core
    python training/train_recognizer.py --out runs/r11 --device cuda --workers 12 --threads 2  # on a GPU
    python training/train_recognizer.py --out runs/r12 --minutes 6 ...            # ended by the clock
    python training/pack_device.py train    # on a bare GPU machine, with --texts, --photos, --ppocr (its doc)

Every field of `Config` is a command-line option (``--lr 3e-4``); a JSON or YAML file given with
``--config`` sets defaults first. The resolved config is written to ``OUT/config.json``;
``OUT/log.jsonl`` gets one JSON object per logged step and per validation, stdout a short line
for each. ``OUT/last.pt`` is the checkpoint (network, optimiser, step); ``OUT/best.pt`` the
network with the best held-out CER. ``--resume`` keeps the saved config except the fields given
again, and trains on to ``steps``. ``--resume --new-round`` starts a new round of training at the
saved step (``round_start``): the learning rate warms up again over ``warmup`` steps and follows a
fresh cosine down to ``lr_final`` at ``steps``, instead of staying where the last round's decayed.

Steps (one page):
1. resolve the config, seed, threads; 2. build the line makers (training fonts and photos; the
held-out fonts and photos; the brush/pen/serif faces over held-out photos) and render the fixed
validation sets; 3. build the network from PP-OCRv6's recogniser with a Korean output layer
(or from an exported file with ``--init``), resume if asked; 4. per step: a batch of rendered
lines (a function of seed and step), CTC loss, AdamW, warmup then cosine learning rate; 5. every
``val_every`` steps: CER on the held-out sets (and on real photos' true boxes with ``--real``);
6. checkpoint; 7. export to ONNX and check onnxruntime against torch.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import platform
import random
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from imtrans.nets.recdata import LineMaker, TextSource
from imtrans.nets.recognizer import KoreanRecognizerNet, count_parameters, export_onnx
from imtrans.recognize.korean import ctc_decode, korean_charset, to_input
from imtrans.synth.backgrounds import PhotoLibrary

sys.path.insert(0, str(Path(__file__).parent))
from korean_rec_eval import pooled_cer, real_korean_lines


@dataclass
class Config:
    """Everything that decides a training run (saved as OUT/config.json)."""

    out: str = "runs/korean_rec"
    seed: int = 0
    threads: int = 1  # leave the other core to the people sharing the machine
    steps: int = 6000
    batch: int = 32
    max_width: int = 384  # training crops are squeezed to at most this width at 48 px high
    lr: float = 5e-4
    head_lr: float = 2e-3  # the new output layer starts from scratch for Hangul
    lr_final: float = 0.05
    warmup: int = 100
    round_start: int = 0  # the step this round's warmup and cosine start from (set by --new-round)
    weight_decay: float = 0.01
    clip: float = 5.0
    log_every: int = 10
    val_every: int = 200
    val_n: int = 200  # lines per held-out set (fixed, rendered once)
    checkpoint_every: int = 50
    real: str = ""  # a realphotos-dev folder: also report CER on its Korean lines' true boxes
    extra_fonts: str = ""  # a folder of extra training faces (training/fetch_fonts.py); training only
    # a folder standing in for fontconfig's Korean faces in every split (training/pack_fonts.py's
    # system/: on a machine without Debian's Korean fonts, such as a lent GPU machine)
    system_fonts: str = ""
    # an exported korean_rec.onnx to start from instead of PP-OCRv6 (its run's checkpoints gone)
    init: str = ""
    warp: float = 0.0  # share of training lines whose glyphs are bent (recdata._bend; round 8)
    # share of planned training lines written by a made-up hand (recdata.MadeUpHand; round 9)
    made_up: float = 0.0
    # processes that render training batches ahead of the step (0: the training process does);
    # the batches are the same either way. Rendering is about a quarter of a step on one thread here.
    workers: int = 0
    # where the network trains: cpu, or cuda / cuda:N on a machine with a GPU (the lines are
    # rendered on the CPU either way: give --workers to keep a GPU fed); export runs on the CPU
    device: str = "cpu"
    # wall-clock minutes for the steps (0: no limit): after the warmup the cosine follows the larger
    # of the steps' share and the share of the time left then, and the run stops, validates, saves
    # and exports when the time is spent (a lent GPU machine's command runs 10 minutes at most);
    # the batches stay a function of (seed, step), the step the run ends at depends on the machine
    minutes: float = 0.0
    # for a machine without wordfreq, konlpy, rapidocr or Debian's photos (training/pack_device.py):
    texts: str = ""  # the training texts as TextSource.save wrote them
    photos: str = ""  # a folder of more background photos (Debian's mate-backgrounds, packed)
    ppocr: str = ""  # PP-OCRv6's recogniser graph to build the net on (recognizer.skeleton_graph)


SMOKE = {
    "steps": 1,
    "batch": 2,
    "val_every": 1,
    "val_n": 4,
    "checkpoint_every": 1,
    "log_every": 1,
    "warmup": 0,
}


def parse_args(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace, set[str]]:
    """Defaults, then ``--config FILE``, then ``--smoke``, then explicit options (as train_eraser.py)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="JSON or YAML file of Config fields")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--export", type=Path, help="write the network as ONNX here at the end")
    parser.add_argument("--smoke", action="store_true", help="tiny settings: one step, a few lines")
    parser.add_argument("--export-from", choices=["last", "best"], help="only export OUT/last.pt or best.pt")
    parser.add_argument("--new-round", action="store_true",
                        help="with --resume: warm up and decay the learning rate again from the saved step")  # fmt: skip
    for f in dataclasses.fields(Config):
        kind = str(f.type)
        parser.add_argument(
            "--" + f.name.replace("_", "-"), type={"int": int, "float": float, "str": str}[kind]
        )
    args = parser.parse_args(argv)
    values: dict[str, Any] = dataclasses.asdict(Config())
    explicit: set[str] = set()
    if args.config:
        text = args.config.read_text(encoding="utf-8")
        if args.config.suffix == ".json":
            loaded = json.loads(text)
        else:
            import yaml

            loaded = dict(yaml.safe_load(text) or {})
        unknown = set(loaded) - set(values)
        if unknown:
            parser.error(f"unknown config fields in {args.config}: {', '.join(sorted(unknown))}")
        values.update(loaded)
        explicit |= set(loaded)
    if args.smoke:
        values.update(SMOKE)
        explicit |= set(SMOKE)
    for name in values:
        given = getattr(args, name)
        if given is not None:
            values[name] = given
            explicit.add(name)
    return Config(**values), args, explicit


def lr_factor(step: int, cfg: Config, time_share: float = 0.0) -> float:
    """Linear warmup, then cosine decay from 1 to ``lr_final``, both counted from ``round_start``;
    the decay follows the larger of the steps' share and `time_share` (with a time budget, the
    share of what was left of ``minutes`` after the warmup that is spent)."""
    s = step - cfg.round_start
    if s < cfg.warmup:
        return (s + 1) / cfg.warmup
    t = max(time_share, (s - cfg.warmup) / max(1, cfg.steps - cfg.round_start - cfg.warmup))
    return cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def encode(texts: list[str], index: dict[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """CTC targets (concatenated class ids, 1-based) and their lengths."""
    ids = [[index[c] for c in t if c in index] for t in texts]
    return torch.tensor([i for row in ids for i in row], dtype=torch.long), torch.tensor(
        [len(r) for r in ids]
    )


def batch_at(maker: LineMaker, step: int, cfg: Config) -> tuple[list[np.ndarray], list[str]]:
    """The training batch of ``step``: a function of (seed, step), so resuming repeats it."""
    rng = np.random.default_rng([cfg.seed, step])
    pairs = [maker.sample(rng) for _ in range(cfg.batch)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


#: The training line maker of a batch-rendering worker (set before the workers are forked).
_WORKER_MAKER: LineMaker | None = None


def _worker_batch(step: int, cfg: Config) -> tuple[list[np.ndarray], list[str], int, int]:
    """`batch_at` in a worker, with the lines it skipped for missing glyphs and redrew as blank."""
    assert _WORKER_MAKER is not None
    skipped, blank = _WORKER_MAKER.skipped, _WORKER_MAKER.blank
    crops, labels = batch_at(_WORKER_MAKER, step, cfg)
    return crops, labels, _WORKER_MAKER.skipped - skipped, _WORKER_MAKER.blank - blank


def batches(maker: LineMaker, start: int, cfg: Config) -> Iterator[tuple[list[np.ndarray], list[str]]]:
    """The training batches from step ``start`` on, in step order.

    With ``cfg.workers`` > 0 they are rendered ahead by that many forked processes (at most two
    batches each waiting), so the training process only trains; each batch is a function of
    (seed, step), so they are the batches the training process would render itself. ``maker``'s
    counters (lines skipped, blank lines redrawn) are kept up to date either way.
    """
    if cfg.workers <= 0:
        for step in range(start, cfg.steps):
            yield batch_at(maker, step, cfg)
        return
    global _WORKER_MAKER
    _WORKER_MAKER = maker
    with multiprocessing.get_context("fork").Pool(cfg.workers) as pool:
        waiting: deque[Any] = deque()
        ahead = start
        for _ in range(start, cfg.steps):
            while ahead < cfg.steps and len(waiting) < 2 * cfg.workers:
                waiting.append(pool.apply_async(_worker_batch, (ahead, cfg)))
                ahead += 1
            crops, labels, skipped, blank = waiting.popleft().get()
            maker.skipped += skipped
            maker.blank += blank
            yield crops, labels


def fixed_set(maker: LineMaker, n: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng([seed, 7919])
    pairs = [maker.sample(rng) for _ in range(n)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def training_device(name: str) -> torch.device:
    """The torch device ``--device`` names.

    Raises:
        SystemExit: it names no device torch knows, or a GPU this machine does not have.
    """
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SystemExit(f"--device {name!r} is not a torch device (cpu, cuda, cuda:1, ...)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(
            f"--device {name}: this machine has no CUDA GPU torch can use; train with --device cpu"
        )
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise SystemExit(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    return device


@torch.no_grad()
def read(net: KoreanRecognizerNet, crops: list[np.ndarray], charset: list[str], batch: int = 16) -> list[str]:
    device = next(net.parameters()).device
    order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / max(1, crops[i].shape[0]))
    out = [""] * len(crops)
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        probs = net(torch.from_numpy(to_input([crops[i] for i in idx])).to(device)).cpu().numpy()
        for i, (text, _) in zip(idx, ctc_decode(probs, charset), strict=True):
            out[i] = text
    return out


def validate(net: KoreanRecognizerNet, sets: dict[str, tuple[list[np.ndarray], list[str]]],
             charset: list[str]) -> dict[str, float]:  # fmt: skip
    scores = {}
    for name, (crops, refs) in sets.items():
        hyps = read(net, crops, charset)
        scores[f"cer_{name}"] = round(pooled_cer(hyps, refs), 4)
        scores[f"exact_{name}"] = round(float(np.mean([h == r for h, r in zip(hyps, refs, strict=True)])), 4)
    return scores


def save(path: Path, net: KoreanRecognizerNet, opt: torch.optim.Optimizer | None, step: int, cfg: Config,
         extra: dict[str, Any]) -> None:  # fmt: skip
    tmp = path.with_suffix(".tmp")
    state = {"net": net.state_dict(), "step": step, "config": dataclasses.asdict(cfg), **extra}
    if opt is not None:
        state["opt"] = opt.state_dict()
    torch.save(state, tmp)
    tmp.replace(path)


def load_net(net: KoreanRecognizerNet, state: dict[str, torch.Tensor], path: Path) -> None:
    """Load a checkpoint's network weights, or stop with one line when their names are not the net's.

    Raises:
        SystemExit: The names differ. Round 8's checkpoints do: its run started with ``--init``
            when `KoreanRecognizerNet.from_onnx` converted the file's graph back to torch, so they
            keep that graph's names, not `from_ppocr`'s.
    """
    unknown = sorted(set(state) - set(net.state_dict()))
    if unknown:
        raise SystemExit(
            f"{path} does not fit the network: {len(unknown)} of its tensors have names the net does not "
            f"have ({unknown[0]}, ...; a run started with --init before from_onnx built from_ppocr's net?)"
        )
    net.load_state_dict(state)


def export(net: KoreanRecognizerNet, charset: list[str], path: Path) -> float:
    """Write ONNX and return the largest difference between onnxruntime and torch on random
    batches of two widths (lines come in every width).

    Raises:
        SystemExit: onnxruntime cannot run the file at a width other than the export's (160): a
            graph that computes its shapes in Python has them traced as constants. (Nets built
            with ``--init`` did so while `KoreanRecognizerNet.from_onnx` converted the file's graph
            back to torch; it now builds `from_ppocr`'s graph, which exports at any width.)
    """
    import onnxruntime as ort

    net = net.cpu()  # a run on a GPU is exported and checked on the CPU, where it will run
    path.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(net, charset, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for width in (200, 320):
        x = torch.rand(2, 3, 48, width) * 2 - 1
        with torch.no_grad():
            ref = net(x).numpy()
        try:
            got = session.run(None, {"x": x.numpy()})[0]
        except Exception as e:  # noqa: BLE001 (onnxruntime raises its own Fail)
            raise SystemExit(
                f"the exported file {path} does not run at width {width} ({type(e).__name__}: its "
                "shapes were traced as constants); do not ship it"
            ) from None
        worst = max(worst, float(np.abs(got - ref).max()))
    return worst


def main(argv: list[str] | None = None) -> int:
    # 1. config, seed, threads
    cfg, args, explicit = parse_args(argv)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    last = out / "last.pt"
    if (args.resume or args.export_from) and last.exists():
        saved = torch.load(last, map_location="cpu", weights_only=False)
        merged = {**saved["config"], **{k: getattr(cfg, k) for k in explicit}}
        if args.new_round and args.resume:
            merged["round_start"] = int(saved["step"])
        cfg = Config(**{k: v for k, v in merged.items() if k in Config.__dataclass_fields__})
    elif args.new_round:
        raise SystemExit("--new-round continues a saved run: give --resume and an OUT with last.pt")
    device = training_device(cfg.device)
    torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # seeds the GPUs' generators too
    charset = korean_charset()
    index = {c: i + 1 for i, c in enumerate(charset)}

    # 3. network (built before the data: --export-from needs nothing else). A net from --init has
    # from_ppocr's modules and names, so a checkpoint replaces its weights like any run's and the
    # file is read only at a run's start.
    from_checkpoint = bool(args.export_from) or (args.resume and last.exists())
    graph = Path(cfg.ppocr) if cfg.ppocr else None
    net = (
        KoreanRecognizerNet.from_onnx(Path(cfg.init), charset, graph)
        if cfg.init and not from_checkpoint
        else KoreanRecognizerNet.from_ppocr(charset, graph)
    )
    if args.export_from:
        state = torch.load(out / f"{args.export_from}.pt", map_location="cpu", weights_only=False)
        load_net(net, state["net"], out / f"{args.export_from}.pt")
        diff = export(net, charset, args.export or out / "korean_rec.onnx")
        print(
            f"exported {args.export_from} (step {state['step']}) to {args.export}; max |ort - torch| = {diff:.2e}"
        )
        return 0
    net.to(device)  # before the optimiser is built: its state lives where the parameters do
    head_params = list(net.head.parameters())
    body_params = [p for n, p in net.named_parameters() if not n.startswith("head.")]
    opt = torch.optim.AdamW(
        [{"params": body_params, "lr": cfg.lr}, {"params": head_params, "lr": cfg.head_lr}],
        weight_decay=cfg.weight_decay,
    )
    start, best = 0, float("inf")
    if args.resume and last.exists():
        load_net(net, saved["net"], last)
        opt.load_state_dict(saved["opt"])
        start, best = int(saved["step"]), float(saved.get("best", float("inf")))
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1), encoding="utf-8")

    # 2. data
    texts = TextSource.from_file(Path(cfg.texts)) if cfg.texts else TextSource.load()
    photos = PhotoLibrary(extra=[Path(cfg.photos)]) if cfg.photos else None
    train = LineMaker("train", texts=texts, photos=photos, extra_fonts=cfg.extra_fonts,
                      system_fonts=cfg.system_fonts, warp=cfg.warp, made_up=cfg.made_up)  # fmt: skip
    held = {"texts": texts, "photos": train.photos, "system_fonts": cfg.system_fonts}
    sets = {
        "heldout": fixed_set(LineMaker("test", **held), cfg.val_n, 10_000),
        "faces": fixed_set(LineMaker("faces", **held), cfg.val_n, 20_000),
    }
    if cfg.real:
        real = real_korean_lines(Path(cfg.real))
        sets["real"] = ([r.crop for r in real], [r.text for r in real])
    log = (out / "log.jsonl").open("a", encoding="utf-8")
    head = {"event": "start", "step": start, "params": count_parameters(net), "classes": len(charset) + 1,
            "texts": texts.stats(), "train_fonts": len(train.fonts), "machine": platform.machine(),
            "threads": cfg.threads, "device": str(device), "torch": torch.__version__}  # fmt: skip
    log.write(json.dumps(head) + "\n")
    print(json.dumps(head))

    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    t0, seen, loss_sum = time.time(), 0, 0.0
    began, budget = time.time(), cfg.minutes * 60
    warm = began if start - cfg.round_start >= cfg.warmup else None  # when the warmup ended
    end = cfg.steps
    training_batches = batches(train, start, cfg)
    for step in range(start, cfg.steps):
        if warm is None and step - cfg.round_start >= cfg.warmup:
            warm = time.time()
        time_share = 0.0
        if budget and warm is not None:
            time_share = min(1.0, (time.time() - warm) / max(1e-9, budget - (warm - began)))
        # 5. validation (before the step, so step 0 shows the starting point)
        if step % cfg.val_every == 0 and not (args.resume and step == start and step > 0):
            tv = time.time()
            scores = validate(net, sets, charset)
            rec = {"event": "val", "step": step, **scores, "val_s": round(time.time() - tv, 1)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            if scores["cer_heldout"] < best:
                best = scores["cer_heldout"]
                save(out / "best.pt", net, None, step, cfg, {"scores": scores})
        # 4. one step
        for g, base in zip(opt.param_groups, (cfg.lr, cfg.head_lr), strict=True):
            g["lr"] = base * lr_factor(step, cfg, time_share)
        crops, labels = next(training_batches)
        x = torch.from_numpy(to_input(crops, max_width=cfg.max_width)).to(device)
        targets, target_lens = encode(labels, index)
        targets = targets.to(device)
        logp = net.logits(x).log_softmax(2)  # (N, T, C)
        in_lens = torch.full((x.shape[0],), logp.shape[1], dtype=torch.long)
        loss = ctc(logp.transpose(0, 1), targets, in_lens, target_lens)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clip)
        opt.step()
        loss_sum += float(loss)
        seen += 1
        if (step + 1) % cfg.log_every == 0:
            rec = {"event": "train", "step": step + 1, "loss": round(loss_sum / seen, 4),
                   "lr": round(opt.param_groups[0]["lr"], 7), "s_per_step": round((time.time() - t0) / seen, 2),
                   "width": int(x.shape[3]), "font_misses": train.skipped, "blank": train.blank}  # fmt: skip
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            t0, seen, loss_sum = time.time(), 0, 0.0
        # 6. checkpoint
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            save(last, net, opt, step + 1, cfg, {"best": best})
        if budget and time.time() - began >= budget:
            end = step + 1
            break
    training_batches.close()  # the workers, if any, are stopped
    if end < cfg.steps:
        rec = {"event": "time_spent", "step": end, "minutes": cfg.minutes}
        log.write(json.dumps(rec) + "\n")
        print(json.dumps(rec), flush=True)
    # final validation
    scores = validate(net, sets, charset)
    rec = {"event": "val", "step": end, **scores}
    log.write(json.dumps(rec) + "\n")
    print(json.dumps(rec), flush=True)
    if scores["cer_heldout"] < best:
        best = scores["cer_heldout"]
        save(out / "best.pt", net, None, end, cfg, {"scores": scores})
    save(last, net, opt, end, cfg, {"best": best})
    # 7. export
    if args.export:
        diff = export(net, charset, args.export)
        print(f"exported to {args.export}; max |ort - torch| = {diff:.2e}")
        if diff > 1e-3:
            raise SystemExit("onnxruntime disagrees with torch")
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
