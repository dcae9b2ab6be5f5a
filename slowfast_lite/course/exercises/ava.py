"""Self-checks for the exercises of notebook 07 (AVA action detection).

Each ``check_*`` prints what is right or wrong about an answer and returns True or False.
"""

import numpy as np
import torch

from slowfast_lite import ava_eval, sampling
from slowfast_lite.course.exercises import verdict
from slowfast_lite.data import boxes
from slowfast_lite.models.roi_align import roi_align


def check_iou(fn) -> bool:
    """``fn(box_a, box_b) -> float``: intersection over union of two (x1, y1, x2, y2) boxes."""
    if fn is None:
        return verdict(False, "", "write iou(box_a, box_b) and pass it to this check")
    cases = [((0, 0, 2, 2), (1, 1, 3, 3)), ((0, 0, 2, 2), (0, 0, 2, 2)), ((0, 0, 1, 1), (2, 2, 3, 3)),
             ((0.1, 0.2, 0.5, 0.9), (0.3, 0.1, 0.6, 0.7)), ((0, 0, 4, 4), (1, 1, 2, 2))]
    for a, b in cases:
        expected = float(boxes.box_iou([a], [b])[0, 0])
        got = fn(a, b)
        if got is None:
            return verdict(False, "", "iou returns None; return the IoU as a number")
        got = float(got)
        if not np.isclose(got, expected, atol=1e-9):
            if expected == 0 and got < 0:
                print("hint: boxes that do not overlap have an intersection of 0, not a negative area")
            return verdict(False, "", f"IoU of {a} and {b} is {expected:.4f}, yours {got:.4f}; "
                                      "union = area_a + area_b - intersection")
    return verdict(True, f"all {len(cases)} pairs match, including disjoint and nested boxes", "")


def check_bilinear(fn) -> bool:
    """``fn(feature (H, W), y, x) -> float``: one bilinear sample with RoIAlign's border rules
    (zero beyond one pixel outside, clamped within it)."""
    if fn is None:
        return verdict(False, "", "write bilinear(feature, y, x) and pass it to this check")
    feature = torch.arange(20.0).reshape(4, 5) ** 1.5
    points = [(0.0, 0.0), (1.25, 2.5), (2.9, 0.1), (3.5, 4.7), (-0.5, 1.0), (-1.5, 1.0), (1.0, 5.5)]
    for y, x in points:
        # the package's RoIAlign with a 1x1 output and one sample reads exactly the point at the box centre
        box = torch.tensor([[0.0, x - 0.5, y - 0.5, x + 0.5, y + 0.5]])
        expected = roi_align(feature[None, None], box, 1, sampling_ratio=1, aligned=False).item()
        got = fn(feature, y, x)
        if got is None:
            return verdict(False, "", "bilinear returns None; return the sampled value")
        got = float(got)
        if not np.isclose(got, expected, atol=1e-5):
            hint = "outside [-1, H] x [-1, W] the sample is 0" if expected == 0 else \
                "weights (1 - ly)(1 - lx), (1 - ly) lx, ly (1 - lx), ly lx on the four neighbours"
            return verdict(False, "", f"at (y={y}, x={x}) expected {expected:.4f}, got {got:.4f}: {hint}")
    return verdict(True, f"all {len(points)} samples match RoIAlign's, borders included", "")


def check_average_precision(value, is_tp, num_groundtruth) -> bool:
    """AP of detections already ranked best first (``is_tp`` a list of True/False) with ``num_groundtruth``."""
    if value is None:
        return verdict(False, "", "compute the AP (a number) and pass it to this check")
    scores = np.arange(len(is_tp), 0, -1, dtype=float)  # strictly decreasing: the given order is the ranking
    expected = ava_eval.average_precision(*ava_eval.precision_recall(scores, is_tp, num_groundtruth))
    if not np.isclose(value, expected, atol=1e-6):
        tp = np.cumsum(is_tp)
        plain = float(np.sum((tp / np.arange(1, len(is_tp) + 1))[np.asarray(is_tp, bool)]) / num_groundtruth)
        if np.isclose(value, plain, atol=1e-6):
            print("hint: close! interpolate first: precision at each step is the best precision at any later step")
    return verdict(bool(np.isclose(value, expected, atol=1e-6)), f"AP = {expected:.4f}",
                   f"{value} is not the AP; sum over the true positives of (recall step) x (interpolated precision)")


def check_keyframe_indices(fn, num_frames=32, sampling_rate=2) -> bool:
    """``fn(center, num_frames, sampling_rate, video_length) -> indices``: AVA's clip around a keyframe."""
    if fn is None:
        return verdict(False, "", "write keyframe_indices(center, num_frames, sampling_rate, video_length)")
    for center, length in [(60, 900), (10, 900), (895, 900)]:
        expected = sampling.centered_indices(center, num_frames, sampling_rate, length).tolist()
        answer = fn(center, num_frames, sampling_rate, length)
        if answer is None:
            return verdict(False, "", "keyframe_indices returns None; return the list of frame indices")
        got = [int(i) for i in np.asarray(answer).reshape(-1)]
        if got != expected:
            hint = "clamp to [0, video_length - 1]" if min(expected) == 0 or max(expected) == length - 1 else \
                "range(center - half, center + half, sampling_rate), half = num_frames * sampling_rate // 2"
            return verdict(False, "", f"centre {center}: expected {expected[:4]}...{expected[-2:]}, got "
                                      f"{got[:4]}...{got[-2:]}; {hint}")
    return verdict(True, "the clip is centred on the keyframe and clamped at both ends of the video", "")
