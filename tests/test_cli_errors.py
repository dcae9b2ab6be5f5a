"""The command-line contract: a user mistake is one line ``command: what is wrong`` and exit status 2.

Each row of ``CASES`` is a command line as a user types it, the exit status it must give and words its
message must hold; every row runs as a real subprocess and none may print a traceback. Add a row for every
new command or option check.
"""

import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_frames

from slowfast_lite import checkpoints
from slowfast_lite.models import build_model
from slowfast_lite.video import write_video

ROOT = Path(__file__).resolve().parents[1]
DEMO = ["demo", "{clip}", "--model", "slowfast_tiny", "--checkpoint", "{ckpt}"]
AVA = ["ava-eval", "--labelmap", "{labelmap}", "--groundtruth", "{gt}"]
TRAIN = ["train", "--data", "{csv}", "--out", "{tmp}/run"]
EVALUATE = ["evaluate", "--data", "{csv}"]
NO_CUDA = not torch.cuda.is_available()

# (command line, exit status, words the one-line message holds)
CASES = [
    (["teapot"], 2, "slowfast_lite: unknown command 'teapot'; commands: make-data, train"),
    # make-data
    (["make-data", "teapot"], 2, "invalid choice: 'teapot'"),
    (["make-data", "wheel", "--frames", "0", "--out", "{tmp}/w.mp4"], 2, "argument --frames: must be >= 1, got 0"),
    (["make-data", "wheel", "--size", "-3"], 2, "argument --size: must be >= 16"),
    (["make-data", "wheel", "--fps", "nan"], 2, "argument --fps: expected a finite number"),
    (["make-data", "wheel", "--out", "{tmp}/w.txt"], 2, "--out {tmp}/w.txt: unknown extension '.txt'"),
    (["make-data", "wheel", "--out", "{tmp}/nowhere/w.mp4"], 2, "folder {tmp}/nowhere does not exist"),
    (["make-data", "scene", "--out", "{tmp}"], 2, "--out {tmp} is a folder"),
    (["make-data", "motion", "--train", "0"], 2, "argument --train: must be >= 1, got 0"),
    (["make-data", "motion", "--size", "41"], 2, "--size 41: must be even"),
    (["make-data", "motion", "--out", "{clip}"], 2, "--out {clip} is a file, not a folder"),
    (["make-data", "ava", "--seconds", "1"], 2, "argument --seconds: must be >= 2"),
    (["make-data", "ava", "--width", "97"], 2, "--width 97: must be even"),
    # train
    (["train", "--data", "{tmp}/missing.csv"], 2, "missing.csv: no such csv file"),
    (["train", "--data", "{latin1_csv}"], 2, "latin1.csv:2: not UTF-8 text (byte 0xe9)"),
    (["train", "--data", "{bad_row_csv}"], 2, "bad_row.csv, line 1: label 'x' is not an integer"),
    (["train", "--data", "{unclosed_csv}"], 2, "unclosed.csv, line 1: No closing quotation"),
    (TRAIN + ["--epochs", "-5"], 2, "argument --epochs: must be >= 1, got -5"),
    (TRAIN + ["--batch-size", "0"], 2, "argument --batch-size: must be >= 1, got 0"),
    (TRAIN + ["--lr", "0"], 2, "argument --lr: must be > 0"),
    (TRAIN + ["--scale", "40", "30"], 2, "--scale 40 30: need crop"),
    (TRAIN + ["--model", "slowfast_r51"], 2, "--model 'slowfast_r51': unknown model"),
    (["train", "--data", "{csv}", "--out", "{clip}"], 2, "--out {clip} is a file, not a folder"),
    pytest.param(TRAIN + ["--device", "cuda"], 2, "--device cuda: this torch has no usable CUDA device",
                 marks=pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")),
    (TRAIN + ["--device", "tpu"], 2, "--device 'tpu'"),
    # evaluate
    (EVALUATE + ["--checkpoint", "{tmp}/missing.pt"], 2, "--checkpoint {tmp}/missing.pt: no such file"),
    (EVALUATE + ["--checkpoint", "{ckpt}"], 2, "tiny.pyth does not record its model"),
    (EVALUATE + ["--checkpoint", "{empty_ckpt}"], 2, "empty.pyth: the file is empty"),
    (EVALUATE + ["--checkpoint", "{random_ckpt}"], 2, "random.pyth: not a torch checkpoint"),
    (EVALUATE + ["--checkpoint", "{ckpt}", "--clips", "0"], 2, "argument --clips: must be >= 1"),
    (EVALUATE + ["--checkpoint", "{ckpt}", "--json", "{tmp}"], 2, "--json {tmp} is a folder"),
    (["evaluate", "--checkpoint", "{ckpt}", "--data", "{tmp}/nothing"], 2, "--data {tmp}/nothing: no such"),
    (EVALUATE + ["--checkpoint", "{ckpt}", "--model", "slowfast_tiny", "--json", "{clip}"], 2,
     "--json {clip} is one of the command's inputs"),  # a video the test csv lists
    # ava-eval
    (AVA + ["--detections", "{dets}", "--iou", "5"], 2, "argument --iou: must be <= 1, got 5"),
    (AVA + ["--detections", "{dets}", "--iou", "nan"], 2, "argument --iou: expected a finite number"),
    (AVA + ["--detections", "{dets}", "--top-k", "-1"], 2, "argument --top-k: must be >= 1, got -1"),
    (AVA + ["--detections", "{nan_dets}"], 2, "nan_dets.csv:2: score must be a finite number, got 'nan'"),
    (AVA + ["--detections", "{proposals}"], 2, "proposals.csv:1: no action_id: this row is a person proposal"),
    (AVA + ["--detections", "{tmp}/missing.csv"], 2, "--detections {tmp}/missing.csv: no such file"),
    (["ava-eval", "--labelmap", "{latin1_csv}", "--groundtruth", "{gt}", "--detections", "{dets}"], 2,
     "latin1.csv:2: not UTF-8"),
    (AVA + ["--detections", "{dets}"], 0, ""),
    # demo
    (["demo", "{clip}", "--model", "slowfast_tiny"], 2, "refusing to run without trained weights"),
    (DEMO + ["--out", "{clip}"], 2, "--out {clip} is one of the command's inputs; refusing to write over it"),
    (DEMO + ["--out", "{tmp}/shown.mp4", "--timeline", "{ckpt}"], 2, "--timeline {ckpt} is one of the command's"),
    (DEMO + ["--out", "{tmp}/out.avi2"], 2, "--out {tmp}/out.avi2: unknown extension '.avi2'"),
    (DEMO + ["--out", "{tmp}"], 2, "--out {tmp} is a folder"),
    (DEMO + ["--out", "{tmp}/nowhere/out.mp4"], 2, "folder {tmp}/nowhere does not exist"),
    (DEMO + ["--timeline", "{tmp}/t.xyz"], 2, "--timeline {tmp}/t.xyz: unknown extension '.xyz'"),
    (DEMO + ["--stride", "0"], 2, "argument --stride: must be > 0, got 0"),
    (DEMO + ["--crop", "0"], 2, "argument --crop: must be >= 1, got 0"),
    (DEMO + ["--top", "-1"], 2, "argument --top: must be >= 1, got -1"),
    (DEMO + ["--batch-size", "0"], 2, "argument --batch-size: must be >= 1, got 0"),
    pytest.param(DEMO + ["--device", "cuda"], 2, "--device cuda: this torch has no usable CUDA device",
                 marks=pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")),
    (DEMO + ["--labels", "{latin1_csv}"], 2, "latin1.csv:2: not UTF-8 text"),
    (["demo", "{tmp}/missing.mp4", "--model", "slowfast_tiny", "--checkpoint", "{ckpt}"], 2,
     "missing.mp4: file not found"),
    (["demo", "{clip}", "--model", "slowfast_tiny", "--checkpoint", "{corrupt_ckpt}"], 2,
     "corrupt.pyth is corrupt: its member data/"),
    (["demo", "{clip}", "--model", "slowfast_tiny", "--checkpoint", "{int_keys_pkl}"], 2,
     "int_keys.pkl: weight names must be strings, found 1 (int)"),
    (["demo", "{clip}", "--model", "slowfast_tiny", "--checkpoint", "{text_blobs_pkl}"], 2,
     "text_blobs.pkl: no weights found"),
    (["demo", "{clip}", "--model", "slow_tiny", "--checkpoint", "{ckpt}"], 2, "tiny.pyth does not fit the model"),
    # course
    (["course", "--set", "06_training:epochs=-5", "--dry-run"], 2,
     "06_training: parameter 'epochs' = -5 is out of range"),
    (["course", "--set", "06_training:lr=0.0", "--dry-run"], 2, "parameter 'lr' = 0.0 is out of range"),
    (["course", "--set", "06_training:epochs", "--dry-run"], 2, "write NOTEBOOK:KEY=VALUE"),
    (["course", "--set", "06_training:epoch=3", "--dry-run"], 2, "parameter 'epoch' is not in its parameters cell"),
    (["course", "--only", "99", "--dry-run"], 2, "--only names no notebook: 99"),
    (["course", "--timeout", "0", "--dry-run"], 2, "argument --timeout: must be >= 1"),
    (["course", "--out", "{clip}", "--dry-run"], 2, "--out {clip} is a file, not a folder"),
    (["course", "--out", str(ROOT / "notebooks"), "--dry-run"], 2, "is one of the command's inputs"),
    (["course", "refresh", "{tmp}/missing.ipynb"], 2, "refresh {tmp}/missing.ipynb: no such file"),
    (["course", "--profile", "huge"], 2, "argument --profile: invalid choice: 'huge'"),
    # claims
    (["claims", "--seeds", "a,b"], 2, "--seeds: expected seeds >= 0 as 0,1,2 or 0-9, got 'a,b'"),
    (["claims", "--seeds=-1"], 2, "--seeds: expected seeds >= 0 as 0,1,2 or 0-9, got '-1'"),
    (["claims", "--seeds", ","], 2, "--seeds: give one or more seeds >= 0, got ','"),
    (["claims", "--env", "gpu"], 2, "argument --env: invalid choice: 'gpu'"),
    (["claims", "--jobs", "0"], 2, "argument --jobs: must be"),
    (["claims", "--only", "99"], 2, "--only names no notebook: 99"),
    (["claims", "--out", "{clip}"], 2, "--out {clip} is a file, not a folder"),
    # site
    (["site", "--out", "{clip}"], 2, "is a file, not a folder"),
    (["site", "--out", "{tmp}"], 2, "folder is not empty and holds no site built by this command"),
    (["site", "--profile", "huge"], 2, "argument --profile: invalid choice: 'huge'"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Placeholder -> path of the inputs the command lines use, good and bad."""
    tmp = tmp_path_factory.mktemp("cli")
    f = {"tmp": tmp, "clip": write_video(tmp / "clip.mp4", make_frames(24, 32, 32), 30)}
    model = build_model("slowfast_tiny", num_classes=3)
    f["ckpt"] = checkpoints.save_pyslowfast(model, tmp / "tiny.pyth")
    data = bytearray(f["ckpt"].read_bytes())
    data[len(data) // 2:len(data) // 2 + 64] = bytes(64)
    f["corrupt_ckpt"] = tmp / "corrupt.pyth"
    f["corrupt_ckpt"].write_bytes(bytes(data))
    f["empty_ckpt"] = tmp / "empty.pyth"
    f["empty_ckpt"].write_bytes(b"")
    f["random_ckpt"] = tmp / "random.pyth"
    f["random_ckpt"].write_bytes(bytes(np.random.default_rng(0).integers(1, 127, 2048, dtype=np.uint8)))
    for name, blobs in (("int_keys", {1: np.zeros(3, np.float32)}), ("text_blobs", {"conv1_w": "weights"})):
        f[f"{name}_pkl"] = tmp / f"{name}.pkl"
        f[f"{name}_pkl"].write_bytes(pickle.dumps({"blobs": blobs}, protocol=2))
    texts = {
        "csv": "clip.mp4 0\nclip.mp4 1\n",
        "bad_row_csv": "clip.mp4 x\n",
        "unclosed_csv": '"clip.mp4 0\n',
        "labelmap": 'item {\n  name: "walk"\n  id: 1\n}\n',
        "gt": "v,0902,0.1,0.1,0.3,0.5,1,0\n",
        "dets": "v,0902,0.1,0.1,0.3,0.5,1,0.9\n",
        "nan_dets": "v,0902,0.1,0.1,0.3,0.5,1,0.9\nv,0902,0.2,0.1,0.3,0.5,1,nan\n",
        "proposals": "v,0902,0.1,0.1,0.3,0.5,,0.9\n",
    }
    for name, text in texts.items():
        suffix = {"labelmap": ".pbtxt"}.get(name, ".csv")
        f[name] = tmp / f"{name.removesuffix('_csv')}{suffix}"
        f[name].write_text(text)
    f["latin1_csv"] = tmp / "latin1.csv"
    f["latin1_csv"].write_bytes("clip.mp4 0\ncaf\u00e9.mp4 1\n".encode("latin-1"))
    return f


def run_command(argv, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "slowfast_lite", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def argv_of(case):
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.fixture(scope="module")
def results(files):
    """Every command line of the table, run as subprocesses (a few at a time): argv tuple -> CompletedProcess."""
    lines = [tuple(arg.format(**files) for arg in argv_of(case)) for case in CASES]
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = pool.map(lambda argv: run_command(list(argv), files["tmp"]), lines)
        return dict(zip(lines, done, strict=True))


@pytest.mark.parametrize("argv, status, words", CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_user_error_is_one_line_with_exit_status(results, files, argv, status, words):
    result = results[tuple(arg.format(**files) for arg in argv)]
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == status, result.stderr
    if status == 2:
        command = argv[0] if argv[0] != "teapot" else "slowfast_lite"
        first = result.stderr.strip().splitlines()[0]
        assert words.format(**files) in first, result.stderr
        assert first.startswith(f"{command}: ")
        if "does not fit" not in words and "refusing to run" not in words:  # those add a report / a hint
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_demo_never_writes_over_its_input_and_leaves_no_file(files, tmp_path):
    clip = tmp_path / "mine.mp4"
    clip.write_bytes(files["clip"].read_bytes())
    before = clip.read_bytes()
    for out in ("mine.mp4", "./mine.mp4", str(clip), "sub/../mine.mp4"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        result = run_command(["demo", "mine.mp4", "--model", "slowfast_tiny", "--checkpoint", str(files["ckpt"]),
                              "--out", out], tmp_path)
        assert result.returncode == 2 and "refusing to write over it" in result.stderr, result.stderr
    assert clip.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.mp4", "sub"]  # no partial or timeline file


def test_a_link_to_the_input_is_the_input(files, tmp_path):
    (tmp_path / "link.mp4").symlink_to(files["clip"])
    result = run_command(["demo", str(files["clip"]), "--model", "slowfast_tiny", "--checkpoint", str(files["ckpt"]),
                          "--out", "link.mp4"], tmp_path)
    assert result.returncode == 2 and "refusing to write over it" in result.stderr, result.stderr


def test_make_data_overwrite_replaces_only_its_own_data_set(tmp_path):
    """``--overwrite`` replaces a synthetic AVA set this command wrote, never a folder of the user's files."""
    small = ["make-data", "ava", "--train-videos", "1", "--val-videos", "1", "--seconds", "2", "--overwrite"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    result = run_command([*small, "--out", str(mine)], tmp_path)
    assert result.returncode == 2 and "holds other files, not a synthetic AVA data set" in result.stderr
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"] and (mine / "thesis.tex").read_text() == "years of work"
    data = tmp_path / "data"
    for _ in range(2):  # written, then replaced
        result = run_command([*small, "--out", str(data)], tmp_path)
        assert result.returncode == 0, result.stderr
    assert (data / "annotations").is_dir()
