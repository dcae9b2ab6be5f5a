import torch

from slowfast_lite.models import CONFIGS, MultiPathwayStage, MultiPathwayStem, fast_pathway_spec, slow_pathway_spec


def test_slow_and_fast_of_r50_4x16_are_table_1():
    cfg = CONFIGS["slowfast_r50_4x16"]
    slow, fast = slow_pathway_spec(cfg), fast_pathway_spec(cfg)
    assert (slow.frames, fast.frames) == (4, 32)
    assert slow.channels == (64, 256, 512, 1024, 2048) and slow.inner == (64, 128, 256, 512)
    assert fast.channels == (8, 32, 64, 128, 256) and fast.inner == (8, 16, 32, 64)
    assert slow.temporal_kernels == (1, 1, 1, 3, 3) and fast.temporal_kernels == (5, 3, 3, 3, 3)
    assert slow.blocks == fast.blocks == (3, 4, 6, 3)
    assert slow.spatial_strides == (1, 2, 2, 2) and slow.dilations == (1, 1, 1, 1)


def test_detection_mode_keeps_res5_at_stride_16_with_dilation():
    spec = slow_pathway_spec(CONFIGS["slowfast_r50_8x8"].replace(detection=True))
    assert spec.spatial_strides == (1, 2, 2, 1) and spec.dilations == (1, 1, 1, 2)


def test_beta_scales_the_fast_widths():
    spec = fast_pathway_spec(CONFIGS["slowfast_r50_4x16"].replace(beta=1 / 32))
    assert spec.channels == (2, 8, 16, 32, 64)


def test_multi_pathway_modules_return_a_new_list_and_name_blocks_like_pyslowfast():
    cfg = CONFIGS["slowfast_tiny"].replace(nonlocal_blocks=((0,), (), (), ()), stage_blocks=(2, 1, 1, 1))
    specs = [slow_pathway_spec(cfg), fast_pathway_spec(cfg)]
    stem, stage = MultiPathwayStem(specs), MultiPathwayStage(specs, 0, [specs[0].channels[0], specs[1].channels[0]])
    assert [n for n, _ in stage.named_children()] == ["pathway0_res0", "pathway0_nonlocal0", "pathway0_res1",
                                                       "pathway1_res0", "pathway1_res1"]
    xs = [torch.randn(1, 3, 2, 32, 32), torch.randn(1, 3, 8, 32, 32)]
    ys = stage(stem(xs))
    assert ys is not xs and len(xs) == 2 and xs[0].shape == (1, 3, 2, 32, 32)
    assert [tuple(y.shape) for y in ys] == [(1, 64, 2, 8, 8), (1, 16, 8, 8, 8)]
