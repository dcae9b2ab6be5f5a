"""Lateral connections: Fast {alpha*T, S^2, beta*C} -> Slow {T, S^2, C}, the four of the paper's Table 2c + none.

Every connection maps ``[slow, fast]`` to a new ``[fused_slow, fast]`` (one direction only: Fast is passed on
unchanged) and states its shape rule: ``out_channels`` is the Slow width after fusion, which is what the next
Slow stage receives, and ``output_shape(slow_shape, fast_shape)`` the fused Slow shape.

| kind          | what Fast becomes                          | fused with Slow | Slow channels after |
|---------------|--------------------------------------------|-----------------|---------------------|
| "ttoc_concat" | reshape {T, S^2, alpha*beta*C}             | concatenate     | C + alpha*beta*C    |
| "ttoc_sum"    | reshape {T, S^2, alpha*beta*C}             | add             | C (needs alpha*beta*C = C) |
| "tsample"     | every alpha-th frame {T, S^2, beta*C}      | concatenate     | C + beta*C          |
| "tconv"       | conv k x 1^2, stride alpha, 2*beta*C, BN, ReLU | concatenate | C + 2*beta*C        |
| "none"        | (nothing)                                  |                 | C                   |
"""

import torch
from torch import nn

from .resnet3d import batch_norm, conv3d


class Lateral(nn.Module):
    """Base class. ``slow_channels`` = C, ``fast_channels`` = beta*C, ``alpha`` = Fast frames per Slow frame."""

    kind = ""

    def __init__(self, slow_channels, fast_channels, alpha):
        super().__init__()
        self.slow_channels, self.fast_channels, self.alpha = slow_channels, fast_channels, alpha

    @property
    def out_channels(self):
        """Channels of Slow after fusion: C plus what is concatenated."""
        return self.slow_channels + self.lateral_channels

    @property
    def lateral_channels(self):
        """Channels that Fast contributes to the concatenation (0 for sum and none)."""
        raise NotImplementedError

    def lateral(self, fast):
        """Fast features brought to Slow's (T, H, W): (N, beta*C, alpha*T, H, W) -> (N, lateral_channels, T, H, W)."""
        raise NotImplementedError

    def output_shape(self, slow_shape, fast_shape):
        """Shape of the fused Slow tensor, from the input shapes alone (raises ValueError like ``forward``)."""
        n, _, t, h, w = self.check(slow_shape, fast_shape)
        return (n, self.out_channels, t, h, w)

    def check(self, slow_shape, fast_shape):
        """Raise a ValueError that states the expected shapes unless ``[slow, fast]`` fit this connection."""
        slow_shape, fast_shape = tuple(slow_shape), tuple(fast_shape)
        ok = (len(slow_shape) == 5 and len(fast_shape) == 5 and slow_shape[0] == fast_shape[0]
              and slow_shape[1] == self.slow_channels and fast_shape[1] == self.fast_channels
              and fast_shape[2] == self.alpha * slow_shape[2] and slow_shape[3:] == fast_shape[3:])
        if not ok:
            raise ValueError(
                f"{self.kind} lateral connection expects slow (N, {self.slow_channels}, T, H, W) and fast "
                f"(N, {self.fast_channels}, alpha*T = {self.alpha}*T, H, W), got slow {slow_shape} and fast "
                f"{fast_shape}. The Fast pathway must see exactly alpha times the Slow frames "
                "(see slowfast_lite.sampling.pack_pathways).")
        return slow_shape

    def forward(self, xs):
        slow, fast = xs
        self.check(slow.shape, fast.shape)
        return [torch.cat([slow, self.lateral(fast)], dim=1), fast]

    def extra_repr(self):
        return f"{self.slow_channels} + fast {self.fast_channels} -> {self.out_channels}, alpha={self.alpha}"


def time_to_channel(fast, alpha):
    """(N, C, alpha*T, H, W) -> (N, C*alpha, T, H, W): each Slow step gets its alpha Fast frames as channels."""
    n, c, t, h, w = fast.shape
    x = fast.reshape(n, c, t // alpha, alpha, h, w).transpose(2, 3)  # (N, C, alpha, T, H, W)
    return x.reshape(n, c * alpha, t // alpha, h, w)


class TimeToChannel(Lateral):
    """TtoC: reshape Fast to {T, S^2, alpha*beta*C}; ``mode`` "concat" appends it to Slow, "sum" adds it."""

    def __init__(self, slow_channels, fast_channels, alpha, mode="concat"):
        super().__init__(slow_channels, fast_channels, alpha)
        if mode not in ("concat", "sum"):
            raise ValueError(f"TimeToChannel mode must be 'concat' or 'sum', got {mode!r}")
        if mode == "sum" and alpha * fast_channels != slow_channels:
            raise ValueError(f"ttoc_sum adds alpha*beta*C = {alpha}*{fast_channels} = {alpha * fast_channels} "
                             f"Fast channels to C = {slow_channels} Slow channels: they must be equal "
                             "(alpha * beta = 1, e.g. alpha 8 and beta 1/8)")
        self.mode = mode
        self.kind = f"ttoc_{mode}"

    @property
    def lateral_channels(self):
        return self.alpha * self.fast_channels if self.mode == "concat" else 0

    def lateral(self, fast):
        return time_to_channel(fast, self.alpha)

    def forward(self, xs):
        if self.mode == "concat":
            return super().forward(xs)
        slow, fast = xs
        self.check(slow.shape, fast.shape)
        return [slow + self.lateral(fast), fast]


class TimeStridedSample(Lateral):
    """T-sample: keep one of every alpha Fast frames, {T, S^2, beta*C}, and concatenate it to Slow."""

    kind = "tsample"

    @property
    def lateral_channels(self):
        return self.fast_channels

    def lateral(self, fast):
        return fast[:, :, :: self.alpha]


class TimeStridedConv(Lateral):
    """T-conv (the paper's default): conv k x 1 x 1, stride alpha in time, ``channel_ratio`` * beta*C outputs,
    BN, ReLU; concatenated to Slow. ``conv_f2s``/``bn`` are PySlowFast's names (``FuseFastToSlow``)."""

    kind = "tconv"

    def __init__(self, slow_channels, fast_channels, alpha, kernel=5, channel_ratio=2):
        super().__init__(slow_channels, fast_channels, alpha)
        self.conv_f2s = conv3d(fast_channels, channel_ratio * fast_channels, (kernel, 1, 1), stride=(alpha, 1, 1))
        self.bn = batch_norm(channel_ratio * fast_channels)
        self.relu = nn.ReLU(inplace=True)

    @property
    def lateral_channels(self):
        return self.conv_f2s.out_channels

    def lateral(self, fast):
        return self.relu(self.bn(self.conv_f2s(fast)))


class NoLateral(Lateral):
    """No lateral connection: the two pathways meet only at the head."""

    kind = "none"

    @property
    def lateral_channels(self):
        return 0

    def forward(self, xs):
        slow, fast = xs
        self.check(slow.shape, fast.shape)
        return [slow, fast]


LATERALS = ("tconv", "tsample", "ttoc_concat", "ttoc_sum", "none")


def make_lateral(kind, slow_channels, fast_channels, alpha, kernel=5, channel_ratio=2):
    """The lateral connection ``kind`` (one of ``LATERALS``) for these widths."""
    if kind == "tconv":
        return TimeStridedConv(slow_channels, fast_channels, alpha, kernel, channel_ratio)
    if kind == "tsample":
        return TimeStridedSample(slow_channels, fast_channels, alpha)
    if kind in ("ttoc_concat", "ttoc_sum"):
        return TimeToChannel(slow_channels, fast_channels, alpha, mode=kind[5:])
    if kind == "none":
        return NoLateral(slow_channels, fast_channels, alpha)
    raise ValueError(f"unknown lateral connection {kind!r}; choose one of {LATERALS}")
