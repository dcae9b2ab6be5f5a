"""Self-checks of notebook 08: they accept right answers and reject wrong ones."""

import torch

from slowfast_lite import checkpoints, demo, gradcam
from slowfast_lite.course.exercises import own_video


def test_caffe2_names():
    right = {name: checkpoints.caffe2_name(name) for name in own_video.CAFFE2_NAMES}
    assert own_video.check_caffe2_names(right)
    wrong = dict(right, t_conv1_w="s1.pathway0_stem.conv.weight")
    assert not own_video.check_caffe2_names(wrong)
    assert not own_video.check_caffe2_names({})


def test_window_starts(capsys):
    assert own_video.check_window_starts(demo.window_starts)
    no_last = lambda length, window, stride: [float(s) for s in range(0, max(int(length - window), 0) + 1, stride)]
    assert not own_video.check_window_starts(no_last)
    out = capsys.readouterr().out
    assert "last window must end on the last frame" in out
    # a long list is shown cut, and says so: first starts, '...', last starts and the count
    assert "got 8 starts [0.0, 32.0, 64.0, 96.0, ..., 192.0, 224.0]" in out
    assert "want 9 starts [0.0, 32.0, 64.0, 96.0, ..., 224.0, 236.0]" in out
    assert not own_video.check_window_starts(lambda length, window, stride: [0.0])
    assert "got 1 start [0.0]; want 9 starts" in capsys.readouterr().out


def test_cam(capsys):
    assert own_video.check_cam(gradcam.cam_from)
    summed = lambda a, g: torch.relu((g.sum(dim=(2, 3, 4), keepdim=True) * a).sum(dim=1))
    assert own_video.check_cam(summed) and "up to a constant" in capsys.readouterr().out
    no_relu = lambda a, g: (g.mean(dim=(2, 3, 4), keepdim=True) * a).sum(dim=1)
    assert not own_video.check_cam(no_relu) and "ReLU" in capsys.readouterr().out
    assert not own_video.check_cam(lambda a, g: (g * a).relu())
