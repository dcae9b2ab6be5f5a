"""Video classification data: PySlowFast's ``path label`` csv (Kinetics format) or one folder per class.

``VideoClassificationDataset`` decodes only the frames a clip needs (``video.read_frames``), samples them with
PySlowFast's rules (``sampling``), augments like PySlowFast (``transforms``) and returns the pathways:

* train mode: item i is video i with a random window, short-side jitter, random crop and flip:
  ``(pathways, label, index)``;
* test mode: item i is view i of ``num_clips x num_crops`` per video (clip-major, as PySlowFast orders them):
  ``(pathways, label, video_index, view_index)``.

``pathways`` is ``[slow, fast]`` (each (C, T_p, H, W)) for a SlowFast model, ``[clip]`` for Slow-only or
Fast-only. Random choices depend only on (seed, epoch, index), so a run is the same with any number of
DataLoader workers and an interrupted run resumes exactly (``set_epoch``, as DistributedSampler does).

A video that fails to decode does not stop a run: a warning names it, a counter shared with the workers
records it (``failures``), and in train mode another video is drawn instead. A test view is never replaced by
another video's: it comes back as zeros, and ``evaluate.multi_view`` leaves the video out of the scores. Bad
rows (missing file, unknown label, malformed line) raise ``DatasetError`` at construction, naming the file and
the line.
"""

import json
import random
import shlex
import warnings
from pathlib import Path

import torch

from slowfast_lite import sampling, transforms, usage, video
from slowfast_lite.errors import DatasetError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")
MODES = ("train", "test")


# Without class names a csv's labels alone say how many classes there are (the largest + 1), so they are bounded:
# a label of 400000000 would size a head of a terabyte.
MAX_CLASSES = 100_000


def read_csv(path, path_prefix=None, num_classes=None):
    """Rows ``path label`` (space separated, PySlowFast's format) -> [(Path, int)], checked row by row.

    A path with spaces is written in double quotes (``"my clip.mp4" 3``), or the row is tab separated
    (``my clip.mp4<TAB>3``). Relative paths are taken from ``path_prefix`` (default: the csv's folder).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such csv file")
    base = Path(path_prefix) if path_prefix is not None else path.parent
    rows = []
    for number, line in enumerate(usage.read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = split_row(line, f"{path}, line {number}")
        if len(parts) != 2:
            raise DatasetError(f"{path}, line {number}: expected 'path label' (2 fields; quote a path with "
                               f"spaces), got {line!r}")
        try:
            label = int(parts[1])
        except ValueError:
            raise DatasetError(f"{path}, line {number}: label {parts[1]!r} is not an integer") from None
        if label < 0 or (num_classes is not None and label >= num_classes):
            known = f" (known classes 0..{num_classes - 1})" if num_classes is not None else ""
            raise DatasetError(f"{path}, line {number}: unknown label {label}{known}")
        if num_classes is None and label >= MAX_CLASSES:
            raise DatasetError(f"{path}, line {number}: label {label} is out of range: without class names a label "
                               f"is at most {MAX_CLASSES - 1}; name the classes in a classnames.json beside the csv")
        file = base / parts[0]
        if file.is_dir():
            raise DatasetError(f"{path}, line {number}: {file} is a folder, not a video file")
        if not file.is_file():
            raise DatasetError(f"{path}, line {number}: video {file} does not exist")
        rows.append((file, label))
    if not rows:
        raise DatasetError(f"{path}: no rows")
    return rows


def read_class_folders(root):
    """One sub-folder per class (sorted names = labels 0, 1, ...) -> (rows [(Path, int)], class names)."""
    root = Path(root)
    names = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not names:
        raise DatasetError(f"{root}: no class folders (expected one sub-folder of videos per class)")
    rows = []
    for label, name in enumerate(names):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
        if not files:
            raise DatasetError(f"{root / name}: class folder without videos ({', '.join(VIDEO_SUFFIXES)})")
        rows += [(file, label) for file in files]
    return rows, names


def split_row(line, where):
    """The fields of one csv row: tab separated if it has a tab, else space separated with double quotes
    around a field that holds spaces."""
    if "\t" in line:
        return [field.strip() for field in line.strip().split("\t")]
    if '"' not in line:
        return line.split()
    try:
        return shlex.split(line)
    except ValueError as err:
        raise DatasetError(f"{where}: {err} in {line!r}") from None


def read_classnames(path):
    """Class names from PySlowFast's json ``{"name": index}`` or a text file with one name per line."""
    path = Path(path)
    text = usage.read_text(path)
    if path.suffix == ".json":
        try:
            mapping = json.loads(text)
        except ValueError as err:  # json.JSONDecodeError: message, line and column
            raise DatasetError(f"{path}: not valid JSON ({err}); expected {{\"class name\": index, ...}}") from None
        if not isinstance(mapping, dict):
            kind = {list: "an array", str: "a string"}.get(type(mapping), f"a {type(mapping).__name__}")
            raise DatasetError(f"{path}: expected a JSON object {{\"class name\": index, ...}}, got {kind}")
        odd = [(name, i) for name, i in mapping.items() if not isinstance(i, int) or isinstance(i, bool)]
        if odd:
            raise DatasetError(f"{path}: class {odd[0][0]!r} has index {odd[0][1]!r}, not an integer")
        if sorted(mapping.values()) != list(range(len(mapping))):
            raise DatasetError(f"{path}: class indices must be 0..{len(mapping) - 1}, each once")
        names = [name for name, _ in sorted(mapping.items(), key=lambda item: item[1])]
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise DatasetError(f"{path}: no class names")
    return names


class VideoClassificationDataset(torch.utils.data.Dataset):
    """Clips of labelled videos, sampled and augmented like PySlowFast, ready for a SlowFast-family model.

    source: a ``path label`` csv, or a folder with one sub-folder of videos per class.
    mode: ``"train"`` (one random clip per video) or ``"test"`` (``num_clips`` x ``num_crops`` views per video).
    num_frames, sampling_rate, target_fps: frames decoded per clip and their stride at ``target_fps``
        (PySlowFast's NUM_FRAMES, SAMPLING_RATE); ``alpha``: the Slow pathway takes ``num_frames // alpha`` of them.
    pathways: ``"slowfast"`` -> ``[slow, fast]``; ``"slow"`` or ``"fast"`` -> ``[clip]``.
    crop_size, scale_range, flip: training view; test views scale the short side to ``test_scale``
        (default ``scale_range[0]``) and take ``num_crops`` (1 centre or 3) crops of ``test_crop_size``.
    fast_grayscale: give the Fast pathway luminance only (the paper's Table 2e "gray-scale" input),
        repeated over the three channels so the model is unchanged.
    cache_decoded: keep every decoded video in memory (``video.read_frames(..., cache=True)``): for small
        sets read for many epochs; the clips are the same, only faster after the first epoch.
    fast_time_difference: give the Fast pathway differences of consecutive frames (``transforms.time_difference``,
        after grey-scale when both are set): Table 2e's "time difference" input.
    classnames: list of names, or a json / text file; default ``classnames.json`` beside a csv if present.
    """

    def __init__(self, source, mode="train", *, num_frames=32, sampling_rate=2, alpha=8, target_fps=30,
                 pathways="slowfast", crop_size=224, scale_range=(256, 320), flip=True, test_scale=None,
                 test_crop_size=None, num_clips=10, num_crops=3, fast_grayscale=False, fast_time_difference=False,
                 cache_decoded=False, classnames=None, path_prefix=None, mean=transforms.MEAN, std=transforms.STD,
                 seed=0, max_retries=10):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if pathways not in ("slowfast", "slow", "fast"):
            raise ValueError(f"pathways must be 'slowfast', 'slow' or 'fast', got {pathways!r}")
        source = Path(source)
        self.classnames_file = None
        if source.is_dir():
            self.rows, names = read_class_folders(source)
        else:
            if classnames is None and (source.parent / "classnames.json").is_file():
                classnames = source.parent / "classnames.json"
            if classnames is not None and not isinstance(classnames, (list, tuple)):
                self.classnames_file = Path(classnames)
            names = classnames if classnames is None or isinstance(classnames, (list, tuple)) else \
                read_classnames(classnames)
            self.rows = read_csv(source, path_prefix, len(names) if names else None)
        self.source, self.mode = source, mode
        self.classnames = list(names) if names else None
        self.num_classes = len(self.classnames) if self.classnames else max(label for _, label in self.rows) + 1
        self.num_frames, self.sampling_rate, self.alpha, self.target_fps = num_frames, sampling_rate, alpha, target_fps
        self.pathways, self.fast_grayscale, self.cache_decoded = pathways, fast_grayscale, cache_decoded
        self.fast_time_difference = fast_time_difference
        self.crop_size, self.scale_range, self.flip = crop_size, tuple(scale_range), flip
        self.test_scale = test_scale or scale_range[0]
        self.test_crop_size = test_crop_size or crop_size
        self.num_clips, self.num_crops = (num_clips, num_crops) if mode == "test" else (1, 1)
        self.mean, self.std, self.seed, self.max_retries = mean, std, seed, max_retries
        self.epoch = 0
        # failures per video, in shared memory: DataLoader workers add to the same counts
        self._failures = torch.zeros(len(self.rows), dtype=torch.int32).share_memory_()

    @classmethod
    def for_model(cls, config, source, mode="train", **kwargs):
        """A data set whose clips fit a model config (``SlowFastConfig`` or a model with ``.config``):
        frames, stride, alpha, pathways and crop taken from it; ``kwargs`` set the rest."""
        config = getattr(config, "config", config)
        settings = dict(num_frames=config.num_frames, sampling_rate=config.sampling_rate, alpha=config.alpha,
                        pathways=config.pathways, crop_size=config.crop_size)
        return cls(source, mode, **{**settings, **kwargs})

    @property
    def test_view(self) -> transforms.View:
        """How a test clip becomes input: short side ``test_scale``, crops of ``test_crop_size``, normalised, the Fast
        input as trained (what a checkpoint records and ``demo`` applies)."""
        return transforms.View(self.test_crop_size, self.test_scale, self.mean, self.std, self.fast_grayscale,
                               self.fast_time_difference)

    # ------------------------------------------------------------------------------------------ bookkeeping
    @property
    def views_per_video(self):
        return self.num_clips * self.num_crops

    @property
    def labels(self):
        """The label of every video (not every view): LongTensor (num_videos,)."""
        return torch.tensor([label for _, label in self.rows])

    @property
    def num_videos(self):
        return len(self.rows)

    @property
    def failures(self):
        """{video path: times it failed to decode}, over every worker."""
        return {str(self.rows[i][0]): int(n) for i, n in enumerate(self._failures.tolist()) if n}

    @property
    def num_failures(self):
        return int(self._failures.sum())

    def failure_counts(self):
        """Decode failures per video so far (a copy, LongTensor (num_videos,)), over every worker."""
        return self._failures.long().clone()

    def placeholder(self):
        """Zero pathways shaped like a test view: what an unreadable video's view is, so a batch still stacks."""
        size = self.test_crop_size if self.mode == "test" else self.crop_size
        clip = torch.zeros(3, self.num_frames, size, size)
        return transforms.to_pathways(clip, self.pathways, self.alpha, self.fast_grayscale, self.fast_time_difference)

    def set_epoch(self, epoch):
        """Training clips are drawn from (seed, epoch, index): call before each epoch for fresh clips."""
        self.epoch = epoch

    def __len__(self):
        return len(self.rows) * self.views_per_video

    @property
    def input_files(self) -> list:
        """Every file this data set reads: the csv (or the class folders' videos), the class names, the videos."""
        return [self.source, *([self.classnames_file] if self.classnames_file else []), *(p for p, _ in self.rows)]

    def __repr__(self):
        return (f"VideoClassificationDataset({str(self.source)!r}, mode={self.mode!r}, videos={self.num_videos}, "
                f"classes={self.num_classes}, frames={self.num_frames}x{self.sampling_rate}, alpha={self.alpha}, "
                f"pathways={self.pathways!r}, views={self.num_clips}x{self.num_crops})")

    # ------------------------------------------------------------------------------------------ loading
    def __getitem__(self, item):
        video_index, view = divmod(item, self.views_per_video)
        for attempt in range(self.max_retries + 1):
            rng = random.Random(f"{self.seed}-{self.epoch}-{item}-{attempt}")
            try:
                pathways = self.load(video_index, view, rng)
                break
            except video.VideoDecodeError as error:
                self._failures[video_index] += 1
                if self.mode == "test":  # never scored as another video: multi_view leaves this one out
                    warnings.warn(f"unreadable video {self.rows[video_index][0]} is left out: {error}", stacklevel=2)
                    pathways = self.placeholder()
                    break
                warnings.warn(f"skipping unreadable video {self.rows[video_index][0]}: {error}", stacklevel=2)
                video_index = rng.randrange(len(self.rows))  # another video (of any class) in its place
        else:
            raise video.VideoDecodeError(f"{self.max_retries + 1} videos in a row failed to decode; last: "
                                         f"{self.rows[video_index][0]}")
        label = self.rows[video_index][1]
        if self.mode == "train":
            return pathways, label, video_index
        return pathways, label, video_index, view

    def load(self, video_index, view=0, rng=None):
        """The pathways of one clip of a video: view 0..views_per_video-1 in test mode, random in train mode."""
        path = self.rows[video_index][0]
        info = video.probe(path)
        if info.frames < 1:
            raise video.VideoDecodeError(f"{path}: no frames")
        clip_index, crop_index = divmod(view, self.num_crops)
        window = sampling.window_size(self.num_frames, self.sampling_rate, info.fps, self.target_fps)
        start, end = sampling.clip_window(info.frames, window, -1 if self.mode == "train" else clip_index,
                                          self.num_clips, rng)
        frames = video.read_frames(path, sampling.fast_indices(start, end, self.num_frames, info.frames),
                                   cache=self.cache_decoded)
        clip = transforms.to_clip(frames)
        if self.mode == "train":
            clip = transforms.train_augment(clip, self.crop_size, self.scale_range, self.flip, rng=rng)
            clip = transforms.normalize(clip, self.mean, self.std)
            return transforms.to_pathways(clip, self.pathways, self.alpha, self.fast_grayscale,
                                          self.fast_time_difference)
        return self.test_view(clip, self.pathways, self.alpha, 1 if self.num_crops == 1 else crop_index)

