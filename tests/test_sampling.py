import math
import random
from fractions import Fraction

import pytest
import torch

from slowfast_lite.sampling import (
    centered_indices,
    clip_indices,
    clip_window,
    fast_indices,
    frames_per_second,
    pack_pathways,
    pathway_rates,
    slow_indices,
    window_size,
)


def rule_fast_indices(length, fps, clip_index, num_clips, slow_frames, tau, alpha, start=None):
    """PySlowFast's rule in exact rational arithmetic: window = max(1, tau * T / 30 * fps) frames,
    delta = max(length - window, 0), test clip i starts at delta * i / num_clips, the alpha * T Fast frames
    are floor(linspace(start, start + window - 1)) clamped to [0, length - 1]."""
    num_fast = alpha * slow_frames
    window = max(Fraction(1), Fraction(tau, alpha) * num_fast / 30 * Fraction(fps))
    delta = max(length - window, 0)
    start = delta * clip_index / num_clips if start is None else Fraction(start)
    end = start + window - 1
    positions = [start + (end - start) * k / (num_fast - 1) for k in range(num_fast)]
    return [min(max(math.floor(p), 0), length - 1) for p in positions]


# (video length in frames, fps, T, tau, alpha): short videos, 25/30/60 fps, the 4x16 and 8x8 configs.
VIDEOS = [
    (300, 30, 4, 16, 8),
    (250, 25, 4, 16, 8),
    (600, 60, 4, 16, 8),
    (300, 30, 8, 8, 4),
    (250, 25, 8, 8, 4),
    (40, 30, 4, 16, 8),  # shorter than the 64-frame window
    (64, 30, 4, 16, 8),  # exactly the window
    (1, 30, 4, 16, 8),  # a single frame
    (100, 60, 4, 16, 8),  # 128-frame window at 60 fps
    (299, 29.97, 4, 16, 8),
]
CASES = [(video, clip, num_clips) for video in VIDEOS for num_clips in (1, 3, 10) for clip in range(num_clips)]


@pytest.mark.parametrize("video, clip_index, num_clips", CASES)
def test_test_clip_indices_follow_the_rule(video, clip_index, num_clips):
    length, fps, slow_frames, tau, alpha = video
    got = clip_indices(length, fps, clip_index, num_clips, slow_frames, tau, alpha)
    assert got.dtype == torch.long and got.shape == (alpha * slow_frames,)
    assert got.tolist() == rule_fast_indices(length, fps, clip_index, num_clips, slow_frames, tau, alpha)


def test_known_index_lists():
    # 10 s at 30 fps, first of 10 test clips: 64-frame window from 0
    assert clip_indices(300, 30, 0, 10).tolist() == [*range(0, 61, 2), 63]
    # last of 10: delta 236, start 212.4
    assert clip_indices(300, 30, 9, 10).tolist()[:4] == [212, 214, 216, 218]
    # a 40-frame video repeats its last frame
    assert clip_indices(40, 30, 0, 1).tolist() == [*range(0, 39, 2), *[39] * 12]
    assert slow_indices(32, 8).tolist() == [0, 10, 20, 31]
    assert slow_indices(32, 4).tolist() == [0, 4, 8, 13, 17, 22, 26, 31]


@pytest.mark.parametrize("fps, expected", [(30, 64.0), (25, 2 * 32 / 30 * 25), (60, 128.0), (1, 64 / 30)])
def test_window_size_scales_with_the_frame_rate(fps, expected):
    assert window_size(32, 2, fps) == expected
    assert window_size(1, 1, 1) == 1.0  # never below one frame


@pytest.mark.parametrize("seed", range(20))
def test_training_start_is_uniform_over_the_slack(seed):
    window = window_size(32, 2, 30)
    start, end = clip_window(300, window, -1, 1, rng=random.Random(seed))
    assert start == random.Random(seed).uniform(0, 300 - 64)
    assert end == start + window - 1
    got = clip_indices(300, 30, -1, rng=random.Random(seed))
    assert got.tolist() == rule_fast_indices(300, 30, 0, 1, 4, 16, 8, start=start)


def test_training_starts_cover_the_whole_slack():
    rng = random.Random(0)
    starts = [clip_window(100, 64, -1, 1, rng=rng)[0] for _ in range(500)]
    assert 0 <= min(starts) < 2 and 34 < max(starts) <= 36
    assert clip_window(40, 64, -1, 1, rng=rng) == (0, 63)  # no slack in a short video


def test_training_start_uses_the_random_module_without_rng():
    random.seed(3)
    expected = random.Random(3).uniform(0, 236)
    assert clip_window(300, 64, -1, 1)[0] == expected


@pytest.mark.parametrize("clip_index, num_clips, expected_start", [(0, 1, 18), (0, 3, 0), (1, 3, 18), (2, 3, 36)])
def test_use_offset_spreads_clips_from_first_to_last_frame(clip_index, num_clips, expected_start):
    assert clip_window(100, 64, clip_index, num_clips, use_offset=True) == (expected_start, expected_start + 63)


@pytest.mark.parametrize("clip_index, num_clips", [(3, 3), (-2, 3), (1, 1)])
def test_bad_clip_index_raises(clip_index, num_clips):
    with pytest.raises(ValueError, match="clip_index"):
        clip_window(100, 64, clip_index, num_clips)


def test_fast_indices_clamp_to_the_video():
    assert fast_indices(0, 7, 8, 5).tolist() == [0, 1, 2, 3, 4, 4, 4, 4]
    assert fast_indices(2.5, 9.5, 8, 100).tolist() == [2, 3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("alpha", [2, 4, 8])
def test_pack_pathways_takes_slow_frames_from_the_fast_ones(alpha):
    frames = torch.arange(32.0).view(1, 32, 1, 1).expand(3, 32, 4, 5).clone()
    before = frames.clone()
    slow, fast = pack_pathways(frames, alpha)
    assert fast is frames and torch.equal(frames, before)
    assert slow.shape == (3, 32 // alpha, 4, 5)
    assert slow[0, :, 0, 0].tolist() == slow_indices(32, alpha).tolist()


def test_pack_pathways_handles_a_batch():
    batch = torch.randn(2, 3, 16, 4, 4)
    slow, fast = pack_pathways(batch, 4)
    assert slow.shape == (2, 3, 4, 4, 4)
    assert torch.equal(slow, batch[:, :, slow_indices(16, 4)])


@pytest.mark.parametrize("shape, alpha, message", [((3, 4, 4), 8, "shape"), ((3, 4, 2, 2), 8, "no Slow frame")])
def test_pack_pathways_rejects_bad_clips(shape, alpha, message):
    with pytest.raises(ValueError, match=message):
        pack_pathways(torch.zeros(shape), alpha)


@pytest.mark.parametrize("center, length", [(100, 1000), (10, 1000), (995, 1000), (5, 8)])
def test_centered_indices_follow_the_ava_rule(center, length):
    expected = [min(max(i, 0), length - 1) for i in range(center - 32, center + 32, 2)]
    assert centered_indices(center, 32, 2, length).tolist() == expected


def test_rates_come_from_the_real_indices():
    slow, fast = pathway_rates(16, 8)  # 4x16: Slow frames [0, 20, 40, 63] of a 30-fps video
    assert slow == pytest.approx(3 / 63 * 30) and fast == pytest.approx(31 / 63 * 30)
    assert slow < 30 / 16  # not the nominal 1.88
    assert pathway_rates(8, 4, slow_frames=8)[0] == pytest.approx(7 / 63 * 30)
    assert frames_per_second([39, 56, 73, 91], 25.0) == pytest.approx(3 / 52 * 25)
    assert frames_per_second([0, 1, 1, 2, 3, 3], 25.0) == pytest.approx(25.0)  # a repeated frame counts once
    with pytest.raises(ValueError, match="two distinct"):
        frames_per_second([5, 5], 30.0)
