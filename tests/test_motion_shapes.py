"""MotionShapes: the classes are what data/README.md says, the files are what the loaders read, cached."""

import json

import numpy as np
import pytest

from slowfast_lite import video
from slowfast_lite.__main__ import main
from slowfast_lite.data import motion_shapes as ms
from slowfast_lite.data.kinetics import read_csv
from slowfast_lite.sampling import slow_indices
from slowfast_lite.transforms import LUMA


def clip(name, seed=3, noise=0.0, frames=20):
    return ms.render_clip(ms.CLASSES.index(name), np.random.default_rng(seed), size=32, frames=frames, noise=noise)


def test_render_clip_shape_dtype_and_determinism():
    a = clip("red", noise=0.03)
    assert a.shape == (20, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, clip("red", noise=0.03))
    assert not np.array_equal(a, clip("red", seed=4, noise=0.03))


@pytest.mark.parametrize("name", ms.MOTION_CLASSES)
def test_motion_classes_repeat_every_period(name):
    frames = clip(name).astype(int)
    assert np.abs(frames[ms.PERIOD:] - frames[:-ms.PERIOD]).max() <= 1  # rounding only
    if name != "steady":
        assert int(np.abs(frames[1] - frames[0]).max()) > 10  # but they do change within a period


def test_slow_frames_alias_the_motion_classes_to_one_still_image():
    # same random draws, different class: the frames the Slow pathway takes (PERIOD apart) are the same image
    slow = slow_indices(16, 4).numpy()
    assert np.diff(slow).tolist() == [ms.PERIOD] * 3
    reference = clip("steady")[slow].astype(int)
    for name in ("drift_up", "drift_down", "flicker"):
        assert np.abs(clip(name)[slow].astype(int) - reference).max() <= 1
        assert np.abs(clip(name)[:16].astype(int) - clip("steady")[:16]).max() > 40  # Fast frames differ


def test_appearance_classes_differ_in_hue_only():
    clips = {name: clip(name) for name in ms.APPEARANCE_CLASSES}
    grey = {n: c.astype(np.float32) @ np.array(LUMA, dtype=np.float32) for n, c in clips.items()}
    for name in ms.APPEARANCE_CLASSES[1:]:
        assert np.abs(grey[name] - grey["red"]).max() <= 1.5  # same luminance everywhere
        assert np.abs(clips[name].astype(int) - clips["red"]).max() > 60  # very different colours


def _band_profiles(frames):
    """Grey-scale vertical profile (T, H) of the red band and of the green band (their inner columns)."""
    f = frames.astype(np.float32) / 255
    redness = (f[..., 0] - f[..., 1]).mean((0, 1))  # per column
    grey = f @ np.array(LUMA, dtype=np.float32)
    return [grey[:, :, np.abs(redness - redness[i]) < 0.02].mean(2) for i in (redness.argmax(), redness.argmin())]


def _stripe_step(profile, t0, t1):
    """Pixels the stripes moved up between frames t0 and t1 (best integer shift within 3 px)."""
    inner = slice(4, -4)
    errors = {d: np.abs(profile[t1, inner] - np.roll(profile[t0], -d)[inner]).mean() for d in range(-3, 4)}
    return min(errors, key=errors.get)


@pytest.mark.parametrize("seed", range(5))
def test_binding_bands_drift_opposite_ways_at_the_fast_rate(seed):
    for name, red_up in (("red_up", True), ("red_down", False)):
        red, green = _band_profiles(ms.render_clip(name, np.random.default_rng(seed), 40, 16, noise=0.0))
        for t in range(3):
            assert (_stripe_step(red, t, t + 1) > 0) == red_up and (_stripe_step(green, t, t + 1) > 0) != red_up


def test_binding_classes_are_one_still_video_at_the_slow_rate():
    # same random draws, other class: the frames the Slow pathway takes (PERIOD apart) are the same images
    slow = slow_indices(16, 4).numpy()
    for seed in range(5):
        up, down = (ms.render_clip(n, np.random.default_rng(seed), 40, 16, noise=0.0).astype(int)
                    for n in ms.BINDING_CLASSES)
        assert np.abs(up[slow] - down[slow]).max() <= 1
        assert np.abs(up - down).max() > 40  # the Fast frames between them differ


def test_binding_bands_are_equal_in_grey():
    # both bands are striped between the same two luminances: in grey-scale neither is the red one
    for seed in range(5):
        red, green = _band_profiles(ms.render_clip("red_up", np.random.default_rng(seed), 40, 4, noise=0.0))
        assert red.max() - red.min() > 0.15  # the stripes are visible in grey
        assert abs(red.max() - green.max()) < 0.02 and abs(red.min() - green.min()) < 0.02


def test_groups_select_the_classes_and_the_cache_folder(tmp_path):
    default = ms.MotionShapes("quick", seed=0)
    assert default.classes == ms.CLASSES and default.root.name == "quick_seed0"  # notebook 06's set, unchanged
    union = ms.MotionShapes("quick", seed=0, groups=("appearance", "motion", "binding"))
    assert union.classes == ms.CLASSES + ms.BINDING_CLASSES
    assert union.root.name == "quick_seed0_appearance-motion-binding"
    assert union.group_classes["binding"] == list(ms.BINDING_CLASSES)
    root = ms.MotionShapes("quick", 2, tmp_path / "b", groups="binding", train=1, val=1, test=1, size=16,
                           frames=6).generate(progress=False)
    assert json.loads((root / "classnames.json").read_text()) == {"red_up": 0, "red_down": 1}
    with pytest.raises(ValueError, match="groups.*'colour'"):
        ms.MotionShapes("quick", groups=("appearance", "colour"))


def test_hue_color_has_the_asked_luminance_and_stays_in_the_cube():
    for angle in range(0, 360, 30):
        color = ms.hue_color(angle, 0.4, 0.95)
        assert color.min() >= 0 and color.max() <= 1
        assert abs(color @ np.array([0.299, 0.587, 0.114]) - 0.4) < 1e-5


def test_generate_writes_csvs_classnames_videos_and_caches(tmp_path):
    data = ms.MotionShapes("quick", seed=1, root=tmp_path / "ms", train=2, val=1, test=1, size=32, frames=12)
    root = data.generate(progress=False)
    rows = read_csv(data.csv("train"))
    assert len(rows) == 2 * len(ms.CLASSES) and sorted({label for _, label in rows}) == list(range(8))
    assert len(read_csv(data.csv("test"))) == len(ms.CLASSES)
    assert json.loads(data.classnames.read_text()) == {n: i for i, n in enumerate(ms.CLASSES)}
    info = video.probe(rows[0][0])
    assert (info.frames, info.fps, info.width, info.height) == (12, ms.FPS, 32, 32)
    stamp = data.csv("train").stat().st_mtime_ns
    assert data.is_cached() and data.generate(progress=False) == root
    assert data.csv("train").stat().st_mtime_ns == stamp  # cached: nothing rewritten
    other = ms.MotionShapes("quick", seed=1, root=tmp_path / "ms", train=1, val=1, test=1, size=32, frames=12)
    assert not other.is_cached()  # another setting is another set
    other.generate(progress=False)
    assert len(read_csv(other.csv("train"))) == len(ms.CLASSES)


def test_same_seed_same_videos(tmp_path):
    kwargs = dict(train=1, val=1, test=1, size=16, frames=6)
    a = ms.MotionShapes("quick", 5, tmp_path / "a", **kwargs).generate(progress=False)
    b = ms.MotionShapes("quick", 5, tmp_path / "b", **kwargs).generate(progress=False)
    for path in sorted((a / "videos" / "val").iterdir()):
        frames_a = video.read_frames(path, range(6))
        assert np.array_equal(frames_a, video.read_frames(b / "videos" / "val" / path.name, range(6)))


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="profile 'huge'"):
        ms.MotionShapes("huge")
    with pytest.raises(ValueError, match="widht"):
        ms.MotionShapes("quick", widht=3)
    with pytest.raises(ValueError, match="split 'dev'"):
        ms.MotionShapes("quick").csv("dev")


def test_make_data_motion_command(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["make-data", "motion", "--profile", "quick", "--out", str(out), "--train", "1", "--val", "1",
                 "--test", "1", "--size", "16", "--frames", "6"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert (out / "manifest.json").exists() and len(read_csv(out / "val.csv")) == len(ms.CLASSES)


def test_generate_refuses_a_folder_of_other_files_and_leaves_no_partial_set(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="mine.*never replaced"):
        ms.MotionShapes("quick", 1, mine, train=1, val=1, test=1, size=16, frames=6).generate(progress=False)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    root = ms.MotionShapes("quick", 1, empty, train=1, val=1, test=1, size=16, frames=6).generate(progress=False)
    assert (root / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "mine"]  # no temporary folder left behind


def test_concurrent_generators_of_one_set_both_finish_with_the_whole_set(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    kwargs = dict(train=2, val=1, test=1, size=16, frames=6)
    with ProcessPoolExecutor(2) as pool:
        roots = list(pool.map(_generate_small, [tmp_path / "ms"] * 2, [kwargs] * 2))
    assert roots == [tmp_path / "ms"] * 2
    assert len(read_csv(ms.MotionShapes("quick", 3, tmp_path / "ms", **kwargs).csv("train"))) == 2 * len(ms.CLASSES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ms"]


def _generate_small(root, kwargs):
    return ms.MotionShapes("quick", 3, root, **kwargs).generate(progress=False)
