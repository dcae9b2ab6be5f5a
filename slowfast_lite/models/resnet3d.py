"""The bricks both pathways share: stem, residual block (bottleneck or basic), a stage of blocks,
weight init.

Tensors are (N, C, T, H, W). Attribute names follow PySlowFast (``conv``/``bn``/``pool`` in the
stem, ``branch1``/``branch1_bn`` and ``branch2.{a,b,c}`` + ``{a,b,c}_bn`` in a block), so its
checkpoints load by name. No brick ever strides in time: only H and W shrink."""

import torch
from torch import nn

LUMA = (0.299, 0.587, 0.114)  # BT.601 weights of R, G, B in a grey value (transforms.LUMA); sum 1


def conv3d(in_channels, out_channels, kernel, stride=1, dilation=1, bias=False):
    """Conv3d with 'same' padding for odd kernels: (T, H, W) shrink only by the stride."""
    kernel, stride, dilation = ((v,) * 3 if isinstance(v, int) else tuple(v)
                                for v in (kernel, stride, dilation))
    padding = tuple(d * (k // 2) for k, d in zip(kernel, dilation, strict=True))
    return nn.Conv3d(in_channels, out_channels, kernel, stride, padding, dilation, bias=bias)


def batch_norm(channels, zero_init=False):
    """BatchNorm3d (eps 1e-5, momentum 0.1). ``zero_init`` marks the last BN of a residual branch:
    its weight starts at 0, so every block starts as the identity (Goyal et al., 2017)."""
    bn = nn.BatchNorm3d(channels, eps=1e-5, momentum=0.1)
    bn.zero_init = zero_init
    return bn


class Stem(nn.Module):
    """conv1 (kT x 7 x 7, stride (1, 2, 2)) -> BN -> ReLU -> pool1 (max 1 x 3 x 3,
    stride (1, 2, 2)).

    (N, C_in, T, H, W) -> (N, C_out, T, H/4, W/4): the temporal length is kept. ``grey``: conv1
    has one input channel and sees the luminance of the 3-channel input (Table 2e's grey Fast
    input at its cost, the weights of PySlowFast's ``INPUT_CHANNEL_NUM`` [3, 1])."""

    def __init__(self, in_channels, out_channels, temporal_kernel=1, grey=False):
        super().__init__()
        self.grey = grey
        self.conv = conv3d(1 if grey else in_channels, out_channels, (temporal_kernel, 7, 7),
                           stride=(1, 2, 2))
        self.bn = batch_norm(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))

    def forward(self, x):
        if self.grey:  # grey input stays grey: its three channels are equal and LUMA sums to 1
            x = torch.einsum("nc...,c->n...", x, x.new_tensor(LUMA)).unsqueeze(1)
        return self.pool(self.relu(self.bn(self.conv(x))))


def grey_conv1(weight):
    """conv1 weights (O, 3, kT, 7, 7) -> (O, 1, kT, 7, 7) of a grey stem: the same output on grey
    input, whose three channels are equal."""
    return weight.sum(1, keepdim=True)


def rgb_conv1(weight):
    """A grey stem's conv1 weights (O, 1, kT, 7, 7) -> (O, 3, kT, 7, 7): the same output on any
    input (the three-channel conv computes the luminance itself)."""
    return weight * weight.new_tensor(LUMA).view(1, 3, 1, 1, 1)


class Bottleneck(nn.Module):
    """The residual branch of R50/R101: a (kT x 1 x 1) -> b (1 x 3 x 3, spatial stride) ->
    c (1 x 1 x 1).

    The temporal kernel sits in ``a`` only; ``b`` carries the spatial stride and dilation; ``c``
    expands to ``out_channels`` (4x ``inner_channels`` in a ResNet). BN after each conv, ReLU after
    a and b."""

    def __init__(self, in_channels, inner_channels, out_channels, temporal_kernel=1,
                 spatial_stride=1, dilation=1):
        super().__init__()
        self.a = conv3d(in_channels, inner_channels, (temporal_kernel, 1, 1))
        self.a_bn = batch_norm(inner_channels)
        self.a_relu = nn.ReLU(inplace=True)
        self.b = conv3d(inner_channels, inner_channels, (1, 3, 3),
                        stride=(1, spatial_stride, spatial_stride),
                        dilation=(1, dilation, dilation))
        self.b_bn = batch_norm(inner_channels)
        self.b_relu = nn.ReLU(inplace=True)
        self.c = conv3d(inner_channels, out_channels, 1)
        self.c_bn = batch_norm(out_channels, zero_init=True)

    def forward(self, x):
        x = self.a_relu(self.a_bn(self.a(x)))
        x = self.b_relu(self.b_bn(self.b(x)))
        return self.c_bn(self.c(x))


class BasicTransform(nn.Module):
    """The residual branch of R18/R34: a (kT x 3 x 3, spatial stride) -> b (1 x 3 x 3, dilation);
    no expansion."""

    def __init__(self, in_channels, inner_channels, out_channels, temporal_kernel=1,
                 spatial_stride=1, dilation=1):
        super().__init__()
        self.a = conv3d(in_channels, out_channels, (temporal_kernel, 3, 3),
                        (1, spatial_stride, spatial_stride))
        self.a_bn = batch_norm(out_channels)
        self.a_relu = nn.ReLU(inplace=True)
        self.b = conv3d(out_channels, out_channels, (1, 3, 3), dilation=(1, dilation, dilation))
        self.b_bn = batch_norm(out_channels, zero_init=True)

    def forward(self, x):
        return self.b_bn(self.b(self.a_relu(self.a_bn(self.a(x)))))


class ResBlock(nn.Module):
    """relu(shortcut(x) + branch2(x)). The shortcut is a projection (1 x 1 x 1 conv with the
    spatial stride + BN, ``branch1``) when the width or the resolution changes, else the
    identity."""

    def __init__(self, in_channels, inner_channels, out_channels, temporal_kernel=1,
                 spatial_stride=1, dilation=1, bottleneck=True):
        super().__init__()
        self.branch1 = None  # the identity, unless the width or the resolution changes
        if in_channels != out_channels or spatial_stride != 1:
            self.branch1 = conv3d(in_channels, out_channels, 1,
                                  stride=(1, spatial_stride, spatial_stride))
            self.branch1_bn = batch_norm(out_channels)
        transform = Bottleneck if bottleneck else BasicTransform
        self.branch2 = transform(in_channels, inner_channels, out_channels, temporal_kernel,
                                 spatial_stride, dilation)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        shortcut = x if self.branch1 is None else self.branch1_bn(self.branch1(x))
        return self.relu(shortcut + self.branch2(x))


def res_stage(in_channels, inner_channels, out_channels, num_blocks, temporal_kernel=1,
              spatial_stride=1, dilation=1, bottleneck=True):
    """The blocks of one residual stage: block 0 changes width and resolution, the others
    keep them."""
    return [ResBlock(in_channels if i == 0 else out_channels, inner_channels, out_channels,
                     temporal_kernel, spatial_stride if i == 0 else 1, dilation, bottleneck)
            for i in range(num_blocks)]


def init_weights(model, fc_std=0.01, zero_init_final_bn=True):
    """The reference initialisation: convs Kaiming normal (fan_out, relu), BN weight 1 (0 where
    ``zero_init`` and ``zero_init_final_bn``) and bias 0, linear layers N(0, fc_std) with
    bias 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm3d):
            zero = zero_init_final_bn and getattr(m, "zero_init", False)
            nn.init.constant_(m.weight, 0.0 if zero else 1.0)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=fc_std)
            nn.init.zeros_(m.bias)
    return model
