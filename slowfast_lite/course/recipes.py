"""The course's recipes and settings, one source: what notebooks 06-08 train and how, and the full profile.

Notebook 06 trains the tiny models on MotionShapes with ``MOTION_DATA`` and ``MOTION_TRAIN``; notebooks 07 and
08 start from those models through ``load_or_train``, which caches each trained model under the data folder
keyed by everything that changes the result. The ``parameters`` cells of the notebooks show the same values
(a test checks that they agree), and ``PROFILES`` holds what each profile changes, in the notebooks and in the
Table 2 sweep. When the runner overrides notebook 06's recipe (``--set 06_training:epochs=20``), it passes the same
override to 07 and 08 as ``backbone_recipe`` (``BACKBONE_KEYS``), so the three notebooks always use one backbone.
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from slowfast_lite import checkpoints, train, utils
from slowfast_lite.errors import FolderInUse

# How the tiny models see MotionShapes: 32 px crops from a short side jittered in [32, 40]; 2 test clips x 1 crop;
# a grey-scale Fast pathway (the paper's Table 2e variant); decoded videos kept in memory (the clips are tiny)
MOTION_DATA = dict(scale_range=(32, 40), crop_size=32, num_clips=2, num_crops=1, fast_grayscale=True,
                   cache_decoded=True)
# The training budget of notebooks 06-08, the same for every model. At a peak of 0.02 with 16 clips a step the loss
# of some seeds climbed above chance in the first epochs. At 0.01 with 8 clips a step (400 steps instead of 200,
# 15% more time) no seed diverges, but SlowFast's motion accuracy still spans 58-91% over 20 runs (results/
# claims_quick): 15 epochs would make it reliable (95-98% on four seeds) at 50% more time.
MOTION_TRAIN = dict(epochs=10, batch_size=8, lr=0.01, warmup_epochs=1.0, warmup_start_lr=0.001)
# PySlowFast's RESNET.ZERO_INIT_FINAL_BN is True for Kinetics, where each block starting as the identity suits deep
# networks trained for many epochs. A one-block-per-stage tiny model trained for a few hundred steps then barely
# leaves its initial state (its stride-2 shortcuts see a quarter of the pixels); with the flag off (PySlowFast's
# default) it learns within the budget.
MOTION_MODEL = dict(crop_size=MOTION_DATA["crop_size"], zero_init_final_bn=False)
ENGINE_VERSION = 3  # part of the cache key: bump when training draws its randomness differently, so caches retrain

# notebook 06's parameters that define the backbone, passed on to notebooks 07 and 08 by the runner
BACKBONE_KEYS = ("epochs", "batch_size", "lr")

# The course's two sizes, one table. "notebooks": what each notebook's parameters become (papermill overrides; the
# quick profile is the notebooks' own defaults, what is committed and what CI checks on 2 CPU cores; full is one
# GPU). "ablation": the Table 2 sweep's data (MotionShapes clips per class) and what its training changes from
# MOTION_TRAIN: ten classes of 50 clips give 31 steps an epoch at 16 clips a step, where every committed variant
# converged. The MotionShapes presets these start from are the data set's own (motion_shapes.PROFILES).
PROFILES = {
    "quick": {
        "notebooks": {},
        "ablation": {"data": dict(train=50, val=4, test=30), "train": dict(batch_size=16)},
    },
    "full": {
        "notebooks": {
            "01_sampling": {"short_side": 256, "wheel_size": 96, "num_wheels": 48},  # test-time scale, finer sweep
            "02_slow_pathway": {"crop": 224, "batch": 8},  # the paper's 224^2 views through the real R50
            "03_fast_pathway": {"crop": 224, "batch": 8},
            "04_lateral_connections": {"crop": 224, "batch": 8},
            "05_slowfast_network": {"crop": 224, "batch": 8},
            # MotionShapes at ten times the clips, loaded by 8 workers
            "06_training": {"profile": "full", "num_workers": 8},
            # the Table 2 sweep at full MotionShapes scale, three seeds, run here and kept in results/table2_full
            "06b_ablations": {"profile": "full", "results_name": "table2_full", "run_sweep": True},
            # four times the synthetic AVA videos at twice the size, from notebook 06's full-profile backbones
            "07_ava_detection": {"profile": "full", "train_videos": 64, "val_videos": 16, "frame_size": 128,
                                 "epochs": 20},
            "08_your_own_video": {"profile": "full"},  # the model notebook 06 trained on the full MotionShapes
        },
        "ablation": {"data": dict(), "train": dict(batch_size=16, num_workers=8)},
    },
}


def motion_datasets(model, data, **overrides):
    """(train, val, test) ``VideoClassificationDataset`` of a generated ``MotionShapes`` set, fitted to ``model``
    with the course's settings (``MOTION_DATA``; ``overrides`` change them)."""
    from slowfast_lite.data.kinetics import VideoClassificationDataset

    settings = {**MOTION_DATA, **overrides}
    train_settings = {k: v for k, v in settings.items() if k not in ("num_clips", "num_crops")}
    root = data.generate(progress=False)
    return (VideoClassificationDataset.for_model(model, root / "train.csv", "train", **train_settings),
            VideoClassificationDataset.for_model(model, root / "val.csv", "test", **{**settings, "num_clips": 1}),
            VideoClassificationDataset.for_model(model, root / "test.csv", "test", **settings))


@dataclass
class Trained:
    """What ``load_or_train`` gives: the model (eval mode, CPU), its history, class names and where it lives."""

    model: torch.nn.Module
    history: train.History
    classnames: list
    checkpoint: Path
    data_root: Path


def load_or_train(model_name="slowfast_tiny", profile="quick", seed=0, retrain=False, progress=True,
                  model_overrides=None, data_root=None, groups=None, data_overrides=None, data_seed=None,
                  data_size=None, **train_overrides) -> Trained:
    """A tiny model of notebook 06 trained on MotionShapes, from the cache when it is there.

    Trains ``build_model(model_name, num_classes=<the set's classes>, **MOTION_MODEL, **model_overrides)`` on
    ``MotionShapes(profile, seed)`` with ``MOTION_TRAIN`` (``train_overrides``: any ``TrainConfig`` field) and
    keeps the run under ``<data_root>/trained/<model>_<profile>_seed<seed>_<key>/``, the key a hash of everything
    that changes the result; a later call with the same recipe loads it. ``data_root`` (default
    ``utils.data_root()``) holds both the data set (``motion_shapes/``) and the trained models.

    The ablations (``slowfast_lite.ablate``) change the data too: ``groups`` (MotionShapes class groups),
    ``data_size`` (MotionShapes clips per class or frame size), ``data_overrides`` (``MOTION_DATA`` settings such
    as ``fast_grayscale``) and ``data_seed`` (the data set's seed when it differs from the training seed, as for
    the members of an ensemble); all of them are part of the key.
    """
    from slowfast_lite.data.motion_shapes import DEFAULT_GROUPS, VERSION, MotionShapes
    from slowfast_lite.models import CONFIGS, build_model

    groups = tuple(groups or DEFAULT_GROUPS)
    data_seed = seed if data_seed is None else data_seed
    root = Path(data_root) if data_root else utils.data_root()
    data = MotionShapes(profile, data_seed, groups=groups, **(data_size or {}))
    if data_root:  # the same set, under the given root
        data = MotionShapes(profile, data_seed, root / "motion_shapes" / data.root.name, groups=groups,
                            **(data_size or {}))
    data_settings = {**MOTION_DATA, **(data_overrides or {})}
    config = train.TrainConfig(**{**MOTION_TRAIN, **train_overrides, "seed": seed, "progress": progress})
    # a value the named config already has changes nothing: the same model keeps one cache entry
    named = CONFIGS.get(model_name)
    model_overrides = {k: v for k, v in {**MOTION_MODEL, **(model_overrides or {})}.items()
                       if getattr(named, k, None) != v}
    what = [model_name, sorted(model_overrides.items()), sorted(data_settings.items()), config.recipe(),
            repr(data.settings), ENGINE_VERSION]
    if groups != DEFAULT_GROUPS or data_seed != seed:  # notebook 06's models keep the keys they always had
        what.append({"groups": groups, "data_seed": data_seed, "data_version": VERSION})
    key = hashlib.sha1(json.dumps(what, default=str).encode()).hexdigest()[:10]
    out_dir = root / "trained" / f"{model_name}_{profile}_seed{seed}_{key}"
    checkpoint = out_dir / "checkpoint.pt"
    while True:
        utils.wait_for_folder(out_dir)  # another process training this very model (ablate --jobs): use its result
        finished = checkpoint.exists() and train.History.read(out_dir).last.get("epoch") == config.epochs
        if not (retrain or not finished):
            break
        utils.seed_everything(seed)
        model = build_model(model_name, num_classes=len(data.classes), **model_overrides)
        train_set, val_set, _ = motion_datasets(model, data, **(data_overrides or {}))
        try:
            train.fit(model, train_set, val_set, dataclasses.replace(config, out_dir=str(out_dir),
                                                                     resume=not retrain))
            break
        except FolderInUse:
            continue  # it started between the wait and the lock: wait for it, then load
    model, _ = checkpoints.load_model(checkpoint)
    return Trained(model, train.History.read(out_dir), list(data.classes), checkpoint, data.root)
