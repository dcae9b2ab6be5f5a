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


def test_data_folder_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    afile = tmp_path / "data.txt"
    afile.write_text("not a folder")
    monkeypatch.setenv("SLOWFAST_LITE_DATA", str(afile))
    assert main(["make-data", "wheel"]) == 2
    assert f"SLOWFAST_LITE_DATA={afile} is a file, not a folder" in one_line(capsys, "make-data wheel")
    monkeypatch.setenv("SLOWFAST_LITE_DATA", str(afile / "below"))
    assert main(["make-data", "wheel"]) == 2
    assert f"SLOWFAST_LITE_DATA={afile / 'below'} cannot be created" in one_line(capsys, "make-data wheel")
    assert afile.read_text() == "not a folder"


def test_ctrl_c_while_a_command_starts_is_one_line(monkeypatch, capsys):
    import importlib

    def interrupted(name, *args):
        raise KeyboardInterrupt
    monkeypatch.setattr(importlib, "import_module", interrupted)
    assert main(["train", "--data", "x.csv"]) == 130
    assert one_line(capsys, "train") == "train: interrupted"


# ------------------------------------------------------------------------------------------------ Python API
@pytest.fixture(scope="module")
def tiny():
    from slowfast_lite.models import build_model

    return build_model("slowfast_tiny", num_classes=3).eval()


def test_integer_clips_name_the_argument(tiny):
    import torch

    pathways = [torch.zeros(shape, dtype=torch.uint8) for shape in tiny.config.input_shapes(1, crop=32)]
    with pytest.raises(TypeError, match=r"expects floating-point pathways .*\['torch.uint8', 'torch.uint8'\]"):
        tiny(pathways)


def test_an_empty_time_axis_names_the_argument(tiny):
    import torch

    pathways = [torch.zeros(s[:2] + (0,) + s[3:]) for s in tiny.config.input_shapes(1, crop=32)]
    with pytest.raises(ValueError, match="pathways has an empty dimension"):
        tiny(pathways)


@pytest.mark.parametrize("box", [[0, float("nan"), 0, 4, 4], [0, 0, 0, float("inf"), 4], [float("nan"), 0, 0, 4, 4]])
def test_non_finite_boxes_name_the_argument(box):
    import torch

    from slowfast_lite.models import roi_align

    with pytest.raises(ValueError, match=r"roi_align: boxes must be finite, row 1 is"):
        roi_align(torch.randn(1, 4, 8, 8), torch.tensor([[0, 0, 0, 4, 4], box]), 2)


def test_detection_with_a_nan_box_names_the_boxes():
    import torch

    from slowfast_lite.models import build_model

    model = build_model("slowfast_tiny", num_classes=3, detection=True).eval()
    pathways = [torch.zeros(shape) for shape in model.config.input_shapes(1, crop=32)]
    with pytest.raises(ValueError, match="boxes must be finite"):
        model(pathways, torch.tensor([[0, float("nan"), 0, 4, 4]]))


def test_roi_align_input_types_name_the_argument():
    import torch

    from slowfast_lite.models import roi_align

    boxes = torch.tensor([[0, 0, 0, 4, 4.0]])
    with pytest.raises(TypeError, match="roi_align: features must be floating point, got torch.int32"):
        roi_align(torch.zeros(1, 4, 8, 8, dtype=torch.int32), boxes, 2)
    with pytest.raises(TypeError, match="roi_align: boxes must be real numbers, got torch.bool"):
        roi_align(torch.zeros(1, 4, 8, 8), boxes.bool(), 2)
    with pytest.raises(ValueError, match="roi_align: features must be"):
        roi_align([[1.0]], boxes, 2)


@pytest.mark.parametrize("overrides, words", [
    (dict(nonlocal_blocks=((), (5,), (), ())), r"nonlocal_blocks=.* names block 5 of res3, which has blocks 0..0"),
    (dict(nonlocal_blocks=((), (-1,), (), ())), "names block -1 of res3"),
    (dict(nonlocal_blocks=((), ("a",), (), ())), "names block 'a' of res3"),
    (dict(pathways="fast", nonlocal_blocks=((), (0,), (), ())), "this network has none"),
])
def test_a_non_local_block_that_does_not_exist_is_refused(overrides, words):
    from slowfast_lite.models import build_model

    with pytest.raises(ValueError, match=words):
        build_model("slowfast_tiny", **overrides)
