"""What used to end in a traceback or an unclear message: each is one line naming the file, option or argument
(command line), or a ValueError / TypeError naming the argument (Python API)."""

import json

import pytest
from conftest import make_frames

from slowfast_lite.__main__ import main
from slowfast_lite.data.kinetics import DatasetError, VideoClassificationDataset, read_classnames
from slowfast_lite.video import write_video


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clear")
    write_video(tmp / "clip.mp4", make_frames(24, 32, 32), 30)
    (tmp / "clips").mkdir()
    return tmp


def one_line(capsys, command):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{command}: ") and "Traceback" not in lines[0], lines
    return lines[0]


def test_a_byte_order_mark_in_a_csv_is_accepted(folder):
    csv = folder / "bom.csv"
    csv.write_bytes("\ufeffclip.mp4 0\nclip.mp4 1\n".encode())
    data = VideoClassificationDataset(csv, "test", num_clips=1, num_crops=1)
    assert [p.name for p, _ in data.rows] == ["clip.mp4", "clip.mp4"]
    names = folder / "names.json"
    names.write_bytes(b"\xef\xbb\xbf" + json.dumps({"a": 0, "b": 1}).encode())
    assert read_classnames(names) == ["a", "b"]


def test_a_csv_row_that_names_a_folder(folder, capsys):
    csv = folder / "folder_row.csv"
    csv.write_text("clip.mp4 0\nclips 1\n")
    assert main(["train", "--data", str(csv), "--out", str(folder / "run")]) == 2
    assert f"folder_row.csv, line 2: {folder / 'clips'} is a folder, not a video file" in one_line(capsys, "train")


@pytest.mark.parametrize("text, words", [
    ('{"a": 0, "b": ', "classnames.json: not valid JSON (Expecting value: line 1 column 15"),
    ('["a", "b"]', 'classnames.json: expected a JSON object {"class name": index, ...}, got an array'),
    ('{"a": 0, "b": "one"}', "classnames.json: class 'b' has index 'one', not an integer"),
    ('{"a": 0, "b": 2}', "classnames.json: class indices must be 0..1, each once"),
    ("{}", "classnames.json: no class names"),
])
def test_a_malformed_classnames_json_is_one_line(folder, capsys, tmp_path, text, words):
    (tmp_path / "clip.mp4").write_bytes((folder / "clip.mp4").read_bytes())
    (tmp_path / "train.csv").write_text("clip.mp4 0\nclip.mp4 1\n")
    (tmp_path / "classnames.json").write_text(text)
    with pytest.raises(DatasetError, match="classnames.json"):
        read_classnames(tmp_path / "classnames.json")
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2
    assert words in one_line(capsys, "train")
