"""Multi-view testing (PySlowFast's protocol) and the classification metrics.

A test-mode ``VideoClassificationDataset`` yields ``num_clips x num_crops`` views of every video;
``multi_view`` runs the model on each, sums the softmax scores of a video's views and scores the sums:
top-1/top-5 accuracy, per-class accuracy and the confusion matrix (rows: true class, columns: predicted).
"""

import json
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn import functional as F

from slowfast_lite import usage, utils
from slowfast_lite.errors import UsageError


def topk_accuracy(scores, labels, k=1) -> float:
    """Fraction of rows of ``scores`` (N, C) whose true label is among the k highest (k capped at C)."""
    k = min(k, scores.shape[1])
    top = scores.topk(k, dim=1).indices
    return (top == labels.view(-1, 1)).any(dim=1).float().mean().item()


def confusion_matrix(predictions, labels, num_classes) -> torch.Tensor:
    """Counts (num_classes, num_classes): entry [t, p] = videos of true class t predicted as p."""
    index = labels.long() * num_classes + predictions.long()
    return torch.bincount(index, minlength=num_classes**2).view(num_classes, num_classes)


def per_class_accuracy(confusion) -> torch.Tensor:
    """Recall of each class from a confusion matrix (NaN for a class without videos)."""
    confusion = confusion.double()
    return confusion.diagonal() / confusion.sum(1)


@dataclass
class MultiViewResult:
    """Scores summed over the views of each video and what they give."""

    scores: torch.Tensor  # (num_videos, num_classes): summed softmax over the views
    labels: torch.Tensor  # (num_videos,)
    views: torch.Tensor  # (num_videos,): views seen per video
    classnames: list = field(default=None)
    excluded: list = field(default_factory=list)  # videos that could not be read: left out, never scored
    @property
    def num_classes(self):
        return self.scores.shape[1]

    @property
    def predictions(self):
        return self.scores.argmax(1)

    @property
    def top1(self):
        return topk_accuracy(self.scores, self.labels, 1)

    @property
    def top5(self):
        return topk_accuracy(self.scores, self.labels, 5)

    @property
    def confusion(self):
        return confusion_matrix(self.predictions, self.labels, self.num_classes)

    @property
    def per_class(self):
        return per_class_accuracy(self.confusion)

    def group_accuracy(self, classes) -> float:
        """Accuracy over the videos whose true class is in ``classes`` (indices or names)."""
        index = [self.classnames.index(c) if isinstance(c, str) else c for c in classes]
        keep = torch.isin(self.labels, torch.tensor(index))
        return (self.predictions[keep] == self.labels[keep]).float().mean().item()

    def summary(self) -> dict:
        names = self.classnames or [str(i) for i in range(self.num_classes)]
        return {"top1": self.top1, "top5": self.top5, "videos": len(self.labels),
                "views_per_video": int(self.views.max()) if len(self.views) else 0,
                "excluded": [str(video) for video in self.excluded],
                "per_class": {n: round(a, 4) for n, a in zip(names, self.per_class.tolist(), strict=True)}}


@torch.no_grad()
def multi_view(model, dataset, batch_size=16, device="auto", num_workers=0, progress=False) -> MultiViewResult:
    """Test ``model`` on every view of a test-mode ``dataset``; softmax scores are summed per video.

    The model runs in eval mode (restored afterwards). Works with any number of views, also a single one. A
    video that cannot be read (a view of it failed to decode during this test) is left out: its path (or index)
    is in ``excluded``, and ``scores``, ``labels`` and ``views`` hold the other videos only.
    """
    from tqdm.auto import tqdm

    device = utils.pick_device(device) if isinstance(device, str) else device
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    was_training = model.training
    model.eval()
    num_videos, num_classes = dataset.num_videos, getattr(dataset, "num_classes", None)
    scores, views = None, torch.zeros(num_videos, dtype=torch.long)
    labels = dataset.labels.clone()
    failed_before = dataset.failure_counts() if hasattr(dataset, "failure_counts") else None
    try:
        for batch in tqdm(loader, desc="testing", disable=not progress, leave=False):
            pathways, _, video_index = batch[0], batch[1], batch[2]
            logits = model([p.to(device, non_blocking=True) for p in pathways]).float().cpu()
            if scores is None:
                scores = torch.zeros(num_videos, num_classes or logits.shape[1])
            scores.index_add_(0, video_index, F.softmax(logits, dim=1))
            views += torch.bincount(video_index, minlength=num_videos)
    finally:
        model.train(was_training)
    if scores is None:
        scores = torch.zeros(num_videos, num_classes or 0)
    excluded = []
    if failed_before is not None:
        failed = dataset.failure_counts() > failed_before
        rows = getattr(dataset, "rows", None)
        excluded = [rows[i][0] if rows else i for i in failed.nonzero().flatten().tolist()]
        scores, labels, views = scores[~failed], labels[~failed], views[~failed]
    return MultiViewResult(scores, labels, views, getattr(dataset, "classnames", None), excluded)


def match_classes(dataset, names, weights="the weights"):
    """Make a test set's labels index the classes of model-zoo weights (``names``, in their order).

    A csv without class names must already use those indices (checked); class names (a folder per class, or a
    ``classnames.json``) are looked up by name, spaces and underscores alike (``air_drumming`` is ``air drumming``),
    so a few Kinetics classes in folders are scored as the 400-class model sees them.
    """
    names = list(names)
    if dataset.classnames is None:
        top = max(label for _, label in dataset.rows)
        if top >= len(names):
            raise UsageError(f"--data {dataset.source}: label {top} is not a class of {weights} "
                                   f"(0..{len(names) - 1})")
    elif dataset.classnames != names:
        index = {name.replace("_", " "): i for i, name in enumerate(names)}
        own = [name.replace("_", " ") for name in dataset.classnames]
        unknown = [name for name in own if name not in index]
        if unknown:
            raise UsageError(f"--data {dataset.source}: class {unknown[0]!r} is not one of the {len(names)} "
                                   f"classes of {weights}; name the classes as they do (zoo.class_names), or "
                                   "label a csv with their indices")
        dataset.rows = [(path, index[own[label]]) for path, label in dataset.rows]
    dataset.classnames, dataset.num_classes = names, len(names)
    return dataset


def cli(argv) -> int:
    """``python -m slowfast_lite evaluate --checkpoint FILE --data TEST_CSV [--clips N --crops N]``, or with
    ``--model NAME --weights kinetics400`` instead of ``--checkpoint``: the model zoo's weights (``zoo``)."""
    from slowfast_lite import checkpoints, zoo
    from slowfast_lite.data.kinetics import VideoClassificationDataset
    from slowfast_lite.models import CONFIGS

    parser = usage.ArgumentParser(prog="python -m slowfast_lite evaluate",
                                  description="Multi-view test of a model trained with `train`, or of the model "
                                              "zoo's weights.")
    parser.add_argument("--checkpoint", type=Path,
                        help="checkpoint.pt written by `train`, or a PySlowFast / PyTorchVideo file with --model")
    parser.add_argument("--weights", help="instead of --checkpoint: the model zoo's weights of --model, e.g. "
                        "kinetics400 (downloaded once into the torch hub cache; tested at short side 256, crop 256)")
    parser.add_argument("--model", help="our model name, for a checkpoint that does not record its model (then "
                        "clips are sampled as the model's config says), and for --weights")
    parser.add_argument("--data", required=True, type=Path, help="test csv (path label) or folder per class")
    parser.add_argument("--clips", type=usage.integer(minimum=1, maximum=100), default=None,
                        help="temporal clips per video (default: training's)")
    parser.add_argument("--crops", type=int, default=None, choices=(1, 3), help="spatial crops per video")
    parser.add_argument("--batch-size", type=usage.integer(minimum=1, maximum=4096), default=16)
    parser.add_argument("--workers", type=usage.integer(minimum=0, maximum=256), default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args(argv)
    if (args.checkpoint is None) == (args.weights is None):
        raise UsageError("give --checkpoint FILE or --weights NAME (with --model), one of them")
    entry = None
    if args.weights:
        if not args.model:
            raise UsageError(f"--weights {args.weights} needs --model, the network they are for "
                                   "(python -m slowfast_lite zoo lists them)")
        usage.check_model_name(args.model)
        entry = zoo.get(args.model, args.weights)
    else:
        usage.check_input_file(args.checkpoint, "--checkpoint")
    if not args.data.exists():
        raise UsageError(f"--data {args.data}: no such csv file or folder")
    if args.json:
        usage.check_output_file(args.json, "--json", (args.checkpoint, args.data))
    usage.check_device(args.device)

    views = {k: v for k, v in (("num_clips", args.clips), ("num_crops", args.crops)) if v is not None}
    if entry:  # the data set first: a label the weights do not know fails before the download
        dataset = VideoClassificationDataset.for_model(CONFIGS[args.model], args.data, "test", **views,
                                                       test_scale=entry.test_scale, test_crop_size=entry.test_crop)
        match_classes(dataset, zoo.class_names(entry.classes), f"--weights {args.weights}")
        model, _ = zoo.load(args.model, args.weights, progress=sys.stderr.isatty())
    else:
        model, data_settings = checkpoints.load_model(args.checkpoint, args.model)
        dataset = (VideoClassificationDataset(args.data, "test", **{**data_settings, **views}) if data_settings
                   else VideoClassificationDataset.for_model(model, args.data, "test", **views))
    if args.json:  # the data set's every file is an input too: its class names and its videos
        usage.check_output_file(args.json, "--json", (args.checkpoint, *dataset.input_files))
    device = utils.pick_device(args.device)
    with warnings.catch_warnings():  # an unreadable video is reported once, below
        warnings.filterwarnings("ignore", message="unreadable video")
        result = multi_view(model.to(device), dataset, args.batch_size, device, args.workers, progress=True)
    if result.excluded:
        shown = ", ".join(map(str, result.excluded[:3])) + (" ..." if len(result.excluded) > 3 else "")
        if not len(result.labels):
            print(f"evaluate: no video of --data {args.data} could be read ({len(result.excluded)} unreadable: "
                  f"{shown})", file=sys.stderr)
            return 1
        print(f"evaluate: left out {len(result.excluded)} unreadable video(s), not scored: {shown}", file=sys.stderr)
    summary = result.summary()
    print(f"{summary['videos']} videos x {summary['views_per_video']} views: "
          f"top-1 {100 * result.top1:.1f}%  top-5 {100 * result.top5:.1f}%"
          + (f" ({len(result.excluded)} unreadable left out)" if result.excluded else ""))
    for name, accuracy in summary["per_class"].items():
        if entry is None or accuracy == accuracy:  # zoo weights: only the classes the test set has (not NaN)
            print(f"  {name:<20} {100 * accuracy:5.1f}%")
    if args.json:
        with utils.atomic_write(args.json) as partial:
            partial.write_text(json.dumps(summary, indent=1))
    return 0
