import pytest

from slowfast_lite.data import read_ava_csv, read_label_map, write_ava_csv
from slowfast_lite.data.ava import AVAFormatError, AVARow, read_exclusions, write_exclusions, write_label_map

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
