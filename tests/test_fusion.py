import pytest
import torch

from slowfast_lite.models import LATERALS, build_model, make_lateral, time_to_channel

C, CF, ALPHA = 16, 2, 8  # Slow channels, Fast channels (beta = 1/8), frame ratio


def pair(t=2, cs=C, cf=CF, alpha=ALPHA, size=5):
    return [torch.randn(1, cs, t, size, size), torch.randn(1, cf, alpha * t, size, size)]


@pytest.mark.parametrize("kind,out_channels", [("ttoc_concat", C + ALPHA * CF), ("ttoc_sum", C),
                                               ("tsample", C + CF), ("tconv", C + 2 * CF), ("none", C)])
def test_each_lateral_follows_its_shape_rule(kind, out_channels):
    lateral = make_lateral(kind, C, CF, ALPHA, kernel=5)
    xs = pair()
    slow, fast = lateral(xs)
    assert lateral.out_channels == out_channels
    assert tuple(slow.shape) == (1, out_channels, 2, 5, 5)
    assert fast is xs[1]  # one direction only: Fast passes through


def test_concatenating_laterals_keep_slow_first():
    xs = pair()
    for kind in ("ttoc_concat", "tsample", "tconv"):
        torch.testing.assert_close(make_lateral(kind, C, CF, ALPHA)(xs)[0][:, :C], xs[0])


def test_time_to_channel_stacks_the_alpha_frames_of_each_slow_step():
    fast = torch.randn(2, 3, 4 * 2, 5, 5)
    out = time_to_channel(fast, alpha=4)
    assert out.shape == (2, 12, 2, 5, 5)
    for c in range(3):
        for a in range(4):
            for t in range(2):
                torch.testing.assert_close(out[:, c * 4 + a, t], fast[:, c, 4 * t + a])


def test_ttoc_sum_adds_and_needs_matching_widths():
    xs = pair()
    lateral = make_lateral("ttoc_sum", C, CF, ALPHA)
    torch.testing.assert_close(lateral(xs)[0], xs[0] + time_to_channel(xs[1], ALPHA))
    with pytest.raises(ValueError, match="must be equal"):
        make_lateral("ttoc_sum", C, CF, alpha=4)


def test_tsample_takes_every_alpha_th_frame():
    xs = pair(t=3)
    torch.testing.assert_close(make_lateral("tsample", C, CF, ALPHA)(xs)[0][:, C:], xs[1][:, :, [0, 8, 16]])


@pytest.mark.parametrize("kernel", [5, 7])
def test_tconv_is_pyslowfasts_fuse_fast_to_slow(kernel):
    lateral = make_lateral("tconv", C, CF, ALPHA, kernel=kernel)
    conv = lateral.conv_f2s
    assert (conv.kernel_size, conv.stride, conv.padding) == ((kernel, 1, 1), (ALPHA, 1, 1), (kernel // 2, 0, 0))
    assert conv.out_channels == 2 * CF and conv.bias is None
    assert sorted(k for k, _ in lateral.named_parameters()) == ["bn.bias", "bn.weight", "conv_f2s.weight"]


@pytest.mark.parametrize("kind", LATERALS)
def test_a_time_length_mismatch_is_a_clear_error(kind):
    lateral = make_lateral(kind, C, CF, ALPHA)
    slow, fast = pair()
    with pytest.raises(ValueError, match=rf"{kind} lateral .* alpha\*T = 8\*T.*got slow \(1, 16, 2, 5, 5\) and fast "
                                         r"\(1, 2, 14, 5, 5\)"):
        lateral([slow, fast[:, :, :-2]])  # T-conv would even run: 14 frames at stride 8 give 2


def test_unknown_lateral_is_refused():
    with pytest.raises(ValueError, match="tconv"):
        make_lateral("bidirectional", C, CF, ALPHA)


@pytest.mark.parametrize("kind,extra", [("tconv", 16), ("tsample", 8), ("ttoc_concat", 64), ("ttoc_sum", 0),
                                        ("none", 0)])
def test_slow_stage_widths_follow_from_the_lateral(kind, extra):
    with torch.device("meta"):
        model = build_model("slowfast_r50_4x16", fusion=kind)
    assert model.s2.pathway0_res0.branch2.a.in_channels == 64 + extra
    assert model.s5.pathway0_res0.branch2.a.in_channels == 1024 + extra * 16
