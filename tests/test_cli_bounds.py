"""Every size a command line or an input file gives is bounded: one line and exit status 2 before any work, never
an hour of drawing or a terabyte-sized head. Fast cases of the command-line contract, run in-process through
``__main__.main`` (``test_cli_errors`` runs its table as subprocesses)."""

import pytest
from conftest import make_frames

from slowfast_lite import checkpoints
from slowfast_lite.__main__ import main
from slowfast_lite.models import build_model
from slowfast_lite.video import write_video


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bounds")
    f = {"tmp": tmp, "clip": write_video(tmp / "clip.mp4", make_frames(24, 32, 32), 30)}
    f["ckpt"] = checkpoints.save_pyslowfast(build_model("slowfast_tiny", num_classes=3), tmp / "tiny.pyth")
    f["csv"] = tmp / "data.csv"
    f["csv"].write_text("clip.mp4 0\nclip.mp4 1\n")
    f["huge_label_csv"] = tmp / "huge_label.csv"
    f["huge_label_csv"].write_text("clip.mp4 0\nclip.mp4 400000000\n")
    f["labelmap"] = tmp / "labelmap.pbtxt"
    f["labelmap"].write_text('item {\n  name: "walk"\n  id: 1\n}\n')
    f["gt"] = tmp / "gt.csv"
    f["gt"].write_text("v,0902,0.1,0.1,0.3,0.5,1,0\n")
    return f


def run(argv, files, capsys):
    status = main([arg.format(**files) for arg in argv])
    return status, capsys.readouterr().err.strip().splitlines()


DEMO = ["demo", "{clip}", "--model", "slowfast_tiny", "--checkpoint", "{ckpt}"]
TRAIN = ["train", "--data", "{csv}", "--out", "{tmp}/run"]


@pytest.mark.parametrize("argv, words", [
    (["make-data", "wheel", "--spokes", "100000000"], "argument --spokes: must be <= 360"),
    (["make-data", "wheel", "--size", "100000"], "argument --size: must be <= 1024"),
    (["make-data", "wheel", "--frames", "1000000"], "argument --frames: must be <= 3000"),
    (["make-data", "wheel", "--size", "1024", "--frames", "3000"], "--frames 3000 --size 1024: the clip's frames "
                                                                    "would take 8.8 GiB in memory (at most 1)"),
    (["make-data", "scene", "--frames", "100000"], "argument --frames: must be <= 3000"),
    (["make-data", "motion", "--train", "100000000"], "argument --train: must be <= 10000"),
    (["make-data", "motion", "--size", "100000"], "argument --size: must be <= 512"),
    (["make-data", "motion", "--frames", "100000"], "argument --frames: must be <= 1000"),
    (["make-data", "ava", "--seconds", "1000000"], "argument --seconds: must be <= 600"),
    (["make-data", "ava", "--width", "100000"], "argument --width: must be <= 1024"),
    (["make-data", "ava", "--train-videos", "100000"], "argument --train-videos: must be <= 1000"),
    (TRAIN + ["--crop", "100000"], "argument --crop: must be <= 1024"),
    (TRAIN + ["--epochs", "1000000000"], "argument --epochs: must be <= 100000"),
    (TRAIN + ["--batch-size", "1000000"], "argument --batch-size: must be <= 4096"),
    (TRAIN + ["--scale", "64", "100000"], "argument --scale: must be <= 4096"),
    (["evaluate", "--data", "{csv}", "--checkpoint", "{ckpt}", "--clips", "100000"],
     "argument --clips: must be <= 100"),
    (DEMO + ["--crop", "100000"], "argument --crop: must be <= 1024"),
    (DEMO + ["--short-side", "100000"], "argument --short-side: must be <= 4096"),
    (DEMO + ["--short-side", "64", "--crop", "112"], "--short-side 64: smaller than --crop 112"),
    (DEMO + ["--short-side", "1"], "--short-side 1: smaller than the crop (112)"),
    (DEMO + ["--top", "100000000"], "argument --top: must be <= 1000"),
    (["ava-eval", "--labelmap", "{labelmap}", "--groundtruth", "{gt}", "--detections", "{gt}", "--top-k", "1e9"],
     "argument --top-k: expected an integer"),
    (["ava-eval", "--labelmap", "{labelmap}", "--groundtruth", "{gt}", "--detections", "{gt}", "--top-k",
      "1000000000"], "argument --top-k: must be <= 100000"),
    (["train", "--data", "{huge_label_csv}", "--out", "{tmp}/run"],
     "huge_label.csv, line 2: label 400000000 is out of range: without class names a label is at most 99999"),
])
def test_sizes_are_bounded(files, capsys, argv, words):
    status, lines = run(argv, files, capsys)
    assert status == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"{argv[0]}: ") and words.format(**files) in lines[0], lines
    assert not (files["tmp"] / "run").exists()
