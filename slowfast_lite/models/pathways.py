"""The two pathways: what each one is (a ``PathwaySpec``) and the modules that run a stage of every
pathway.

Slow: T frames (one every tau), C channels, temporal kernels only in res4 and res5.
Fast: alpha * T frames, beta * C channels, a temporal kernel in every stage, never a temporal
      stride.
A network holds one stem module (``s1``) and one module per residual stage (``s2``..``s5``); each
holds the blocks of every pathway as ``pathway{p}_...`` (PySlowFast's names), so a pathway also
works alone."""

from dataclasses import dataclass

from torch import nn

from .non_local import NonLocal
from .resnet3d import Stem, res_stage

BLOCKS_PER_DEPTH = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


@dataclass(frozen=True)
class PathwaySpec:
    """One pathway, stage by stage. Tuples of 5 are (conv1, res2, res3, res4, res5); tuples of 4
    are res2..res5."""

    name: str  # "slow" or "fast"
    frames: int  # temporal length of its input (T or alpha * T)
    channels: tuple  # output channels of conv1 and of each stage
    inner: tuple  # bottleneck width of each stage (a and b convs)
    temporal_kernels: tuple  # kT of conv1 and of each stage's ``a`` conv
    blocks: tuple  # residual blocks per stage
    spatial_strides: tuple  # res2..res5: 1, 2, 2, 2 (res5 1 in detection mode)
    dilations: tuple  # res2..res5: 1, 1, 1, 1 (res5 2 in detection mode)
    bottleneck: bool  # False for the basic blocks of R18 and R34
    # per stage: indices of blocks followed by a non-local block
    nonlocal_blocks: tuple = ((), (), (), ())
    nonlocal_kind: str = "softmax"
    grey: bool = False  # conv1 sees the input's luminance only (one channel)


def slow_pathway_spec(config):
    """Spec of the Slow pathway of a ``SlowFastConfig``: C = ``width`` channels, T frames."""
    return _spec(config, "slow", config.T, 1.0,
                 config.slow_temporal_kernels, config.nonlocal_blocks)


def fast_pathway_spec(config):
    """Spec of the Fast pathway: beta * C channels (rounded down), alpha * T frames."""
    return _spec(config, "fast", config.alpha * config.T, config.beta,
                 config.fast_temporal_kernels, ((),) * 4, grey=config.fast_grey)


def _spec(config, name, frames, ratio, temporal_kernels, nonlocal_blocks, grey=False):
    bottleneck = config.depth >= 50  # R18 and R34 have basic blocks
    expansion = 4 if bottleneck else 1
    inner = [config.width * 2**i for i in range(4)]
    out = [config.width] + [w * expansion for w in inner]
    scale = lambda c: max(1, int(c * ratio + 1e-9))
    last_stride, last_dilation = (1, 2) if config.detection else (2, 1)
    return PathwaySpec(
        name=name, frames=frames, channels=tuple(map(scale, out)), inner=tuple(map(scale, inner)),
        temporal_kernels=tuple(temporal_kernels), blocks=config.blocks,
        spatial_strides=(1, 2, 2, last_stride), dilations=(1, 1, 1, last_dilation),
        bottleneck=bottleneck, nonlocal_blocks=nonlocal_blocks, nonlocal_kind=config.nonlocal_kind,
        grey=grey)


class MultiPathwayStem(nn.Module):
    """conv1 + pool1 of every pathway: ``[x_p]`` -> ``[stem_p(x_p)]`` (a new list)."""

    def __init__(self, specs, in_channels=3):
        super().__init__()
        for p, spec in enumerate(specs):
            stem = Stem(in_channels, spec.channels[0], spec.temporal_kernels[0], spec.grey)
            self.add_module(f"pathway{p}_stem", stem)

    def forward(self, xs):
        return [getattr(self, f"pathway{p}_stem")(x) for p, x in enumerate(xs)]


class MultiPathwayStage(nn.Module):
    """Residual stage ``stage`` (0 = res2 .. 3 = res5) of every pathway, run side by side.

    ``in_channels[p]`` is what pathway p receives (for Slow: its own width plus what the lateral
    connection concatenated). Non-local blocks, where the spec asks for them, follow their residual
    block."""

    def __init__(self, specs, stage, in_channels):
        super().__init__()
        self.order = []  # per pathway, the names of its modules in execution order
        for p, spec in enumerate(specs):
            names = []
            blocks = res_stage(in_channels[p], spec.inner[stage], spec.channels[stage + 1],
                               spec.blocks[stage], spec.temporal_kernels[stage + 1],
                               spec.spatial_strides[stage], spec.dilations[stage], spec.bottleneck)
            for i, block in enumerate(blocks):
                names.append(f"pathway{p}_res{i}")
                self.add_module(names[-1], block)
                if i in spec.nonlocal_blocks[stage]:
                    names.append(f"pathway{p}_nonlocal{i}")
                    nonlocal_block = NonLocal(spec.channels[stage + 1], kind=spec.nonlocal_kind)
                    self.add_module(names[-1], nonlocal_block)
            self.order.append(names)

    def forward(self, xs):
        outs = []
        for names, x in zip(self.order, xs, strict=True):
            for name in names:
                x = getattr(self, name)(x)
            outs.append(x)
        return outs
