"""Claims: margins, the notebook check (recorded, machine-independent words), the sweep over seeds."""

import json

import pytest

from slowfast_lite import course
from slowfast_lite.course import claims, stats


def test_a_claim_holds_from_its_threshold_on():
    assert claims.Claim("k", "s", 0.30, 0.25).margin == pytest.approx(0.05)
    assert claims.Claim("k", "s", 0.25, 0.25).holds and not claims.Claim("k", "s", 0.2499, 0.25).holds


def calibrated(monkeypatch, notebook="nb", **z):
    """Pretend the committed calibration gives each claim key its z (20 runs in two environments)."""
    def stats(value, n=10):
        return {"n": n, "mean": 1.0, "sd": 1.0, "min": 0.0, "z": value}

    table = {notebook: {key: {**stats(value, 20), "per_env": {"default": stats(value), "simulated": stats(value)}}
                        for key, value in z.items()}}
    monkeypatch.setattr(claims, "committed", lambda profile="quick": table)


def test_check_records_every_margin_and_prints_only_the_verdicts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(course.records.RECORD_ENV, str(tmp_path / "records.json"))
    calibrated(monkeypatch, a=9.0, b=4.0)
    claims.check("nb", [claims.Claim("a", "A beats B", 0.9134, 0.5), claims.Claim("b", "B is near chance", 0.02, 0.0)])
    assert capsys.readouterr().out == "holds: A beats B\nholds: B is near chance\n"  # no digit of training
    assert json.loads((tmp_path / "records.json").read_text()) == {"claim.a": 0.4134, "claim.b": 0.02}


def test_a_failing_claim_stops_the_notebook_after_recording_its_margin(tmp_path, monkeypatch):
    monkeypatch.setenv(course.records.RECORD_ENV, str(tmp_path / "records.json"))
    calibrated(monkeypatch, a=9.0, b=4.0)
    with pytest.raises(AssertionError, match=r"B is near chance: measured 0\.3, needs 0\.35"):
        claims.check("nb", [claims.Claim("a", "A beats B", 0.9, 0.5), claims.Claim("b", "B is near chance", 0.3, 0.35)])
    assert json.loads((tmp_path / "records.json").read_text())["claim.b"] == pytest.approx(-0.05)


def test_a_claim_below_the_bar_cannot_be_asserted_even_when_it_holds(monkeypatch):
    calibrated(monkeypatch, a=9.0, weak=3.4)
    with pytest.raises(AssertionError, match=r"report instead of asserting: weak \(z = 3\.4 over 20 runs in 2 env"):
        claims.check("nb", [claims.Claim("a", "A", 1.0, 0.0), claims.Claim("weak", "W", 1.0, 0.0)])
    with pytest.raises(AssertionError, match="missing .no committed calibration."):
        claims.check("nb", [claims.Claim("missing", "M", 1.0, 0.0)])


def test_one_environment_or_few_seeds_is_not_enough():
    one_env = {"n": 20, "z": 9.0, "per_env": {"default": {"n": 20}}}
    few = {"n": 18, "z": 9.0, "per_env": {"default": {"n": 9}, "simulated": {"n": 9}}}
    enough = {"n": 20, "z": 3.5, "per_env": {"default": {"n": 10}, "simulated": {"n": 10}}}
    assert not claims.supported(one_env) and not claims.supported(few) and claims.supported(enough)
    assert not claims.supported({**enough, "z": None}) and not claims.supported(None)


def test_report_records_and_says_why_without_asserting(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(course.records.RECORD_ENV, str(tmp_path / "records.json"))
    calibrated(monkeypatch, weak=2.04)
    claims.report("nb", [claims.Claim("weak", "W beats V", -0.1, 0.0)])  # even a failing value only reports
    assert capsys.readouterr().out == "not asserted: W beats V (z = 2.0 over 20 runs in 2 environments)\n"
    assert json.loads((tmp_path / "records.json").read_text()) == {"claim.weak": -0.1}


def test_a_sweep_measures_without_asserting(monkeypatch):
    monkeypatch.setenv(claims.MEASURE_ENV, "1")
    claims.check("nb", [claims.Claim("never_calibrated", "fails", 0.0, 1.0)])  # recorded, not raised


@pytest.mark.parametrize("text, seeds", [("0,1,2", [0, 1, 2]), ("0-3", [0, 1, 2, 3]), ("5,0-1,1", [0, 1, 5])])
def test_seeds_are_lists_or_ranges(text, seeds):
    assert claims.parse_seeds(text) == seeds


@pytest.mark.parametrize("text", [",", "a", "-1", "3-1", "1-x"])
def test_bad_seeds_are_refused(text):
    with pytest.raises(ValueError):
        claims.parse_seeds(text)


def fake_run_seed(seed, only, profile, work, overrides):
    import os

    # what the notebooks see: the environment's variables and data folder, and the measure-only switch
    return {name: {"status": "ok", "error": None, "wall_s": 10.0, "numbers": {
        "claim.x": 0.1 * (seed + 1), "top1": 0.5 + 0.1 * seed, "threads": os.environ.get("OMP_NUM_THREADS"),
        "data": os.environ["SLOWFAST_LITE_DATA"], "measure": os.environ.get(claims.MEASURE_ENV)}} for name in only}


def test_sweep_per_environment_then_calibrate_over_all(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "_run_seed", fake_run_seed)
    monkeypatch.setenv("SLOWFAST_LITE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # the default environment is the machine as it is, without these
    out = tmp_path / "results"
    claims.sweep([0, 1], ["06_training"], env="default", out_dir=out, log=lambda *a: None)
    claims.sweep([0, 1, 2], ["06_training"], env="simulated", jobs=2, out_dir=out, log=lambda *a: None)
    default = json.loads((out / "default.json").read_text())
    simulated = json.loads((out / "simulated.json").read_text())
    run = default["runs"]["0"]["06_training"]["numbers"]
    assert run["threads"] is None and run["data"] == str(tmp_path / "data" / "claims" / "default") and run["measure"]
    assert simulated["runs"]["2"]["06_training"]["numbers"]["threads"] == "1"
    [facts] = simulated["calls"]
    assert facts["threads"] == 1 and facts["cpu_variables"]["MKL_CBWR"] == "COMPATIBLE" and facts["seeds"] == [0, 1, 2]
    assert default["calls"][0]["cpu_variables"]["OMP_NUM_THREADS"] is None
    claims.sweep([0, 1, 2], ["06_training"], env="default", out_dir=out, log=lambda *a: None)  # resumed: seed 2
    calls = json.loads((out / "default.json").read_text())["calls"]
    assert [c["seeds"] for c in calls] == [[0, 1], [2]]  # each call that added runs keeps its provenance
    document = json.loads((out / "claims.json").read_text())
    x = document["claims"]["06_training"]["x"]
    assert x["n"] == 6 and x["per_env"]["default"]["n"] == 3 and x["per_env"]["simulated"]["n"] == 3
    assert x["mean"] == pytest.approx(0.2) and x["z"] == pytest.approx(0.2 / stats.mean_and_spread(
        [0.1, 0.2, 0.3, 0.1, 0.2, 0.3])[1], abs=0.01)
    assert document["numbers"]["06_training"]["top1"]["n"] == 6
    assert "| 06_training | x | 6 | +0.200 |" in (out / "claims.md").read_text()
    # a finished seed is not run again
    monkeypatch.setattr(claims, "_run_seed", lambda *a: pytest.fail("ran a finished seed"))
    claims.sweep([0, 1], ["06_training"], env="default", out_dir=out, log=lambda *a: None)


def asserted_and_reported(notebook):
    """The claim keys a committed notebook passes to ``claims.check`` and to ``claims.report``."""
    import re

    import nbformat

    nb = nbformat.read(claims.RESULTS_DIR.parent / "notebooks" / f"{notebook}.ipynb", as_version=4)
    found = {"check": [], "report": []}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for call, body in re.findall(r"claims\.(check|report)\((.*?)\], profile\)", cell.source, flags=re.S):
            found[call] += re.findall(r'claims\.Claim\(\s*f?"([a-z_0-9]+)"', body)
    return found


@pytest.mark.parametrize("notebook", claims.TRAINING_NOTEBOOKS)
def test_every_asserted_claim_is_calibrated_and_every_calibrated_one_is_shown(notebook):
    """What a notebook asserts has z >= 3.5 over >= 10 seeds in each of two environments in the committed results;
    what falls short (a weak margin, or too few runs) is reported, not asserted; and every claim the sweep
    measured appears in the notebook."""
    found = asserted_and_reported(notebook)
    calibration = claims.committed("quick")[notebook]
    for key in found["check"]:
        stats = calibration.get(key)
        assert claims.supported(stats), f"{notebook} asserts {key}: {claims.describe(stats)}"
    for key in found["report"]:
        assert key in calibration and not claims.supported(calibration[key]), f"{notebook} reports strong {key}"
    assert sorted(found["check"] + found["report"]) == sorted(calibration), notebook
