"""The install files agree with each other and the entry point works."""

import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert "slowfast_lite[course]" in extras["dev"]  # the tests' set-up installs the course too
    wanted = {_name(r): r.replace(" ", "") for r in project["dependencies"] + extras["course"] + extras["dev"]
              if _name(r) != "slowfast-lite"}
    pip_lines = [line.strip()[2:].strip() for line in (ROOT / "environment.yml").read_text().splitlines()
                 if line.strip().startswith("- ") and line.startswith("      ")]
    listed = {_name(r): r.replace(" ", "") for r in pip_lines if not r.startswith("-e")}
    assert listed == wanted


def test_cli_lists_commands():
    out = subprocess.run([sys.executable, "-m", "slowfast_lite", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("make-data", "train", "evaluate", "ava-eval", "demo", "course", "site"):
        assert command in out.stdout


def test_unknown_command_fails_clearly():
    out = subprocess.run([sys.executable, "-m", "slowfast_lite", "frobnicate"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown command 'frobnicate'" in out.stderr
