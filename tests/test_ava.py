import numpy as np
import pytest
import torch

from slowfast_lite.data import read_ava_csv, read_label_map, write_ava_csv
from slowfast_lite.data.ava_files import AVAFormatError, AVARow, read_exclusions, write_exclusions, write_label_map

OFFICIAL_ROWS = """\
-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1
-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,9,1
-5KQ66BBWC4,0903,0.226,0.032,0.366,0.497,12,0
"""


def test_reads_the_official_annotation_layout(tmp_path):
    path = tmp_path / "ava_val_v2.2.csv"
    path.write_text(OFFICIAL_ROWS)
    rows = read_ava_csv(path)
    assert rows[0] == AVARow("-5KQ66BBWC4", 902, (0.077, 0.151, 0.283, 0.811), 80, person_id=1)
    assert [r.action_id for r in rows] == [80, 9, 12]
    assert rows[2].key == ("-5KQ66BBWC4", 903)


def test_annotation_round_trip_is_byte_exact(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(OFFICIAL_ROWS)
    write_ava_csv(tmp_path / "out.csv", read_ava_csv(path))
    assert (tmp_path / "out.csv").read_text() == OFFICIAL_ROWS


def test_detections_and_proposals(tmp_path):
    path = tmp_path / "det.csv"
    rows = [AVARow("vid", 5, (0.1, 0.2, 0.3, 0.4), 3, score=0.25),
            AVARow("vid", 6, (0.5, 0.5, 0.9, 1.0), None, score=0.875)]  # a proposal: no action
    write_ava_csv(path, rows)
    assert path.read_text().splitlines() == ["vid,0005,0.100,0.200,0.300,0.400,3,0.250000",
                                             "vid,0006,0.500,0.500,0.900,1.000,,0.875000"]
    assert read_ava_csv(path, kind="detections") == rows


def test_seven_columns_default_score_one(tmp_path):
    path = tmp_path / "det.csv"
    path.write_text("vid,0005,0.1,0.2,0.3,0.4,3\n")
    assert read_ava_csv(path, kind="detections")[0].score == 1.0


@pytest.mark.parametrize("line, message", [
    ("vid,0902,0.1,0.2,0.3,0.4", "7 or 8"),
    ("vid,0902,0.1,0.2,0.3,0.4,1,2,3", "7 or 8"),
    ("vid,0902,0.1,0.2,1.3,0.4,1,0", r"\[0, 1\]"),
    ("vid,0902,-0.1,0.2,0.3,0.4,1,0", r"\[0, 1\]"),
    ("vid,0902,0.3,0.2,0.3,0.4,1,0", "x2 > x1"),
    ("vid,0902,0.1,0.4,0.3,0.4,1,0", "y2 > y1"),
    ("vid,09x2,0.1,0.2,0.3,0.4,1,0", "timestamp"),
    ("vid,0902,0.1,abc,0.3,0.4,1,0", "y1"),
    ("vid,0902,0.1,0.2,0.3,0.4,sit,0", "action_id"),
    ("vid,0902,0.1,0.2,0.3,0.4,1,p7", "person_id"),
    ("vid,0902,0.1,0.2,0.3,0.4,,0", "action_id"),
    ("vid,0902,0.1,0.2,0.3,0.4,99,0", "unknown action id 99"),
])
def test_bad_rows_name_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.csv"
    path.write_text("vid,0901,0.1,0.2,0.3,0.4,1,0\n" + line + "\n")
    with pytest.raises(AVAFormatError, match=message) as error:
        read_ava_csv(path, label_map={1: "stand"})
    assert str(error.value).startswith(f"{path}:2:")


def test_bad_score_is_named(tmp_path):
    path = tmp_path / "det.csv"
    path.write_text("vid,0902,0.1,0.2,0.3,0.4,1,high\n")
    with pytest.raises(AVAFormatError, match=r"det.csv:1: score"):
        read_ava_csv(path, kind="detections")


def test_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        read_ava_csv("x.csv", kind="boxes")


def test_exclusions_round_trip(tmp_path):
    path = tmp_path / "excluded.csv"
    write_exclusions(path, {("b", 903), ("a", 1798)})
    assert path.read_text() == "a,1798\nb,0903\n"
    assert read_exclusions(path) == {("a", 1798), ("b", 903)}
    path.write_text("a,1798,3\n")
    with pytest.raises(AVAFormatError, match="excluded.csv:1: expected 2 columns"):
        read_exclusions(path)


def test_label_map_official_layouts(tmp_path):
    path = tmp_path / "labels.pbtxt"
    path.write_text('item {\n  name: "bend/bow (at the waist)"\n  id: 1\n  label_type: PERSON_MOVEMENT\n}\n'
                    'item { name: "carry/hold (an object)" id: 14 }\n')
    assert read_label_map(path) == {1: "bend/bow (at the waist)", 14: "carry/hold (an object)"}


def test_label_map_round_trip_in_the_layout_official_readers_expect(tmp_path):
    path = tmp_path / "labels.pbtxt"
    labels = {3: "spin (fast)", 1: "stand"}
    write_label_map(path, labels)
    lines = path.read_text().splitlines()
    assert lines[:4] == ["item {", '  name: "spin (fast)"', "  id: 3", "}"]
    assert read_label_map(path) == labels


@pytest.mark.parametrize("text, message", [
    ('item {\n  name: "a"\n}\n', "name and id"),
    ('item { name: "a" id: 1 }\nitem { name: "b" id: 1 }\n', "id 1 appears twice"),
    ('item { name: "a" id: one }\n', "id must be a number"),
    ("nothing here\n", "no 'item"),
])
def test_bad_label_maps_are_named(tmp_path, text, message):
    path = tmp_path / "labels.pbtxt"
    path.write_text(text)
    with pytest.raises(AVAFormatError, match=message) as error:
        read_label_map(path)
    assert str(path) in str(error.value)


# ---------------------------------------------------------------------------------------------- AVADataset
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from slowfast_lite.data import synthetic_ava

    root = tmp_path_factory.mktemp("ava_dataset") / "set"
    return synthetic_ava.make_synthetic_ava(root, train_videos=1, val_videos=1, seconds=3, seed=2,
                                            exclusion_rate=0.0)


def dataset(data, **kwargs):
    from slowfast_lite.data import AVADataset

    settings = dict(num_frames=16, sampling_rate=2, alpha=4, scale_range=(64, 64), crop_size=None, test_scale=64)
    return AVADataset(data.video_dir, data.annotations("train"), data.label_map, **{**settings, **kwargs})


def test_keyframes_people_and_labels(synthetic):
    ds = dataset(synthetic)
    truth = read_ava_csv(synthetic.annotations("train"))
    assert [(v, t) for v, t, _ in ds.keyframes] == sorted({r.key for r in truth})
    item = ds[0]
    video_id, timestamp = item["video_id"], item["timestamp"]
    people = {}
    for r in truth:
        if r.key == (video_id, timestamp):
            people.setdefault(r.box, set()).add(r.action_id)
    torch.testing.assert_close(item["normalized_boxes"], torch.tensor(list(people)))
    torch.testing.assert_close(item["boxes"], torch.tensor(list(people)) * torch.tensor([96, 64, 96, 64]))
    expected = torch.zeros(len(people), 6)
    for i, actions in enumerate(people.values()):
        expected[i, [a - 1 for a in actions]] = 1
    assert torch.equal(item["labels"], expected)
    assert item["scores"].tolist() == [1.0] * len(people)


def test_centred_frames_follow_the_video_rate(synthetic):
    ds = dataset(synthetic)
    # 15 fps: a Fast stride of 2 frames at 30 fps is every frame; keyframe 902 is frame 30
    assert ds.frame_indices(902, 15, 45).tolist() == list(range(22, 38))
    assert ds.frame_indices(902, 30, 90).tolist() == list(range(44, 76, 2))
    assert ds.frame_indices(901, 15, 45).tolist()[:3] == [7, 8, 9]
    with pytest.raises(ValueError, match="whole number"):
        ds.frame_indices(902, 25, 75)


def test_pathways_and_slow_only_sees_the_slow_frames(synthetic):
    from slowfast_lite import sampling

    slowfast = dataset(synthetic)[1]["pathways"]
    assert [tuple(p.shape) for p in slowfast] == [(3, 4, 64, 96), (3, 16, 64, 96)]
    assert torch.equal(slowfast[0], slowfast[1][:, sampling.slow_indices(16, 4)])
    slow_only = dataset(synthetic, pathways="slow")[1]["pathways"]
    assert len(slow_only) == 1 and torch.equal(slow_only[0], slowfast[0])


def test_for_model_takes_the_clip_from_the_config(synthetic):
    from slowfast_lite.data import AVADataset
    from slowfast_lite.models import CONFIGS

    ds = AVADataset.for_model(CONFIGS["slowfast_tiny"], synthetic.video_dir, synthetic.annotations("train"),
                              synthetic.label_map, test_scale=64)
    assert (ds.num_frames, ds.sampling_rate, ds.alpha, ds.pathways) == (16, 2, 4, "slowfast")


def test_proposals_take_the_actions_of_the_person_they_overlap(synthetic):
    from slowfast_lite.data.boxes import box_iou

    ds = dataset(synthetic, proposals=synthetic.proposals("train"), boxes="proposals", score_threshold=0.8)
    truth = read_ava_csv(synthetic.annotations("train"))
    proposals = [p for p in read_ava_csv(synthetic.proposals("train"), kind="detections") if p.score >= 0.8]
    assert sum(len(entries) for *_, entries in ds.keyframes) == len(proposals)
    for video_id, timestamp, entries in ds.keyframes:
        people = {}
        for r in truth:
            if r.key == (video_id, timestamp):
                people.setdefault(r.box, set()).add(r.action_id)
        for box, actions, score in entries:
            assert score >= 0.8
            iou = box_iou([box], list(people))[0]
            best = list(people.values())[int(iou.argmax())]
            assert actions == (best if iou.max() >= 0.5 else set())
    both = dataset(synthetic, proposals=synthetic.proposals("train"), training=True)
    assert both.boxes == "both"
    assert sum(len(e) for *_, e in both.keyframes) == len(proposals) + len({(r.key, r.box) for r in truth})


def test_training_flip_moves_boxes_with_the_pixels(synthetic):
    test_item = dataset(synthetic)[0]
    flips = 0
    for epoch in range(6):
        ds = dataset(synthetic, training=True)
        ds.set_epoch(epoch)
        item = ds[0]
        if torch.equal(item["pathways"][1], test_item["pathways"][1]):
            assert torch.equal(item["boxes"], test_item["boxes"])
        else:
            flips += 1
            assert torch.equal(item["pathways"][1], test_item["pathways"][1].flip(-1))
            mirrored = test_item["boxes"][:, [2, 1, 0, 3]] * torch.tensor([-1, 1, -1, 1]) + torch.tensor([96, 0, 96, 0])
            assert torch.allclose(item["boxes"], mirrored)
    assert 0 < flips < 6


def test_excluded_keyframes_are_skipped(synthetic, tmp_path):
    first = dataset(synthetic).keyframes[0][:2]
    write_exclusions(tmp_path / "excluded.csv", {first})
    ds = dataset(synthetic, exclusions=tmp_path / "excluded.csv")
    assert first not in [k[:2] for k in ds.keyframes] and len(ds) == len(dataset(synthetic)) - 1


def test_dataset_settings_are_checked(synthetic):
    with pytest.raises(ValueError, match="pathways"):
        dataset(synthetic, pathways="both")
    with pytest.raises(ValueError, match="proposals csv"):
        dataset(synthetic, boxes="proposals")


def test_keyframe_image_is_the_centre_of_the_clip(synthetic):
    from slowfast_lite import transforms

    ds = dataset(synthetic, pathways="fast")
    image = ds.keyframe_image(1)
    assert image.shape == (64, 96, 3) and image.dtype == np.uint8
    clip = transforms.to_frames(ds[1]["pathways"][0], transforms.MEAN, transforms.STD)
    assert np.abs(clip[8].astype(int) - image.astype(int)).max() <= 1  # frame 8 of 16 is the keyframe


def test_fast_grayscale_gives_fast_luminance_only(synthetic):
    from slowfast_lite.transforms import grayscale

    color, gray = dataset(synthetic)[0]["pathways"], dataset(synthetic, fast_grayscale=True)[0]["pathways"]
    assert torch.equal(gray[0], color[0])
    assert torch.allclose(gray[1], grayscale(color[1])) and torch.equal(gray[1][0], gray[1][2])
