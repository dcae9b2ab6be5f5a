import numpy as np
import pytest

from slowfast_lite import video
from slowfast_lite.__main__ import main
from slowfast_lite.data import read_ava_csv, read_label_map
from slowfast_lite.data import synthetic_ava as sa
from slowfast_lite.data.ava_files import read_exclusions


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("ava") / "set"
    return sa.make_synthetic_ava(root, train_videos=2, val_videos=1, seconds=3, seed=5, exclusion_rate=0.3)


def test_official_files_are_written_and_valid(data):
    assert read_label_map(data.label_map) == sa.ACTIONS
    assert set(read_label_map(data.evaluated_label_map)) == set(sa.EVALUATED)
    assert data.video_ids("train") == ["train_000", "train_001"] and data.video_ids("val") == ["val_000"]
    for split in ("train", "val"):
        rows = read_ava_csv(data.annotations(split), label_map=sa.ACTIONS)
        assert {r.timestamp for r in rows} == {901, 902}  # keyframes at seconds 1 .. seconds-1 after second 900
        assert {r.video_id for r in rows} == set(data.video_ids(split))
        proposals = read_ava_csv(data.proposals(split), kind="detections")
        assert all(p.action_id is None and 0 <= p.score <= 1 for p in proposals)
        assert {p.key for p in proposals} >= {r.key for r in rows}
        assert read_exclusions(data.exclusions(split)) <= {r.key for r in rows}


def test_videos_have_the_promised_rate_and_size(data):
    info = video.probe(data.video_dir / "train_000.mp4")
    assert (info.frames, info.fps, info.height, info.width) == (3 * sa.FPS, sa.FPS, 64, 96)


def test_every_actor_is_annotated_with_plausible_actions(data):
    rows = read_ava_csv(data.annotations("train"))
    people = {}
    for r in rows:
        people.setdefault((r.key, r.person_id), (r.box, set()))[1].add(r.action_id)
    assert 2 * 2 * 2 <= len(people) <= 2 * 2 * 3  # 2 videos x 2 keyframes x 2-3 actors
    for box, actions in people.values():
        assert len({a for a in actions if a in (1, 2, 4)}) <= 1  # one arm action at a time
        assert not (6 in actions and actions & {1, 3, 5})  # a crouching actor neither walks nor jogs
        assert box[2] - box[0] > 0.05 and box[3] - box[1] > 0.3


def test_proposals_cover_most_people_above_the_threshold(data):
    from slowfast_lite.ava_eval import box_iou

    truth = read_ava_csv(data.annotations("train"))
    proposals = [p for p in read_ava_csv(data.proposals("train"), kind="detections") if p.score >= 0.8]
    boxes = {(r.key, r.box) for r in truth}
    found = sum(any(p.key == key and box_iou([p.box], [box])[0, 0] >= 0.5 for p in proposals)
                for key, box in boxes)
    assert found >= 0.6 * len(boxes)


def test_the_same_seed_writes_the_same_files(data, tmp_path):
    again = sa.make_synthetic_ava(tmp_path / "again", train_videos=2, val_videos=1, seconds=3, seed=5,
                                  exclusion_rate=0.3)
    for split in ("train", "val"):
        assert again.annotations(split).read_bytes() == data.annotations(split).read_bytes()
        assert again.proposals(split).read_bytes() == data.proposals(split).read_bytes()
    other = sa.make_synthetic_ava(tmp_path / "other", train_videos=2, val_videos=1, seconds=3, seed=6)
    assert other.annotations("train").read_bytes() != data.annotations("train").read_bytes()


def test_cached_set_is_reused(data):
    stamp = data.annotations("train").stat().st_mtime_ns
    sa.make_synthetic_ava(data.root, train_videos=2, val_videos=1, seconds=3, seed=5, exclusion_rate=0.3)
    assert data.annotations("train").stat().st_mtime_ns == stamp


def actor(actions, arm_phase=0.3, leg_phase=0.6):
    second = sa.Second(set(actions), arm_phase, leg_phase, 0.0)
    return sa.Actor(lane=(20, 40), x=30, ground=60, size=40, shirt=(0.2, 0.3, 0.4), trousers=(0.5, 0.5, 0.5),
                    skin=(0.8, 0.6, 0.5), seconds=[second]), second


@pytest.mark.parametrize("action", [4, 5])
def test_fast_actions_repeat_every_period_and_move_in_between(action):
    a, second = actor({action})
    frames = [sa._parts(a, 30, t, second) for t in range(12)]
    assert frames[1] == frames[1 + sa.PERIOD] == frames[1 + 2 * sa.PERIOD]
    assert frames[1] != frames[2]


@pytest.mark.parametrize("action", [4, 5])
def test_at_the_slow_rate_a_fast_action_looks_like_an_idle_actor(action):
    # clapping (jogging) from phase p looks, every PERIOD frames, exactly like an actor holding still at p
    moving, moving_second = actor({action}, arm_phase=0.3, leg_phase=0.6)
    idle, idle_second = actor(set(), arm_phase=0.3, leg_phase=0.6)
    for t in range(0, 20, sa.PERIOD):
        assert sa._parts(moving, 30, t, moving_second) == sa._parts(idle, 30, t, idle_second)


def test_walking_legs_do_not_repeat_at_the_slow_rate():
    a, second = actor({3})
    assert sa._parts(a, 30, 0, second) != sa._parts(a, 30, sa.PERIOD, second)


def test_rendered_keyframe_boxes_hold_the_actor():
    frames, labels = sa.render_video(np.random.default_rng(1), seconds=2, fps=sa.FPS, height=64, width=96)
    keyframe = frames[sa.FPS].astype(float)
    for (x1, y1, x2, y2), actions in labels[0]:
        assert actions and set(actions) <= set(sa.ACTIONS)
        inside = keyframe[int(y1) + 1:int(y2) - 1, int(x1) + 1:int(x2) - 1]
        assert inside.size > 0


def test_bad_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="even"):
        sa.make_synthetic_ava(tmp_path, height=63)


def test_make_data_command(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["make-data", "ava", "--out", str(out), "--train-videos", "1", "--val-videos", "1",
                 "--seconds", "2"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert sa.SyntheticAVA(out).video_ids("val") == ["val_000"]


def test_decoded_video_keeps_the_aliasing_exact(data):
    # lossless H.264: a clapping (or jogging) actor who stays in place is pixel-identical every PERIOD frames
    rows = read_ava_csv(data.annotations("train"))
    walkers = {(r.key, r.box) for r in rows if r.action_id == 3}
    fast_movers = [r for r in rows if r.action_id in sa.FAST_ACTIONS and (r.key, r.box) not in walkers]
    assert fast_movers
    for row in fast_movers:
        center = (row.timestamp - sa.START_SECOND) * sa.FPS
        frames = video.read_frames(data.video_dir / f"{row.video_id}.mp4", range(center - 7, center + 8))
        x1, y1, x2, y2 = (int(round(v * s)) for v, s in zip(row.box, (96, 64, 96, 64), strict=True))
        crop = frames[:, y1:y2, x1:x2].astype(int)
        assert np.array_equal(crop[sa.PERIOD:], crop[:-sa.PERIOD])
        assert np.abs(np.diff(crop, axis=0)).sum() > 0


@pytest.mark.parametrize("action", [4, 5])
def test_the_box_does_not_tell_a_fast_action_from_an_idle_actor(action):
    # the keyframe is not a Slow frame: a box hugging its pose would show where the hands and feet are there
    keyframe = sa.FPS
    boxes = set()
    for phase in (0.1, 0.45, 0.8):
        for actions in ({action}, set()):
            a, second = actor(actions, arm_phase=phase, leg_phase=phase)
            boxes.add(tuple(round(v, 6) for v in sa.person_box(a, 30, keyframe, second)))
    assert len(boxes) == 1
    a, second = actor({action}, arm_phase=0.45, leg_phase=0.45)
    box = next(iter(boxes))
    hugging = [sa.bounding_box(sa._parts(a, 30, t, second)) for t in range(keyframe - 7, keyframe + 8)]
    assert len(set(hugging)) > 1  # what a box hugging the keyframe's pose would give away
    for x1, y1, x2, y2 in hugging:  # the cycles' extremes are among BOX_PHASES: every frame's pose is inside
        assert box[0] <= x1 + 1e-9 and box[1] <= y1 + 1e-9 and x2 <= box[2] + 1e-9 and y2 <= box[3] + 1e-9
