import math

import pytest
import torch
from torch import nn

from slowfast_lite import transforms
from slowfast_lite.models import build_model
from slowfast_lite.models.resnet3d import (
    BasicTransform,
    Bottleneck,
    ResBlock,
    Stem,
    grey_conv1,
    init_weights,
    res_stage,
    rgb_conv1,
)


@pytest.mark.parametrize("temporal_kernel", [1, 5])
def test_stem_shrinks_space_four_times_and_keeps_time(temporal_kernel):
    stem = Stem(3, 8, temporal_kernel)
    y = stem(torch.randn(2, 3, 6, 32, 40))
    assert y.shape == (2, 8, 6, 8, 10)
    assert stem.conv.kernel_size == (temporal_kernel, 7, 7)
    assert stem.conv.stride == (1, 2, 2)
    assert stem.conv.bias is None
    assert (stem.pool.kernel_size, stem.pool.stride) == ((1, 3, 3), (1, 2, 2))


def test_a_grey_stem_has_one_input_channel_and_sees_luminance():
    stem = Stem(3, 8, 5, grey=True).eval()
    assert stem.conv.in_channels == 1
    rgb = torch.rand(2, 3, 6, 32, 40)
    luminance = (rgb * torch.tensor(transforms.LUMA).view(1, 3, 1, 1, 1)).sum(1, keepdim=True)
    reference = Stem(1, 8, 5).eval()
    reference.load_state_dict(stem.state_dict())
    assert torch.allclose(stem(rgb), reference(luminance), atol=1e-6)


def _pair(seed=0):
    """A SlowFast with an RGB Fast conv1 and one with a grey one, both random, in eval mode."""
    torch.manual_seed(seed)
    return (build_model("slowfast_tiny", num_classes=5).eval(),
            build_model("slowfast_tiny", num_classes=5, fast_grey=True).eval())


FAST_CONV1 = "s1.pathway1_stem.conv.weight"


def test_rgb_weights_convert_to_a_grey_stem_with_the_same_logits_on_grey_input():
    rgb, grey = _pair()
    state = rgb.state_dict()
    grey.load_state_dict(state | {FAST_CONV1: grey_conv1(state[FAST_CONV1])})
    slow, fast = [torch.randn(shape) for shape in rgb.config.input_shapes(2, 64)]
    xs = [slow, transforms.grayscale(fast)]
    with torch.no_grad():
        assert torch.allclose(grey(xs), rgb(xs), atol=1e-5)
        assert not torch.allclose(grey([slow, fast]), rgb([slow, fast]), atol=1e-3)  # RGB input differs


def test_grey_weights_convert_to_an_rgb_stem_with_the_same_logits_on_any_input():
    rgb, grey = _pair(1)
    state = grey.state_dict()
    rgb.load_state_dict(state | {FAST_CONV1: rgb_conv1(state[FAST_CONV1])})
    xs = [torch.randn(shape) for shape in rgb.config.input_shapes(2, 64)]
    with torch.no_grad():
        assert torch.allclose(rgb(xs), grey(xs), atol=1e-5)
    assert torch.allclose(grey_conv1(rgb_conv1(state[FAST_CONV1])), state[FAST_CONV1], atol=1e-7)


def test_bottleneck_puts_time_in_a_and_space_in_b():
    t = Bottleneck(16, 4, 32, temporal_kernel=3, spatial_stride=2, dilation=1)
    assert t.a.kernel_size == (3, 1, 1) and t.a.stride == (1, 1, 1)
    assert t.b.kernel_size == (1, 3, 3) and t.b.stride == (1, 2, 2)
    assert t.c.kernel_size == (1, 1, 1) and t.c.out_channels == 32
    assert (t.a_bn.eps, t.a_bn.momentum) == (1e-5, 0.1)
    assert t(torch.randn(1, 16, 5, 8, 8)).shape == (1, 32, 5, 4, 4)


def test_dilation_keeps_the_resolution():
    block = ResBlock(8, 4, 16, temporal_kernel=3, spatial_stride=1, dilation=2)
    assert block.branch2.b.dilation == (1, 2, 2)
    assert block(torch.randn(1, 8, 3, 7, 7)).shape == (1, 16, 3, 7, 7)


def test_basic_transform_has_no_expansion():
    t = BasicTransform(8, None, 16, temporal_kernel=3, spatial_stride=2)
    assert t.a.kernel_size == (3, 3, 3) and t.b.kernel_size == (1, 3, 3)
    assert t(torch.randn(1, 8, 4, 8, 8)).shape == (1, 16, 4, 4, 4)


@pytest.mark.parametrize("in_channels,out_channels,stride,projection", [(8, 8, 1, False), (8, 16, 1, True),
                                                                         (8, 8, 2, True)])
def test_projection_shortcut_only_when_shape_changes(in_channels, out_channels, stride, projection):
    block = ResBlock(in_channels, 4, out_channels, spatial_stride=stride)
    assert (block.branch1 is not None) == projection
    if projection:
        assert block.branch1.kernel_size == (1, 1, 1) and block.branch1.stride == (1, stride, stride)


def test_zero_init_makes_a_fresh_block_the_identity_of_its_shortcut():
    torch.manual_seed(0)
    block = init_weights(ResBlock(8, 4, 8, temporal_kernel=3)).eval()
    x = torch.randn(2, 8, 3, 6, 6)
    torch.testing.assert_close(block(x), torch.relu(x))


def test_res_stage_strides_only_its_first_block():
    blocks = res_stage(8, 4, 16, 3, temporal_kernel=3, spatial_stride=2)
    assert [b.branch2.b.stride for b in blocks] == [(1, 2, 2), (1, 1, 1), (1, 1, 1)]
    assert [b.branch1 is not None for b in blocks] == [True, False, False]
    x = torch.randn(1, 8, 4, 8, 8)
    for b in blocks:
        x = b(x)
    assert x.shape == (1, 16, 4, 4, 4)


def test_init_weights_follows_the_reference():
    torch.manual_seed(0)
    model = init_weights(nn.Sequential(ResBlock(64, 64, 256), nn.Linear(256, 1000)))
    conv = model[0].branch2.b  # fan_out = 64 * 9
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)
    assert torch.all(model[0].branch2.a_bn.weight == 1) and torch.all(model[0].branch2.c_bn.weight == 0)
    assert torch.all(model[0].branch1_bn.weight == 1)
    assert model[1].weight.std().item() == pytest.approx(0.01, rel=0.05)
    assert torch.all(model[1].bias == 0)
