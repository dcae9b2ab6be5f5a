"""Which frames a clip takes, and which of them each pathway sees: PySlowFast's rules, exactly.

A clip covers a *window* of ``tau * T`` frames at 30 fps (64 for T = 4, tau = 16), scaled to the video's
frame rate. Training takes the window at a random start; testing takes ``num_clips`` evenly spaced windows.
The Fast pathway gets ``alpha * T`` frames spread evenly over the window (``linspace``, clamped to the last
frame for short videos); the Slow pathway gets ``T`` of those Fast frames, again by ``linspace``.
"""

import random

import torch


def window_size(num_frames, sampling_rate, fps, target_fps=30):
    """Length in frames of the window that ``num_frames`` frames taken every ``sampling_rate`` frames of a
    ``target_fps`` video span in a ``fps`` video (a float, at least 1): 2 * 32 / 30 * 30 = 64."""
    return max(1.0, sampling_rate * num_frames / target_fps * fps)


def clip_window(video_length, window, clip_index=-1, num_clips=1, rng=None, use_offset=False):
    """(start, end) of a clip window, floats, end = start + window - 1 (may pass the last frame).

    clip_index -1: training, start uniform in [0, max(video_length - window, 0)] drawn with ``rng``
    (anything with ``uniform(low, high)``: ``random.Random``, a NumPy Generator; None uses the ``random``
    module). clip_index i in [0, num_clips): testing, start = delta * i / num_clips, or with ``use_offset``
    the windows spread from the first frame to the last one (start = i * floor(delta / (num_clips - 1))).
    """
    if clip_index != -1 and not 0 <= clip_index < num_clips:
        raise ValueError(f"clip_index must be -1 (random) or in [0, {num_clips}), got {clip_index}")
    delta = max(video_length - window, 0)
    if clip_index == -1:
        start = (rng or random).uniform(0, delta)
    elif use_offset:
        start = delta // 2 if num_clips == 1 else clip_index * (delta // (num_clips - 1))
    else:
        start = delta * clip_index / num_clips
    return start, start + window - 1


def fast_indices(start, end, num_fast, video_length) -> torch.Tensor:
    """``num_fast`` frame indices spread evenly over [start, end], clamped to the video: LongTensor (num_fast,).

    A video shorter than the window repeats its last frame.
    """
    index = torch.linspace(start, end, num_fast, dtype=torch.float32)  # float32, as PySlowFast computes it
    return torch.clamp(index, 0, video_length - 1).long()


def slow_indices(num_fast, alpha) -> torch.Tensor:
    """Positions within the Fast frames that the Slow pathway takes: LongTensor (num_fast // alpha,).

    alpha 8 of 32 -> [0, 10, 20, 31]; alpha 4 -> [0, 4, 8, 13, 17, 22, 26, 31].
    """
    return torch.linspace(0, num_fast - 1, num_fast // alpha, dtype=torch.float32).long()


def pack_pathways(frames, alpha):
    """Split a clip (C, T, H, W) or a batch (N, C, T, H, W) of Fast frames into ``[slow, fast]``.

    fast is ``frames`` itself; slow keeps T // alpha of its frames (``slow_indices``).
    """
    if frames.dim() not in (4, 5):
        raise ValueError(f"frames must be (C, T, H, W) or (N, C, T, H, W), got shape {tuple(frames.shape)}")
    num_fast = frames.shape[-3]
    if num_fast < alpha:
        raise ValueError(f"a clip of {num_fast} frames has no Slow frame at alpha={alpha}")
    slow = torch.index_select(frames, frames.dim() - 3, slow_indices(num_fast, alpha).to(frames.device))
    return [slow, frames]


def clip_indices(video_length, fps, clip_index=-1, num_clips=1, slow_frames=4, tau=16, alpha=8,
                 target_fps=30, rng=None) -> torch.Tensor:
    """Fast frame indices of one clip of a video: LongTensor (alpha * slow_frames,).

    The Slow pathway sees one frame every ``tau`` frames at ``target_fps`` (T = ``slow_frames`` of them),
    the Fast pathway ``alpha`` times as many. ``fast[slow_indices(len(fast), alpha)]`` are the Slow frames.
    """
    num_fast = alpha * slow_frames
    sampling_rate = tau // alpha if tau % alpha == 0 else tau / alpha  # Fast stride; int keeps PySlowFast's floats
    window = window_size(num_fast, sampling_rate, fps, target_fps)
    start, end = clip_window(video_length, window, clip_index, num_clips, rng)
    return fast_indices(start, end, num_fast, video_length)


def frames_per_second(indices, fps) -> float:
    """Average rate at which ``indices`` sample a ``fps`` video: distinct frames, less one, over their span.

    PySlowFast's Slow frames of a 30-fps video ([0, 20, 40, 63] for 4x16) give 3 / 63 * 30 = 1.43 per second,
    not 30 / tau = 1.88: ``linspace`` spreads T frames from the window's first frame to its last. A frame
    taken twice (a stride below one frame, or a clamped short video) counts once.
    """
    distinct = sorted({int(i) for i in indices})
    if len(distinct) < 2:
        raise ValueError(f"a rate needs at least two distinct frame indices, got {[int(i) for i in indices]}")
    return (len(distinct) - 1) / (distinct[-1] - distinct[0]) * fps


def pathway_rates(tau, alpha, slow_frames=4, fps=30.0, target_fps=30) -> tuple[float, float]:
    """(Slow, Fast) frames per second of video time with PySlowFast's indices, on a video longer than the window.

    4x16 (tau 16, alpha 8): (1.43, 14.76); 8x8 (tau 8, alpha 4, T 8): (3.33, 14.76).
    """
    window = window_size(alpha * slow_frames, tau / alpha, fps, target_fps)
    fast = clip_indices(int(window) + 1, fps, 0, 1, slow_frames, tau, alpha, target_fps)
    slow = fast[slow_indices(len(fast), alpha)]
    return frames_per_second(slow, fps), frames_per_second(fast, fps)


def centered_indices(center, num_fast, sampling_rate, video_length) -> torch.Tensor:
    """AVA's rule: ``range(center - half, center + half, sampling_rate)`` with half = num_fast * sampling_rate
    // 2, clamped to the video: LongTensor (num_fast,)."""
    half = num_fast * sampling_rate // 2
    index = torch.arange(center - half, center + half, sampling_rate)
    return torch.clamp(index, 0, video_length - 1)
