"""A result is never silently wrong: an unreadable test video is left out and counted, never scored as another
video; ava-eval drops boxes without area as the official rules do and refuses ground truth with nothing to
evaluate."""

import json

import pytest
import torch
from conftest import make_frames

from slowfast_lite import checkpoints, evaluate
from slowfast_lite.__main__ import main
from slowfast_lite.data.kinetics import VideoClassificationDataset
from slowfast_lite.models import build_model
from slowfast_lite.video import write_video


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("honest")
    write_video(tmp / "a.mp4", make_frames(24, 32, 32), 30)
    write_video(tmp / "b.mp4", make_frames(24, 32, 32)[::-1].copy(), 30)
    (tmp / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    (tmp / "test.csv").write_text("a.mp4 0\nbroken.mp4 1\nb.mp4 1\n")
    (tmp / "all_broken.csv").write_text("broken.mp4 0\nbroken.mp4 1\n")
    checkpoints.save_pyslowfast(build_model("slowfast_tiny", num_classes=2), tmp / "tiny.pyth")
    return tmp


def test_an_unreadable_test_video_is_left_out_never_scored(folder):
    model = build_model("slowfast_tiny", num_classes=2).eval()
    data = VideoClassificationDataset.for_model(model, folder / "test.csv", "test", num_clips=2, num_crops=1,
                                                crop_size=32, test_scale=32)
    with pytest.warns(UserWarning, match="broken.mp4 is left out"):
        result = evaluate.multi_view(model, data, batch_size=4, device="cpu")
    assert [p.name for p in result.excluded] == ["broken.mp4"]
    assert result.labels.tolist() == [0, 1] and result.views.tolist() == [2, 2]  # a and b, two views each
    assert result.summary()["videos"] == 2 and result.summary()["excluded"] == [str(folder / "broken.mp4")]
    # the readable videos' scores are their own: the same as a test without the broken one
    (folder / "good.csv").write_text("a.mp4 0\nb.mp4 1\n")
    good = VideoClassificationDataset.for_model(model, folder / "good.csv", "test", num_clips=2, num_crops=1,
                                                crop_size=32, test_scale=32)
    assert torch.allclose(evaluate.multi_view(model, good, batch_size=4, device="cpu").scores, result.scores)


def test_evaluate_reports_what_it_left_out(folder, capsys):
    out = folder / "result.json"
    assert main(["evaluate", "--checkpoint", str(folder / "tiny.pyth"), "--model", "slowfast_tiny", "--data",
                 str(folder / "test.csv"), "--clips", "1", "--crops", "1", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "2 videos x 1 views" in captured.out and "(1 unreadable left out)" in captured.out
    assert captured.err.strip().splitlines()[-1].startswith("evaluate: left out 1 unreadable video(s), not scored")
    summary = json.loads(out.read_text())
    assert summary["videos"] == 2 and summary["excluded"] == [str(folder / "broken.mp4")]


def test_evaluate_with_no_readable_video_fails(folder, capsys):
    assert main(["evaluate", "--checkpoint", str(folder / "tiny.pyth"), "--model", "slowfast_tiny", "--data",
                 str(folder / "all_broken.csv"), "--clips", "1", "--crops", "1"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("evaluate: no video of --data") and "broken.mp4" in lines[-1], lines


@pytest.fixture
def ava(tmp_path):
    (tmp_path / "labelmap.pbtxt").write_text('item {\n  name: "walk"\n  id: 1\n}\n')
    (tmp_path / "gt.csv").write_text("v,0902,0.1,0.1,0.3,0.5,1,0\n")
    return tmp_path


def ava_eval(ava, detections, groundtruth="v,0902,0.1,0.1,0.3,0.5,1,0\n"):
    (ava / "dets.csv").write_text(detections)
    (ava / "gt.csv").write_text(groundtruth)
    return main(["ava-eval", "--labelmap", str(ava / "labelmap.pbtxt"), "--groundtruth", str(ava / "gt.csv"),
                 "--detections", str(ava / "dets.csv")])


def test_a_detection_without_area_is_dropped_as_officially(ava, capsys):
    assert ava_eval(ava, "v,0902,0.1,0.1,0.3,0.5,1,0.9\nv,0902,0.2,0.2,0.2,0.5,1,0.95\n") == 0
    assert "mAP@0.5 1.0000 over 1 classes" in capsys.readouterr().out  # the zero-width box is no false positive


@pytest.mark.parametrize("groundtruth, words", [
    ("", "--groundtruth {gt}: no rows"),
    ("\n\n", "--groundtruth {gt}: no rows"),
    ("v,0902,0.1,0.1,0.3,0.5,7,0\n", "--groundtruth {gt}: none of its 1 rows is of a class of --labelmap"),
])
def test_ground_truth_with_nothing_to_evaluate_is_an_error(ava, capsys, groundtruth, words):
    assert ava_eval(ava, "v,0902,0.1,0.1,0.3,0.5,1,0.9\n", groundtruth) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ava-eval: ") and words.format(gt=ava / "gt.csv") in lines[0]
