"""One statistics convention for the course: the mean over runs with the sample standard deviation, and the bar
a claim must reach (``Z_MIN`` standard deviations over ``MIN_RUNS`` runs in each environment)."""

import math

Z_MIN = 3.5  # a new run falls below mean - 3.5 s.d. about once in 4,300 (normal margins)
MIN_RUNS = 10  # per environment


def mean_and_spread(values) -> tuple:
    """Mean and sample standard deviation (0 for one value)."""
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, spread


def statistics(values) -> dict:
    """n, mean, sample s.d., min and z = mean / s.d. (None when the s.d. is 0: no spread, no estimate)."""
    mean, sd = mean_and_spread(values)
    return {"n": len(values), "mean": round(mean, 6), "sd": round(sd, 6), "min": min(values),
            "z": round(mean / sd, 2) if sd > 0 else None}
