"""Heads on top of the res5 features of every pathway: clip classification and per-box action
detection.

Both return logits; ``predict`` gives probabilities (softmax for classes, sigmoid for multi-label
actions). ``projection`` is PySlowFast's name of the final linear layer."""

import torch
import torch.nn.functional as F
from torch import nn

from .roi_align import roi_align


def _concat(features):
    """Channels of every pathway side by side; one pathway's as they are (a concatenation would
    copy them)."""
    return features[0] if len(features) == 1 else torch.cat(features, dim=1)


class ClassificationHead(nn.Module):
    """Per-pathway average pool -> concatenate -> dropout -> linear, fully convolutional as
    PySlowFast tests.

    The spatial pooling window is the res5 size of a training crop (``pool_size``, e.g. 7 for
    224^2), with stride 1: a training-size input gives one position, a larger test input (256^2 ->
    8^2 features) a grid of positions, each classified by the same linear layer. Time is always
    averaged over its whole length. ``pool_size=None`` pools globally. Inputs: list of
    (N, C_p, T_p, H, W); output (N, num_classes)."""

    def __init__(self, in_channels, num_classes, pool_size=None, dropout=0.5):
        super().__init__()
        self.pool_size = pool_size
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(sum(in_channels), num_classes)

    def position_logits(self, xs):
        """Logits at each position of the pooled grid: (N, t, h, w, num_classes), t = 1."""
        k = self.pool_size  # all of T, and k x k of the space (at most its size); None: everything
        windows = [(x.shape[2], min(k, x.shape[3]), min(k, x.shape[4])) if k else x.shape[2:]
                   for x in xs]
        x = _concat([F.avg_pool3d(x, w, stride=1) for x, w in zip(xs, windows, strict=True)])
        return self.projection(self.dropout(x.permute(0, 2, 3, 4, 1)))

    def forward(self, xs):
        """Logits averaged over positions (PyTorchVideo's rule; one position at the training
        size)."""
        return self.position_logits(xs).mean(dim=(1, 2, 3))

    def predict(self, xs):
        """Class probabilities: softmax at each position, then averaged (PySlowFast's test
        rule)."""
        return self.position_logits(xs).softmax(dim=-1).mean(dim=(1, 2, 3))


class RoIActionHead(nn.Module):
    """Per pathway: temporal average over all T -> RoIAlign (``resolution``^2, ``spatial_scale``,
    aligned) -> spatial max pool; then concatenate -> dropout -> linear.

    Inputs: list of (N, C_p, T_p, H, W) features and boxes (K, 5) = (batch_index, x1, y1, x2, y2)
    in input pixels; output (K, num_classes) logits, one row per box. Actions are multi-label:
    train with ``binary_cross_entropy_with_logits``, ``predict`` applies the sigmoid.
    """

    def __init__(self, in_channels, num_classes, resolution=7, spatial_scale=1 / 16,
                 sampling_ratio=0, aligned=True, dropout=0.5):
        super().__init__()
        self.resolution, self.spatial_scale = resolution, spatial_scale
        self.sampling_ratio, self.aligned = sampling_ratio, aligned
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(sum(in_channels), num_classes)

    def forward(self, xs, boxes):
        # per pathway, from the time-averaged (N, C, H, W): (K, C, r, r)
        rois = [roi_align(x.mean(dim=2), boxes, self.resolution, self.spatial_scale,
                          self.sampling_ratio, self.aligned) for x in xs]
        return self.projection(self.dropout(_concat([r.amax(dim=(2, 3)) for r in rois])))

    def predict(self, xs, boxes):
        """Per-box action probabilities (sigmoid), (K, num_classes)."""
        return torch.sigmoid(self.forward(xs, boxes))

