"""A run folder holds one run: ``train`` never replaces another run's checkpoint, and two processes never write
one folder at once (``utils.folder_lock``)."""

import json
import os
import subprocess
import sys

import pytest

from slowfast_lite import utils
from slowfast_lite.__main__ import main
from slowfast_lite.data.motion_shapes import MotionShapes


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    shapes = MotionShapes("quick", seed=2, root=tmp_path_factory.mktemp("data") / "set", train=1, val=1, test=1,
                          size=32, frames=16)
    shapes.generate(progress=False)
    return shapes.root


def train(data, out, *extra):
    return main(["train", "--data", str(data), "--epochs", "1", "--batch-size", "4", "--crop", "32", "--scale", "32",
                 "40", "--out", str(out), *extra])


def one_line_error(capsys, command="train"):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{command}: "), lines
    return lines[0]


def test_a_second_run_never_replaces_the_first(data, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(data, out, "--seed", "0") == 0
    checkpoint = (out / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    for extra in (["--seed", "1"], ["--seed", "1", "--no-resume"], ["--fast-gray"], ["--lr", "0.05"],
                  ["--model", "slow_tiny"]):
        assert train(data, out, *extra) == 2, extra
        line = one_line_error(capsys)
        assert f"{out / 'checkpoint.pt'} holds the checkpoint of a different run" in line, line
        assert (out / "checkpoint.pt").read_bytes() == checkpoint, extra
    assert train(data, out, "--seed", "1") == 2
    assert "seed: checkpoint 0, now 1" in one_line_error(capsys)
    assert train(data, out, "--fast-gray") == 2
    assert "data.fast_grayscale: checkpoint False, now True" in one_line_error(capsys)
    assert not (out / ".lock").exists()
    # the same run: resumes (already done), or starts over when asked to
    assert train(data, out, "--seed", "0") == 0
    assert (out / "checkpoint.pt").read_bytes() == checkpoint
    assert train(data, out, "--seed", "0", "--no-resume") == 0
    assert not (out / ".lock").exists()


def test_a_folder_in_use_is_refused(data, tmp_path, capsys):
    out = tmp_path / "run"
    with utils.folder_lock(out, "training run") as lock:
        assert train(data, out) == 2
        line = one_line_error(capsys)
        assert f"{out} is in use by another training run (pid {os.getpid()}" in line and str(lock) in line
        assert lock.exists()
        assert not (out / "checkpoint.pt").exists()
    assert not lock.exists()


def test_a_lock_left_by_a_killed_process_is_taken_over(data, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = {"pid": int(dead.stdout), "host": __import__("socket").gethostname(), "owner": "training run"}
    (out / ".lock").write_text(json.dumps(record))
    assert train(data, out) == 0
    assert (out / "checkpoint.pt").exists() and not (out / ".lock").exists()


def test_the_lock_is_exclusive_and_released_on_error(tmp_path):
    with pytest.raises(RuntimeError), utils.folder_lock(tmp_path, "test"):
        with pytest.raises(utils.FolderInUse, match="is in use by another test"), utils.folder_lock(tmp_path):
            pass
        raise RuntimeError("the run failed")
    assert not (tmp_path / ".lock").exists()
    (tmp_path / ".lock").write_text("")  # being written by another process: held
    with pytest.raises(utils.FolderInUse), utils.folder_lock(tmp_path):
        pass


def test_a_batch_larger_than_the_data_set_is_a_user_error(data, tmp_path, capsys):
    assert train(data, tmp_path / "run", "--batch-size", "500") == 2
    assert "--batch-size 500: the training set" in one_line_error(capsys)


def test_waiting_for_a_folder_another_process_writes(tmp_path):
    """``recipes.load_or_train`` waits for another process training the same model (``ablate --jobs``), then
    loads its result instead of failing or training it twice."""
    import time

    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from slowfast_lite import utils
with utils.folder_lock({str(tmp_path)!r}, "training run"):
    print("held", flush=True)
    time.sleep(1.5)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.perf_counter()
        utils.wait_for_folder(tmp_path, poll=0.1)
        assert time.perf_counter() - started > 0.5 and not (tmp_path / ".lock").exists()
    finally:
        holder.wait(timeout=60)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".lock").write_text(json.dumps({"pid": int(dead.stdout), "host": __import__("socket").gethostname()}))
    utils.wait_for_folder(tmp_path)  # a killed process's lock: returns at once
