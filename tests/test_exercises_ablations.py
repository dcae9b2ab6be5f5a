from slowfast_lite.course.exercises import ablations as ex


def _record(variant, seed, binding):
    return {"variant": variant, "label": variant, "seed": seed, "top1": binding, "gmacs": 0.01, "params": 1,
            "groups": {"binding": binding}}


def test_check_binding_winner(capsys):
    records = [_record(v, s, b + 0.01 * s) for v, b in (("no_lateral", 0.5), ("slowfast", 0.99), ("tsample", 0.97))
               for s in range(3)]
    assert ex.check_binding_winner("slowfast", records)
    assert not ex.check_binding_winner("no_lateral", records)
    assert ex.check_binding_winner("tsample", records[:6] + [_record("tsample", s, 0.99) for s in range(3)])  # a tie
    assert "slowfast 100%" in capsys.readouterr().out  # the ranking is shown
    assert not ex.check_binding_winner("ttoc_sum", records)  # not in these results
    assert not ex.check_binding_winner("tconv", records)  # not a variant name


def _std(values, ddof):
    mean = sum(values) / len(values)
    return mean, (sum((v - mean) ** 2 for v in values) / max(len(values) - ddof, 1)) ** 0.5


def test_check_mean_spread(capsys):
    assert ex.check_mean_spread(lambda values: _std(values, 1))  # the sample s.d., as every results file
    assert not ex.check_mean_spread(lambda values: _std(values, 0))
    assert "divides by n - 1" in capsys.readouterr().out
    assert not ex.check_mean_spread(lambda v: None)
