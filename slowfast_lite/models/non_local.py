"""Non-local block (Wang et al., CVPR 2018) as PySlowFast places it after residual blocks (paper
Table 2h); the module is not called ``nonlocal``: that is a Python keyword."""

import torch
from torch import nn

from .resnet3d import batch_norm


class NonLocal(nn.Module):
    """Every position attends to every (pooled) position of the clip; the result is added to the
    input.

    theta, phi, g: 1x1x1 convs C -> C/2 (phi and g see the input max-pooled by ``pool``);
    affinity = theta^T phi over all T*H*W positions, normalised by ``kind``: "softmax" (embedded
    Gaussian, scaled by (C/2)^-0.5) or "dot_product" (divided by the number of pooled positions);
    y = g . affinity; out = x + BN(conv_out(y)), with the BN weight zero-initialised so the block
    starts as the identity. (N, C, T, H, W) -> (N, C, T, H, W)."""

    def __init__(self, channels, inner_channels=None, pool=(1, 2, 2), kind="softmax"):
        super().__init__()
        if kind not in ("softmax", "dot_product"):
            raise ValueError(f"NonLocal kind must be 'softmax' or 'dot_product', got {kind!r}")
        self.kind = kind
        self.inner_channels = inner_channels or channels // 2
        self.conv_theta = nn.Conv3d(channels, self.inner_channels, 1)
        self.conv_phi = nn.Conv3d(channels, self.inner_channels, 1)
        self.conv_g = nn.Conv3d(channels, self.inner_channels, 1)
        self.pool = nn.MaxPool3d(pool, stride=pool) if max(pool) > 1 else nn.Identity()
        self.conv_out = nn.Conv3d(self.inner_channels, channels, 1)
        self.bn = batch_norm(channels, zero_init=True)

    def forward(self, x):
        n, _, t, h, w = x.shape
        theta = self.conv_theta(x).flatten(2)  # (N, C', THW)
        pooled = self.pool(x)
        phi = self.conv_phi(pooled).flatten(2)  # (N, C', P)
        g = self.conv_g(pooled).flatten(2)  # (N, C', P)
        affinity = torch.bmm(theta.transpose(1, 2), phi)  # (N, THW, P)
        if self.kind == "softmax":
            affinity = (affinity * self.inner_channels**-0.5).softmax(dim=-1)
        else:
            affinity = affinity / phi.shape[-1]
        y = torch.bmm(g, affinity.transpose(1, 2))  # (N, C', THW)
        y = y.view(n, self.inner_channels, t, h, w)  # (N, C', T, H, W)
        return x + self.bn(self.conv_out(y))
