"""Self-checks of notebooks 02-05: each accepts the right answer, refuses wrong ones and says why."""

import pytest

from slowfast_lite import models
from slowfast_lite.course.exercises import network as ex


def test_a_missing_answer_is_refused_politely(capsys):
    assert not ex.check_block_params(None)
    assert not ex.check_paper_symbols(None, None)
    assert "replace None" in capsys.readouterr().out


def test_check_block_params(capsys):
    a, b, c, branch1, bn = 3 * 512 * 256, 9 * 256 * 256, 256 * 1024, 512 * 1024, 2 * (256 + 256 + 1024 + 1024)
    assert ex.check_block_params(a + b + c + branch1 + bn, stage=4, block=0)
    assert not ex.check_block_params(a + b + c + branch1, stage=4, block=0)
    assert "BN" in capsys.readouterr().out
    assert not ex.check_block_params(a // 3 + b + c + branch1 + bn, stage=4, block=0)
    assert "temporal kernel 3" in capsys.readouterr().out
    assert ex.check_block_params(256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256), stage=2, block=1)  # kT = 1


def test_check_output_shape(capsys):
    assert ex.check_output_shape((2048, 8, 8, 8), "slow_r50_8x8", "res5", crop=256)
    assert not ex.check_output_shape((2048, 4, 8, 8), "slow_r50_8x8", "res5", crop=256)
    assert "temporal stride" in capsys.readouterr().out
    assert ex.check_output_shape((256, 32, 7, 7), "slowfast_r50_4x16", "res5", crop=224, pathway="fast")


def test_check_temporal_kernel_cost():
    extra = 2 * 4 * (56 * 56 * (64 * 64 + 2 * 256 * 64 + 256 * 128) + 28 * 28 * 3 * 512 * 128) / 1e9
    assert ex.check_temporal_kernel_cost(extra)
    assert not ex.check_temporal_kernel_cost(extra / 2)


def test_check_temporal_kernel_cost_of_other_stages(capsys):
    extra = 2 * 8 * (56 * 56 * 256 * 128 + 28 * 28 * 3 * 512 * 128) / 1e9  # res3's a convs: block 0 still at 56^2
    assert ex.check_temporal_kernel_cost(extra, "slow_r50_8x8", stages=(3,))
    assert not ex.check_temporal_kernel_cost(extra / 2, "slow_r50_8x8", stages=(3,))
    assert "twice" in capsys.readouterr().out
    assert not ex.check_temporal_kernel_cost(41.74 + extra, "slow_r50_8x8", stages=(3,))
    assert "whole network" in capsys.readouterr().out


def test_check_first_stages(capsys):
    assert ex.check_first_stages(["pool1", "res2", "res2", "res3", "res4"], "slow_r50_8x8")  # 9 raw frames apart
    assert ex.check_first_stages({8.0: "pool1", 4.0: "res2", 2.0: "res2", 1.0: "res3", 0.5: "res4"}, "slow_r50_8x8")
    assert ex.check_first_stages(["res2", "res3", "res3", "res4", "res5"], "slow_r50_4x16")  # 21 apart
    assert not ex.check_first_stages(["res2", "res3", "res3", "res4", "res5"], "slow_r50_8x8")
    assert "4x16" in capsys.readouterr().out
    assert not ex.check_first_stages(["pool1", "res2", "res3", "res3", "res4"], "slow_r50_8x8")
    assert not ex.check_first_stages(["pool1", "res2"], "slow_r50_8x8")


def test_check_paper_symbols(capsys):
    assert ex.check_paper_symbols(8, 8, num_frames=32, sampling_rate=2, alpha=4)
    assert ex.check_paper_symbols(4, 16, num_frames=32, sampling_rate=2, alpha=8)
    assert not ex.check_paper_symbols(32, 2, num_frames=32, sampling_rate=2, alpha=8)
    assert "Fast pathway" in capsys.readouterr().out


def test_check_fast_channels():
    assert ex.check_fast_channels([16, 64, 128, 256, 512], beta=1 / 4)
    assert ex.check_fast_channels([8, 32, 64, 128, 256], beta=1 / 8)
    assert not ex.check_fast_channels([16, 16, 32, 64, 128], beta=1 / 4)


def test_check_fast_share():
    assert ex.check_fast_share(0.105, "slowfast_r50_8x8")
    assert ex.check_fast_share(0.191, "slowfast_r50_4x16")
    assert not ex.check_fast_share(0.19, "slowfast_r50_8x8")
    assert not ex.check_fast_share(10.5, "slowfast_r50_8x8")


def test_check_grey_fast_gmacs(capsys):
    conv1 = 8 * 32 * 112 * 112 * 5 * 7 * 7 * 3 / 1e9  # the RGB Fast conv1 of 4x16
    luminance = 3 * 32 * 224 * 224 / 1e9  # the grey stem weighs R, G and B itself
    grey = 27.638665216 - conv1 * 2 / 3 + luminance
    assert ex.check_grey_fast_gmacs(grey)
    assert ex.check_grey_fast_gmacs(round(grey, 2))
    assert not ex.check_grey_fast_gmacs(26.1)  # the paper's rounding, not a count
    assert "rounding" in capsys.readouterr().out
    assert not ex.check_grey_fast_gmacs(27.638665216 - conv1 / 3)
    assert "two thirds" in capsys.readouterr().out
    assert not ex.check_grey_fast_gmacs(27.638665216 - conv1)
    assert not ex.check_grey_fast_gmacs(27.64)


def test_check_slow_in_channels(capsys):
    assert ex.check_slow_in_channels([72, 288, 576, 1152, 2304], fusion="tsample")
    assert ex.check_slow_in_channels([80, 320, 640, 1280, 2304], fusion="tconv")
    assert not ex.check_slow_in_channels([72, 288, 576, 1152, 2048 + 32], fusion="tsample")
    assert "after res5" in capsys.readouterr().out
    assert not ex.check_slow_in_channels([64, 256, 512, 1024, 2304], fusion="tsample")
    assert not ex.check_slow_in_channels([72, 288], fusion="tsample")


def test_check_time_to_channel(capsys):
    assert ex.check_time_to_channel(models.time_to_channel)
    assert ex.check_time_to_channel(lambda x, a: x.unflatten(2, (x.shape[2] // a, a)).movedim(3, 2).flatten(1, 2))
    plain_reshape = lambda x, a: x.reshape(x.shape[0], x.shape[1] * a, x.shape[2] // a, *x.shape[3:])
    assert not ex.check_time_to_channel(plain_reshape)
    assert "plain reshape" in capsys.readouterr().out
    assert not ex.check_time_to_channel(lambda x, a: x[:, :, ::a])


@pytest.mark.parametrize("kernel", [5, 7])
def test_check_lateral_params(kernel):
    widths = [8, 32, 64, 128]
    right = sum(kernel * w * 2 * w + 2 * 2 * w for w in widths)
    assert right == {5: 216_608, 7: 302_880}[kernel]  # the reference's FuseFastToSlow totals
    assert ex.check_lateral_params(right, kernel=kernel)
    assert not ex.check_lateral_params(right - 1, kernel=kernel)


def test_check_tconv_reach(capsys):
    assert ex.check_tconv_reach(9, [29, 30, 31])  # windows 8t-4 .. 8t+4 touch; the last ends at 28
    assert ex.check_tconv_reach(5, [31], model="slowfast_r50_8x8")  # stride 4: 4t-2 .. 4t+2
    assert not ex.check_tconv_reach(7, [])
    assert "[4, 12, 20, 28, 29, 30, 31]" in capsys.readouterr().out
    assert not ex.check_tconv_reach(11, [30, 31])
    assert "shorter" in capsys.readouterr().out
    assert not ex.check_tconv_reach(9, [3, 4, 5, 11, 12, 13, 19, 20, 21, 27, 28, 29, 30, 31])
    assert "kernel 5's list" in capsys.readouterr().out
    assert not ex.check_tconv_reach(9, [30, 31])
    assert not ex.check_tconv_reach(9, None)


def test_check_view_gmacs(capsys):
    assert ex.check_view_gmacs(30 * 65.71, "slowfast_r50_8x8", crop=256, views=30)
    assert not ex.check_view_gmacs(30 * 50.31, "slowfast_r50_8x8", crop=256, views=30)
    assert "256^2" in capsys.readouterr().out


def test_check_param_count():
    assert ex.check_param_count(34_480_216 - (2304 * 400 + 400) + (2304 * 174 + 174), num_classes=174)
    assert not ex.check_param_count(34_480_216, num_classes=174)


def test_check_head_features():
    assert ex.check_head_features(2560, "slowfast_r50_4x16", beta=1 / 4)
    assert ex.check_head_features(2048, "slow_r50_4x16", beta=1 / 4)
    assert not ex.check_head_features(2304, "slowfast_r50_4x16", beta=1 / 4)


def test_check_extra_gmacs(capsys):
    right = {"6x16": 13.82, "beta 1/6": 3.34, "beta 1/4": 13.40, "non-local": 8.13, "R101": 24.57}
    assert ex.check_extra_gmacs(right)
    assert ex.check_extra_gmacs({name: round(value, 1) for name, value in right.items()})
    assert not ex.check_extra_gmacs(dict(right, R101=24.57 * 2))
    assert not ex.check_extra_gmacs(dict(right, **{"6x16": 27.64 + 13.82}))
    assert "whole cost" in capsys.readouterr().out
    assert not ex.check_extra_gmacs({"6x16": 13.82})
    assert not ex.check_extra_gmacs([13.82, 3.34, 13.40, 8.13, 24.57])
