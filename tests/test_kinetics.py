"""VideoClassificationDataset: PySlowFast's sampling and views, any number of workers, clear bad-input errors."""

import warnings

import numpy as np
import pytest
import torch

from slowfast_lite import sampling
from slowfast_lite.data.kinetics import DatasetError, VideoClassificationDataset, read_classnames, read_csv
from slowfast_lite.transforms import time_difference
from slowfast_lite.usage import UsageError
from slowfast_lite.video import write_video

FRAMES, SIZE, FPS = 24, 40, 15


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """4 short videos (2 classes) whose frame t has brightness 10 * t, a csv and classnames.json."""
    root = tmp_path_factory.mktemp("kinetics")
    (root / "v").mkdir()
    rows = []
    for i in range(4):
        frames = np.zeros((FRAMES, SIZE, 48, 3), np.uint8)
        frames[...] = (10 * np.arange(FRAMES)).reshape(-1, 1, 1, 1)
        frames[:, :, :, i % 3] += 5  # a tint per video
        write_video(root / "v" / f"{i}.mp4", frames, FPS, gop=5)
        rows.append(f"v/{i}.mp4 {i % 2}")
    (root / "train.csv").write_text("\n".join(rows) + "\n")
    (root / "classnames.json").write_text('{"even": 0, "odd": 1}')
    return root


def dataset(folder, mode="train", **kwargs):
    settings = dict(num_frames=16, sampling_rate=2, alpha=4, crop_size=32, scale_range=(32, 40), num_clips=2,
                    num_crops=3)
    return VideoClassificationDataset(folder / "train.csv", mode, **{**settings, **kwargs})


def brightness(clip):
    """Mean brightness (0-255) of each frame of a normalised clip (C, T, H, W)."""
    return (clip * 0.225 + 0.45).mean(dim=(0, 2, 3)) * 255


def test_train_item_is_slow_fast_label_index(folder):
    data = dataset(folder)
    assert len(data) == 4 and data.num_classes == 2 and data.classnames == ["even", "odd"]
    (slow, fast), label, index = data[3]
    assert slow.shape == (3, 4, 32, 32) and fast.shape == (3, 16, 32, 32)
    assert (label, index) == (1, 3)
    # 16 consecutive frames of the 15 fps video (Fast stride 2 at 30 fps); Slow = Fast frames [0, 5, 10, 15]
    steps = torch.diff(brightness(fast))
    assert torch.all((steps - 10).abs() < 2), steps  # 10 levels a frame, up to H.264 and resizing error
    assert torch.allclose(slow, fast[:, sampling.slow_indices(16, 4)])


def test_train_clips_depend_on_seed_epoch_and_index_only(folder):
    data = dataset(folder)
    first = data[1][0][1]
    assert torch.equal(first, dataset(folder)[1][0][1])  # a fresh data set draws the same clip
    draws = set()
    for epoch in range(6):
        data.set_epoch(epoch)
        draws.add(tuple(brightness(data[1][0][1])[:1].round().tolist()))
    assert len(draws) > 1  # the window start moves from epoch to epoch


def test_test_views_are_clips_times_crops_in_pyslowfast_order(folder):
    data = dataset(folder, "test")
    assert len(data) == 4 * 2 * 3 and data.views_per_video == 6
    pathways, label, video_index, view = data[7]
    assert (label, video_index, view) == (1, 1, 1)
    # clip 0 starts at frame 0, clip 1 at delta * 1 / 2 = 4 (24 frames, window 16)
    assert abs(brightness(data[0][0][1])[0]) < 2
    assert abs(brightness(data[3][0][1])[0] - 40) < 2
    left, centre, right = (data[i][0][1] for i in range(3))
    assert left.shape == (3, 16, 32, 32) and not torch.equal(left, right)
    assert torch.equal(centre, data[1][0][1])  # deterministic


def test_single_pathway_and_grayscale_fast(folder):
    (clip,), _, _ = dataset(folder, pathways="slow", num_frames=4, sampling_rate=8)[0]
    assert clip.shape == (3, 4, 32, 32)
    (clip,), _, _ = dataset(folder, pathways="fast", fast_grayscale=True)[0]
    assert clip.shape == (3, 16, 32, 32) and torch.equal(clip[0], clip[2])
    (slow, fast), _, _ = dataset(folder, fast_grayscale=True)[2]
    assert torch.equal(fast[0], fast[1]) and not torch.equal(slow[0], slow[1])  # Slow keeps its colour
    (slow_d, fast_d), _, _ = dataset(folder, fast_grayscale=True, fast_time_difference=True)[2]
    assert torch.equal(slow_d, slow) and torch.allclose(fast_d, time_difference(fast))  # only Fast's input changes


def test_for_model_takes_frames_stride_alpha_and_pathways(folder):
    from slowfast_lite.models import build_model

    for name, shapes in [("slowfast_tiny", [(3, 4, 32, 32), (3, 16, 32, 32)]), ("slow_tiny", [(3, 4, 32, 32)]),
                         ("fast_tiny", [(3, 16, 32, 32)])]:
        with torch.device("meta"):
            model = build_model(name, num_classes=2, crop_size=32)
        pathways, _, _ = VideoClassificationDataset.for_model(model, folder / "train.csv", scale_range=(32, 40))[0]
        assert [tuple(p.shape) for p in pathways] == shapes
    # Slow-only (4 frames, stride 8 at 30 fps) sees the very frames SlowFast's Slow pathway sees
    data = dataset(folder, "test", num_crops=1)
    slow_only = dataset(folder, "test", num_crops=1, num_frames=4, sampling_rate=8, pathways="slow")
    assert torch.allclose(data[0][0][0], slow_only[0][0][0], atol=1e-5)  # resizing 4 or 16 frames: float noise


def test_workers_give_the_same_batches(folder):
    data = dataset(folder)
    data.set_epoch(2)
    batches = [list(torch.utils.data.DataLoader(data, batch_size=2, num_workers=n)) for n in (0, 2)]
    for a, b in zip(*batches, strict=True):
        assert torch.equal(a[0][1], b[0][1]) and torch.equal(a[1], b[1])


def test_folder_per_class(tmp_path, folder):
    for name in ("walk", "run"):
        (tmp_path / name).mkdir()
        for i in range(2):
            (tmp_path / name / f"{i}.mp4").write_bytes((folder / "v" / f"{i}.mp4").read_bytes())
    data = VideoClassificationDataset(tmp_path, num_frames=8, sampling_rate=2, alpha=4, crop_size=32,
                                      scale_range=(32, 32))
    assert data.classnames == ["run", "walk"] and data.labels.tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize("line, message", [
    ("v/0.mp4 0 extra", "line 2: expected 'path label'"),
    ("v/0.mp4 zero", "line 2: label 'zero' is not an integer"),
    ("v/0.mp4 7", r"line 2: unknown label 7 \(known classes 0..1\)"),
    ("v/missing.mp4 0", "line 2: video .*missing.mp4 does not exist"),
])
def test_bad_rows_name_the_file_and_line(folder, tmp_path, line, message):
    csv = tmp_path / "bad.csv"
    csv.write_text(f"{folder}/v/1.mp4 1\n{line}\n".replace("v/0.mp4", f"{folder}/v/0.mp4")
                   .replace("v/missing.mp4", f"{folder}/v/missing.mp4"))
    with pytest.raises(DatasetError, match=f"bad.csv, {message}"):
        VideoClassificationDataset(csv, classnames=["a", "b"])


def test_paths_with_spaces_are_quoted_or_tab_separated(folder, tmp_path):
    (tmp_path / "my clips").mkdir()
    for name in ("a b.mp4", 'say "hi".mp4'):
        (tmp_path / "my clips" / name).write_bytes((folder / "v" / "0.mp4").read_bytes())
    csv = tmp_path / "spaces.csv"
    csv.write_text('"my clips/a b.mp4" 1\nmy clips/a b.mp4\t0\n"my clips/say \\"hi\\".mp4" 1\n')
    assert read_csv(csv) == [(tmp_path / "my clips" / "a b.mp4", 1), (tmp_path / "my clips" / "a b.mp4", 0),
                             (tmp_path / "my clips" / 'say "hi".mp4', 1)]
    csv.write_text("my clips/a b.mp4 1\n")  # unquoted: three fields, and the message says what to do
    with pytest.raises(DatasetError, match=r"spaces.csv, line 1: expected 'path label' \(2 fields; quote a path"):
        read_csv(csv)


def test_non_utf8_csv_names_the_file_and_line(tmp_path):
    (tmp_path / "latin1.csv").write_bytes("a.mp4 0\ncaf\u00e9.mp4 1\n".encode("latin-1"))
    with pytest.raises(UsageError, match=r"latin1.csv:2: not UTF-8 text \(byte 0xe9\)"):
        read_csv(tmp_path / "latin1.csv")


def test_classnames_files(tmp_path):
    (tmp_path / "names.txt").write_text("a\nb\n\nc\n")
    assert read_classnames(tmp_path / "names.txt") == ["a", "b", "c"]
    (tmp_path / "names.json").write_text('{"a": 0, "b": 2}')
    with pytest.raises(DatasetError, match="names.json: class indices"):
        read_classnames(tmp_path / "names.json")


def test_unreadable_video_is_skipped_warned_and_counted(folder, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    rows = []
    for i in range(4):
        (broken / f"{i}.mp4").write_bytes((folder / "v" / f"{i}.mp4").read_bytes())
        rows.append(f"{i}.mp4 {i % 2}")
    (broken / "train.csv").write_text("\n".join(rows))
    data = VideoClassificationDataset(broken / "train.csv", num_frames=16, sampling_rate=2, alpha=4, crop_size=32,
                                      scale_range=(32, 40))
    (broken / "2.mp4").write_bytes(b"not a video")  # goes bad after the data set was built
    with pytest.warns(UserWarning, match="skipping unreadable video .*2.mp4"):
        pathways, label, index = data[2]
    assert index != 2 and label == index % 2 and pathways[1].shape == (3, 16, 32, 32)
    assert data.num_failures == 1 and list(data.failures) == [str(broken / "2.mp4")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        list(torch.utils.data.DataLoader(data, batch_size=2, num_workers=2))
    assert data.num_failures == 2  # counted in a worker, seen here
