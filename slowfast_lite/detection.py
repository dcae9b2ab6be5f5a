"""Action detection glue: batches of boxes, the multi-label task for ``train.fit``, detection csv rows.

An AVA batch holds a different number of boxes per clip, so boxes travel as one (K, 5) tensor of
(batch_index, x1, y1, x2, y2), the form RoIAlign takes; labels are (K, num_classes) multi-hot and the loss is
binary cross-entropy (an actor can stand, carry and talk at once).
"""

import torch
import torch.nn.functional as F

from slowfast_lite import ava_eval, checkpoints, utils
from slowfast_lite.data.ava import AVADataset
from slowfast_lite.data.ava_files import AVARow
from slowfast_lite.models import build_model


def collate(samples):
    """AVADataset items -> one batch dict.

    ``pathways``: list of (N, 3, T_p, H, W); ``boxes``: (K, 5) with the clip's index in the batch first;
    ``labels`` (K, C); ``scores`` (K,); ``normalized_boxes`` (K, 4); ``keys``: (video_id, timestamp) per box.
    """
    pathways = [torch.stack(p) for p in zip(*(s["pathways"] for s in samples), strict=True)]
    boxes = torch.cat([torch.cat([torch.full((len(s["boxes"]), 1), float(i)), s["boxes"]], dim=1)
                       for i, s in enumerate(samples)])
    keys = [(s["video_id"], s["timestamp"]) for s in samples for _ in range(len(s["boxes"]))]
    return {"pathways": pathways, "boxes": boxes, "labels": torch.cat([s["labels"] for s in samples]),
            "scores": torch.cat([s["scores"] for s in samples]),
            "normalized_boxes": torch.cat([s["normalized_boxes"] for s in samples]), "keys": keys}


def bce_loss(logits, labels):
    """Mean binary cross-entropy over boxes and classes; 0 (still a graph) for a batch without boxes."""
    if logits.numel() == 0:
        return logits.sum()
    return F.binary_cross_entropy_with_logits(logits.float(), labels.to(logits.device))


@torch.no_grad()
def predict(model, dataset, batch_size=8, device="auto", progress=False):
    """Per-box action probabilities of ``model`` on an AVADataset, as detection rows.

    Returns a list of AVARow (one per box and class of the data set's label map) with the sigmoid score.
    """
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    device = utils.pick_device(device)
    was_training = model.training
    model.eval().to(device)
    rows = []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate)
    for batch in tqdm(loader, desc="detect", disable=not progress, leave=False):
        if len(batch["boxes"]) == 0:
            continue
        probabilities = model.predict([p.to(device) for p in batch["pathways"]], batch["boxes"].to(device)).cpu()
        for (video_id, timestamp), box, row in zip(batch["keys"], batch["normalized_boxes"].tolist(),
                                                   probabilities.tolist(), strict=True):
            rows += [AVARow(video_id, timestamp, tuple(box), action_id, score=row[action_id - 1])
                     for action_id in dataset.label_map]
    model.train(was_training)
    return rows


def constant_detections(dataset, score=0.5):
    """The no-skill baseline: every box of the data set gets the same ``score`` for every class."""
    return [AVARow(video_id, timestamp, tuple(box), action_id, score=score)
            for video_id, timestamp, entries in dataset.keyframes for box, _, _ in entries
            for action_id in dataset.label_map]


def guess_detections(dataset, training_rows, visible):
    """A detector that never sees an action itself, only the box's other ``visible`` actions.

    Each box of ``dataset`` scores action ``a`` with the fraction of training people doing ``a`` among those
    whose visible actions other than ``a`` are the same as this box's (its true ones). With ``visible`` the
    actions the Slow rate shows, this is the most a Slow-only model can know about an action it cannot see,
    e.g. that raised arms rule out clapping. training_rows: ground-truth AVARows (one per person and action).
    """
    people = {}
    for row in training_rows:
        people.setdefault((row.key, row.person_id), set()).add(row.action_id)
    visible = set(visible)

    def score(actions, action_id):
        seen = frozenset(actions & visible - {action_id})
        alike = [other for other in people.values() if frozenset(other & visible - {action_id}) == seen]
        return sum(action_id in other for other in alike) / len(alike) if alike else 0.0

    return [AVARow(video_id, timestamp, tuple(box), action_id, score=score(set(actions), action_id))
            for video_id, timestamp, entries in dataset.keyframes for box, actions, _ in entries
            for action_id in dataset.label_map]


def synthetic_ava_datasets(model, data, frame_size, *, score_threshold=0.8, seed=0, cache_decoded=True):
    """(train, val with ground-truth boxes, val with proposals) ``AVADataset`` of a synthetic AVA, fitted to ``model``.

    data: a ``SyntheticAVA``. Frames keep their ``frame_size`` (no scale jitter, no crop; random flips in
    training); the Fast pathway is grey-scale as the course's backbones were trained. Training uses ground truth
    plus proposals scored >= ``score_threshold`` (the paper's recipe); the videos are decoded once and kept.
    """
    settings = dict(scale_range=(frame_size, frame_size), crop_size=None, test_scale=frame_size, fast_grayscale=True,
                    score_threshold=score_threshold, cache_decoded=cache_decoded)
    train_set = AVADataset.for_model(model, data.video_dir, data.annotations("train"), data.label_map,
                                     proposals=data.proposals("train"), exclusions=data.exclusions("train"),
                                     training=True, seed=seed, **settings)
    val_sets = [AVADataset.for_model(model, data.video_dir, data.annotations("val"), data.label_map,
                                     proposals=data.proposals("val"), exclusions=data.exclusions("val"),
                                     boxes=boxes, **settings) for boxes in ("groundtruth", "proposals")]
    return train_set, *val_sets


class DetectionTask:
    """The multi-label box task for ``train.fit``: BCE on every box; validation is frame-mAP@0.5.

    evaluated: the class ids that count in the mAP (default: the validation set's label map);
    exclusions: excluded keyframes of the validation set (path or set), as ``ava_eval.frame_map`` takes them.
    """

    name = "detection"

    def __init__(self, evaluated=None, exclusions=None):
        self.evaluated, self.exclusions = evaluated, exclusions

    def collate(self, samples):
        return collate(samples)

    def loss(self, model, batch, device):
        logits = model([p.to(device) for p in batch["pathways"]], batch["boxes"].to(device))
        return bce_loss(logits, batch["labels"]), max(len(batch["boxes"]), 1)

    def evaluate(self, model, dataset, config, device):
        rows = predict(model, dataset, config.eval_batch_size or config.batch_size, device)
        mean_ap, _ = ava_eval.frame_map(dataset.annotations, rows, self.evaluated or dataset.label_map,
                                        self.exclusions)
        return {"val_map": mean_ap}


def from_classifier(classifier, num_classes, **overrides):
    """A detection model (res5 dilated, RoI head) whose backbone starts from a trained classifier.

    ``classifier``: a SlowFast-family model; its config is reused with ``detection=True``. Every weight but
    the head is copied (dilation does not change the res5 weights' shapes), as the paper starts AVA from Kinetics.
    """
    config = classifier.config.replace(detection=True, num_classes=num_classes, **overrides)
    model = build_model(config)
    checkpoints.load(classifier.state_dict(), model, skip=("head.",))
    return model
