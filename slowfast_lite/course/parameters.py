"""The parameters a course run injects: the profiles' overrides, the user's ``--set``, each checked against the
notebook's ``parameters`` cell and against what the notebooks accept."""

import ast
import math
from pathlib import Path

from slowfast_lite import usage
from slowfast_lite.course import recipes
from slowfast_lite.course.notebooks import CourseError, Expression, notebook_parameters
from slowfast_lite.errors import UsageError

# profile -> notebook -> papermill parameter overrides: the notebooks' part of the one profile table
# (recipes.PROFILES). Every key must exist in that notebook's `parameters` cell.
PROFILES = {name: profile["notebooks"] for name, profile in recipes.PROFILES.items()}
BACKBONE_NOTEBOOK = "06_training"  # its recipe parameters (recipes.BACKBONE_KEYS) reach 07 and 08 as backbone_recipe


def resolve_parameters(profile: str, notebooks: list[Path], overrides=None) -> dict:
    """Notebook stem -> the parameters to inject for ``profile``, plus ``overrides`` (same shape) on top.

    Raises CourseError for an unknown profile, a notebook the folder lacks, a key that the notebook's
    `parameters` cell lacks, or a value whose type differs from the default's.
    """
    if profile not in PROFILES:
        raise CourseError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    merged = {name: dict(values) for name, values in PROFILES[profile].items()}
    for name, values in (overrides or {}).items():
        merged.setdefault(name, {}).update(values)
    by_stem = {p.stem: p for p in notebooks}
    missing = sorted(set(merged) - set(by_stem))
    if missing:
        raise CourseError(f"parameters set for notebooks that are not there: {', '.join(missing)} "
                          f"(profile {profile!r} and overrides)")
    for name, values in merged.items():
        defaults = notebook_parameters(by_stem[name])
        for key, value in values.items():
            if key not in defaults:
                raise CourseError(f"{name}: parameter {key!r} is not in its parameters cell "
                                  f"(it has {', '.join(defaults)})")
            if not _same_kind(defaults[key], value):
                raise CourseError(f"{name}: parameter {key!r} = {value!r} is of type {type(value).__name__}, "
                                  f"its default {defaults[key]!r} of type {type(defaults[key]).__name__}")
            if key in PARAMETER_DOMAINS:  # what the notebooks accept, more precise than the default's sign
                problem = PARAMETER_DOMAINS[key](value, {**defaults, **values})
                if problem:
                    raise CourseError(f"{name}: parameter {key!r} = {value!r} is out of range: {problem}")
            elif not _same_sign(defaults[key], value):
                raise CourseError(f"{name}: parameter {key!r} = {value!r} is out of range: its default "
                                  f"{defaults[key]!r} asks for a {'positive' if defaults[key] else 'non-negative'} "
                                  "finite number")
    backbone = {k: v for k, v in merged.get(BACKBONE_NOTEBOOK, {}).items() if k in recipes.BACKBONE_KEYS}
    for path in notebooks:
        if backbone and "backbone_recipe" in notebook_parameters(path):
            values = merged.setdefault(path.stem, {})
            values["backbone_recipe"] = {**backbone, **values.get("backbone_recipe", {})}
    return {p.stem: merged.get(p.stem, {}) for p in notebooks}


def _device_problem(value, _):
    try:
        usage.check_device(value, "device")
    except UsageError as error:
        return str(error).removeprefix("device ")
    return None


def _choice_problem(choices, allow_empty=False):
    def problem(value, _):
        if (value == "" and allow_empty) or value in choices():
            return None
        return f"choose from {', '.join(map(repr, sorted(choices())))}" + (' or ""' if allow_empty else "")
    return problem


def _between(low, high, low_open=False):
    def problem(value, _):
        if not isinstance(value, int | float) or not math.isfinite(value):
            return "a finite number"
        if (value > low if low_open else value >= low) and value <= high:
            return None
        return f"must be in {'(' if low_open else '['}{low:g}, {high:g}]"
    return problem


def _clip_index_problem(value, parameters):
    clips = parameters.get("num_test_clips")
    if isinstance(clips, int) and not 0 <= value < clips:
        return f"a clip of num_test_clips = {clips}: 0 to {clips - 1}"
    return None if value >= 0 else "a clip index >= 0"


def _model_names():
    from slowfast_lite.models import CONFIGS

    return set(CONFIGS)


def _ablation_variants():
    from slowfast_lite.course import ablate

    return set(ablate.VARIANTS)


# What the notebooks accept for a parameter, where its default's type and sign say too little (by key, in every
# notebook that has it): a function (value, the notebook's parameters) -> what is wrong, or None.
PARAMETER_DOMAINS = {
    "device": _device_problem,
    "profile": _choice_problem(lambda: set(PROFILES)),
    "clip_index": _clip_index_problem,
    "count_model": _choice_problem(_model_names),
    "real_model": _choice_problem(_model_names, allow_empty=True),
    "live_variant": _choice_problem(_ablation_variants),
    "cam_layer": _choice_problem(lambda: {"s1", "s2", "s3", "s4", "s5"}),
    "beta": _between(0, 1, low_open=True),
    "score_threshold": _between(0, 1),
}


def _same_sign(default, value) -> bool:
    """A count, size or rate stays in its default's range: positive if the default is, else non-negative."""
    numbers = (int, float)
    if isinstance(default, bool) or not isinstance(default, numbers) or not isinstance(value, numbers) \
            or isinstance(value, bool) or default < 0:
        return True
    return math.isfinite(value) and (value > 0 if default > 0 else value >= 0)


def _same_kind(default, value) -> bool:
    """An override must have the default's type (an int may stand for a float, None for anything)."""
    if default is None or value is None or isinstance(default, Expression):
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


def parse_override(text: str) -> tuple[str, str, object]:
    """``06_training:epochs=3`` -> ("06_training", "epochs", 3); values are Python literals, else strings."""
    try:
        target, value = text.split("=", 1)
        notebook, key = target.split(":", 1)
    except ValueError:
        raise CourseError(f"--set {text!r}: write NOTEBOOK:KEY=VALUE, e.g. 06_training:epochs=3") from None
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # a bare word such as cuda is meant as a string
    return notebook.strip(), key.strip(), value
