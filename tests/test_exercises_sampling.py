import torch

from slowfast_lite import sampling
from slowfast_lite.course.exercises import sampling as ex


def test_check_rates(capsys):
    assert ex.check_rates(3 / 63 * 30, 31 / 63 * 30, tau=16, alpha=8)  # Slow frames [0, 20, 40, 63]
    assert not ex.check_rates(30 / 16, 15, tau=16, alpha=8)  # the nominal rates
    assert "nominal" in capsys.readouterr().out
    assert ex.check_rates(7 / 63 * 30, 31 / 63 * 30, tau=8, alpha=4, slow_frames=8)
    assert not ex.check_rates(2, 15, tau=16, alpha=8)
    assert "Slow: 2 is off" in capsys.readouterr().out


def test_check_cost_ratio():
    assert ex.check_cost_ratio(0.125, alpha=8, beta=1 / 8)
    assert not ex.check_cost_ratio(1.0, alpha=8, beta=1 / 8)


def test_check_beta_for_share(capsys):
    assert ex.check_beta_for_share((0.25 / 8) ** 0.5, alpha=8, share=0.2)  # ratio 0.25, share 0.25 / 1.25
    assert "correct" in capsys.readouterr().out
    assert not ex.check_beta_for_share((0.2 / 8) ** 0.5, alpha=8, share=0.2)  # 20% of Slow: a ratio, not a share
    assert "ratio" in capsys.readouterr().out
    assert not ex.check_beta_for_share(1 / 8, alpha=8, share=0.2)  # the paper's beta: 1/9 by the estimate
    assert "11.1%" in capsys.readouterr().out
    assert not ex.check_beta_for_share(0.0)
    assert "not yet" in capsys.readouterr().out
    assert ex.check_beta_for_share(0.5, alpha=4, share=0.5)  # ratio 4 * 0.25 = 1: half the total


def test_check_fast_indices():
    right = sampling.clip_indices(40, 30, 0, 1)
    assert ex.check_fast_indices(right, 40, 30)
    assert not ex.check_fast_indices(torch.arange(0, 64, 2), 40, 30)
    assert not ex.check_fast_indices(right[:16], 40, 30)
    assert not ex.check_fast_indices(None, 40, 30)  # the exercise cell before an answer: a verdict, no error


def test_check_pack_pathways():
    assert ex.check_pack_pathways(sampling.pack_pathways)

    def every_eighth(frames, alpha):
        return [frames[..., ::alpha, :, :], frames]

    assert not ex.check_pack_pathways(every_eighth)
    assert not ex.check_pack_pathways(lambda frames, alpha: frames)


def test_check_still_speed():
    assert ex.check_still_speed(3.75, spokes=6, slow_stride=16, fast_stride=2)
    assert not ex.check_still_speed(4.0, spokes=6, slow_stride=16, fast_stride=2)
    # still at the Slow rate, but so fast that Fast aliases as well
    assert not ex.check_still_speed(15.0, spokes=6, slow_stride=16, fast_stride=2)


def test_check_still_count(capsys):
    assert ex.check_still_count(3, spokes=6, slow_stride=16, fast_stride=2, below=30)  # 3.75, 7.5 and 11.25
    assert "3.75, 7.5, 11.25" in capsys.readouterr().out
    for wrong in (0, 1, 2, 5, 8):
        assert not ex.check_still_count(wrong, spokes=6, slow_stride=16, fast_stride=2, below=30)
    assert not ex.check_still_count(7, spokes=6, slow_stride=16, fast_stride=2, below=30)  # every still speed
    assert "Fast aliases too" in capsys.readouterr().out
    assert not ex.check_still_count(4, spokes=6, slow_stride=16, fast_stride=2, below=30)  # 15: a half-period step
    assert "either direction" in capsys.readouterr().out
    assert ex.check_still_count(3, spokes=4, slow_stride=16, fast_stride=2, below=30)  # 5.625, 11.25, 16.875
    assert not ex.check_still_count(5, spokes=4, slow_stride=16, fast_stride=2, below=30)  # 22.5 and 28.125 fold


def test_check_fast_limit():
    assert ex.check_fast_limit(15.0, spokes=4, max_gap=3)
    assert not ex.check_fast_limit(22.5, spokes=4, max_gap=3)
