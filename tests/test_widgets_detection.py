import pytest

from slowfast_lite.course.widgets import DetectionExplorer
from slowfast_lite.data import AVADataset
from slowfast_lite.data import synthetic_ava as sa
from slowfast_lite.data.ava_files import AVARow


@pytest.fixture(scope="module")
def val_set(tmp_path_factory):
    data = sa.make_synthetic_ava(tmp_path_factory.mktemp("det_widget") / "set", train_videos=1, val_videos=1,
                                 seconds=3, seed=3, exclusion_rate=0.0)
    return AVADataset(data.video_dir, data.annotations("val"), data.evaluated_label_map, num_frames=16,
                      sampling_rate=2, alpha=4, test_scale=64)


def detections_from_truth(dataset, wrong=0.3):
    """Each true action scored 0.9, every other action ``wrong``."""
    return [AVARow(v, t, box, a, score=0.9 if a in actions else wrong)
            for v, t, entries in dataset.keyframes for box, actions, _ in entries for a in dataset.label_map]


def test_shows_the_actions_above_the_threshold(val_set):
    explorer = DetectionExplorer(val_set, detections_from_truth(val_set), threshold=0.5)
    v, t, entries = val_set.keyframes[0]
    assert explorer.key == (v, t)
    assert [(box, {a for a, _ in actions}) for box, actions in explorer.shown] == \
        [(box, actions) for box, actions, _ in entries]
    assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ground truth (dashed)" in explorer.caption.value
    assert sa.ACTIONS[min(entries[0][1])] in explorer.caption.value

    explorer.threshold_slider.value = 0.25  # now every action of every box shows
    assert all(len(actions) == len(val_set.label_map) for _, actions in explorer.shown)
    assert all(actions == sorted(actions, key=lambda a: -a[1]) for _, actions in explorer.shown)


def test_slider_steps_through_keyframes(val_set):
    explorer = DetectionExplorer(val_set, detections_from_truth(val_set))
    first = explorer.image.value
    explorer.slider.value = 1
    assert explorer.key == val_set.keyframes[1][:2] and explorer.image.value != first
    assert "keyframe 1" in repr(explorer)
    assert explorer._repr_mimebundle_()["text/plain"] == repr(explorer)


def test_keyframes_without_detections_show_none(val_set):
    explorer = DetectionExplorer(val_set, [], groundtruth=False)
    assert explorer.shown == [] and "0 detected people" in explorer.caption.value
