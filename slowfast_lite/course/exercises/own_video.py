"""Self-checks for the exercises of notebook 08 (your own video): checkpoint names, demo windows, Grad-CAM.

Each ``check_*`` prints what is right or wrong about an answer and returns True or False.
"""

import torch

from slowfast_lite import checkpoints, demo, gradcam
from slowfast_lite.course.exercises import verdict

CAFFE2_NAMES = ["t_conv1_w", "res_conv1_bn_riv", "res4_2_branch2a_w", "t_res3_0_branch1_bn_s",
                "t_res4_5_branch2c_bn_subsample_w", "pred_b"]


def check_caffe2_names(answers: dict) -> bool:
    """``answers`` maps each Caffe2 blob name of ``CAFFE2_NAMES`` to its PySlowFast (our) key."""
    wrong = []
    for name in CAFFE2_NAMES:
        expected = checkpoints.caffe2_name(name)
        got = answers.get(name)
        if got != expected:
            wrong.append(name)
            print(f"  {name}: {got!r} is not it" if got else f"  {name}: no answer yet")
    if any(n.startswith("t_") for n in wrong):
        print("hint: the t_ prefix marks the Fast pathway, pathway1")
    if "res_conv1_bn_riv" in wrong:
        print("hint: _riv holds BN's running variance; the stem is s1.pathway{P}_stem")
    if "t_res4_5_branch2c_bn_subsample_w" in wrong:
        print("hint: '..._subsample' convs are the lateral connections: s{K}_fuse.conv_f2s")
    return verdict(not wrong, f"all {len(CAFFE2_NAMES)} names convert", f"{len(wrong)} of {len(CAFFE2_NAMES)} differ")


def _starts(values, head: int = 4, tail: int = 2) -> str:
    """A list of window starts for a message: all of a short one; the first and last few of a long one, with
    '...' between them, so that a cut list never reads as complete. Either way, with the count."""
    count = f"{len(values)} start{'' if len(values) == 1 else 's'}"
    if len(values) <= head + tail:
        return f"{count} {values}"
    shown = ", ".join(str(v) for v in values[:head]) + ", ..., " + ", ".join(str(v) for v in values[-tail:])
    return f"{count} [{shown}]"


def check_window_starts(fn) -> bool:
    """``fn(video_length, window, stride) -> starts`` must cover a video as ``demo.window_starts`` does."""
    cases = [(300, 64, 32), (100, 64, 32), (40, 64, 32), (1000, 53.3, 20), (64, 64, 16)]
    for length, window, stride in cases:
        expected = demo.window_starts(length, window, stride)
        got = [float(s) for s in fn(length, window, stride)]
        if len(got) != len(expected) or any(abs(a - b) > 1e-6 for a, b in zip(got, expected, strict=False)):
            if expected[-1] not in got:
                print("hint: the last window must end on the last frame: add a start at length - window")
            if length < window:
                print("hint: a video shorter than a window gets one window at 0")
            return verdict(False, "", f"length {length}, window {window}, stride {stride}: got {_starts(got)}; "
                                      f"want {_starts(expected)}")
    return verdict(True, "windows every stride frames, the last one flush with the end", "")


def check_cam(fn) -> bool:
    """``fn(activation, gradient) -> cam``: Grad-CAM of one pathway, (N, C, T, H, W) twice -> (N, T, H, W)."""
    generator = torch.Generator().manual_seed(0)
    activation = torch.rand(2, 6, 3, 4, 4, generator=generator)
    gradient = torch.randn(2, 6, 3, 4, 4, generator=generator)
    expected = gradcam.cam_from(activation, gradient)
    got = fn(activation.clone(), gradient.clone())
    if tuple(got.shape) != tuple(expected.shape):
        return verdict(False, "", f"shape {tuple(got.shape)}; want (N, T, H, W) = {tuple(expected.shape)}: "
                                  "sum the weighted channels over dim 1")
    if torch.allclose(got * expected.sum() / got.sum().clamp_min(1e-12), expected, atol=1e-5):
        hint = "" if torch.allclose(got, expected, atol=1e-5) else " (up to a constant: mean, not sum, of gradients)"
        return verdict(True, "weights = mean gradient per channel, weighted sum, ReLU" + hint, "")
    if (got < 0).any():
        print("hint: keep only the positive part (ReLU): Grad-CAM shows evidence for the class")
    return verdict(False, "", "weights are the gradient averaged over (T, H, W), one per channel and clip")
