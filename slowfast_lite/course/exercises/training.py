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


def check_drift_speed(speed: float, stripe_period: float = 8.0, slow_stride: int = 5) -> bool:
    """A drift speed (pixels per frame) at which stripes of ``stripe_period`` pixels look still to Slow."""
    shift = speed * slow_stride / stripe_period  # stripe periods travelled between two Slow frames
    aliased = speed != 0 and math.isclose(shift, round(shift), abs_tol=1e-6)
    hint = (f"between two Slow frames the stripes move {speed * slow_stride:g} px = {shift:g} periods; "
            "it must be a whole number of periods (and not zero)")
    return verdict(aliased, f"{speed:g} px/frame moves the stripes {round(shift)} whole period(s) per Slow step",
                   hint)


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
