"""The CI recipes: the GitHub workflows (tests, and a sweep that fails the job on a broken
expectation) and the README's GitLab CI snippet parse and call what they say they call."""

from __future__ import annotations

import re
from typing import Any

import yaml
from support import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def _load(name: str) -> dict[str, Any]:
    f = WORKFLOWS / name
    assert f.is_file(), f"{f} is missing"
    data = yaml.safe_load(f.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads the key `on` as True; GitHub reads it as "on"
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict)
    return on


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return list(job["steps"])


def _uses(steps: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in steps if str(s.get("uses", "")).startswith(f"{action}@")]


def test_the_test_workflow_runs_ci_run_on_python_3_11() -> None:
    wf = _load("test.yml")
    assert {"push", "pull_request"} <= set(_triggers(wf))
    steps = _steps(wf)
    assert _uses(steps, "actions/checkout")
    (py,) = _uses(steps, "actions/setup-python")
    assert str(py["with"]["python-version"]) == "3.11"
    assert [s["run"] for s in steps if "run" in s] == ["bash .ci/run"]
    assert (ROOT / ".ci" / "run").is_file()


def test_the_sweep_workflow_runs_a_named_spec_and_uploads_it_even_on_failure() -> None:
    wf = _load("sweep.yml")
    on = _triggers(wf)
    assert on["workflow_dispatch"]["inputs"]["spec"]["default"] == "ci"
    assert on["schedule"] and all("cron" in s for s in on["schedule"])
    (job,) = wf["jobs"].values()
    assert "inputs.spec" in job["env"]["SPEC"] and "'ci'" in job["env"]["SPEC"]
    steps = _steps(wf)
    (py,) = _uses(steps, "actions/setup-python")
    assert str(py["with"]["python-version"]) == "3.11"
    runs = [s["run"] for s in steps if "run" in s]
    assert runs[0] == "make env"
    (sweep,) = [r for r in runs if "h200cast sweep" in r]
    assert sweep.startswith('.venv/bin/h200cast sweep "$SPEC" --out "sweeps/$SPEC"')
    # the sweep step itself is not allowed to fail quietly: its exit 1 fails the job
    assert not any(s.get("continue-on-error") for s in steps)
    (upload,) = _uses(steps, "actions/upload-artifact")
    assert upload["if"] == "always()"
    assert upload["with"]["path"].rstrip("/") == "sweeps/${{ env.SPEC }}"
    assert (ROOT / "params" / "sweeps" / "ci.yaml").is_file()


def _gitlab_snippet() -> dict[str, Any]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Sweeps in your own CI", 1)[1].split("\n## ", 1)[0]
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", section, flags=re.S) if "image:" in b]
    data = yaml.safe_load(block)
    assert isinstance(data, dict)
    return data


def test_the_readme_gitlab_recipe_runs_the_sweep_and_keeps_its_folder() -> None:
    data = _gitlab_snippet()
    (job,) = [v for v in data.values() if isinstance(v, dict) and "script" in v]
    assert job["image"] == "python:3.11"
    script = job["script"]
    assert script[0] == "make env"
    assert any(
        s.startswith('.venv/bin/h200cast sweep "$SPEC" --out "sweeps/$SPEC"') for s in script
    )
    assert job["artifacts"]["when"] == "always"
    assert [p.rstrip("/") for p in job["artifacts"]["paths"]] == ["sweeps/$SPEC"]
    assert data["variables"]["SPEC"] == "ci"
