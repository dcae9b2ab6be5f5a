"""Lateral connections: Fast {alpha*T, S^2, beta*C} -> Slow {T, S^2, C}, the four of the paper's
Table 2c + none.

Every connection maps ``[slow, fast]`` to a new ``[fused_slow, fast]`` (one direction only: Fast is
passed on unchanged) and states its shape rule: ``out_channels`` is the Slow width after fusion,
what the next Slow stage receives.

| kind          | what Fast becomes                              | with Slow   | Slow width after |
|---------------|------------------------------------------------|-------------|------------------|
| "ttoc_concat" | reshape {T, S^2, alpha*beta*C}                 | concatenate | C + alpha*beta*C |
| "ttoc_sum"    | reshape {T, S^2, alpha*beta*C}                 | add         | C (*)            |
| "tsample"     | every alpha-th frame {T, S^2, beta*C}          | concatenate | C + beta*C       |
| "tconv"       | conv k x 1^2, stride alpha, 2*beta*C, BN, ReLU | concatenate | C + 2*beta*C     |
| "none"        | (nothing)                                      |             | C                |

(*) needs alpha*beta*C = C.
"""

import torch
from torch import nn

from .resnet3d import batch_norm, conv3d


class Lateral(nn.Module):
    """Base class. ``slow_channels`` = C, ``fast_channels`` = beta*C, ``alpha`` = Fast frames per
    Slow frame.

    A subclass defines ``lateral_channels`` (what Fast adds to Slow's concatenation: 0 for sum
    and none) and ``lateral``, Fast at Slow's (T, H, W); ``forward`` checks the shapes (a lateral
    works alone too), ``fuse`` joins."""

    kind = ""

    def __init__(self, slow_channels, fast_channels, alpha):
        super().__init__()
        self.slow_channels, self.fast_channels, self.alpha = slow_channels, fast_channels, alpha

    @property
    def out_channels(self):
        """Channels of Slow after fusion: C plus what is concatenated."""
        return self.slow_channels + self.lateral_channels

    def forward(self, xs):
        slow, fast = xs
        s, f = tuple(slow.shape), tuple(fast.shape)
        if not (len(s) == len(f) == 5 and s[0] == f[0] and s[3:] == f[3:]
                and (s[1], f[1]) == (self.slow_channels, self.fast_channels)
                and f[2] == self.alpha * s[2]):
            raise ValueError(
                f"{self.kind} lateral connection expects slow (N, {self.slow_channels}, T, H, W) "
                f"and fast (N, {self.fast_channels}, alpha*T = {self.alpha}*T, H, W), "
                f"got slow {s} and fast {f}. The Fast pathway must see exactly alpha times the "
                "Slow frames (see slowfast_lite.sampling.pack_pathways).")
        return [self.fuse(slow, fast), fast]

    def fuse(self, slow, fast):
        return torch.cat([slow, self.lateral(fast)], dim=1)


def time_to_channel(fast, alpha):
    """(N, C, alpha*T, H, W) -> (N, C*alpha, T, H, W): each Slow step gets its alpha Fast frames
    as channels."""
    n, c, t, h, w = fast.shape
    x = fast.reshape(n, c, t // alpha, alpha, h, w).transpose(2, 3)  # (N, C, alpha, T, H, W)
    return x.reshape(n, c * alpha, t // alpha, h, w)


class TimeToChannel(Lateral):
    """TtoC: reshape Fast to {T, S^2, alpha*beta*C}; ``mode`` "concat" appends it to Slow, "sum"
    adds it."""

    def __init__(self, slow_channels, fast_channels, alpha, mode="concat"):
        super().__init__(slow_channels, fast_channels, alpha)
        if mode not in ("concat", "sum"):
            raise ValueError(f"TimeToChannel mode must be 'concat' or 'sum', got {mode!r}")
        if mode == "sum" and alpha * fast_channels != slow_channels:
            raise ValueError(f"ttoc_sum adds alpha*beta*C = {alpha}*{fast_channels} = "
                             f"{alpha * fast_channels} Fast channels to C = {slow_channels} Slow "
                             "channels: they must be equal (alpha * beta = 1, e.g. alpha 8 and "
                             "beta 1/8)")
        self.mode = mode
        self.kind = f"ttoc_{mode}"

    @property
    def lateral_channels(self):
        return self.alpha * self.fast_channels if self.mode == "concat" else 0

    def lateral(self, fast):
        return time_to_channel(fast, self.alpha)

    def fuse(self, slow, fast):
        return (super().fuse(slow, fast) if self.mode == "concat"
                else slow + self.lateral(fast))


class TimeStridedSample(Lateral):
    """T-sample: keep one of every alpha Fast frames, {T, S^2, beta*C}, and concatenate it to
    Slow."""

    kind = "tsample"

    @property
    def lateral_channels(self):
        return self.fast_channels

    def lateral(self, fast):
        return fast[:, :, :: self.alpha]


class TimeStridedConv(Lateral):
    """T-conv (the paper's default): conv k x 1 x 1, stride alpha in time, ``channel_ratio`` *
    beta*C outputs, BN, ReLU; concatenated to Slow. ``conv_f2s``/``bn`` are PySlowFast's names
    (``FuseFastToSlow``)."""

    kind = "tconv"

    def __init__(self, slow_channels, fast_channels, alpha, kernel=5, channel_ratio=2):
        super().__init__(slow_channels, fast_channels, alpha)
        self.conv_f2s = conv3d(fast_channels, channel_ratio * fast_channels, (kernel, 1, 1),
                               stride=(alpha, 1, 1))
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
    lateral_channels = 0

    def fuse(self, slow, fast):
        return slow


LATERALS = ("tconv", "tsample", "ttoc_concat", "ttoc_sum", "none")


def make_lateral(kind, slow_channels, fast_channels, alpha, kernel=5, channel_ratio=2):
    """The lateral connection ``kind`` (one of ``LATERALS``) for these widths."""
    if kind not in LATERALS:
        raise ValueError(f"unknown lateral connection {kind!r}; choose one of {LATERALS}")
    if kind == "tconv":
        return TimeStridedConv(slow_channels, fast_channels, alpha, kernel, channel_ratio)
    if kind.startswith("ttoc_"):
        return TimeToChannel(slow_channels, fast_channels, alpha, mode=kind[5:])
    lateral = {"tsample": TimeStridedSample, "none": NoLateral}[kind]
    return lateral(slow_channels, fast_channels, alpha)
