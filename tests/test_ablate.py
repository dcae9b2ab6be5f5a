"""The ablation sweep: rows x seeds through the trained-model cache, resumable, results + summary + figure."""

import json
from pathlib import Path

import pytest

from slowfast_lite.__main__ import main
from slowfast_lite.course import ablate, recipes

COMMITTED = Path(__file__).resolve().parents[1] / "results" / "table2_quick"


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A tiny sweep profile (a few clips, one epoch) with its own data folder."""
    monkeypatch.setenv("SLOWFAST_LITE_DATA", str(tmp_path / "data"))
    monkeypatch.setitem(recipes.PROFILES["quick"], "ablation", {"data": dict(train=1, val=1, test=1, size=32,
                                                                             frames=16),
                                                                "train": dict(epochs=1, batch_size=4)})
    return tmp_path


def test_ablate_command_runs_rows_once_and_resumes(tiny, monkeypatch, capsys):
    out = tiny / "sweep"
    assert main(["ablate", "--rows", "2b", "--seeds", "0", "--out", str(out), "--threads", "2"]) == 0
    records = ablate.read_results(out / "results.jsonl")
    # in the order of ablate.VARIANTS
    assert [r["variant"] for r in records] == ["slow", "slowfast", "fast", "resnet3d_8x4"]
    first = records[0]
    assert set(first["groups"]) == {"appearance", "motion", "binding"} and 0 <= first["top1"] <= 1
    assert first["params"] > 0 and first["gmacs"] > 0 and first["recipe"]["epochs"] == 1
    assert first["test_videos"] == 10  # one clip per class of the ablation set
    summary = (out / "summary.md").read_text()
    assert "Table 2b" in summary and "| Slow-only 4x8 | 72.6 | 20.9 |" in summary
    assert (out / "accuracy_vs_gmacs.png").stat().st_size > 1000
    facts = ablate.read_provenance(out)
    assert facts["command"].startswith("python -m slowfast_lite ablate --rows 2b") and facts["threads"] == 2
    assert facts["calls"] == 1 and facts["wall_time_s"] > 0
    assert "Table 2b" in capsys.readouterr().out

    real_fit = recipes.train.fit

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(recipes.train, "fit", no_training)
    # finished runs are kept: nothing reruns, nothing is appended
    ablate.run(["2b"], [0], "quick", out, progress=False)
    assert len(ablate.read_results(out / "results.jsonl")) == 4
    # 2f needs Slow-only again (cached) and an ensemble whose first member is that same model: only the second
    # member and SlowSlow train
    trained = []

    def counting_fit(model, *args, **kwargs):
        trained.append(model.config.name)
        return real_fit(model, *args, **kwargs)

    monkeypatch.setattr(recipes.train, "fit", counting_fit)
    ablate.run(["2f"], [0], "quick", out, progress=False)
    assert sorted(trained) == ["slow_tiny", "slowfast_tiny"]
    summary = (out / "summary.md").read_text()
    assert "Table 2b" in summary and "Table 2f" in summary  # a later sweep of other rows keeps 2b in the reports
    records = ablate.read_results(out / "results.jsonl")
    assert [r["variant"] for r in records][4:] == ["slow_ensemble", "slowslow"]
    ensemble = records[4]
    assert ensemble["members"] == 2 and ensemble["gmacs"] == pytest.approx(2 * records[0]["gmacs"])


def test_bad_rows_and_seeds_are_named(tmp_path, capsys):
    assert main(["ablate", "--rows", "2b,2z", "--out", str(tmp_path)]) == 2
    assert "unknown row(s) ['2z']" in capsys.readouterr().err
    assert main(["ablate", "--seeds", "0,one", "--out", str(tmp_path)]) == 2
    assert "--seeds '0,one'" in capsys.readouterr().err
    (tmp_path / "results.jsonl").write_text('{"variant": "slow", "seed": 0, "profile": "quick"}\nnot json\n')
    with pytest.raises(ablate.AblationError, match="results.jsonl, line 2"):
        ablate.read_results(tmp_path / "results.jsonl")


def test_a_line_of_a_variant_since_redefined_is_refused_not_taken_for_the_new_one(tmp_path, monkeypatch):
    record = {"variant": "fast_time_diff", "seed": 0, "profile": "quick", "model": "slowfast_tiny",
              "overrides": {}, "data": {"fast_time_difference": True}, "members": 1}  # before its one-channel conv1
    (tmp_path / "results.jsonl").write_text(json.dumps(record) + "\n")
    monkeypatch.setattr(recipes.train, "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(ablate.AblationError, match="'fast_time_diff' seed 0 was run as .*remove its lines"):
        ablate.run(["2e"], [0], "quick", tmp_path, progress=False)


def test_every_committed_line_matches_its_variants_definition():
    ablate._check_definitions(ablate.read_results(COMMITTED / "results.jsonl"), COMMITTED / "results.jsonl")


def test_summary_reports_mean_and_spread_over_seeds():
    records = [{"variant": "slow", "label": "Slow-only 4x8", "seed": s, "top1": t, "gmacs": 0.01, "params": 10,
                "groups": {"binding": b}} for s, t, b in [(0, 0.5, 0.4), (1, 0.7, 0.6)]]
    stats = ablate.aggregate(records)["slow"]
    sample_sd = 0.1 * 2 ** 0.5  # two seeds 0.2 apart: divided by n - 1
    assert stats["top1"] == pytest.approx((0.6, sample_sd)) and stats["binding"] == pytest.approx((0.5, sample_sd))
    text = ablate.summary_markdown(records, ["2b"])
    assert "| Slow-only 4x8 | 72.6 | 20.9 | 60.0 +- 14.1 | 50.0 +- 14.1 | 10.0 | 10 | 2 |" in text
    assert "sample standard deviation" in text
    assert "| Fast-only 16x2 | 51.7 | 4.9 | not run |" in text


def test_a_committed_run_reruns_inside_its_band():
    """Slow-only at seed 0 (the cheapest variant) against the committed sweep: the structure exactly, the accuracy
    inside the band a re-run lands in on any machine (training's last digits differ between CPUs)."""
    records = ablate.read_results(COMMITTED / "results.jsonl")
    committed = next(r for r in records if r["variant"] == "slow" and r["seed"] == 0)
    live = ablate.run_variant("slow", "quick", 0)
    assert (live["params"], live["test_videos"], live["recipe"]) == (committed["params"], committed["test_videos"],
                                                                      committed["recipe"])
    assert live["gmacs"] == pytest.approx(committed["gmacs"], rel=1e-9)
    low, high = ablate.spread_band(records, "slow")
    assert low <= live["top1"] <= high


def test_figure_labels_keep_apart_and_in_order():
    # six variants at nearly one accuracy (as the SlowFast variants sit): each label gets its own line
    records = [{"variant": v, "label": ablate.VARIANTS[v].label, "seed": 0, "top1": 0.98 + 0.001 * i,
                "gmacs": 0.03, "params": 1, "groups": {}} for i, v in enumerate(
                   ("no_lateral", "ttoc_concat", "ttoc_sum", "tsample", "slowfast", "fast_rgb"))]
    records.append({**records[0], "variant": "slow", "label": "Slow-only 4x8", "top1": 0.6, "gmacs": 0.01})
    fig = ablate.figure(records)
    texts = fig.axes[0].texts
    ys = [t.get_position()[1] for t in sorted(texts, key=lambda t: t.xy[1])]  # in the order of the points
    assert len(texts) == 7 and 0 <= ys[0] and ys[-1] <= 1
    assert all(b - a >= 1 / 24 - 1e-9 for a, b in zip(ys, ys[1:], strict=False))


def test_a_band_per_class_group_counts_only_that_groups_test_videos():
    records = [{"variant": "v", "seed": s, "top1": 0.9, "test_videos": 300,
                "groups": {"appearance": 1.0, "motion": 0.9, "binding": b}} for s, b in enumerate((0.5, 0.5, 0.5))]
    low, high = ablate.spread_band(records, "v", "binding")  # no spread over seeds: the binomial s.e. of 60 videos
    width = 3.5 * (0.5 * 0.5 / 64) ** 0.5  # Agresti-Coull: 32 of 64
    assert (low, high) == pytest.approx((0.5 - width, 0.5 + width))
    perfect = [{**r, "groups": {**r["groups"], "binding": 1.0}} for r in records]
    low, high = ablate.spread_band(perfect, "v", "binding")  # all right at every seed: still a band, not a point
    assert 0.9 < low < 0.95 and high > 1.0
    with pytest.raises(ablate.AblationError, match="colour"):
        ablate.spread_band(records, "v", "colour")
