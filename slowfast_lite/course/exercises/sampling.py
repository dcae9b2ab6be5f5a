"""Self-checks for the exercises of notebooks 00 (overview) and 01 (sampling).

Each ``check_*`` prints what is right or wrong about an answer and returns True or False.
"""

import numpy as np
import torch

from slowfast_lite import sampling
from slowfast_lite.course.exercises import verdict
from slowfast_lite.data.synthetic import wrap_turn


def check_rates(slow_per_second, fast_per_second, tau: int, alpha: int, slow_frames: int = 4,
                fps: float = 30.0) -> bool:
    """Frames per second of video time that each pathway sees with PySlowFast's indices (``sampling.pathway_rates``).

    The nominal rates fps / tau and alpha * fps / tau are close but not it: linspace spreads the frames over the
    window from its first frame to its last, so the gaps are (tau * T - 1) / (T - 1) frames, not tau.
    """
    slow, fast = sampling.pathway_rates(tau, alpha, slow_frames, fps)
    ok_slow = np.isclose(slow_per_second, slow, rtol=5e-3)
    ok_fast = np.isclose(fast_per_second, fast, rtol=5e-3)
    if not ok_slow and np.isclose(slow_per_second, fps / tau, rtol=1e-3):
        print(f"Slow: {slow_per_second:.4g} is the nominal fps / tau; the real Slow frames are further apart "
              f"(take the gaps of fast[slow_indices(...)] from sampling.clip_indices)")
    elif not ok_slow:
        print(f"Slow: {slow_per_second} is off; T = {slow_frames} frames spread over a "
              f"{tau * slow_frames}-frame window")
    if not ok_fast and np.isclose(fast_per_second, fps * alpha / tau, rtol=1e-3):
        print(f"Fast: {fast_per_second:.4g} is the nominal alpha * fps / tau; count the gaps of the real indices")
    elif not ok_fast:
        print(f"Fast: {fast_per_second} is off; Fast takes alpha = {alpha} frames for each Slow frame")
    return verdict(bool(ok_slow and ok_fast), f"Slow sees {slow:.3g} and Fast {fast:.3g} frames per second",
                   "see the hints above")


def check_cost_ratio(ratio, alpha: int, beta: float) -> bool:
    """Multiply-adds of a Fast layer relative to the matching Slow layer (same kernel): alpha * beta**2."""
    expected = alpha * beta ** 2
    if np.isclose(ratio, alpha * beta, rtol=1e-3):
        print("hint: beta scales both the input and the output channels of a layer")
    return verdict(bool(np.isclose(ratio, expected, rtol=1e-3)),
                   f"alpha * beta^2 = {expected:.4g}: alpha times the frames, beta^2 of the channel pairs",
                   f"{ratio} is not the ratio; count frames x input channels x output channels")


def check_beta_for_share(beta, alpha: int = 8, share: float = 0.2) -> bool:
    """The channel ratio beta at which the Fast pathway would be ``share`` of the total compute, if every Fast layer
    cost alpha * beta**2 of its Slow layer (the estimate of notebook 00).

    alpha * beta**2 is a ratio, Fast cost over Slow cost; the share of the total is ratio / (1 + ratio).
    """
    ratio = share / (1 - share)
    expected = float(np.sqrt(ratio / alpha))
    if not beta or beta <= 0:
        return verdict(False, "", f"{beta} is no channel ratio; beta lies between 0 and 1")
    got_ratio = alpha * beta ** 2
    got_share = got_ratio / (1 + got_ratio)
    if np.isclose(got_ratio, share, rtol=5e-3):
        print(f"hint: with beta = {beta:.4g} a Fast layer costs {share:.0%} of its Slow layer: that is the ratio "
              f"Fast / Slow; the share is Fast / (Slow + Fast)")
    return verdict(bool(np.isclose(beta, expected, rtol=5e-3)),
                   f"beta = {expected:.4g} (about 1/{1 / expected:.2g}): a Fast layer then costs {ratio:.3g} of its "
                   f"Slow layer, and {ratio:.3g} / (1 + {ratio:.3g}) = {share:.0%} of the total",
                   f"beta = {beta:.4g} makes the Fast pathway {got_share:.1%} of the total by the estimate, "
                   f"not {share:.0%}")


def check_fast_indices(indices, video_length: int, fps: float, clip_index: int = 0, num_clips: int = 1,
                       tau: int = 16, alpha: int = 8, slow_frames: int = 4) -> bool:
    """Fast frame indices of test clip ``clip_index`` of ``num_clips``, by PySlowFast's rule."""
    expected = sampling.clip_indices(video_length, fps, clip_index, num_clips, slow_frames, tau, alpha).tolist()
    if indices is None:
        return verdict(False, "", f"no indices yet; compute the window, its start, then alpha * T = {len(expected)} "
                                  "indices with torch.linspace")
    got = [int(i) for i in np.asarray(indices).reshape(-1)]
    if len(got) != len(expected):
        return verdict(False, "", f"{len(got)} indices; the Fast pathway takes alpha * T = {len(expected)}")
    wrong = [k for k, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
    if wrong and max(got) > video_length - 1:
        print(f"hint: indices past the last frame ({video_length - 1}) are clamped to it")
    elif wrong:
        print("hint: torch.linspace(start, end, alpha * T) then .long() truncates; start = delta * i / num_clips")
    return verdict(not wrong, f"all {len(expected)} indices match PySlowFast",
                   f"positions {wrong[:5]} differ, e.g. {got[wrong[0]] if wrong else ''} vs "
                   f"{expected[wrong[0]] if wrong else ''}")


def check_pack_pathways(fn, alpha: int = 8) -> bool:
    """``fn(frames, alpha) -> [slow, fast]`` must equal the package's ``pack_pathways`` on clips and batches."""
    generator = torch.Generator().manual_seed(0)
    for shape in [(3, 32, 4, 5), (2, 3, 32, 4, 5), (3, 16, 2, 2)]:
        frames = torch.rand(shape, generator=generator)
        expected = sampling.pack_pathways(frames, alpha)
        got = fn(frames.clone(), alpha)
        if not isinstance(got, (list, tuple)) or len(got) != 2:
            return verdict(False, "", "return a list [slow, fast]")
        for name, a, b in [("slow", got[0], expected[0]), ("fast", got[1], expected[1])]:
            if tuple(a.shape) != tuple(b.shape):
                return verdict(False, "", f"{name} has shape {tuple(a.shape)} for input {shape}, "
                                          f"expected {tuple(b.shape)}")
            if not torch.equal(a, b):
                return verdict(False, "", f"{name} holds the wrong frames for input {shape}; "
                                          "Slow takes fast frames linspace(0, T_fast - 1, T_fast // alpha)")
    return verdict(True, "your pack_pathways matches the package on clips and batches", "")


def check_still_speed(degrees_per_frame, spokes: int, slow_stride: int, fast_stride: int) -> bool:
    """A speed (degrees per frame) at which the wheel stands still at ``slow_stride`` and Fast sees it turn."""
    half = 180.0 / spokes
    slow_turn = float(wrap_turn(degrees_per_frame * slow_stride, spokes))
    fast_turn = degrees_per_frame * fast_stride
    still = abs(slow_turn) < 1e-6
    resolved = 0 < abs(fast_turn) < half
    if degrees_per_frame == 0:
        return verdict(False, "", "a wheel at 0 degrees per frame does not turn at all; find a speed that does")
    if not still:
        print(f"at the Slow stride the wheel still turns {slow_turn:.3g} degrees per sample "
              f"(it looks the same after {360 / spokes:g} degrees)")
    if still and not resolved:
        print(f"the Fast step {fast_turn:.3g} degrees is not below half a spoke period ({half:g}): Fast aliases too")
    return verdict(still and resolved,
                   f"{degrees_per_frame:g} degrees per frame: Slow sees it stand still, Fast sees it turn "
                   f"{fast_turn:.3g} degrees per sample", "see above")


def check_still_count(count, spokes: int, slow_stride: int, fast_stride: int, below: float) -> bool:
    """How many speeds above 0 and below ``below`` degrees per frame stand still at ``slow_stride`` while every
    ``fast_stride`` step still turns less than half a spoke period (so Fast sees the true direction)."""
    step = 360.0 / spokes / slow_stride  # the wheel stands still at the Slow stride at every multiple of this speed
    half = 180.0 / spokes
    still = [step * k for k in range(1, int(np.ceil(below / step)) + 1) if step * k < below]
    shown = [v for v in still if fast_stride * v < half]
    if count == len(still) != len(shown):
        print(f"hint: {len(still)} speeds below {below:g} stand still at the Slow stride, but at some of them the "
              f"Fast step ({fast_stride} frames) turns {half:g} degrees or more: Fast aliases too")
    elif count == len(shown) + 1 and len(shown) < len(still) and np.isclose(fast_stride * still[len(shown)], half):
        print(f"hint: at {still[len(shown)]:g} degrees per frame the Fast step is exactly {half:g} degrees, half a "
              f"spoke period: either direction fits it")
    return verdict(count == len(shown),
                   f"{len(shown)} speeds: {', '.join(f'{v:g}' for v in shown)} degrees per frame",
                   f"{count} is not the number; the wheel stands still at every multiple of {step:g} degrees per "
                   f"frame, and Fast tells the direction while a step of {fast_stride} frames turns less than "
                   f"{half:g} degrees")


def check_fast_limit(degrees_per_frame, spokes: int, max_gap: int) -> bool:
    """The fastest speed whose direction every step of the Fast pathway (gaps up to ``max_gap``) still tells."""
    expected = 180.0 / spokes / max_gap
    return verdict(bool(np.isclose(degrees_per_frame, expected, rtol=1e-3)),
                   f"below {expected:.4g} degrees per frame every Fast step turns less than half a spoke period",
                   f"{degrees_per_frame} is not the limit; the largest step ({max_gap} frames) must stay below "
                   f"half of 360 / spokes degrees")
