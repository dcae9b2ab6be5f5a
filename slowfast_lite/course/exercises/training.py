"""Self-checks for the exercises of notebook 06 (training on MotionShapes).

Each ``check_*`` prints what is right or wrong about an answer and returns True or False.
"""

import math

import torch

from slowfast_lite import sampling, train
from slowfast_lite.course.exercises import verdict


def check_slow_positions(positions, num_fast: int = 16, alpha: int = 4) -> bool:
    """Which of the ``num_fast`` Fast frames does the Slow pathway take (PySlowFast's linspace rule)?"""
    expected = sampling.slow_indices(num_fast, alpha).tolist()
    answer = [int(p) for p in positions]
    if len(answer) != len(expected):
        return verdict(False, "", f"Slow takes num_fast // alpha = {len(expected)} frames, you gave {len(answer)}")
    return verdict(answer == expected, f"Slow sees Fast frames {expected}",
                   f"{answer}: use linspace(0, num_fast - 1, num_fast // alpha) and truncate to integers")


def check_still_at_slow_rate(speed: float, period: float = 8.0, slow_stride: int = 5) -> bool:
    """Stripes of ``period`` pixels drifting at ``speed`` pixels a frame: does the Slow pathway (one frame in
    ``slow_stride``) see one still image, while the Fast pathway (every frame) sees them move?"""
    if not 0 < speed < period:
        return verdict(False, "", f"give a speed between 0 and the stripe period {period} (pixels per frame): at 0 "
                                  "nothing moves, and from one period a frame on the Fast pathway aliases too")
    periods = speed * slow_stride / period  # stripe periods travelled between two Slow frames
    if math.isclose(periods, round(periods), abs_tol=1e-6):
        return verdict(True, f"between Slow frames the stripes travel {round(periods)} whole period(s): the Slow "
                             "pathway sees the same image every time, whichever way they drift", "")
    shift = (periods - math.floor(periods)) * period
    return verdict(False, "", f"between Slow frames the stripes travel {periods:.2f} periods: the Slow pathway sees "
                              f"them {shift:.1f} px further along (or {period - shift:.1f} px back), the same for "
                              "every clip of a class, so it can learn the direction")


def check_schedule(lr_fn, epochs: int = 10, steps_per_epoch: int = 8, lr: float = 0.1, warmup_epochs: float = 2,
                   warmup_start_lr: float = 0.01) -> bool:
    """``lr_fn(step, total_steps)`` must give the cosine schedule with linear warm-up of ``train.learning_rate``."""
    config = train.TrainConfig(epochs=epochs, lr=lr, warmup_epochs=warmup_epochs, warmup_start_lr=warmup_start_lr)
    total = epochs * steps_per_epoch
    for step in range(total):
        want = train.learning_rate(step, total, config, steps_per_epoch)
        got = float(lr_fn(step, total))
        if not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):
            phase = "warm-up" if step < warmup_epochs * steps_per_epoch else "cosine"
            return verdict(False, "", f"step {step} ({phase}): got {got:.6g}, expected {want:.6g}")
    return verdict(True, f"all {total} steps match", "")


def check_video_scores(aggregate_fn) -> bool:
    """``aggregate_fn(logits (V, C), video_index (V,), num_videos) -> scores (num_videos, C)``: the softmax of
    each view, summed per video (PySlowFast's multi-view testing)."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 4, generator=g) * 3
    video_index = torch.tensor([0, 0, 1, 2, 2, 2, 1])
    want = torch.zeros(3, 4).index_add_(0, video_index, torch.softmax(logits, dim=1))
    got = torch.as_tensor(aggregate_fn(logits, video_index, 3)).float()
    if got.shape != want.shape:
        return verdict(False, "", f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}")
    if torch.allclose(got, torch.zeros(3, 4).index_add_(0, video_index, logits), atol=1e-5):
        return verdict(False, "", "you summed raw logits: take the softmax of each view first")
    return verdict(torch.allclose(got, want, atol=1e-5), "softmax per view, summed per video",
                   "scores differ: softmax over classes (dim 1) for each view, then add views of the same video")
