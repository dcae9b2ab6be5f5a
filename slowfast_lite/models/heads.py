"""Heads on top of the res5 features of every pathway: clip classification and per-box action detection.

Both return logits; ``predict`` gives probabilities (softmax for classes, sigmoid for multi-label actions).
``projection`` is PySlowFast's name of the final linear layer.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .roi_align import roi_align


class ClassificationHead(nn.Module):
    """Per-pathway average pool -> concatenate -> dropout -> linear, fully convolutional as PySlowFast tests.

    The spatial pooling window is the res5 size of a training crop (``pool_size``, e.g. 7 for 224^2), with
    stride 1: a training-size input gives one position, a larger test input (256^2 -> 8^2 features) a grid
    of positions, each classified by the same linear layer. Time is always averaged over its whole length.
    ``pool_size=None`` pools globally. Inputs: list of (N, C_p, T_p, H, W); output (N, num_classes).
    """

    def __init__(self, in_channels, num_classes, pool_size=None, dropout=0.5):
        super().__init__()
        self.pool_size = pool_size
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(sum(in_channels), num_classes)

    def position_logits(self, xs):
        """Logits at each position of the pooled grid: (N, t, h, w, num_classes), t = 1."""
        pooled = []
        for x in xs:
            h, w = x.shape[-2:]
            k = self.pool_size
            window = (x.shape[2], min(k, h), min(k, w)) if k else x.shape[2:]
            pooled.append(F.avg_pool3d(x, window, stride=1))
        x = torch.cat(pooled, dim=1).permute(0, 2, 3, 4, 1)
        return self.projection(self.dropout(x))

    def forward(self, xs):
        """Logits averaged over positions (PyTorchVideo's rule; one position at the training size)."""
        return self.position_logits(xs).mean(dim=(1, 2, 3))

    def predict(self, xs):
        """Class probabilities: softmax at each position, then averaged (PySlowFast's test rule)."""
        return self.position_logits(xs).softmax(dim=-1).mean(dim=(1, 2, 3))


class RoIActionHead(nn.Module):
    """Per pathway: temporal average over all T -> RoIAlign (``resolution``^2, ``spatial_scale``, aligned)
    -> spatial max pool; then concatenate -> dropout -> linear.

    Inputs: list of (N, C_p, T_p, H, W) features and boxes (K, 5) = (batch_index, x1, y1, x2, y2) in input
    pixels; output (K, num_classes) logits, one row per box. Actions are multi-label: train with
    ``binary_cross_entropy_with_logits``, ``predict`` applies the sigmoid.
    """

    def __init__(self, in_channels, num_classes, resolution=7, spatial_scale=1 / 16, sampling_ratio=0, aligned=True,
                 dropout=0.5):
        super().__init__()
        self.resolution, self.spatial_scale = resolution, spatial_scale
        self.sampling_ratio, self.aligned = sampling_ratio, aligned
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(sum(in_channels), num_classes)

    def forward(self, xs, boxes):
        check_boxes(boxes, xs[0].shape[0])
        pooled = []
        for x in xs:
            x = x.mean(dim=2)  # (N, C, H, W)
            rois = roi_align(x, boxes.to(x.dtype), self.resolution, self.spatial_scale, self.sampling_ratio,
                             self.aligned)  # (K, C, r, r)
            pooled.append(rois.amax(dim=(2, 3)))
        return self.projection(self.dropout(torch.cat(pooled, dim=1)))

    def predict(self, xs, boxes):
        """Per-box action probabilities (sigmoid), (K, num_classes)."""
        return torch.sigmoid(self.forward(xs, boxes))


def check_boxes(boxes, batch_size):
    """Raise a ValueError unless ``boxes`` is a (K, 5) float tensor of (batch_index, x1, y1, x2, y2)."""
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.shape[1] != 5:
        got = tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__
        raise ValueError(f"boxes must be a (K, 5) tensor of (batch_index, x1, y1, x2, y2) in input pixels, got {got}")
    if boxes.device.type != "meta" and boxes.numel() and (boxes[:, 0].min() < 0 or boxes[:, 0].max() >= batch_size):
        raise ValueError(f"boxes[:, 0] must be batch indices in [0, {batch_size}), got {boxes[:, 0].tolist()}")
