"""An AVA-style detection dataset: keyframe-centred clips with person boxes and their actions.

The files it reads (annotations, proposals, exclusions, label map) are in ``data/ava_files.py``.
"""

import random
from pathlib import Path

import torch

from slowfast_lite import sampling, transforms, video
from slowfast_lite.data.ava_files import boxes_by_keyframe, read_ava_csv, read_exclusions, read_label_map
from slowfast_lite.data.boxes import box_iou


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
        iou = box_iou([box], [b for b, _ in people])[0]
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
