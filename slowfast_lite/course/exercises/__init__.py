"""Self-checks for the notebooks' exercises, one module per notebook topic.

Each ``check_*`` function prints what is right or wrong about a learner's answer and returns True/False.
"""


def verdict(ok: bool, good: str, bad: str) -> bool:
    """Print ``correct: good`` or ``not yet: bad`` and return ``ok``: the last line of every check."""
    print(("correct: " + good) if ok else ("not yet: " + bad))
    return ok
