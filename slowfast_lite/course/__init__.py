"""The course layer: what the notebooks need beyond the library, and what runs, checks and publishes them.

``recipes`` (the course's training recipes and profiles), ``claims`` (each claim calibrated over seeds and
machines), ``stats`` (its statistics), ``ablate`` (the Table 2 sweep), ``runner``, ``parameters``, ``notebooks``,
``report`` and ``records`` (executing the course with papermill), ``cli`` (``python -m slowfast_lite course``),
``site`` (the static website), ``widgets`` and ``exercises``. The library (``slowfast_lite`` outside this package)
never imports it. Notebooks call ``course.record(key, value)``; submodules load on first use.
"""

import importlib

from slowfast_lite.course.records import record

_SUBMODULES = {"ablate", "claims", "cli", "exercises", "notebooks", "parameters", "recipes", "records", "report",
               "runner", "site", "stats", "widgets"}

__all__ = ["record", *sorted(_SUBMODULES)]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
