"""The course's one statistics convention: mean, sample standard deviation, z."""

import pytest

from slowfast_lite.course import stats


def test_mean_and_sample_spread_and_z():
    assert stats.mean_and_spread([0.5]) == (0.5, 0.0)
    mean, spread = stats.mean_and_spread([1.0, 2.0, 3.0])
    assert mean == 2.0 and spread == pytest.approx(1.0)
    assert stats.statistics([1.0, 2.0, 3.0]) == {"n": 3, "mean": 2.0, "sd": 1.0, "min": 1.0, "z": 2.0}
    assert stats.statistics([1.0, 1.0])["z"] is None  # no spread: no estimate, never "infinitely safe"
