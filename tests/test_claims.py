"""Claims: margins, the notebook check (recorded, machine-independent words), the sweep over seeds."""

import json

import pytest

from slowfast_lite import claims, course


def test_a_claim_holds_from_its_threshold_on():
    assert claims.Claim("k", "s", 0.30, 0.25).margin == pytest.approx(0.05)
    assert claims.Claim("k", "s", 0.25, 0.25).holds and not claims.Claim("k", "s", 0.2499, 0.25).holds


def test_check_records_every_margin_and_prints_only_the_verdicts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(course.RECORD_ENV, str(tmp_path / "records.json"))
    claims.check([claims.Claim("a", "A beats B", 0.9134, 0.5), claims.Claim("b", "B is near chance", 0.02, 0.0)])
    assert capsys.readouterr().out == "holds: A beats B\nholds: B is near chance\n"  # no digit of training
    assert json.loads((tmp_path / "records.json").read_text()) == {"claim.a": 0.4134, "claim.b": 0.02}


def test_a_failing_claim_stops_the_notebook_after_recording_its_margin(tmp_path, monkeypatch):
    monkeypatch.setenv(course.RECORD_ENV, str(tmp_path / "records.json"))
    with pytest.raises(AssertionError, match=r"B is near chance: measured 0\.3, needs 0\.35"):
        claims.check([claims.Claim("a", "A beats B", 0.9, 0.5), claims.Claim("b", "B is near chance", 0.3, 0.35)])
    assert json.loads((tmp_path / "records.json").read_text())["claim.b"] == pytest.approx(-0.05)


def test_mean_and_sample_spread():
    assert claims.mean_and_spread([0.5]) == (0.5, 0.0)
    mean, spread = claims.mean_and_spread([1.0, 2.0, 3.0])
    assert mean == 2.0 and spread == pytest.approx(1.0)


def fake_report(seed, names):
    results = [course.NotebookResult(name, "ok", {"seed": seed}, "f", wall_s=10.0,
                                     metrics={"claim.x": 0.1 * seed, "top1": 0.5 + 0.1 * seed}) for name in names]
    return course.CourseReport("quick", results, {})


def test_sweep_runs_each_seed_keeps_other_notebooks_and_summarises(tmp_path, monkeypatch):
    calls = []

    def run(profile, out_dir, only, resume, overrides, log):
        calls.append((only, overrides))
        return fake_report(next(iter(overrides.values()))["seed"], only.split(","))

    monkeypatch.setattr(course, "run", run)
    claims.sweep([0, 1], ["06_training"], out_dir=tmp_path, log=lambda *a: None)
    assert calls == [("06_training", {"06_training": {"seed": 0}}), ("06_training", {"06_training": {"seed": 1}})]
    claims.sweep([0], ["08_your_own_video"], out_dir=tmp_path, log=lambda *a: None)
    result = json.loads((tmp_path / "seeds.json").read_text())
    assert sorted(result["seeds"]["0"]) == ["06_training", "08_your_own_video"] and list(result["seeds"]["1"]) == [
        "06_training"]
    assert result["provenance"]["06_training"]["wall_s"] == 20 and "cpu" in result["provenance"]["08_your_own_video"]
    assert claims.numbers(result, "06_training")["top1"] == [0.5, 0.6]
    summary = (tmp_path / "seeds.md").read_text()
    assert "| 06_training | x | +0.000 | +0.100 | +0.000 |" in summary
    assert "| 08_your_own_video | x | +0.000 | - | +0.000 |" in summary
