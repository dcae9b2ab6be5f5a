"""Values that mean nothing are refused before any work, in one line with exit status 2 (``ablate``, ``course
--set``), and values that mean something are accepted (clip 0 exists)."""

import json

import pytest

from slowfast_lite.__main__ import main
from slowfast_lite.course import ablate


def one_line(capsys, command):
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{command}: "), lines
    return lines[0]


@pytest.mark.parametrize("args, words", [
    (["--seeds", ","], "--seeds ',': give one or more seeds >= 0"),
    (["--seeds", ""], "--seeds '': give one or more seeds >= 0"),
    (["--seeds", "0,-1"], "--seeds '0,-1': write integers >= 0"),
    (["--rows", ","], "--rows ',': give one or more rows"),
    (["--rows", "2b,2z"], "unknown row(s) ['2z']"),
    (["--jobs", "0"], "argument --jobs: must be >= 1, got 0"),
    (["--jobs", "-5"], "argument --jobs: must be >= 1, got -5"),
    (["--jobs", "two"], "argument --jobs: expected an integer"),
    (["--threads", "0"], "argument --threads: must be >= 1"),
    (["--profile", "huge"], "argument --profile: invalid choice: 'huge'"),
    ([], "the following arguments are required: --out"),
])
def test_ablate_refuses_meaningless_options(tmp_path, capsys, args, words):
    argv = ["ablate", *args] + (["--out", str(tmp_path / "sweep")] if args else [])
    assert main(argv) == 2
    assert words in one_line(capsys, "ablate")
    assert not (tmp_path / "sweep").exists()


RECORD = '{"variant": "slow", "seed": 0, "profile": "quick"}'


@pytest.mark.parametrize("content, words", [
    (RECORD + '\n{"variant": "slow", "se', "results.jsonl, line 2: not a json"),
    (RECORD + "\n[1, 2]\n", "results.jsonl, line 2: not a record of this"),
    ('{"variant": "slow"}\n', "results.jsonl, line 1: not a record of this sweep (no seed, profile)"),
    (b"\xff\xfe{}\n", "results.jsonl:1: not UTF-8 text"),
])
def test_ablate_names_a_damaged_results_file_and_line(tmp_path, capsys, content, words):
    out = tmp_path / "sweep"
    out.mkdir()
    path = out / "results.jsonl"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    assert main(["ablate", "--rows", "2b", "--seeds", "0", "--out", str(out)]) == 2
    assert words in one_line(capsys, "ablate")
    assert sorted(p.name for p in out.iterdir()) == ["results.jsonl"]  # nothing written beside it


def test_ablate_names_a_damaged_provenance_file(tmp_path, capsys):
    (tmp_path / "provenance.json").write_text(json.dumps({"calls": []}))
    assert main(["ablate", "--rows", "2b", "--seeds", "0", "--out", str(tmp_path)]) == 2
    assert "provenance.json: not the provenance this command writes" in one_line(capsys, "ablate")
    with pytest.raises(ablate.AblationError, match="provenance.json"):
        ablate.read_provenance(tmp_path)


@pytest.mark.parametrize("setting, status, words", [
    ("00_overview:clip_index=0", 0, ""),
    ("00_overview:clip_index=9", 0, ""),
    ("00_overview:clip_index=10", 2, "'clip_index' = 10 is out of range: a clip of num_test_clips = 10: 0 to 9"),
    ("00_overview:clip_index=500", 2, "'clip_index' = 500 is out of range"),
    ("00_overview:clip_index=-1", 2, "'clip_index' = -1 is out of range"),
    ("00_overview:device=quantum", 2, "'device' = 'quantum' is out of range: 'quantum': not a device"),
    ("00_overview:device=cpu", 0, ""),
    ("06_training:profile=huge", 2, "'profile' = 'huge' is out of range: choose from 'full', 'quick'"),
    ("06_training:profile=full", 0, ""),
    ("00_overview:count_model=resnet9000", 2, "'count_model' = 'resnet9000' is out of range: choose from"),
    ("00_overview:beta=1.5", 2, "'beta' = 1.5 is out of range: must be in (0, 1]"),
    ("06b_ablations:live_variant=nothing", 2, "'live_variant' = 'nothing' is out of range"),
    ("08_your_own_video:cam_layer=s9", 2, "'cam_layer' = 's9' is out of range"),
    ("08_your_own_video:real_model=", 0, ""),
    ("07_ava_detection:score_threshold=2.0", 2, "'score_threshold' = 2.0 is out of range: must be in [0, 1]"),
])
def test_course_checks_values_against_what_the_notebooks_accept(capsys, setting, status, words):
    assert main(["course", "--set", setting, "--dry-run"]) == status
    if status:
        assert words in one_line(capsys, "course")
