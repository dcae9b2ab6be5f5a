"""The run report: one line per notebook (status, wall time, peak memory, the numbers it recorded) and the run's
facts, as ``report.md`` and ``report.json``."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from slowfast_lite import utils


@dataclass
class NotebookResult:
    """One notebook's line in the run report."""

    name: str
    status: str  # "ok" | "failed"
    parameters: dict
    fingerprint: str  # hash of the notebook's source and its parameters, for --resume
    wall_s: float = 0.0
    peak_host_mb: float | None = None
    peak_gpu_mb: float | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None  # "cell 12 (`model = ...`): RuntimeError: ..." when failed
    resumed: bool = False


@dataclass
class CourseReport:
    """What a run did: the results in course order and the run's facts (profile, device, versions)."""

    profile: str
    results: list
    facts: dict

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    def to_json(self) -> str:
        return json.dumps({"profile": self.profile, "facts": self.facts,
                           "results": [asdict(r) for r in self.results]}, indent=1)

    def markdown(self) -> str:
        total = sum(r.wall_s for r in self.results)
        lines = [f"# Course run: profile `{self.profile}`", ""]
        lines += [f"- {key}: {value}" for key, value in self.facts.items()]
        lines += [f"- total notebook time: {duration(total)}", ""]
        lines += ["| notebook | status | time | peak host memory | peak GPU memory | key numbers |",
                  "|---|---|---|---|---|---|"]
        for r in self.results:
            status = r.status + (" (resumed)" if r.resumed else "")
            numbers = ", ".join(f"{k}={_short(v)}" for k, v in r.metrics.items()) or "-"
            lines.append(f"| {r.name} | {status} | {duration(r.wall_s)} | {_megabytes(r.peak_host_mb)} | "
                         f"{_megabytes(r.peak_gpu_mb)} | {numbers} |")
        failed = [r for r in self.results if r.status != "ok"]
        if failed:
            lines += ["", "## Failures", ""] + [f"- **{r.name}**: {r.error}" for r in failed]
        changed = [r for r in self.results if r.parameters]
        if changed:
            lines += ["", "## Parameters (overrides of the notebooks' defaults)", ""]
            lines += [f"- {r.name}: " + ", ".join(f"{k}={v!r}" for k, v in r.parameters.items()) for r in changed]
        return "\n".join(lines) + "\n"


def write_report(report: CourseReport, out: Path) -> None:
    for name, text in (("report.json", report.to_json()), ("report.md", report.markdown())):
        with utils.atomic_write(out / name) as partial:
            partial.write_text(text)


def run_facts() -> dict:
    import torch

    device = utils.pick_device("auto")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else utils.cpu_model()
    facts = utils.provenance("python -m slowfast_lite course", 0.0)
    del facts["wall_time_s"], facts["command"]  # the report gives both per notebook
    return {"device": f"{device.type} ({name})", **facts}


def first_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[0].strip()[:160] if lines else ""


def duration(seconds: float) -> str:
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)  # round first: 119.6 s is "2 min 00 s", not "1 min 60 s"
    return f"{minutes} min {rest:02d} s"


def _megabytes(value) -> str:
    return "-" if value is None else f"{value:,.0f} MB"


def _short(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
