"""The lock holds: every dependency pyproject.toml declares is pinned in requirements.lock at a
version its range allows, and the pre-commit hooks run the ruff the lock pins.

A dependency added to pyproject.toml without `make lock` would install on a developer's machine
(pip resolves it) and be missing from `make install`; this says so before CI does.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    ]


def locked() -> dict[str, list[Version]]:
    """Name → pinned versions (a universal lock may pin one name twice, under markers)."""
    pins: dict[str, list[Version]] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        spec = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in spec:
            name, _, version = spec.partition("==")
            pins.setdefault(canonicalize_name(name), []).append(Version(version.strip()))
    return pins


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    pins = locked()
    problems = []
    for req in declared():
        versions = pins.get(canonicalize_name(req.name), [])
        if not any(req.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(f"{req} (locked: {', '.join(map(str, versions)) or 'nothing'})")
    assert not problems, "run `make lock`; not in requirements.lock: " + "; ".join(problems)


def test_pre_commit_runs_the_locked_ruff() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    ruff_pins = {
        dep
        for hook in hooks
        if hook["id"].startswith("ruff")
        for dep in hook.get("additional_dependencies", [])
    }
    (ruff,) = locked()["ruff"]
    assert ruff_pins == {f"ruff=={ruff}"}
