"""Shared fixtures: small real video files written once per test session; the data root masked for nbval."""

import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from slowfast_lite.video import write_video

CLIP_FRAMES, CLIP_HEIGHT, CLIP_WIDTH, CLIP_FPS = 45, 48, 64, 30


def pytest_configure(config):
    """nbval compares printed paths of generated data as ``DATA_ROOT/...`` wherever ``$SLOWFAST_LITE_DATA`` puts
    them: the data root of this run is masked first, then the patterns of ``tests/nbval_sanitize.cfg``."""
    given = getattr(config.option, "nbval_sanitize_with", None)
    if not given:
        return
    from slowfast_lite import utils

    root = str(utils.data_root())
    merged = Path(tempfile.mkdtemp(prefix="nbval-")) / "sanitize.cfg"
    static = Path(given).read_text()
    merged.write_text(f"[this run's data root]\nregex: {re.escape(root)}\nreplace: DATA_ROOT\n\n{static}")
    config.option.nbval_sanitize_with = str(merged)


def make_frames(num_frames=CLIP_FRAMES, height=CLIP_HEIGHT, width=CLIP_WIDTH):
    """Frames that all differ: a bar sliding right, a brightness ramp over time, a fixed gradient."""
    t = np.arange(num_frames)[:, None, None]
    y = np.arange(height)[None, :, None]
    x = np.arange(width)[None, None, :]
    bar = (np.abs(x - (2 * t) % width) < 4) * 200 + 0 * y
    ramp = (t * 255 // max(num_frames - 1, 1)) + 0 * x + 0 * y
    gradient = 4 * y + 2 * x + 0 * t
    return np.stack([bar, ramp, gradient], axis=-1).clip(0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def clip_frames():
    """The uint8 (T, H, W, 3) frames every fixture video holds."""
    return make_frames()


@pytest.fixture(scope="session")
def video_files(tmp_path_factory, clip_frames):
    """name -> path: H.264 mp4 and mkv, VP9 webm (keyframe every 10 frames) and a long-GOP mp4."""
    folder = tmp_path_factory.mktemp("videos")
    files = {name: folder / f"clip.{name}" for name in ("mp4", "webm", "mkv")}
    for path in files.values():
        write_video(path, clip_frames, CLIP_FPS, gop=10)
    files["mp4_long_gop"] = write_video(folder / "long_gop.mp4", clip_frames, CLIP_FPS)
    return files
