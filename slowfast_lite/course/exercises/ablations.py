"""Self-checks for the exercises of notebook 06b (the Table 2 ablations in miniature).

Each ``check_*`` prints what is right or wrong about an answer and returns True or False.
"""

import math

from slowfast_lite.course import ablate
from slowfast_lite.course.exercises import verdict

LATERALS = ("no_lateral", "ttoc_concat", "ttoc_sum", "tsample", "slowfast")


def check_binding_winner(guess, records) -> bool:
    """Which Table 2c variant (one of ``LATERALS``; "slowfast" is T-conv) is best on the binding classes in
    ``records`` (``ablate.read_results``)? A guess that the best one does not beat by more than twice the larger
    spread over seeds (the notebook's rule for a difference) counts as right."""
    stats = ablate.aggregate(records)
    present = [v for v in LATERALS if v in stats]
    if guess not in LATERALS:
        return verdict(False, "", f"{guess!r}: name one of {', '.join(LATERALS)}")
    if guess not in present:
        return verdict(False, "", f"{guess} is not in these results (they hold {', '.join(present) or 'none'}): "
                                   "run ablate --rows 2c for it")
    best = max(present, key=lambda v: stats[v]["binding"][0])
    (best_mean, best_spread), (mean, spread) = stats[best]["binding"], stats[guess]["binding"]
    ranking = ", ".join(f"{v} {100 * stats[v]['binding'][0]:.0f}%"
                        for v in sorted(present, key=lambda v: -stats[v]["binding"][0]))
    return verdict(best_mean - mean <= 2 * max(best_spread, spread),
                   f"{guess} is (within twice the spread) the best on binding: {ranking}",
                   f"{guess} scores {100 * mean:.0f}% on binding; the ranking is {ranking}")


def check_mean_spread(mean_spread) -> bool:
    """``mean_spread(values) -> (mean, spread)``: the mean and the sample standard deviation over seeds (divide by
    n - 1; 0 for one seed)."""
    if not callable(mean_spread):
        return verdict(False, "", "write mean_spread(values) and pass the function to this check")
    for values in ([0.5], [0.5, 0.7], [0.9, 0.95, 1.0], [0.25, 0.5, 0.25, 1.0]):
        got, expected = mean_spread(list(values)), ablate._mean_spread(values)
        if got is None or len(got) != 2:
            return verdict(False, "", "return a pair (mean, spread)")
        if not all(math.isclose(g, e, abs_tol=1e-9) for g, e in zip(got, expected, strict=True)):
            hint = ("the sample spread divides by n - 1, not n: the mean was estimated from the same seeds"
                    if len(values) > 1 and math.isclose(
                        got[1], expected[1] * math.sqrt((len(values) - 1) / len(values)), rel_tol=1e-6) else "")
            pair = lambda m_s: f"({m_s[0]:.4g}, {m_s[1]:.4g})"
            return verdict(False, "", f"for {values} expected {pair(expected)}, got {pair(got)} {hint}".strip())
    return verdict(True, "mean and spread (sample standard deviation over seeds) as the tables show them", "")
