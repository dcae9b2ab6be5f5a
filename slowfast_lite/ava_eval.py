"""Frame-mAP@0.5 of AVA detections with the official semantics (ActivityNet / PySlowFast ``ava_evaluation``).

1. Only classes of the label map count (AVA evaluates 60 of its 80 actions); rows of other classes are dropped,
   and so is every row on an excluded keyframe, on both sides.
2. Per keyframe and class, detections are matched greedily in file order (PySlowFast's order: no per-keyframe
   sort, no NMS). A detection takes the ground-truth box it overlaps most (the first one on a tie); it is a true
   positive if that IoU >= 0.5 and the box is not taken yet, else a false positive. Detections on a keyframe
   without ground truth of their class are false positives.
3. Per class, all detections are sorted by score, cumulative TP/FP give precision and recall, and AP is the
   all-points interpolated area (precision made non-increasing from the right, summed over recall steps).
4. mAP is the mean AP over the classes that have ground truth; a class with ground truth but no detection has AP 0.

``top_k_per_keyframe=50`` reproduces ActivityNet's stand-alone script, which keeps the 50 best-scoring
detections of each keyframe and matches them in score order.
"""

from collections import defaultdict
from pathlib import Path

import numpy as np

from slowfast_lite import usage
from slowfast_lite.data.ava_files import read_ava_csv, read_exclusions, read_label_map
from slowfast_lite.data.boxes import box_iou
from slowfast_lite.errors import UsageError


def match_keyframe(detected_boxes, groundtruth_boxes, iou_threshold=0.5):
    """True-positive flags (D,) of one keyframe and class: greedy in the given order, each box taken once."""
    is_tp = np.zeros(len(detected_boxes), dtype=bool)
    if len(detected_boxes) == 0 or len(groundtruth_boxes) == 0:
        return is_tp
    iou = box_iou(detected_boxes, groundtruth_boxes)
    best = iou.argmax(axis=1)  # the highest-IoU ground truth, the first one on a tie
    taken = np.zeros(len(groundtruth_boxes), dtype=bool)
    for i, gt in enumerate(best):
        if iou[i, gt] >= iou_threshold and not taken[gt]:
            is_tp[i] = taken[gt] = True
    return is_tp


def precision_recall(scores, is_tp, num_groundtruth):
    """Precision and recall (D,) after each detection, best score first.

    Ties: the official ``np.argsort(scores)[::-1]`` leaves their order to NumPy's sort; we fix it to what a
    stable sort gives there, so among equal scores the later detection comes first.
    """
    order = np.argsort(np.asarray(scores, dtype=float), kind="stable")[::-1]
    tp = np.asarray(is_tp, dtype=float)[order]
    cum_tp, cum_fp = np.cumsum(tp), np.cumsum(1 - tp)
    return cum_tp / (cum_tp + cum_fp), cum_tp / num_groundtruth


def average_precision(precision, recall):
    """All-points interpolated AP (VOC 2010+): area under the precision envelope, 0 without detections."""
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.concatenate([[0.0], precision, [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # non-increasing from the right
    steps = np.flatnonzero(recall[1:] != recall[:-1]) + 1
    return float(np.sum((recall[steps] - recall[steps - 1]) * precision[steps]))


def _rows(source, kind):
    return read_ava_csv(source, kind, need_action=kind == "detections") if isinstance(source, str | Path) \
        else list(source)


def frame_map(groundtruth, detections, label_map, exclusions=None, iou_threshold=0.5, top_k_per_keyframe=None):
    """Frame-mAP of AVA detections.

    groundtruth, detections: csv paths or lists of :class:`~slowfast_lite.data.ava_files.AVARow` (detections need a
    score). label_map: pbtxt path, or the evaluated class ids (a dict id -> name works). exclusions: csv path or a
    set of (video_id, timestamp), or None.
    Returns (mAP, {action_id: AP}) over the evaluated classes that have ground truth.
    """
    evaluated = set(read_label_map(label_map) if isinstance(label_map, str | Path) else label_map)
    if exclusions is None:
        excluded = set()
    else:
        excluded = read_exclusions(exclusions) if isinstance(exclusions, str | Path) else set(exclusions)

    groundtruth_boxes = defaultdict(list)  # (keyframe, action) -> boxes
    num_groundtruth = defaultdict(int)
    for row in _rows(groundtruth, "groundtruth"):
        if row.key in excluded or row.action_id not in evaluated:
            continue
        groundtruth_boxes[row.key, row.action_id].append(row.box)
        num_groundtruth[row.action_id] += 1

    per_keyframe = defaultdict(list)  # keyframes in order of first appearance, rows in file order
    for row in _rows(detections, "detections"):
        if row.action_id is None or row.score is None:
            raise ValueError(f"detection {row} needs an action_id and a score (is this a proposal file?)")
        x1, y1, x2, y2 = row.box
        if row.key in excluded or row.action_id not in evaluated or x2 <= x1 or y2 <= y1:
            continue  # the official code also drops boxes without area
        per_keyframe[row.key].append(row)

    scores, is_tp = defaultdict(list), defaultdict(list)
    for key, rows in per_keyframe.items():
        if top_k_per_keyframe:
            rows = sorted(rows, key=lambda r: -r.score)[:top_k_per_keyframe]
        by_class = defaultdict(list)
        for row in rows:
            by_class[row.action_id].append(row)
        for action_id, class_rows in by_class.items():
            flags = match_keyframe([r.box for r in class_rows], groundtruth_boxes.get((key, action_id), []),
                                   iou_threshold)
            scores[action_id].extend(r.score for r in class_rows)
            is_tp[action_id].extend(flags.tolist())

    per_class = {}
    for action_id in sorted(num_groundtruth):
        precision, recall = precision_recall(scores[action_id], is_tp[action_id], num_groundtruth[action_id])
        per_class[action_id] = average_precision(precision, recall)
    mean_ap = float(np.mean(list(per_class.values()))) if per_class else float("nan")
    return mean_ap, per_class


def cli(argv) -> int:
    parser = usage.ArgumentParser(prog="python -m slowfast_lite ava-eval",
                                  description="Frame-mAP@0.5 of AVA detections with the official rules.")
    parser.add_argument("--labelmap", required=True, help="pbtxt of the evaluated classes")
    parser.add_argument("--groundtruth", required=True, help="annotation csv")
    parser.add_argument("--detections", required=True, help="detection csv (..., action_id, score)")
    parser.add_argument("--exclusions", help="excluded timestamps csv")
    parser.add_argument("--iou", type=usage.number(above=0, maximum=1), default=0.5,
                        help="IoU threshold in (0, 1] (default 0.5)")
    parser.add_argument("--top-k", type=usage.integer(minimum=1, maximum=100_000), default=None,
                        help="keep the k best detections per keyframe, matched in score order (ActivityNet: 50)")
    args = parser.parse_args(argv)
    for option in ("labelmap", "groundtruth", "detections", "exclusions"):
        if getattr(args, option) is not None:
            usage.check_input_file(getattr(args, option), f"--{option}")
    label_map = read_label_map(args.labelmap)
    groundtruth = read_ava_csv(args.groundtruth, "groundtruth")
    if not groundtruth:
        raise UsageError(f"--groundtruth {args.groundtruth}: no rows; nothing to evaluate against")
    mean_ap, per_class = frame_map(groundtruth, args.detections, label_map, args.exclusions, args.iou, args.top_k)
    if not per_class:
        ids = sorted(label_map)
        shown = ", ".join(map(str, ids[:5])) + (" ..." if len(ids) > 5 else "")
        raise UsageError(f"--groundtruth {args.groundtruth}: none of its {len(groundtruth)} rows is of a class "
                               f"of --labelmap {args.labelmap} (ids {shown}) outside the excluded keyframes; nothing "
                               "to evaluate")
    for action_id, ap in per_class.items():
        print(f"AP@{args.iou:g} {ap:.4f}  {action_id:>3}  {label_map[action_id]}")
    print(f"mAP@{args.iou:g} {mean_ap:.4f} over {len(per_class)} classes with ground truth")
    return 0
