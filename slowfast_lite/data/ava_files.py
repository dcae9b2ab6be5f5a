"""AVA files in their official formats: read, write, check. Plain Python (no torch, no PyAV), so the
evaluator (``ava_eval``) runs anywhere.

Files (https://research.google.com/ava/download.html):
- annotations ``video_id,timestamp,x1,y1,x2,y2,action_id,person_id``: one row per (box, action), coordinates
  normalised to [0, 1], timestamps in whole seconds;
- detections / person proposals: the same first six columns, then ``action_id`` (empty for a proposal), then
  ``score``;
- excluded timestamps ``video_id,timestamp``;
- label map pbtxt: ``item { name: "..." id: N }`` blocks.
Readers check every row and raise :class:`AVAFormatError` naming the file and line.
"""

import csv
import io
import math
import re
from pathlib import Path
from typing import NamedTuple

from slowfast_lite import usage
from slowfast_lite.errors import AVAFormatError


class AVARow(NamedTuple):
    """One csv row. ``box`` is (x1, y1, x2, y2) normalised to [0, 1]; ``action_id`` is None for a proposal."""

    video_id: str
    timestamp: int
    box: tuple
    action_id: int | None
    person_id: int | None = None
    score: float | None = None

    @property
    def key(self):
        """The keyframe this row belongs to: (video_id, timestamp)."""
        return self.video_id, self.timestamp


KINDS = ("groundtruth", "detections")


def _number(text, convert, what, where):
    try:
        return convert(text)
    except ValueError:
        raise AVAFormatError(f"{where}: {what} must be a number, got {text!r}") from None


def _parse_row(fields, kind, known_actions, where, need_action=False):
    if len(fields) not in (7, 8):
        raise AVAFormatError(f"{where}: expected 7 or 8 comma-separated columns, got {len(fields)}")
    video_id = fields[0]
    if not video_id:
        raise AVAFormatError(f"{where}: empty video_id")
    timestamp = _number(fields[1], int, "timestamp", where)
    box = tuple(_number(v, float, name, where) for v, name in zip(fields[2:6], ("x1", "y1", "x2", "y2"), strict=True))
    if not all(0.0 <= v <= 1.0 for v in box):
        raise AVAFormatError(f"{where}: box coordinates must lie in [0, 1], got {box}")
    if (box[2] <= box[0] or box[3] <= box[1]) and kind == "groundtruth":  # detections: dropped when evaluated,
        raise AVAFormatError(f"{where}: box needs x2 > x1 and y2 > y1, got {box}")  # as the official code does

    action_text = fields[6].strip()
    if action_text == "" and kind == "detections" and need_action:
        raise AVAFormatError(f"{where}: no action_id: this row is a person proposal, not a detection "
                             "(is this a proposal file?)")
    if action_text == "" and kind == "detections":
        action_id = None  # a person proposal: a box without an action
    else:
        action_id = _number(action_text, int, "action_id", where)
        if known_actions is not None and action_id not in known_actions:
            raise AVAFormatError(f"{where}: unknown action id {action_id} (not in the label map)")

    last = fields[7].strip() if len(fields) == 8 else ""
    if kind == "groundtruth":
        person_id = _number(last, int, "person_id", where) if last else None
        return AVARow(video_id, timestamp, box, action_id, person_id=person_id)
    score = _number(last, float, "score", where) if last else 1.0  # the official reader's default
    if not math.isfinite(score):
        raise AVAFormatError(f"{where}: score must be a finite number, got {last!r}")
    return AVARow(video_id, timestamp, box, action_id, score=score)


def read_ava_csv(path, kind="groundtruth", label_map=None, need_action=False):
    """Read an annotation (``kind="groundtruth"``) or detection/proposal (``kind="detections"``) csv.

    label_map: optional ids (a dict id -> name or any container) that action ids must belong to.
    need_action: a detections row without an action id (a person proposal) is an error.
    Returns a list of :class:`AVARow` in file order.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    path = Path(path)
    known = None if label_map is None else set(label_map)
    rows = []
    with io.StringIO(usage.read_text(path), newline="") as f:
        for line_number, fields in enumerate(csv.reader(f), start=1):
            if not fields or all(not v.strip() for v in fields):
                continue
            rows.append(_parse_row([v.strip() for v in fields], kind, known, f"{path}:{line_number}", need_action))
    return rows


def write_ava_csv(path, rows):
    """Write rows in the official layout: coordinates with 3 decimals, timestamps as 4 digits.

    A row with a score is written as a detection (``...,action_id,score``, action_id empty for a proposal),
    otherwise as an annotation (``...,action_id,person_id``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for row in rows:
            action = "" if row.action_id is None else str(row.action_id)
            if row.score is not None:
                last = [f"{row.score:.6f}"]
            else:
                last = [] if row.person_id is None else [str(row.person_id)]
            writer.writerow([row.video_id, f"{row.timestamp:04d}", *(f"{v:.3f}" for v in row.box), action, *last])


def read_exclusions(path):
    """Excluded keyframes: a set of (video_id, timestamp)."""
    path = Path(path)
    excluded = set()
    with io.StringIO(usage.read_text(path), newline="") as f:
        for line_number, fields in enumerate(csv.reader(f), start=1):
            if not fields or all(not v.strip() for v in fields):
                continue
            where = f"{path}:{line_number}"
            if len(fields) != 2:
                raise AVAFormatError(f"{where}: expected 2 columns video_id,timestamp, got {len(fields)}")
            excluded.add((fields[0].strip(), _number(fields[1].strip(), int, "timestamp", where)))
    return excluded


def write_exclusions(path, keys):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        for video_id, timestamp in sorted(keys):
            f.write(f"{video_id},{timestamp:04d}\n")


_ITEM = re.compile(r"item\s*\{(.*?)\}", re.S)
_FIELD = re.compile(r"(\w+)\s*:\s*(\"(?:[^\"\\]|\\.)*\"|[^\s}]+)")


def read_label_map(path):
    """Label map pbtxt -> {action_id: name}, in file order. Fields other than name and id are ignored."""
    path = Path(path)
    text = usage.read_text(path)
    label_map = {}
    for match in _ITEM.finditer(text):
        where = f"{path}:{text.count(chr(10), 0, match.start()) + 1}"
        fields = dict(_FIELD.findall(match.group(1)))
        if "name" not in fields or ("id" not in fields and "label_id" not in fields):
            raise AVAFormatError(f"{where}: an item needs both name and id")
        class_id = _number(fields.get("id", fields.get("label_id")), int, "id", where)
        if class_id in label_map:
            raise AVAFormatError(f"{where}: id {class_id} appears twice")
        label_map[class_id] = fields["name"].strip('"')
    if not label_map:
        raise AVAFormatError(f"{path}: no 'item {{ name: ... id: ... }}' blocks found")
    return label_map


def write_label_map(path, label_map):
    """Write {action_id: name} as pbtxt, in the layout the official readers expect (two-space indent)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = [f'item {{\n  name: "{name}"\n  id: {class_id}\n}}\n' for class_id, name in label_map.items()]
    path.write_text("".join(blocks))


def boxes_by_keyframe(rows):
    """{(video_id, timestamp): {box: set of action ids}}: the rows of one person box gathered, file order kept.

    Rows with the same coordinates on the same keyframe are one person (PySlowFast's rule).
    """
    keyframes = {}
    for row in rows:
        actions = keyframes.setdefault(row.key, {}).setdefault(row.box, set())
        if row.action_id is not None:
            actions.add(row.action_id)
    return keyframes
