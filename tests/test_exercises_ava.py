import torch

from slowfast_lite import sampling
from slowfast_lite.ava_eval import box_iou
from slowfast_lite.course.exercises import ava as ex
from slowfast_lite.models.roi_align import roi_align


def iou(a, b):
    return float(box_iou([a], [b])[0, 0])


def bilinear(feature, y, x):
    box = torch.tensor([[0.0, x - 0.5, y - 0.5, x + 0.5, y + 0.5]])
    return roi_align(feature[None, None], box, 1, sampling_ratio=1, aligned=False).item()


def test_right_answers_pass(capsys):
    assert ex.check_iou(iou)
    assert ex.check_bilinear(bilinear)
    assert ex.check_average_precision(5 / 6, [True, False, True], 2)
    assert ex.check_keyframe_indices(lambda c, n, s, length: sampling.centered_indices(c, n, s, length))
    assert capsys.readouterr().out.count("correct:") == 4


def test_wrong_answers_fail_with_a_hint(capsys):
    assert not ex.check_iou(lambda a, b: 0.5)
    assert not ex.check_bilinear(lambda f, y, x: float(f[min(int(y), 3), min(int(x), 4)]))
    assert not ex.check_average_precision(0.5 * 0.5 + 0.5 * 2 / 3, [False, True, True], 2)
    assert "interpolate first" in capsys.readouterr().out
    assert not ex.check_keyframe_indices(lambda c, n, s, length: list(range(c - n * s // 2, c + n * s // 2, s)))
    assert "clamp" in capsys.readouterr().out


def test_unanswered_exercises_say_so_without_raising(capsys):
    assert not ex.check_iou(None)
    assert not ex.check_bilinear(None)
    assert not ex.check_average_precision(None, [True], 1)
    assert not ex.check_keyframe_indices(None)
    assert not ex.check_iou(lambda a, b: None)
    assert not ex.check_bilinear(lambda f, y, x: None)
    assert not ex.check_keyframe_indices(lambda c, n, s, length: None)
    assert capsys.readouterr().out.count("not yet:") == 7
