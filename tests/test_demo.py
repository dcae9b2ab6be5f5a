"""The demo: windows cover the video, each window is the clip PySlowFast would sample, the outputs exist."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from slowfast_lite import checkpoints, demo, sampling, transforms, video
from slowfast_lite.__main__ import main
from slowfast_lite.models import build_model
from slowfast_lite.transforms import grayscale

torch.set_num_threads(2)
NUM_CLASSES = 3


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    """A 3.5 s, 30 fps, 48x64 video: a bright square crossing a dark frame, its colour changing halfway."""
    frames = np.full((105, 48, 64, 3), 30, dtype=np.uint8)
    for t in range(len(frames)):
        x = (t * 2) % 52
        frames[t, 16:28, x:x + 12] = (220, 60, 60) if t < 52 else (60, 60, 220)
    return video.write_video(tmp_path_factory.mktemp("demo") / "clip.mp4", frames, fps=30)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model("slowfast_tiny", num_classes=NUM_CLASSES, crop_size=32).eval()


@pytest.fixture(scope="module")
def checkpoint(model, tmp_path_factory):
    return checkpoints.save_pyslowfast(model, tmp_path_factory.mktemp("ckpt") / "tiny.pyth")


def test_window_starts_cover_the_video():
    assert demo.window_starts(100, 64, 32) == [0.0, 32.0, 36.0]
    assert demo.window_starts(128, 64, 32) == [0.0, 32.0, 64.0]
    assert demo.window_starts(40, 64, 32) == [0.0]  # shorter than a window: one clamped window
    starts = demo.window_starts(1000, 53.3, 20)
    assert starts[0] == 0 and starts[-1] + 53.3 == pytest.approx(1000) and np.all(np.diff(starts) <= 20 + 1e-9)
    with pytest.raises(demo.DemoError, match="stride must be positive"):
        demo.window_starts(100, 64, 0)


@pytest.mark.parametrize("fast_grayscale", [False, True])
def test_each_window_is_the_clip_pyslowfast_samples(model, clip_path, fast_grayscale):
    view = transforms.View(crop_size=32, short_side=40, fast_grayscale=fast_grayscale)
    predictions = demo.predict_video(model, clip_path, stride=20, view=view, batch_size=2)
    info = video.probe(clip_path)
    window = sampling.window_size(model.config.num_frames, model.config.sampling_rate, info.fps)  # 32 frames
    assert [p.start for p in predictions] == demo.window_starts(info.frames, window, 20)
    assert predictions[-1].end == info.frames - 1
    for p in (predictions[0], predictions[2]):  # rebuilt here from the rule, one window at a time
        indices = torch.linspace(p.start, p.start + window - 1, model.config.num_frames).clamp(0, 104).long()
        clip = transforms.to_clip(video.read_frames(clip_path, indices.tolist()))
        clip = transforms.normalize(transforms.center_crop(transforms.short_side_scale(clip, 40), 32))
        slow = clip[:, torch.linspace(0, clip.shape[1] - 1, model.config.T).long()]
        fast = grayscale(clip) if fast_grayscale else clip
        with torch.no_grad():
            expected = model.predict([slow[None], fast[None]])[0].numpy()
        np.testing.assert_allclose(p.probs, expected, rtol=1e-5, atol=1e-6)
        assert p.top(2)[0][1] >= p.top(2)[1][1] and sum(p.probs) == pytest.approx(1, abs=1e-5)
    assert not model.training


def test_nearest_window_and_table(model, clip_path):
    predictions = demo.predict_video(model, clip_path)
    owner = demo.nearest_window(predictions, 105)
    assert owner[0] == 0 and owner[-1] == len(predictions) - 1 and np.all(np.diff(owner) >= 0)
    table = demo.format_predictions(predictions, ["walk", "run", "jump"], k=2).splitlines()
    assert len(table) == len(predictions) + 1 and table[0].split()[-1] == "top-2"
    assert all(sum(name in line for name in ("walk", "run", "jump")) == 2 for line in table[1:])


def test_annotated_video(model, clip_path, tmp_path):
    predictions = demo.predict_video(model, clip_path)
    out = demo.annotate_video(clip_path, predictions, tmp_path / "annotated.mp4", ["walk", "run", "jump"])
    info, source = video.probe(out), video.probe(clip_path)
    assert (info.frames, info.fps) == (source.frames, source.fps)
    band = info.height - 240  # 48x64 enlarged 5 times for readable text, under a caption band of 3 lines
    assert info.width == 320 and band == demo._caption_sizes(240, 3)[1] > 0
    annotated = video.read_frames(out, [50])[0].astype(int)
    original = video.read_frames(clip_path, [50])[0].repeat(5, axis=0).repeat(5, axis=1).astype(int)
    assert annotated[:band].max() - annotated[:band].min() > 150  # white text on the dark band
    assert np.abs(annotated[band:] - original).mean() < 4  # the whole picture, none of it covered
    assert sorted(p.name for p in tmp_path.iterdir()) == ["annotated.mp4"]


def test_labels_files(tmp_path):
    (tmp_path / "names.txt").write_text("walk\nrun\njump\n\n")
    assert demo.read_labels(tmp_path / "names.txt", 3) == ["walk", "run", "jump"]
    (tmp_path / "kinetics.json").write_text(json.dumps({'"run"': 1, '"walk"': 0, "jump": 2}))
    assert demo.read_labels(tmp_path / "kinetics.json") == ["walk", "run", "jump"]
    with pytest.raises(demo.DemoError, match=r"names\.txt names 3 classes but the model predicts 400"):
        demo.read_labels(tmp_path / "names.txt", 400)
    (tmp_path / "gap.json").write_text(json.dumps({"walk": 0, "run": 2}))
    with pytest.raises(demo.DemoError, match=r"gap\.json: indices must be 0\.\.1, each once; missing \[1\]"):
        demo.read_labels(tmp_path / "gap.json")
    (tmp_path / "hole.txt").write_text("walk\n\nrun\n")
    with pytest.raises(demo.DemoError, match=r"hole\.txt: line 2 is empty"):
        demo.read_labels(tmp_path / "hole.txt")
    (tmp_path / "broken.json").write_text('{"walk": 0,')
    with pytest.raises(demo.DemoError, match=r"broken\.json: not valid json"):
        demo.read_labels(tmp_path / "broken.json")


def test_cli_refuses_without_checkpoint(clip_path, capsys):
    assert demo.cli([str(clip_path), "--model", "slowfast_tiny"]) == 2
    assert "refusing to run without trained weights: pass --checkpoint" in capsys.readouterr().err


def test_cli_end_to_end(clip_path, checkpoint, tmp_path, capsys):
    (tmp_path / "labels.txt").write_text("walk\nrun\njump\n")
    out = tmp_path / "out.mp4"
    code = demo.cli([str(clip_path), "--model", "slowfast_tiny", "--checkpoint", str(checkpoint), "--labels",
                     str(tmp_path / "labels.txt"), "--out", str(out), "--crop", "32", "--top", "3"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert out.is_file() and (tmp_path / "out_timeline.png").stat().st_size > 1000
    rows = [line for line in printed.splitlines() if line.strip()[:1].isdigit()]
    assert len(rows) == len(demo.window_starts(105, 32, 16)) and all("walk" in row for row in rows)


def test_cli_uses_the_view_a_training_run_recorded(model, clip_path, tmp_path, capsys):
    settings = {"crop_size": 32, "test_scale": 40, "test_crop_size": 32, "mean": [0.4, 0.45, 0.5], "std": 0.25,
                "fast_grayscale": True}
    recorded = dataclasses.asdict(model.config)  # what train.fit writes beside the weights
    path = checkpoints.atomic_save({"model_state": model.state_dict(), "model": recorded, "data": settings},
                                   tmp_path / "run.pt")
    loaded, view = demo.load_model("slowfast_tiny", path)
    assert loaded.config == model.config  # crop_size=32 and 3 classes come from the file, not from the name
    assert view == transforms.View(crop_size=32, short_side=40, mean=[0.4, 0.45, 0.5], std=0.25, fast_grayscale=True)
    with pytest.raises(checkpoints.CheckpointError, match=r"run\.pt holds a 'slowfast_tiny' model, not 'slow_tiny'"):
        demo.load_model("slow_tiny", path)
    assert demo.cli([str(clip_path), "--model", "slowfast_tiny", "--checkpoint", str(path), "--top", "1"]) == 0
    printed = [line.split()[-1] for line in capsys.readouterr().out.splitlines()[1:]]
    expected = demo.predict_video(loaded, clip_path, view=view)
    assert printed == [f"{p.top(1)[0][1]:.2f}" for p in expected]
    assert demo.predict_video(loaded, clip_path)[0].probs.tolist() != expected[0].probs.tolist()


def test_cli_errors_name_the_file(clip_path, checkpoint, tmp_path, capsys):
    (tmp_path / "labels.txt").write_text("walk\nrun\n")
    assert main(["demo", str(clip_path), "--model", "slowfast_tiny", "--checkpoint", str(checkpoint),
                 "--labels", str(tmp_path / "labels.txt")]) == 2
    assert "labels.txt names 2 classes but the model predicts 3" in capsys.readouterr().err
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    assert main(["demo", str(tmp_path / "broken.mp4"), "--model", "slowfast_tiny", "--checkpoint",
                 str(checkpoint)]) == 2
    assert "broken.mp4" in capsys.readouterr().err
    assert main(["demo", str(clip_path), "--model", "slow_tiny", "--checkpoint", str(checkpoint)]) == 2
    err = capsys.readouterr().err
    assert "tiny.pyth does not fit the model" in err and "unexpected" in err


@pytest.mark.parametrize("fast_grayscale", [False, True])
@pytest.mark.parametrize("fast_time_difference", [False, True])
def test_demo_input_is_the_data_sets_for_every_setting(model, tmp_path, fast_grayscale, fast_time_difference):
    """A model trained with any Fast-input setting sees in the demo what its test set showed it: the view recorded
    by training (``train.data_settings`` -> ``View.from_settings``) rebuilds the data set's input exactly."""
    from slowfast_lite import train
    from slowfast_lite.data.kinetics import VideoClassificationDataset

    window = sampling.window_size(model.config.num_frames, model.config.sampling_rate, 30)  # 32 frames at 30 fps
    frames = np.random.default_rng(0).integers(0, 256, (int(window), 48, 64, 3), dtype=np.uint8)
    path = video.write_video(tmp_path / "one_window.mp4", frames, fps=30)
    (tmp_path / "test.csv").write_text(f"{path} 0\n")
    dataset = VideoClassificationDataset.for_model(model, tmp_path / "test.csv", "test", num_clips=1, num_crops=1,
                                                   scale_range=(40, 48), fast_grayscale=fast_grayscale,
                                                   fast_time_difference=fast_time_difference)
    expected = dataset.load(0, view=0)
    view = transforms.View.from_settings(train.data_settings(dataset))
    assert view == dataset.test_view  # recorded by training and restored whole: one view type, one definition
    assert view.fast_time_difference == fast_time_difference and view.fast_grayscale == fast_grayscale
    decoded = video.read_frames(path, list(range(len(frames))))
    indices = sampling.fast_indices(0, len(frames) - 1, model.config.num_frames, len(frames))
    got = demo.window_inputs(decoded[indices.numpy()], model.config, view)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
