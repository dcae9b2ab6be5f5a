import math
import random
import subprocess
import sys

import numpy as np
import pytest

from slowfast_lite.__main__ import main
from slowfast_lite.ava_eval import average_precision, frame_map, match_keyframe, precision_recall
from slowfast_lite.data.ava_files import AVARow, write_ava_csv, write_exclusions, write_label_map
from slowfast_lite.data.boxes import box_iou

A = (0.1, 0.1, 0.3, 0.5)  # two well separated person boxes
B = (0.6, 0.2, 0.9, 0.8)
NEAR_A = (0.1, 0.1, 0.3, 0.45)  # IoU 0.875 with A
HALF_A = (0.1, 0.1, 0.3, 0.35)  # IoU 0.625 with A


def gt(action, box, video="v", t=902):
    return AVARow(video, t, box, action, person_id=0)


def det(action, box, score, video="v", t=902):
    return AVARow(video, t, box, action, score=score)


def test_box_iou_by_hand():
    iou = box_iou([(0, 0, 2, 2)], [(1, 1, 3, 3), (0, 0, 2, 2), (5, 5, 6, 6)])
    np.testing.assert_allclose(iou, [[1 / 7, 1.0, 0.0]])
    assert box_iou([A], [NEAR_A])[0, 0] == pytest.approx(0.875)
    assert box_iou([A], [HALF_A])[0, 0] == pytest.approx(0.625)


def test_average_precision_by_hand():
    # TP, FP, TP with 2 ground truths: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> 1/2 * 1 + 1/2 * 2/3
    precision, recall = precision_recall([0.9, 0.8, 0.7], [True, False, True], 2)
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1])
    assert average_precision(precision, recall) == pytest.approx(5 / 6)
    # the envelope lifts a dip: FP, TP, TP with 2 ground truths -> 1/2 * 2/3 + 1/2 * 2/3
    assert average_precision(*precision_recall([0.9, 0.8, 0.7], [False, True, True], 2)) == pytest.approx(2 / 3)
    assert average_precision(*precision_recall([], [], 3)) == 0.0


def test_duplicates_are_false_positives():
    mean_ap, per_class = frame_map(
        [gt(1, A), gt(1, B)],
        [det(1, A, 0.9), det(1, NEAR_A, 0.8), det(1, B, 0.7)],  # the second one is a duplicate of A
        {1: "stand"})
    assert per_class == {1: pytest.approx(5 / 6)} and mean_ap == pytest.approx(5 / 6)


def test_matching_follows_file_order_not_score():
    # one ground truth; the lower-scored detection comes first in the file and takes it
    rows = [det(1, HALF_A, 0.6), det(1, NEAR_A, 0.9)]
    assert frame_map([gt(1, A)], rows, {1: "stand"})[0] == pytest.approx(0.5)  # sorted: FP (0.9), TP (0.6)
    # ActivityNet's stand-alone script sorts each keyframe by score first: the 0.9 detection takes it
    assert frame_map([gt(1, A)], rows, {1: "stand"}, top_k_per_keyframe=50)[0] == pytest.approx(1.0)


def test_detection_takes_its_best_ground_truth_even_when_taken():
    # C overlaps A and B; the second detection's best is A (taken) although B would match at IoU >= 0.5
    a, b = (0.0, 0.0, 0.4, 1.0), (0.1, 0.0, 0.5, 1.0)
    d = (0.05, 0.0, 0.45, 1.0)
    assert box_iou([d], [a, b]).min() >= 0.5
    flags = match_keyframe([a, d], [a, b])
    assert flags.tolist() == [True, False]


def test_iou_threshold_is_inclusive():
    square, shifted = (0.0, 0.0, 0.3, 0.3), (0.0, 0.1, 0.3, 0.3)
    assert box_iou([square], [shifted])[0, 0] == pytest.approx(2 / 3)
    assert match_keyframe([shifted], [square], iou_threshold=2 / 3).tolist() == [True]
    assert match_keyframe([shifted], [square], iou_threshold=0.7).tolist() == [False]


def test_unmatched_classes():
    label_map = {1: "stand", 2: "sit", 3: "walk"}
    mean_ap, per_class = frame_map(
        [gt(1, A), gt(2, B)],  # class 2 has ground truth but no detections: AP 0, counted in the mean
        [det(1, A, 0.9), det(3, B, 0.9)],  # class 3 has detections but no ground truth: not counted
        label_map)
    assert per_class == {1: 1.0, 2: 0.0}
    assert mean_ap == pytest.approx(0.5)


def test_detection_on_keyframe_without_ground_truth_is_false_positive():
    rows = [det(1, A, 0.9, t=903), det(1, A, 0.5)]
    assert frame_map([gt(1, A)], rows, {1: "stand"})[0] == pytest.approx(0.5)


def test_classes_outside_the_label_map_are_ignored():
    mean_ap, per_class = frame_map([gt(1, A), gt(9, B)], [det(1, A, 0.9), det(9, A, 0.99)], {1: "stand"})
    assert per_class == {1: 1.0} and mean_ap == 1.0


def test_excluded_keyframes_are_dropped_on_both_sides():
    groundtruth = [gt(1, A), gt(1, B, t=903)]
    detections = [det(1, A, 0.9), det(1, A, 0.95, t=903)]  # the 903 detection misses
    assert frame_map(groundtruth, detections, {1: "stand"})[0] == pytest.approx(0.25)
    assert frame_map(groundtruth, detections, {1: "stand"}, exclusions={("v", 903)})[0] == 1.0


def test_ties_put_the_later_detection_first():
    # equal scores: the official argsort-then-reverse ranks the later row first
    tp_first = [det(1, A, 0.5), det(1, B, 0.5)]
    fp_first = [det(1, B, 0.5), det(1, A, 0.5)]
    assert frame_map([gt(1, A)], tp_first, {1: "stand"})[0] == pytest.approx(0.5)
    assert frame_map([gt(1, A)], fp_first, {1: "stand"})[0] == pytest.approx(1.0)


def test_keyframes_are_separate_videos_and_times():
    groundtruth = [gt(1, A, video="v1"), gt(1, A, video="v2")]
    detections = [det(1, A, 0.9, video="v1"), det(1, A, 0.8, video="v2"), det(1, A, 0.7, video="v2")]
    _, per_class = frame_map(groundtruth, detections, {1: "stand"})
    assert per_class[1] == pytest.approx(1.0)  # the third is a duplicate but ranks below both true positives


def test_proposals_are_rejected_as_detections():
    with pytest.raises(ValueError, match="action_id"):
        frame_map([gt(1, A)], [AVARow("v", 902, A, None, score=0.9)], {1: "stand"})


def reference_map(groundtruth, detections, classes):
    """An independent, loop-only version of the rules, for random cross-checks (scores have no ties)."""
    aps = []
    for c in classes:
        gts = [(r.key, r.box) for r in groundtruth if r.action_id == c]
        if not gts:
            continue
        taken, hits = set(), []
        for r in (r for r in detections if r.action_id == c):
            cands = [(i, g) for i, g in enumerate(gts) if g[0] == r.key]
            ious = [box_iou([r.box], [g[1]])[0, 0] for _, g in cands]
            best = cands[int(np.argmax(ious))][0] if cands else None
            ok = best is not None and max(ious) >= 0.5 and best not in taken
            taken |= {best} if ok else set()
            hits.append((r.score, ok))
        hits.sort(key=lambda h: -h[0])
        tp = np.cumsum([h[1] for h in hits])
        precision = tp / np.arange(1, len(hits) + 1)
        recall = tp / len(gts)
        ap, prev_recall = 0.0, 0.0
        for k in range(len(hits)):
            if hits[k][1]:
                ap += (recall[k] - prev_recall) * precision[k:].max()
                prev_recall = recall[k]
        aps.append(ap)
    return float(np.mean(aps))


@pytest.mark.parametrize("seed", range(5))
def test_random_cases_match_a_loop_version(seed):
    rng = random.Random(seed)

    def box():
        x, y = rng.uniform(0, 0.6), rng.uniform(0, 0.6)
        return (x, y, x + rng.uniform(0.1, 0.4), y + rng.uniform(0.1, 0.4))

    groundtruth = [gt(rng.randint(1, 3), box(), t=rng.randint(0, 4)) for _ in range(30)]
    detections = []
    for row in groundtruth:  # jittered copies of ground truth, sometimes with the wrong class
        x1, y1, x2, y2 = row.box
        j = [rng.uniform(-0.05, 0.05) for _ in range(4)]
        jittered = (x1 + j[0], y1 + j[1], x2 + j[2], y2 + j[3])
        detections.append(det(rng.choice([row.action_id, rng.randint(1, 3)]), jittered, rng.random(), t=row.timestamp))
    detections += [det(rng.randint(1, 3), box(), rng.random(), t=rng.randint(0, 4)) for _ in range(20)]
    rng.shuffle(detections)
    mean_ap, _ = frame_map(groundtruth, detections, {1: "a", 2: "b", 3: "c"})
    assert mean_ap == pytest.approx(reference_map(groundtruth, detections, [1, 2, 3]))
    assert 0 < mean_ap < 1


def test_no_ground_truth_gives_nan():
    mean_ap, per_class = frame_map([], [det(1, A, 0.9)], {1: "stand"})
    assert math.isnan(mean_ap) and per_class == {}


@pytest.fixture
def files(tmp_path):
    write_label_map(tmp_path / "labels.pbtxt", {1: "stand", 2: "sit"})
    write_ava_csv(tmp_path / "gt.csv", [gt(1, A), gt(2, B), gt(1, B, t=903)])
    write_ava_csv(tmp_path / "det.csv", [det(1, A, 0.9), det(2, B, 0.4), det(2, A, 0.8), det(1, A, 0.7, t=903)])
    write_exclusions(tmp_path / "excluded.csv", {("v", 903)})
    return tmp_path


def test_paths_give_the_same_result_as_rows(files):
    from_files = frame_map(files / "gt.csv", files / "det.csv", files / "labels.pbtxt", files / "excluded.csv")
    # class 1: one TP; class 2: FP (0.8) then TP (0.4) -> 1/2
    assert from_files == (pytest.approx(0.75), {1: 1.0, 2: pytest.approx(0.5)})


def test_cli(files, capsys):
    code = main(["ava-eval", "--labelmap", str(files / "labels.pbtxt"), "--groundtruth", str(files / "gt.csv"),
                 "--detections", str(files / "det.csv"), "--exclusions", str(files / "excluded.csv")])
    out = capsys.readouterr().out
    assert code == 0
    assert "mAP@0.5 0.7500 over 2 classes" in out
    assert "0.5000    2  sit" in out


def test_cli_names_the_bad_file(files, capsys):
    (files / "bad.csv").write_text("v,0902,0.1,0.1,0.3,0.5,1,0.9\nv,0902,0.1,0.1,0.3\n")
    code = main(["ava-eval", "--labelmap", str(files / "labels.pbtxt"), "--groundtruth", str(files / "gt.csv"),
                 "--detections", str(files / "bad.csv")])
    assert code == 2
    assert "bad.csv:2" in capsys.readouterr().err


def test_runs_without_torch_and_pyav(files):
    """The evaluator is NumPy only: scoring AVA files must work where torch and PyAV are not installed."""
    script = ("import sys\n"
              "sys.modules['torch'] = sys.modules['av'] = None  # importing either now fails\n"
              "from slowfast_lite.__main__ import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    args = ["ava-eval", "--labelmap", "labels.pbtxt", "--groundtruth", "gt.csv", "--detections", "det.csv",
            "--exclusions", "excluded.csv"]
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=files, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "mAP@0.5 0.7500 over 2 classes" in done.stdout
    blocked = subprocess.run([sys.executable, "-c", "import sys; sys.modules['torch'] = None; import torch"],
                             capture_output=True, text=True)
    assert "import of torch halted" in blocked.stderr  # the blocker itself works
