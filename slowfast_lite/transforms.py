"""Transforms of clips (C, T, H, W), PySlowFast's recipe: scale the short side, crop, flip, normalise; then
grey-scale and the split of a clip into the model's pathways (``to_pathways``).

Every geometric transform also moves boxes (K, 4) = (x1, y1, x2, y2) in pixels when given them, and then
returns ``(clip, boxes)``; without boxes it returns the clip alone. Boxes use continuous pixel coordinates
(a box covering the whole W x H frame is (0, 0, W, H)), the convention of aligned RoIAlign. The functions
work on any leading dimensions, so a batch (N, C, T, H, W) goes through the same calls.
Random choices come from ``rng``, a ``random.Random`` (None: the global ``random`` module, which PyTorch's
DataLoader seeds differently in each worker).
"""

import math
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from slowfast_lite import sampling
from slowfast_lite.models.resnet3d import LUMA  # noqa: F401 (one definition: the grey Fast stem uses it too)

MEAN = 0.45  # Kinetics RGB mean and std in [0, 1], the same for the three channels (PySlowFast)
STD = 0.225


def to_clip(frames) -> torch.Tensor:
    """uint8 frames (T, H, W, 3) (NumPy or torch) -> float32 clip (C, T, H, W) in [0, 1]."""
    frames = torch.as_tensor(np.asarray(frames) if not torch.is_tensor(frames) else frames)
    if frames.dim() != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3), got shape {tuple(frames.shape)}")
    return frames.permute(3, 0, 1, 2).float().div_(255)


def to_frames(clip, mean=0.0, std=1.0) -> np.ndarray:
    """float clip (C, T, H, W) -> uint8 frames (T, H, W, 3) for display; pass the ``normalize`` mean and std
    to undo it."""
    clip = clip.detach().cpu().float()
    clip = clip * _per_channel(std, clip) + _per_channel(mean, clip)
    return clip.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 3, 0).numpy()


def _per_channel(value, clip):
    """A scalar or one value per channel, shaped to broadcast over (..., C, T, H, W)."""
    return torch.as_tensor(value, dtype=clip.dtype, device=clip.device).reshape(-1, 1, 1, 1)


def normalize(clip, mean=MEAN, std=STD) -> torch.Tensor:
    """(clip - mean) / std, with scalars or one value per channel."""
    return (clip - _per_channel(mean, clip)) / _per_channel(std, clip)


def time_difference(clip) -> torch.Tensor:
    """Differences of consecutive frames of a clip (C, T, H, W): frame t becomes frame t minus frame t-1, and
    frame 0 (no earlier frame) becomes zeros; what stays still vanishes (the paper's Table 2e Fast input)."""
    return torch.cat([torch.zeros_like(clip[:, :1]), clip[:, 1:] - clip[:, :-1]], dim=1)


def _as_boxes(boxes):
    boxes = torch.as_tensor(boxes, dtype=torch.float32)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (K, 4) = (x1, y1, x2, y2), got shape {tuple(boxes.shape)}")
    return boxes


def _result(clip, boxes):
    return clip if boxes is None else (clip, boxes)


def short_side_scale(clip, size, boxes=None, antialias=False):
    """Resize (bilinear) so the short side is ``size`` and the long side keeps the aspect ratio (floored)."""
    if not clip.is_floating_point():
        raise ValueError(f"short_side_scale needs a float clip (use to_clip first), got {clip.dtype}")
    height, width = clip.shape[-2:]
    if min(height, width) == size:
        return _result(clip, None if boxes is None else _as_boxes(boxes))
    if width < height:
        new_height, new_width = int(math.floor(height / width * size)), size
    else:
        new_height, new_width = size, int(math.floor(width / height * size))
    # Channels and time are independent images to interpolate: fold them into one batch of planes.
    planes = clip.reshape(1, -1, height, width)
    resized = F.interpolate(planes, size=(new_height, new_width), mode="bilinear", align_corners=False,
                            antialias=antialias).reshape(*clip.shape[:-2], new_height, new_width)
    if boxes is not None:
        scale = torch.tensor([new_width / width, new_height / height] * 2)
        boxes = _as_boxes(boxes) * scale
    return _result(resized, boxes)


def random_short_side_scale(clip, min_size, max_size, boxes=None, rng=None):
    """``short_side_scale`` to a size drawn uniformly in [min_size, max_size] (training jitter)."""
    size = int(round((rng or random).uniform(min_size, max_size)))
    return short_side_scale(clip, size, boxes)


def crop(clip, top, left, height, width, boxes=None):
    """Cut the window [top, top + height) x [left, left + width); boxes are shifted and clipped to it
    (a box wholly outside becomes zero-area)."""
    full_height, full_width = clip.shape[-2:]
    if not (0 <= top and top + height <= full_height and 0 <= left and left + width <= full_width):
        raise ValueError(f"crop {height}x{width} at (top={top}, left={left}) does not fit a {full_height}x"
                         f"{full_width} clip")
    cropped = clip[..., top:top + height, left:left + width]
    if boxes is not None:
        boxes = _as_boxes(boxes) - torch.tensor([left, top, left, top], dtype=torch.float32)
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
    return _result(cropped, boxes)


def _check_fits(clip, size):
    height, width = clip.shape[-2:]
    if size > height or size > width:
        raise ValueError(f"crop size {size} is larger than the clip ({height}x{width}); scale it first")
    return height, width


def random_crop(clip, size, boxes=None, rng=None):
    """A ``size`` x ``size`` crop at a uniformly random position."""
    height, width = _check_fits(clip, size)
    rng = rng or random
    return crop(clip, rng.randint(0, height - size), rng.randint(0, width - size), size, size, boxes)


def uniform_crop(clip, size, spatial_index, boxes=None):
    """PySlowFast's test crops along the long side: 0 left (or top), 1 centre, 2 right (or bottom)."""
    if spatial_index not in (0, 1, 2):
        raise ValueError(f"spatial_index must be 0, 1 or 2, got {spatial_index}")
    height, width = _check_fits(clip, size)
    top, left = math.ceil((height - size) / 2), math.ceil((width - size) / 2)
    if spatial_index != 1:
        if height > width:
            top = 0 if spatial_index == 0 else height - size
        else:
            left = 0 if spatial_index == 0 else width - size
    return crop(clip, top, left, size, size, boxes)


def center_crop(clip, size, boxes=None):
    """The centre ``size`` x ``size`` crop (``uniform_crop`` index 1)."""
    return uniform_crop(clip, size, 1, boxes)


def three_crops(clip, size) -> list:
    """The three test crops [left, centre, right] (top/centre/bottom for portrait clips)."""
    return [uniform_crop(clip, size, i) for i in range(3)]


def horizontal_flip(clip, boxes=None):
    """Mirror left-right; a box (x1, y1, x2, y2) becomes (W - x2, y1, W - x1, y2)."""
    width = clip.shape[-1]
    flipped = clip.flip(-1)
    if boxes is not None:
        boxes = _as_boxes(boxes).clone()
        boxes[:, [0, 2]] = width - boxes[:, [2, 0]]
    return _result(flipped, boxes)


def random_horizontal_flip(clip, p=0.5, boxes=None, rng=None):
    """``horizontal_flip`` with probability ``p``."""
    if (rng or random).random() < p:
        return horizontal_flip(clip, boxes)
    return _result(clip, None if boxes is None else _as_boxes(boxes))


def train_augment(clip, crop_size=224, scale_range=(256, 320), flip=True, boxes=None, rng=None):
    """PySlowFast's training view: random short side in ``scale_range``, random crop, random flip."""
    given = boxes is not None
    boxes = _as_boxes(boxes) if given else torch.zeros(0, 4)  # always carry boxes: one code path
    clip, boxes = random_short_side_scale(clip, *scale_range, boxes=boxes, rng=rng)
    clip, boxes = random_crop(clip, crop_size, boxes=boxes, rng=rng)
    if flip:
        clip, boxes = random_horizontal_flip(clip, boxes=boxes, rng=rng)
    return _result(clip, boxes if given else None)


def grayscale(clip):
    """Luminance of clips (..., 3, T, H, W), repeated over the 3 channels (works on normalised clips: the
    weights sum to 1)."""
    weights = torch.tensor(LUMA, dtype=clip.dtype, device=clip.device).view(3, 1, 1, 1)
    return (clip * weights).sum(-4, keepdim=True).expand_as(clip).contiguous()


def to_pathways(clip, pathways="slowfast", alpha=8, fast_grayscale=False, fast_time_difference=False) -> list:
    """One clip (C, T, H, W) -> the model's input list.

    ``"slowfast"``: ``clip`` holds the Fast frames; returns ``[slow, fast]`` (``sampling.pack_pathways``).
    ``"slow"`` or ``"fast"``: ``clip`` is that pathway's input; returns ``[clip]``.
    The Fast input of the paper's Table 2e, Slow keeping colour: ``fast_grayscale`` (luminance only),
    ``fast_time_difference`` (differences of consecutive frames, after the grey-scale if both).
    """
    if pathways not in ("slowfast", "slow", "fast"):
        raise ValueError(f"pathways must be 'slowfast', 'slow' or 'fast', got {pathways!r}")
    fast = clip
    if pathways != "slow":
        fast = grayscale(fast) if fast_grayscale else fast
        fast = time_difference(fast) if fast_time_difference else fast
    if pathways == "slowfast":
        return [sampling.pack_pathways(clip, alpha)[0], fast]
    return [fast]


@dataclass(frozen=True)
class View:
    """How a clip becomes model input at test time, the one definition that the data sets (test mode), ``evaluate``,
    ``demo`` and Grad-CAM share: scale the short side, crop, normalise, split into pathways (Fast grey-scale or
    time differences as trained). A checkpoint's recorded data settings restore it whole (``from_settings``).

    ``crop_size`` None: the model's training crop; ``short_side`` None: the crop size.
    """

    crop_size: int = None
    short_side: int = None
    mean: object = MEAN  # a scalar or one value per channel
    std: object = STD
    fast_grayscale: bool = False  # the Fast pathway sees luminance only (Table 2e), as some models train
    fast_time_difference: bool = False  # the Fast pathway sees differences of consecutive frames (Table 2e)

    @classmethod
    def from_settings(cls, settings):
        """The test view of a training run's data settings (``train.data_settings``, ``checkpoints.load_model``)."""
        return cls(crop_size=settings.get("test_crop_size") or settings.get("crop_size"),
                   short_side=settings.get("test_scale"), mean=settings.get("mean", MEAN),
                   std=settings.get("std", STD), fast_grayscale=bool(settings.get("fast_grayscale")),
                   fast_time_difference=bool(settings.get("fast_time_difference")))

    def __call__(self, clip, pathways="slowfast", alpha=8, crop_index=1, default_crop=None) -> list:
        """A float clip (C, T, H, W) in [0, 1] -> the model's input list; ``crop_index``: 0, 1 (centre) or 2, as
        ``uniform_crop``; ``default_crop``: the crop when the view leaves it to the model."""
        crop_size = self.crop_size or default_crop
        if crop_size is None:
            raise ValueError("View: no crop size; give crop_size or the model's default_crop")
        clip = uniform_crop(short_side_scale(clip, self.short_side or crop_size), crop_size, crop_index)
        clip = normalize(clip, self.mean, self.std)
        return to_pathways(clip, pathways, alpha, self.fast_grayscale, self.fast_time_difference)
