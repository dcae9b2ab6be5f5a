"""AVA files in their official formats, and an AVA-style detection dataset.

Files (https://research.google.com/ava/download.html):
- annotations ``video_id,timestamp,x1,y1,x2,y2,action_id,person_id``: one row per (box, action), coordinates
  normalised to [0, 1], timestamps in whole seconds;
- detections / person proposals: the same first six columns, then ``action_id`` (empty for a proposal), then
  ``score``;
- excluded timestamps ``video_id,timestamp``;
- label map pbtxt: ``item { name: "..." id: N }`` blocks.
Readers check every row and raise :class:`AVAFormatError` naming the file and line.
"""

import csv
import random
import re
from pathlib import Path
from typing import NamedTuple

import torch

from slowfast_lite import sampling, transforms, video


class AVAFormatError(ValueError):
    """A malformed AVA file; the message starts with ``path:line:``."""


class AVARow(NamedTuple):
    """One csv row. ``box`` is (x1, y1, x2, y2) normalised to [0, 1]; ``action_id`` is None for a proposal."""

    video_id: str
    timestamp: int
    box: tuple
    action_id: int | None
    person_id: int | None = None
    score: float | None = None

    @property
    def key(self):
        """The keyframe this row belongs to: (video_id, timestamp)."""
        return self.video_id, self.timestamp


KINDS = ("groundtruth", "detections")


def _number(text, convert, what, where):
    try:
        return convert(text)
    except ValueError:
        raise AVAFormatError(f"{where}: {what} must be a number, got {text!r}") from None


def _parse_row(fields, kind, known_actions, where):
    if len(fields) not in (7, 8):
        raise AVAFormatError(f"{where}: expected 7 or 8 comma-separated columns, got {len(fields)}")
    video_id = fields[0]
    if not video_id:
        raise AVAFormatError(f"{where}: empty video_id")
    timestamp = _number(fields[1], int, "timestamp", where)
    box = tuple(_number(v, float, name, where) for v, name in zip(fields[2:6], ("x1", "y1", "x2", "y2"), strict=True))
    if not all(0.0 <= v <= 1.0 for v in box):
        raise AVAFormatError(f"{where}: box coordinates must lie in [0, 1], got {box}")
    if box[2] <= box[0] or box[3] <= box[1]:
        raise AVAFormatError(f"{where}: box needs x2 > x1 and y2 > y1, got {box}")

    action_text = fields[6].strip()
    if action_text == "" and kind == "detections":
        action_id = None  # a person proposal: a box without an action
    else:
        action_id = _number(action_text, int, "action_id", where)
        if known_actions is not None and action_id not in known_actions:
            raise AVAFormatError(f"{where}: unknown action id {action_id} (not in the label map)")

    last = fields[7].strip() if len(fields) == 8 else ""
    if kind == "groundtruth":
        person_id = _number(last, int, "person_id", where) if last else None
        return AVARow(video_id, timestamp, box, action_id, person_id=person_id)
    score = _number(last, float, "score", where) if last else 1.0  # the official reader's default
    return AVARow(video_id, timestamp, box, action_id, score=score)


def read_ava_csv(path, kind="groundtruth", label_map=None):
    """Read an annotation (``kind="groundtruth"``) or detection/proposal (``kind="detections"``) csv.

    label_map: optional ids (a dict id -> name or any container) that action ids must belong to.
    Returns a list of :class:`AVARow` in file order.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    path = Path(path)
    known = None if label_map is None else set(label_map)
    rows = []
    with open(path, newline="") as f:
        for line_number, fields in enumerate(csv.reader(f), start=1):
            if not fields or all(not v.strip() for v in fields):
                continue
            rows.append(_parse_row([v.strip() for v in fields], kind, known, f"{path}:{line_number}"))
    return rows


def write_ava_csv(path, rows):
    """Write rows in the official layout: coordinates with 3 decimals, timestamps as 4 digits.

    A row with a score is written as a detection (``...,action_id,score``, action_id empty for a proposal),
    otherwise as an annotation (``...,action_id,person_id``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for row in rows:
            action = "" if row.action_id is None else str(row.action_id)
            if row.score is not None:
                last = [f"{row.score:.6f}"]
            else:
                last = [] if row.person_id is None else [str(row.person_id)]
            writer.writerow([row.video_id, f"{row.timestamp:04d}", *(f"{v:.3f}" for v in row.box), action, *last])


def read_exclusions(path):
    """Excluded keyframes: a set of (video_id, timestamp)."""
    path = Path(path)
    excluded = set()
    with open(path, newline="") as f:
        for line_number, fields in enumerate(csv.reader(f), start=1):
            if not fields or all(not v.strip() for v in fields):
                continue
            where = f"{path}:{line_number}"
            if len(fields) != 2:
                raise AVAFormatError(f"{where}: expected 2 columns video_id,timestamp, got {len(fields)}")
            excluded.add((fields[0].strip(), _number(fields[1].strip(), int, "timestamp", where)))
    return excluded


def write_exclusions(path, keys):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        for video_id, timestamp in sorted(keys):
            f.write(f"{video_id},{timestamp:04d}\n")


_ITEM = re.compile(r"item\s*\{(.*?)\}", re.S)
_FIELD = re.compile(r"(\w+)\s*:\s*(\"(?:[^\"\\]|\\.)*\"|[^\s}]+)")


def read_label_map(path):
    """Label map pbtxt -> {action_id: name}, in file order. Fields other than name and id are ignored."""
    path = Path(path)
    text = path.read_text()
    label_map = {}
    for match in _ITEM.finditer(text):
        where = f"{path}:{text.count(chr(10), 0, match.start()) + 1}"
        fields = dict(_FIELD.findall(match.group(1)))
        if "name" not in fields or ("id" not in fields and "label_id" not in fields):
            raise AVAFormatError(f"{where}: an item needs both name and id")
        class_id = _number(fields.get("id", fields.get("label_id")), int, "id", where)
        if class_id in label_map:
            raise AVAFormatError(f"{where}: id {class_id} appears twice")
        label_map[class_id] = fields["name"].strip('"')
    if not label_map:
        raise AVAFormatError(f"{path}: no 'item {{ name: ... id: ... }}' blocks found")
    return label_map


def write_label_map(path, label_map):
    """Write {action_id: name} as pbtxt, in the layout the official readers expect (two-space indent)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = [f'item {{\n  name: "{name}"\n  id: {class_id}\n}}\n' for class_id, name in label_map.items()]
    path.write_text("".join(blocks))


# ---------------------------------------------------------------------------------------------- dataset
def boxes_by_keyframe(rows):
    """{(video_id, timestamp): {box: set of action ids}}: the rows of one person box gathered, file order kept.

    Rows with the same coordinates on the same keyframe are one person (PySlowFast's rule).
    """
    keyframes = {}
    for row in rows:
        actions = keyframes.setdefault(row.key, {}).setdefault(row.box, set())
        if row.action_id is not None:
            actions.add(row.action_id)
    return keyframes


def box_iou_matrix(a, b):
    """IoU (A, B) of two lists of (x1, y1, x2, y2) boxes."""
    a, b = torch.tensor(a, dtype=torch.float64).reshape(-1, 4), torch.tensor(b, dtype=torch.float64).reshape(-1, 4)
    lt, rb = torch.maximum(a[:, None, :2], b[None, :, :2]), torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    area_a, area_b = (a[:, 2:] - a[:, :2]).prod(dim=1), (b[:, 2:] - b[:, :2]).prod(dim=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


class AVADataset(torch.utils.data.Dataset):
    """Keyframe-centred clips with person boxes and their multi-label actions, for an AVA-style detector.

    One item per keyframe: the Fast frames are PySlowFast's AVA rule ``range(center - half, center + half,
    stride)`` (``sampling.centered_indices``; ``stride = sampling_rate * fps / target_fps`` video frames) and the
    Slow frames ``sampling.slow_indices`` of them. A Slow-only model (``pathways="slow"``) gets exactly those
    Slow frames, so it sees what the Slow pathway of SlowFast sees.

    Boxes (``boxes=``): ``"groundtruth"``; ``"proposals"`` (score >= ``score_threshold``, the test setting);
    ``"both"`` (the training setting of the paper). A proposal takes the actions of the ground-truth box it
    overlaps most if their IoU >= ``match_iou``, else none (a background box). Excluded keyframes are skipped.
    ``fast_grayscale`` gives the Fast pathway luminance only, as the course's MotionShapes models are trained.
    ``cache_decoded`` keeps every decoded video in memory (``video.read_frames(..., cache=True)``): for small sets.
    Training (``training=True``): short side uniform in ``scale_range``, a random ``crop_size`` crop (None: the
    whole frame), a random flip; testing: short side ``test_scale``, no crop. Boxes follow the transforms.

    Item: dict with ``pathways`` (list of (3, T_p, H, W)), ``boxes`` (K, 4) in input pixels, ``labels``
    (K, num_classes) multi-hot (column ``action_id - 1``), ``scores`` (K,) (1 for a ground-truth box),
    ``normalized_boxes`` (K, 4) as in the files, ``video_id``, ``timestamp``.
    """

    def __init__(self, video_dir, annotations, label_map, *, proposals=None, exclusions=None, boxes=None,
                 training=False, num_frames=32, sampling_rate=2, alpha=8, pathways="slowfast", target_fps=30,
                 score_threshold=0.8, match_iou=0.5, scale_range=(256, 320), crop_size=224, flip=True,
                 test_scale=256, fast_grayscale=False, cache_decoded=False, start_second=900, video_suffix=".mp4",
                 mean=transforms.MEAN, std=transforms.STD, seed=0):
        if pathways not in ("slowfast", "slow", "fast"):
            raise ValueError(f"pathways must be 'slowfast', 'slow' or 'fast', got {pathways!r}")
        boxes = boxes or ("both" if training and proposals else "proposals" if proposals else "groundtruth")
        if boxes not in ("groundtruth", "proposals", "both"):
            raise ValueError(f"boxes must be 'groundtruth', 'proposals' or 'both', got {boxes!r}")
        if boxes != "groundtruth" and proposals is None:
            raise ValueError(f"boxes={boxes!r} needs a proposals csv")
        self.video_dir, self.annotations = Path(video_dir), Path(annotations)
        self.label_map = read_label_map(label_map) if isinstance(label_map, str | Path) else dict(label_map)
        self.num_classes = max(self.label_map)
        self.boxes, self.training, self.pathways = boxes, training, pathways
        self.num_frames, self.sampling_rate, self.alpha, self.target_fps = num_frames, sampling_rate, alpha, target_fps
        self.scale_range, self.crop_size, self.flip, self.test_scale = tuple(scale_range), crop_size, flip, test_scale
        self.fast_grayscale, self.start_second, self.video_suffix = fast_grayscale, start_second, video_suffix
        self.mean, self.std, self.seed, self.epoch = mean, std, seed, 0
        self.score_threshold, self.cache_decoded = score_threshold, cache_decoded
        excluded = read_exclusions(exclusions) if exclusions else set()

        groundtruth = boxes_by_keyframe(r for r in read_ava_csv(self.annotations, "groundtruth")
                                        if r.action_id in self.label_map)
        detected = {}
        if proposals is not None:
            for row in read_ava_csv(proposals, "detections"):
                if row.score >= score_threshold:
                    detected.setdefault(row.key, []).append(row)
        keys = (set(groundtruth) if boxes != "proposals" else set()) | (set(detected) if boxes != "groundtruth"
                                                                         else set())
        self.keyframes = []  # (video_id, timestamp, [(normalised box, actions, score)])
        for key in sorted(keys - excluded):
            people = list(groundtruth.get(key, {}).items())
            entries = [(box, actions, 1.0) for box, actions in people] if boxes != "proposals" else []
            for row in detected.get(key, []) if boxes != "groundtruth" else []:
                entries.append((row.box, self._matched_actions(row.box, people, match_iou), row.score))
            self.keyframes.append((*key, entries))

    @staticmethod
    def _matched_actions(box, people, match_iou):
        if not people:
            return set()
        iou = box_iou_matrix([box], [b for b, _ in people])[0]
        best = int(iou.argmax())
        return set(people[best][1]) if iou[best] >= match_iou else set()

    @classmethod
    def for_model(cls, config, video_dir, annotations, label_map, **kwargs):
        """A data set whose clips fit a model config (``SlowFastConfig`` or a model with ``.config``)."""
        config = getattr(config, "config", config)
        settings = dict(num_frames=config.alpha * config.T, sampling_rate=config.tau // config.alpha,
                        alpha=config.alpha, pathways=config.pathways)
        return cls(video_dir, annotations, label_map, **{**settings, **kwargs})

    def __len__(self):
        return len(self.keyframes)

    def __repr__(self):
        people = sum(len(e) for *_, e in self.keyframes)
        return (f"AVADataset({str(self.annotations)!r}, keyframes={len(self)}, boxes={people} ({self.boxes}), "
                f"classes={self.num_classes}, frames={self.num_frames}x{self.sampling_rate}, alpha={self.alpha}, "
                f"pathways={self.pathways!r}, training={self.training})")

    def set_epoch(self, epoch):
        """Training views are drawn from (seed, epoch, index): call before each epoch for fresh ones."""
        self.epoch = epoch

    def keyframe_image(self, index):
        """The keyframe of item ``index`` as stored in its video: uint8 (H, W, 3)."""
        video_id, timestamp, _ = self.keyframes[index]
        path = self.video_dir / f"{video_id}{self.video_suffix}"
        info = video.probe(path)
        frame = min(int(round((timestamp - self.start_second) * info.fps)), info.frames - 1)
        return video.read_frames(path, [frame], cache=self.cache_decoded)[0]

    def frame_indices(self, timestamp, fps, num_video_frames):
        """Fast frame indices (num_frames,) of the clip centred on the keyframe at ``timestamp``."""
        stride = self.sampling_rate * fps / self.target_fps
        if abs(stride - round(stride)) > 1e-6 or round(stride) < 1:
            raise ValueError(f"a {fps:g} fps video gives a Fast stride of {stride:g} frames (sampling_rate "
                             f"{self.sampling_rate} at {self.target_fps} fps); it must be a whole number")
        center = int(round((timestamp - self.start_second) * fps))
        return sampling.centered_indices(center, self.num_frames, int(round(stride)), num_video_frames)

    def __getitem__(self, index):
        video_id, timestamp, entries = self.keyframes[index]
        path = self.video_dir / f"{video_id}{self.video_suffix}"
        info = video.probe(path)
        fast = self.frame_indices(timestamp, info.fps, info.frames)
        slow_positions = sampling.slow_indices(len(fast), self.alpha)
        wanted = fast[slow_positions] if self.pathways == "slow" else fast
        clip = transforms.to_clip(video.read_frames(path, wanted.tolist(), cache=self.cache_decoded))

        normalized = torch.tensor([box for box, _, _ in entries], dtype=torch.float32).reshape(-1, 4)
        boxes = normalized * torch.tensor([info.width, info.height] * 2, dtype=torch.float32)
        if self.training:
            rng = random.Random(f"{self.seed}-{self.epoch}-{index}")
            clip, boxes = transforms.random_short_side_scale(clip, *self.scale_range, boxes=boxes, rng=rng)
            if self.crop_size:
                clip, boxes = transforms.random_crop(clip, self.crop_size, boxes=boxes, rng=rng)
            if self.flip:
                clip, boxes = transforms.random_horizontal_flip(clip, boxes=boxes, rng=rng)
            visible = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # the crop may cut a person out
            entries = [e for e, keep in zip(entries, visible.tolist(), strict=True) if keep]
            boxes, normalized = boxes[visible], normalized[visible]
        else:
            clip, boxes = transforms.short_side_scale(clip, self.test_scale, boxes=boxes)
        clip = transforms.normalize(clip, self.mean, self.std)
        pathways = transforms.to_pathways(clip, self.pathways, self.alpha, self.fast_grayscale)

        labels = torch.zeros(len(entries), self.num_classes)
        for i, (_, actions, _) in enumerate(entries):
            labels[i, [a - 1 for a in actions]] = 1.0
        return {"pathways": pathways, "boxes": boxes, "labels": labels,
                "scores": torch.tensor([score for _, _, score in entries], dtype=torch.float32),
                "normalized_boxes": normalized, "video_id": video_id, "timestamp": timestamp}
