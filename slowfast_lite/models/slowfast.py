"""The SlowFast network and its family (Slow-only, Fast-only), the named configurations,
``build_model``.

A network is stem ``s1`` -> [lateral ``s1_fuse``] -> ``s2`` -> [``s2_fuse``] -> ... -> ``s5`` ->
``head``, each holding every pathway's part; its state_dict keys are exactly PySlowFast's (662 for
SlowFast R50)."""

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from .fusion import LATERALS, make_lateral
from .heads import ClassificationHead, RoIActionHead
from .pathways import (
    BLOCKS_PER_DEPTH,
    MultiPathwayStage,
    MultiPathwayStem,
    fast_pathway_spec,
    slow_pathway_spec,
)
from .resnet3d import init_weights

PATHWAYS = {"slowfast": ("slow", "fast"), "slow": ("slow",), "fast": ("fast",)}


@dataclass(frozen=True)
class SlowFastConfig:
    """Everything that defines a network of the family, in the paper's symbols.

    T is the number of Slow frames and tau the Slow stride in raw frames; Fast sees alpha*T frames,
    one every tau/alpha. PySlowFast's config counts the other way round: ``NUM_FRAMES`` = alpha*T
    (Fast frames) and ``SAMPLING_RATE`` = tau/alpha (Fast stride); see the properties
    ``num_frames`` and ``sampling_rate``."""

    name: str = "custom"
    pathways: str = "slowfast"  # "slowfast", "slow" (Slow-only) or "fast" (Fast-only)
    depth: int = 50  # ResNet depth: 18, 34 (basic blocks), 50 or 101 (bottlenecks)
    # residual blocks in res2..res5, overrides the depth's (e.g. (1, 1, 1, 1))
    stage_blocks: tuple = None
    width: int = 64  # C: channels of the Slow conv1; res2..res5 bottlenecks are C, 2C, 4C, 8C wide
    T: int = 4  # Slow frames
    tau: int = 16  # Slow temporal stride, in raw frames
    alpha: int = 8  # Fast frames per Slow frame
    beta: float = 1 / 8  # Fast channels per Slow channel
    # lateral connection: "tconv", "tsample", "ttoc_concat", "ttoc_sum" or "none"
    fusion: str = "tconv"
    fusion_kernel: int = 5  # temporal kernel of the T-conv lateral (5 in 4x16, 7 in 8x8)
    fusion_channel_ratio: int = 2  # T-conv outputs this many times beta*C channels
    # kT of conv1, res2..res5 in Slow (none before res4)
    slow_temporal_kernels: tuple = (1, 1, 1, 3, 3)
    fast_temporal_kernels: tuple = (5, 3, 3, 3, 3)  # kT of conv1, res2..res5 in Fast
    # Slow only: per res2..res5, blocks followed by a non-local block
    nonlocal_blocks: tuple = ((), (), (), ())
    nonlocal_kind: str = "softmax"  # "softmax" (embedded Gaussian) or "dot_product"
    detection: bool = False  # res5 stride 1 dilation 2 (features at 1/16) and the RoI action head
    num_classes: int = 400
    dropout: float = 0.5  # before the final linear layer
    # RESNET.ZERO_INIT_FINAL_BN: each residual block starts as the identity
    zero_init_final_bn: bool = True
    # training crop: sets the head's pooling window (res5 size); larger test crops give a grid
    crop_size: int = 224
    in_channels: int = 3
    # Fast conv1 sees the input's luminance, one channel (Table 2e's grey input at its cost)
    fast_grey: bool = False

    def __post_init__(self):
        for key in ("stage_blocks", "slow_temporal_kernels", "fast_temporal_kernels"):
            if getattr(self, key) is not None:
                object.__setattr__(self, key, tuple(getattr(self, key)))
        object.__setattr__(self, "nonlocal_blocks", tuple(tuple(b) for b in self.nonlocal_blocks))
        self._validate()

    def _validate(self):
        def bad(key, rule):
            raise ValueError(f"SlowFastConfig {self.name!r}: {key}={getattr(self, key)!r} {rule}")

        if self.pathways not in PATHWAYS:
            bad("pathways", f"must be one of {tuple(PATHWAYS)}")
        if self.fusion not in LATERALS:
            bad("fusion", f"must be one of {LATERALS}")
        if self.depth not in BLOCKS_PER_DEPTH:
            bad("depth", f"must be one of {tuple(BLOCKS_PER_DEPTH)} "
                         "(stage_blocks may change the block counts)")
        if self.stage_blocks is not None and (len(self.stage_blocks) != 4
                                              or min(self.stage_blocks) < 1):
            bad("stage_blocks", "must be 4 positive block counts (res2..res5)")
        for key in ("slow_temporal_kernels", "fast_temporal_kernels"):
            kernels = getattr(self, key)
            if len(kernels) != 5 or any(k < 1 or k % 2 == 0 for k in kernels):
                bad(key, "must be 5 odd kernel sizes (conv1, res2..res5)")
        if len(self.nonlocal_blocks) != 4:
            bad("nonlocal_blocks", "must give 4 tuples of block indices (res2..res5)")
        if self.fusion_kernel < 1 or self.fusion_kernel % 2 == 0:
            bad("fusion_kernel", "must be odd (5 or 7 in the paper)")
        if not (0 < self.beta <= 1):
            bad("beta", "must be in (0, 1], e.g. 1/8")
        for key in ("width", "T", "tau", "alpha", "num_classes", "crop_size", "in_channels",
                    "fusion_channel_ratio"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1:
                bad(key, "must be a positive integer")
        if self.fast_grey and (self.in_channels != 3 or "fast" not in self.pathway_names):
            bad("fast_grey", "needs a Fast pathway and 3 input channels (it sees their luminance)")
        if self.tau % self.alpha:
            bad("tau", f"must be a multiple of alpha={self.alpha} (the Fast stride is tau/alpha)")
        pairs = zip(self.nonlocal_blocks, self.blocks, strict=True)
        for stage, (indices, count) in enumerate(pairs):
            wrong = [i for i in indices if not isinstance(i, int) or not 0 <= i < count]
            if wrong:
                bad("nonlocal_blocks", f"names block {wrong[0]!r} of res{stage + 2}, which has "
                                       f"blocks 0..{count - 1}")
        if "slow" not in self.pathway_names and any(self.nonlocal_blocks):
            bad("nonlocal_blocks", "adds non-local blocks to the Slow pathway, and this network "
                                   "has none")

    @property
    def blocks(self):
        """Residual blocks per stage res2..res5."""
        return self.stage_blocks or BLOCKS_PER_DEPTH[self.depth]

    @property
    def pathway_names(self):
        return PATHWAYS[self.pathways]

    @property
    def frames(self):
        """Input frames of each pathway: Slow T, Fast alpha*T."""
        return tuple(self.T if p == "slow" else self.alpha * self.T for p in self.pathway_names)

    @property
    def num_frames(self):
        """PySlowFast's NUM_FRAMES: frames decoded per clip (those of the fastest pathway)."""
        return max(self.frames)

    @property
    def sampling_rate(self):
        """PySlowFast's SAMPLING_RATE: raw-frame stride of the fastest pathway (tau/alpha with
        Fast)."""
        return self.tau // self.alpha if "fast" in self.pathway_names else self.tau

    def input_shapes(self, batch=1, crop=None):
        """Expected input shapes, one (N, C, T_p, H, W) per pathway, at ``crop`` (default: the
        training crop)."""
        crop = crop or self.crop_size
        return [(batch, self.in_channels, t, crop, crop) for t in self.frames]

    def replace(self, **overrides):
        """A copy with some fields changed (unknown keys raise a ValueError that lists the valid
        ones)."""
        fields = sorted(f.name for f in dataclasses.fields(self))
        if unknown := sorted(set(overrides) - set(fields)):
            raise ValueError(f"unknown SlowFastConfig key(s) {unknown}; valid keys: {fields}")
        return dataclasses.replace(self, **overrides)


_4x16 = dict(T=4, tau=16, alpha=8, fusion_kernel=5)
_8x8 = dict(T=8, tau=8, alpha=4, fusion_kernel=7)
# PySlowFast's NLN configs: after blocks 1,3 of res3 and 1,3,5 of res4
_NL_R50 = ((), (1, 3), (1, 3, 5), ())
_TINY = dict(stage_blocks=(1, 1, 1, 1), width=16, beta=1 / 4, T=4, tau=8, alpha=4, fusion_kernel=5,
             crop_size=112)

CONFIGS = {c.name: c for c in [
    SlowFastConfig("slowfast_r50_4x16", **_4x16),
    SlowFastConfig("slowfast_r50_8x8", **_8x8),
    SlowFastConfig("slowfast_r50_4x16_nl", nonlocal_blocks=_NL_R50, nonlocal_kind="dot_product",
                   **_4x16),
    SlowFastConfig("slowfast_r50_8x8_nl", nonlocal_blocks=_NL_R50, nonlocal_kind="dot_product",
                   **_8x8),
    SlowFastConfig("slowfast_r101_8x8", depth=101, **dict(_8x8, fusion_kernel=5)),
    SlowFastConfig("slow_r50_4x16", pathways="slow", **_4x16),
    SlowFastConfig("slow_r50_8x8", pathways="slow", **_8x8),
    SlowFastConfig("fast_r50", pathways="fast", **_4x16),  # the paper's Fast-only 32x2
    SlowFastConfig("slowfast_tiny", **_TINY),
    SlowFastConfig("slow_tiny", pathways="slow", **_TINY),
    SlowFastConfig("fast_tiny", pathways="fast", **_TINY),
]}


class SlowFast(nn.Module):
    """SlowFast, Slow-only or Fast-only network (``config.pathways``), for classification or
    detection.

    ``model(pathways)`` takes a list of (N, 3, T_p, H, W) tensors, ``[slow, fast]`` (one element
    for Slow-only/Fast-only), never modifies it and returns logits (N, num_classes); in detection
    mode ``model(pathways, boxes)`` takes boxes (K, 5) = (batch_index, x1, y1, x2, y2) and returns
    (K, num_classes). ``model.predict(...)`` returns probabilities instead (softmax averaged over
    positions / sigmoid)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        specs = [slow_pathway_spec(config) if p == "slow" else fast_pathway_spec(config)
                 for p in config.pathway_names]
        self.s1 = MultiPathwayStem(specs, config.in_channels)
        channels = [s.channels[0] for s in specs]
        for k in range(4):
            if len(specs) == 2:
                fuse = make_lateral(config.fusion, channels[0], channels[1], config.alpha,
                                    config.fusion_kernel, config.fusion_channel_ratio)
                self.add_module(f"s{k + 1}_fuse", fuse)
                channels[0] = fuse.out_channels
            self.add_module(f"s{k + 2}", MultiPathwayStage(specs, k, channels))
            channels = [s.channels[k + 1] for s in specs]
        if config.detection:
            self.head = RoIActionHead(channels, config.num_classes, dropout=config.dropout)
        else:
            # res5 size of a training crop (stride 32, rounding up)
            pool = -(-config.crop_size // 32)
            self.head = ClassificationHead(channels, config.num_classes, pool, config.dropout)
        init_weights(self, zero_init_final_bn=config.zero_init_final_bn)

    def stages(self):
        """(name, module) in execution order: s1, s1_fuse, s2, ..., s5 (without the head)."""
        names = ["s1"] + [n for k in range(1, 5) for n in (f"s{k}_fuse", f"s{k + 1}")]
        return [(n, getattr(self, n)) for n in names if hasattr(self, n)]

    def features(self, pathways):
        """res5 features of each pathway: list of (N, C_p, T_p, H/32, W/32) (H/16 in detection
        mode)."""
        self.check_inputs(pathways)
        xs = list(pathways)
        for _, stage in self.stages():
            xs = stage(xs)
        return xs

    def forward(self, pathways, boxes=None):
        if self.config.detection and boxes is None:
            raise ValueError("a detection model needs boxes: model(pathways, boxes) with boxes "
                             "(K, 5) = (batch_index, x1, y1, x2, y2) in input pixels")
        if boxes is not None and not self.config.detection:
            raise ValueError("boxes given to a classification model; build it with "
                             "detection=True for boxes")
        features = self.features(pathways)
        return self.head(features, boxes) if self.config.detection else self.head(features)

    def predict(self, pathways, boxes=None):
        """Probabilities: softmax per position averaged over positions (classification), sigmoid
        per box (detection)."""
        features = self.features(pathways)
        if self.config.detection:
            return self.head.predict(features, boxes)
        return self.head.predict(features)

    def check_inputs(self, pathways):
        """Raise a ValueError stating the expected shapes unless ``pathways`` fits this model (the
        only input check: the stages and laterals behind it can rely on these shapes)."""
        cfg, names = self.config, self.config.pathway_names
        expected = " and ".join(
            f"{p} (N, {cfg.in_channels}, {'T' if p == 'slow' else 'alpha*T'}, H, W)"
            for p in names)
        example = ", ".join(map(str, cfg.input_shapes(2)))
        rule = (f"{cfg.name} expects a list [{', '.join(names)}]: {expected}, alpha={cfg.alpha}; "
                f"e.g. [{example}] for a batch of 2 {cfg.crop_size}^2 clips of T={cfg.T} "
                "(see slowfast_lite.sampling.pack_pathways)")
        if not isinstance(pathways, (list, tuple)):
            got = (f"a tensor of shape {tuple(pathways.shape)}"
                   if isinstance(pathways, torch.Tensor) else repr(pathways))
            raise ValueError(f"{rule}; got {got}. Wrap it: model([{', '.join(names)}])")
        shapes = [tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
                  for x in pathways]
        if len(pathways) != len(names) or not all(isinstance(x, torch.Tensor) for x in pathways):
            raise ValueError(f"{rule}; got a list of {len(pathways)}: {shapes}")
        ok = all(len(s) == 5 and s[1] == cfg.in_channels
                 and s[0] == shapes[0][0] and s[3:] == shapes[0][3:] for s in shapes)
        if not ok or (len(shapes) == 2 and shapes[1][2] != cfg.alpha * shapes[0][2]):
            raise ValueError(f"{rule}; got {shapes}")
        if any(0 in shape for shape in shapes):
            raise ValueError(f"{rule}; got {shapes}: pathways has an empty dimension (T, H or W)")
        if not all(x.is_floating_point() for x in pathways):
            raise TypeError(f"{cfg.name} expects floating-point pathways (clips as "
                            "transforms.to_clip and normalize give them); got "
                            f"{[str(x.dtype) for x in pathways]}")


def build_model(name_or_config, num_classes=None, **overrides):
    """A network of the family, freshly initialised.

    ``name_or_config``: a name of ``CONFIGS`` (``slowfast_r50_4x16``, ``slowfast_r50_8x8``,
    ``slow_r50_4x16``, ``slow_r50_8x8``, ``fast_r50``, ``slowfast_r101_8x8``, ``slowfast_tiny``,
    ...) or a ``SlowFastConfig``. ``num_classes``: default the config's (400). ``overrides``: any
    ``SlowFastConfig`` field, e.g. ``alpha=4, beta=1/16, fusion="tsample", detection=True``. Build
    on the meta device (``with torch.device("meta"): ...``) to count cost without allocating
    weights."""
    named = CONFIGS.get(name_or_config) if isinstance(name_or_config, str) else None
    config = name_or_config if isinstance(name_or_config, SlowFastConfig) else named
    if config is None:
        raise ValueError(f"unknown model {name_or_config!r}; named models: {sorted(CONFIGS)}")
    overrides |= {} if num_classes is None else {"num_classes": num_classes}
    return SlowFast(config.replace(**overrides) if overrides else config)
