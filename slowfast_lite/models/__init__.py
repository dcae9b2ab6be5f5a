"""The SlowFast model family: bricks, pathways, lateral connections, networks, heads.

Start with ``build_model("slowfast_r50_4x16")``; the named configurations are in ``CONFIGS``."""

from .fusion import LATERALS, TimeStridedConv, TimeToChannel, make_lateral, time_to_channel
from .heads import ClassificationHead, RoIActionHead
from .non_local import NonLocal
from .pathways import (
    MultiPathwayStage,
    MultiPathwayStem,
    PathwaySpec,
    fast_pathway_spec,
    slow_pathway_spec,
)
from .resnet3d import Bottleneck, ResBlock, Stem, grey_conv1, init_weights, res_stage, rgb_conv1
from .roi_align import roi_align
from .slowfast import CONFIGS, SlowFast, SlowFastConfig, build_model

__all__ = [
    "LATERALS", "TimeStridedConv", "TimeToChannel", "make_lateral", "time_to_channel",
    "ClassificationHead", "RoIActionHead", "NonLocal",
    "MultiPathwayStage", "MultiPathwayStem", "PathwaySpec",
    "fast_pathway_spec", "slow_pathway_spec",
    "Bottleneck", "ResBlock", "Stem", "grey_conv1", "init_weights", "res_stage", "rgb_conv1",
    "roi_align",
    "CONFIGS", "SlowFast", "SlowFastConfig", "build_model",
]
