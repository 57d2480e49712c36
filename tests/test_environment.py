"""The environment: environment.yml (for conda users) agrees with pyproject.toml; setup compiles bytecode."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from support import ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = {_name(r) for r in project["project"]["dependencies"]}
    wanted |= {
        _name(r) for extra in project["project"]["optional-dependencies"].values() for r in extra
    }
    wanted |= {_name(r) for group in project["dependency-groups"].values() for r in group}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda == wanted, (
        f"only in environment.yml: {sorted(conda - wanted)}; only in pyproject: {sorted(wanted - conda)}"
    )
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_versions_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["lab"]
    reqs += project["dependency-groups"]["dev"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d): d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str)}
    for r in reqs:
        assert conda[_name(r)] == r.replace(" ", "").lower().replace("_", "-"), r


def test_the_heavy_imports_are_precompiled() -> None:
    # Every notebook kernel imports these; compiling them from source each time (no .pyc,
    # PYTHONDONTWRITEBYTECODE set) costs 1.5-2 s per notebook. The Makefile sets
    # UV_COMPILE_BYTECODE so the environment is compiled once, at setup.
    import importlib.util

    for name in ("pandas", "altair", "numpy", "papermill", "nbformat"):
        source = importlib.util.find_spec(name).origin
        assert Path(importlib.util.cache_from_source(source)).exists(), f"{name}: no bytecode"
