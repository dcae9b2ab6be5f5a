"""The training engine: ``fit(model, train_set, val_set, TrainConfig) -> History``.

The recipe is PySlowFast's: SGD with momentum 0.9 and Nesterov, weight decay 1e-4 on weights only (not
on BatchNorm and biases), a cosine learning rate with linear warm-up updated every iteration, cross-entropy;
bf16 autocast on CUDA, optional ``torch.compile`` and channels-last. After every epoch: metrics to
``log.csv`` / ``history.json`` and an atomic checkpoint, from which an interrupted run resumes exactly
(the same final weights on CPU). Launched with ``torchrun`` it trains data-parallel (DistributedDataParallel
with gloo on CPU or nccl on GPU, a DistributedSampler; rank 0 validates, logs and saves).

What is task specific lives in a *task* object (``TrainConfig.task``), so detection reuses the same loop:

    class MyTask:
        name = "detection"
        def collate(self, samples): ...                      # list of dataset items -> batch
        def loss(self, model, batch, device): ...            # -> (scalar loss, number of samples)
        def evaluate(self, model, dataset, config, device): ...  # -> {"metric": float, ...} (rank 0 only)

``ClassificationTask`` (the default) is the example to copy; ``fit`` calls nothing else on a task.
"""

import argparse
import dataclasses
import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn import functional as F
from torch.utils.data import DataLoader, DistributedSampler

from slowfast_lite import checkpoints, evaluate, usage, utils
from slowfast_lite.errors import ResumeError, UsageError


# ---------------------------------------------------------------------------------------------- config
@dataclass
class TrainConfig:
    """Everything that defines a training run. Fields under "run" do not change the result."""

    epochs: int = 10
    batch_size: int = 16  # per process
    lr: float = 0.1  # peak learning rate (PySlowFast: 0.1 for a batch of 64)
    warmup_epochs: float = 1.0  # linear warm-up from warmup_start_lr, then cosine down to final_lr
    warmup_start_lr: float = 0.01
    final_lr: float = 0.0
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4  # not applied to BatchNorm parameters and biases
    label_smoothing: float = 0.0
    seed: int = 0
    amp: bool = True  # bf16 autocast, on CUDA only
    channels_last: bool = False
    compile: bool = False  # torch.compile the model for the training steps
    task: object = None  # the task protocol (module docstring); None: ClassificationTask()
    # run: where and how, not what
    out_dir: str = None  # checkpoint.pt, history.json, log.csv; None: keep nothing on disk
    resume: bool = True  # continue from out_dir/checkpoint.pt when it exists (written by this same run)
    replace_other_run: bool = True  # resume=False: may a checkpoint of a different run in out_dir be replaced?
    device: str = "auto"
    num_workers: int = 0
    eval_batch_size: int = None  # default: batch_size
    progress: bool = True
    verbose: bool = False  # print one line per epoch

    RUN_FIELDS = ("out_dir", "resume", "replace_other_run", "device", "num_workers", "eval_batch_size", "progress",
                  "verbose")

    def recipe(self) -> dict:
        """The fields that define the result: what a resumed run must share with the checkpoint."""
        task = self.task or ClassificationTask()
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in self.RUN_FIELDS}
        out["task"] = getattr(task, "name", type(task).__name__)
        return out


# ---------------------------------------------------------------------------------------------- schedule
def learning_rate(step, total_steps, config: TrainConfig, steps_per_epoch: int) -> float:
    """Learning rate at iteration ``step`` (0-based) of ``total_steps``: PySlowFast's cosine with warm-up.

    Cosine from ``lr`` at step 0 to ``final_lr`` at the end; during the first ``warmup_epochs`` the rate
    rises linearly from ``warmup_start_lr`` to the cosine's value where warm-up ends.
    """

    def cosine(s):
        return config.final_lr + (config.lr - config.final_lr) * (1 + math.cos(math.pi * s / total_steps)) / 2

    warmup_steps = round(config.warmup_epochs * steps_per_epoch)
    if step < warmup_steps:
        return config.warmup_start_lr + (cosine(warmup_steps) - config.warmup_start_lr) * step / warmup_steps
    return cosine(step)


def param_groups(model, weight_decay):
    """Two SGD groups: weights with ``weight_decay``; BatchNorm parameters and biases (1-D) without."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.dim() <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


# ---------------------------------------------------------------------------------------------- tasks
def _inputs_to(pathways, device, channels_last):
    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    return [p.to(device, non_blocking=True, memory_format=fmt) for p in pathways]


class ClassificationTask:
    """Clips with one label each: cross-entropy; validation is ``evaluate.multi_view`` (top-1/top-5)."""

    name = "classification"

    def __init__(self, label_smoothing=0.0, channels_last=False):
        self.label_smoothing, self.channels_last = label_smoothing, channels_last

    def collate(self, samples):
        return torch.utils.data.default_collate(samples)

    def loss(self, model, batch, device):
        pathways, labels = batch[0], batch[1]
        logits = model(_inputs_to(pathways, device, self.channels_last))
        loss = F.cross_entropy(logits.float(), labels.to(device), label_smoothing=self.label_smoothing)
        return loss, len(labels)

    def evaluate(self, model, dataset, config, device):
        result = evaluate.multi_view(model, dataset, config.eval_batch_size or config.batch_size, device,
                                     config.num_workers)
        return {"val_top1": result.top1, "val_top5": result.top5}


# ---------------------------------------------------------------------------------------------- history
class History:
    """One dict of metrics per epoch; ``history["val_top1"]`` is that metric over the epochs."""

    def __init__(self, records=None):
        self.records = list(records or [])

    def __len__(self):
        return len(self.records)

    def __getitem__(self, key):
        return [r.get(key) for r in self.records]

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}

    def append(self, record):
        self.records.append(dict(record))

    def __repr__(self):
        return f"History({len(self.records)} epochs, last={self.last})"

    def write(self, out_dir):
        """``history.json`` and ``log.csv`` in ``out_dir`` (rewritten whole, atomically)."""
        out_dir = Path(out_dir)
        keys = list(dict.fromkeys(k for r in self.records for k in r))
        lines = [",".join(keys)] + [",".join(_csv_value(r.get(k)) for k in keys) for r in self.records]
        for name, text in (("history.json", json.dumps(self.records, indent=1)), ("log.csv", "\n".join(lines) + "\n")):
            with utils.atomic_write(out_dir / name) as partial:
                partial.write_text(text)

    @classmethod
    def read(cls, out_dir):
        return cls(json.loads((Path(out_dir) / "history.json").read_text()))


def _csv_value(value):
    return "" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------------------------- distributed
def _distributed():
    """(rank, world size), joining the process group when ``torchrun`` launched us."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) < 2:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _device(config, rank, world):
    device = utils.pick_device(config.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
        torch.cuda.set_device(device)
    return device


def _seed_loader(worker_id):
    utils.seed_everything(torch.initial_seed() % 2**32)


# ---------------------------------------------------------------------------------------------- checkpoints
def run_identity(config, model, train_set) -> dict:
    """What makes a run this run: the recipe, the model's configuration, how clips are sampled and how many there
    are. A checkpoint records it; a run continues only a checkpoint with the same identity."""
    return _plain({"recipe": config.recipe(), "model": _model_info(model), "data": data_settings(train_set),
                   "train_size": len(train_set)})


def _differences(saved, current, prefix=""):
    """(key, saved value, current value) for each entry of ``current`` that ``saved`` records differently."""
    out = []
    for key, value in current.items():
        if key not in saved:
            continue  # written by an older version that did not record it
        if isinstance(value, dict) and isinstance(saved[key], dict):
            out += _differences(saved[key], value, f"{prefix}{key}.")
        elif saved[key] != value:
            out.append((f"{prefix}{key}", saved[key], value))
    return out


def _short(value, width=40):
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _check_same_run(state, identity, path, resume):
    """Raise ResumeError (one line) unless the checkpoint ``state`` was written by the run ``identity`` describes."""
    saved = {"recipe": state.get("recipe"), "model": state.get("model"), "data": state.get("data"),
             "train_size": state.get("train_size")}
    saved = _plain({k: v for k, v in saved.items() if v is not None})
    diff = _differences(saved.pop("recipe", {}), identity["recipe"])  # recipe keys unprefixed: "seed", "lr"
    diff += _differences(saved, {k: v for k, v in identity.items() if k != "recipe"})
    if diff:
        shown = "; ".join(f"{k}: checkpoint {_short(a)}, now {_short(b)}" for k, a, b in diff[:4])
        more = f"; and {len(diff) - 4} more" if len(diff) > 4 else ""
        raise ResumeError(f"{path} holds the checkpoint of a different run ({shown}{more}); refusing to "
                          f"{'resume' if resume else 'replace'} it: use another output folder, or that run's settings "
                          "to resume it")


RESUME_KEYS = ("recipe", "model_state", "optimizer_state", "rng_state", "history", "epoch")


def _model_info(model):
    config = getattr(model, "config", None)
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else {"class": type(model).__name__}


# ---------------------------------------------------------------------------------------------- fit
def fit(model, train_set, val_set=None, config: TrainConfig = None) -> History:
    """Train ``model`` on ``train_set`` (validating on ``val_set`` after each epoch); returns the History.

    Datasets yield what ``config.task`` expects (default: ``(pathways, label, index)`` for training and
    test-mode views for validation). With ``config.out_dir``, every epoch ends with ``log.csv``,
    ``history.json`` and ``checkpoint.pt`` (model, optimizer, RNG, history, recipe) written atomically, and
    a later call of the same run (``run_identity``: recipe, model configuration, data settings) continues from
    there; a checkpoint of a different run raises ResumeError. While it runs, ``out_dir/.lock`` keeps a second
    process from writing the same folder (``errors.FolderInUse``). The model is left on its training device.
    """
    config = config or TrainConfig()
    task = config.task or ClassificationTask(config.label_smoothing, config.channels_last)
    rank, world = _distributed()
    device = _device(config, rank, world)
    utils.seed_everything(config.seed)
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last_3d)
    optimizer = torch.optim.SGD(param_groups(model, config.weight_decay), lr=config.lr,
                                momentum=config.momentum, nesterov=config.nesterov)
    history, start_epoch = History(), 0
    out_dir = Path(config.out_dir) if config.out_dir else None
    checkpoint_path = out_dir / "checkpoint.pt" if out_dir else None
    # one process writes a run folder at a time: a second run into it is refused while the first holds the lock
    lock = utils.folder_lock(out_dir, "training run") if out_dir and rank == 0 else nullcontext()
    with lock:
        if checkpoint_path and checkpoint_path.exists() and (config.resume or not config.replace_other_run):
            state = checkpoints.read_file(checkpoint_path)
            checkpoints.require(state, RESUME_KEYS, checkpoint_path, "a checkpoint of `fit` to resume from")
            _check_same_run(state, run_identity(config, model, train_set), checkpoint_path, config.resume)
            if config.resume:
                checkpoints.load_exact(model, state["model_state"], checkpoint_path)
                optimizer.load_state_dict(state["optimizer_state"])
                torch.set_rng_state(state["rng_state"])
                history, start_epoch = History(state["history"]), state["epoch"]
        return _fit_epochs(model, train_set, val_set, config, task, optimizer, history, start_epoch, rank, world,
                           device, out_dir, checkpoint_path)


def _fit_epochs(model, train_set, val_set, config, task, optimizer, history, start_epoch, rank, world, device,
                out_dir, checkpoint_path):
    # the clip order is a permutation drawn from (seed, epoch) alone, whatever the number of processes and workers
    sampler = DistributedSampler(train_set, world, rank, shuffle=True, seed=config.seed)
    loader_generator = torch.Generator()
    loader = DataLoader(train_set, batch_size=config.batch_size, sampler=sampler,
                        num_workers=config.num_workers, collate_fn=task.collate, drop_last=True,
                        generator=loader_generator, worker_init_fn=_seed_loader,
                        pin_memory=device.type == "cuda", persistent_workers=False)
    steps_per_epoch = len(loader)
    if steps_per_epoch == 0:
        raise ValueError(f"train_set has {len(train_set)} items, fewer than one batch of {config.batch_size}"
                         f"{f' per process ({world} processes)' if world > 1 else ''}")
    total_steps = config.epochs * steps_per_epoch
    train_model = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    if config.compile:
        train_model = torch.compile(train_model)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if config.amp and device.type == "cuda"
                else nullcontext())
    from tqdm.auto import tqdm

    for epoch in range(start_epoch, config.epochs):
        # every source of randomness is a function of (seed, epoch): resuming at an epoch replays it exactly
        loader_generator.manual_seed(config.seed * 100_003 + epoch)
        sampler.set_epoch(epoch)
        if hasattr(train_set, "set_epoch"):
            train_set.set_epoch(epoch)
        model.train()
        started, loss_sum, count = time.perf_counter(), torch.zeros((), device=device), 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not config.progress or rank != 0,
                   leave=False)
        for i, batch in enumerate(bar):
            step = epoch * steps_per_epoch + i
            lr = learning_rate(step, total_steps, config, steps_per_epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with autocast:
                loss, n = task.loss(train_model, batch, device)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss is {loss.item()} at epoch {epoch + 1}, step {i + 1} (lr {lr:.4g})")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * n
            count += n
        if world > 1:
            totals = torch.stack([loss_sum, torch.tensor(float(count), device=device)])
            dist.all_reduce(totals)
            loss_sum, count = totals[0], int(totals[1])
        record = {"epoch": epoch + 1, "lr": lr, "train_loss": (loss_sum / count).item(),
                  "train_time": time.perf_counter() - started}
        if rank == 0:
            if val_set is not None:
                record.update(task.evaluate(model, val_set, config, device))
            history.append(record)
            if config.verbose:
                print("  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in record.items()))
            if out_dir:
                history.write(out_dir)
                checkpoints.atomic_save({
                    "epoch": epoch + 1, "model_state": model.state_dict(),
                    "optimizer_state": optimizer.state_dict(), "rng_state": torch.get_rng_state(),
                    "history": history.records, **run_identity(config, model, train_set)}, checkpoint_path)
        if world > 1:
            dist.barrier()
    return history


def _plain(obj):
    """Config values as weights_only-loadable plain types (tuples -> lists, anything else -> str)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


DATA_SETTINGS = ("num_frames", "sampling_rate", "alpha", "target_fps", "pathways", "crop_size", "scale_range",
                 "test_scale", "test_crop_size", "fast_grayscale", "fast_time_difference", "mean", "std", "classnames")


def data_settings(dataset) -> dict:
    """The sampling and transform settings of a ``VideoClassificationDataset`` (what testing must repeat)."""
    return {k: getattr(dataset, k) for k in DATA_SETTINGS if hasattr(dataset, k)}


# ---------------------------------------------------------------------------------------------- command line
def _find_csv(data, split):
    data = Path(data)
    return data / f"{split}.csv" if data.is_dir() and (data / f"{split}.csv").exists() else None


def cli(argv) -> int:
    """``python -m slowfast_lite train --model NAME --data DIR_OR_CSV --epochs N [--out DIR] ...``"""
    from slowfast_lite.data.kinetics import VideoClassificationDataset
    from slowfast_lite.models import build_model

    parser = usage.ArgumentParser(prog="python -m slowfast_lite train",
                                  description="Train a SlowFast-family model on a video classification set.")
    parser.add_argument("--model", default="slowfast_tiny", help="a named config (slowfast_tiny, slow_r50_4x16...)")
    parser.add_argument("--data", required=True, type=Path,
                        help="folder with train.csv/val.csv (path label), a train csv, or a folder per class")
    parser.add_argument("--val", type=Path, help="validation csv or folder (default: DATA/val.csv if present)")
    parser.add_argument("--epochs", type=usage.integer(minimum=1, maximum=100_000), default=10)
    parser.add_argument("--batch-size", type=usage.integer(minimum=1, maximum=4096), default=16)
    parser.add_argument("--lr", type=usage.number(above=0), default=0.1)
    parser.add_argument("--warmup-epochs", type=usage.number(minimum=0), default=1.0)
    parser.add_argument("--crop", type=usage.integer(minimum=8, maximum=1024), default=None,
                        help="training crop (default: the model's)")
    parser.add_argument("--scale", type=usage.integer(minimum=8, maximum=4096), nargs=2, default=None,
                        metavar=("MIN", "MAX"),
                        help="short-side jitter range (default: 8/7 and 10/7 of the crop, PySlowFast's ratio)")
    parser.add_argument("--fast-gray", action="store_true", help="grey-scale input for the Fast pathway")
    parser.add_argument("--seed", type=usage.integer(minimum=0), default=0)
    parser.add_argument("--out", type=Path, default=None, help="run folder (default: runs/<model>)")
    parser.add_argument("--no-resume", action="store_true",
                        help="start over even if OUT has a checkpoint of this run (another run's is never replaced)")
    parser.add_argument("--workers", type=usage.integer(minimum=0, maximum=256), default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args(argv)
    usage.check_model_name(args.model)
    usage.check_device(args.device)
    out = usage.check_output_dir(args.out or Path("runs") / args.model, "--out", (args.data, args.val))

    train_csv = _find_csv(args.data, "train") or args.data
    val_source = args.val or _find_csv(args.data, "val")
    probe = VideoClassificationDataset(train_csv, "train")  # reads and checks the rows, gives the classes
    overrides = {"crop_size": args.crop} if args.crop else {}
    model = build_model(args.model, num_classes=probe.num_classes, **overrides)
    crop = model.config.crop_size
    if args.scale and not crop <= args.scale[0] <= args.scale[1]:
        raise UsageError(f"--scale {args.scale[0]} {args.scale[1]}: need crop ({crop}) <= MIN <= MAX")
    settings = dict(scale_range=tuple(args.scale) if args.scale else (round(crop * 8 / 7), round(crop * 10 / 7)),
                    fast_grayscale=args.fast_gray, seed=args.seed)
    train_set = VideoClassificationDataset.for_model(model, train_csv, "train", **settings)
    val_set = (VideoClassificationDataset.for_model(model, val_source, "test", num_clips=1, num_crops=1, **settings)
               if val_source else None)
    world = int(os.environ.get("WORLD_SIZE", 1))
    if len(train_set) < args.batch_size * world:
        raise UsageError(f"--batch-size {args.batch_size}: the training set {train_csv} has only "
                               f"{len(train_set)} clips{f' for {world} processes' if world > 1 else ''}; "
                               "give a smaller batch")
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         warmup_epochs=args.warmup_epochs, seed=args.seed, amp=args.amp, compile=args.compile,
                         channels_last=args.channels_last, out_dir=str(out), resume=not args.no_resume,
                         replace_other_run=False,
                         device=args.device, num_workers=args.workers, verbose=True)
    history = fit(model, train_set, val_set, config)
    if int(os.environ.get("RANK", 0)) == 0:
        print(f"done: {len(history)} epochs, last {history.last}; checkpoint {out / 'checkpoint.pt'}")
    return 0
