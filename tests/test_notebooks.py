"""The notebooks: structure, size, and outputs that two runs with the same seed reproduce.

nbval (run by ``make test`` with ``--nbval-lax``) checks the summary cells marked
``# NBVAL_CHECK_OUTPUT`` against their stored outputs; this module checks the rest of
what the suite promises about the notebooks.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from support import ROOT

from h200cast.runner import Job, execute_many, notebook_paths

NOTEBOOKS = notebook_paths()
PARAMETERS = {"stance", "path", "switching", "overrides", "draws", "seed", "output_dir"}


def test_the_seven_notebooks_and_the_stance_page_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_demand.ipynb",
        "02_supply_shortfall.ipynb",
        "03_fee_revenue.ipynb",
        "04_domestic_substitution.ipynb",
        "05_stance_comparison.ipynb",
        "06_sensitivity.ipynb",
        "07_scenarios.ipynb",
        "stance_page.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_structure(path: Path) -> None:
    assert path.stat().st_size <= 300_000, f"{path.name} is {path.stat().st_size} bytes"
    nb = nbformat.read(path, 4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = code[0]
    assert "parameters" in params.metadata.get("tags", []), (
        "the first code cell must be tagged `parameters`"
    )
    names = {}
    for node in ast.parse(params.source).body:
        # plain, typed values only: papermill neither recomputes derived values nor
        # shows a type it cannot read (`name: type = value  # help`)
        assert isinstance(node, ast.AnnAssign) and node.value is not None, ast.dump(node)
        value = ast.literal_eval(node.value)
        assert type(value).__name__ == ast.unparse(node.annotation), ast.dump(node)
        names[node.target.id] = value
    assert set(names) == PARAMETERS
    checked = [c for c in code if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert checked, "a summary cell must be marked # NBVAL_CHECK_OUTPUT"
    for c in checked:
        text = "".join(o.get("text", "") for o in c.outputs)
        assert len(text.splitlines()) >= 3, "the checked cell must be committed with its output"
    for c in code:  # thin narratives: the model, frames and charts live in h200cast
        assert "import numpy" not in c.source and "import pandas" not in c.source, c.source
        assert not c.source.lstrip().startswith("def "), "no functions defined in a notebook"
    assert any("image/svg+xml" in o.get("data", {}) for c in code for o in c.outputs), (
        "committed charts are static SVG"
    )


def test_papermill_lists_the_parameters() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOKS[2])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for name in PARAMETERS:
        assert f"  {name}: " in out.stdout, name
    assert "Unknown type" not in out.stdout
    assert 'stance: str (default "selective_approval")' in out.stdout


def _outputs(nb: nbformat.NotebookNode) -> list[list[dict]]:
    """Each original code cell's outputs, without execution counts (papermill's injected cell left out)."""
    cells = [
        c
        for c in nb.cells
        if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]
    return [
        [
            {k: v for k, v in o.items() if k not in ("execution_count", "metadata")}
            for o in c.outputs
        ]
        for c in cells
    ]


def test_two_runs_with_the_same_seed_give_the_same_outputs(tmp_path: Path) -> None:
    # Re-run every notebook at its defaults (plus an output folder) and compare every output,
    # charts included, with the committed run; also check what output_dir writes.
    jobs = [Job(p, tmp_path / p.name, {"output_dir": str(tmp_path / p.stem)}) for p in NOTEBOOKS]
    outcomes = execute_many(jobs, workers=2, progress=False)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    for p in NOTEBOOKS:
        fresh, committed = nbformat.read(tmp_path / p.name, 4), nbformat.read(p, 4)
        assert _outputs(fresh) == _outputs(committed), (
            f"{p.name}: outputs differ from the committed run"
        )
        written = {f.suffix for f in (tmp_path / p.stem).iterdir()}
        assert {".csv", ".png", ".svg"} <= written, p.name


def test_a_stance_set_by_papermill_reaches_the_answer(tmp_path: Path) -> None:
    nb = ROOT / "notebooks" / "03_fee_revenue.ipynb"
    (o,) = execute_many(
        [Job(nb, tmp_path / "out.ipynb", {"stance": "customs_ban", "draws": 200})], 1, False
    )
    assert o.ok, o.error
    answer = nbformat.read(tmp_path / "out.ipynb", 4).cells
    text = "".join(
        str(out.get("data", {}).get("text/markdown", ""))
        for c in answer
        if c.cell_type == "code"
        for out in c.get("outputs", [])
    )
    assert "**customs_ban**" in text


def test_concurrent_kernels_get_private_sockets(tmp_path: Path) -> None:
    # Kernels started together in different workers must not share a port (over TCP they
    # could: one then failed to bind and its notebook died after 60 s in CI). On POSIX
    # each kernel has IPC sockets in its own directory, removed when the run ends.
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import json, ipykernel\n"
            "info = json.loads(ipykernel.get_connection_info())\n"
            "print(info['transport'], info['ip'])"
        )
    ]
    source = tmp_path / "probe.ipynb"
    nbformat.write(nb, source)
    jobs = [Job(source, tmp_path / f"out{i}.ipynb", {}) for i in range(4)]
    outcomes = execute_many(jobs, workers=2, progress=False)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    seen = [nbformat.read(j.output, 4).cells[0].outputs[0]["text"].split() for j in jobs]
    expected = "ipc" if os.name == "posix" else "tcp"
    assert {transport for transport, _ in seen} == {expected}
    if expected == "ipc":
        folders = {Path(ip).parent for _, ip in seen}
        assert len(folders) == len(jobs)  # one private folder per kernel
        assert not any(f.exists() for f in folders)  # and each is cleaned up


def test_nbval_fails_when_a_checked_number_moves(tmp_path: Path) -> None:
    # What `make test` relies on: a committed summary that no longer matches the model
    # fails nbval. The committed notebook passes; the same notebook with one checked digit
    # changed (as if the model had moved and the notebook was not refreshed) fails.
    source = ROOT / "notebooks" / "01_demand.ipynb"
    nb = nbformat.read(source, 4)
    (cell,) = [c for c in nb.cells if "# NBVAL_CHECK_OUTPUT" in c.source]
    text = cell.outputs[0]["text"]
    digit = next(i for i, ch in enumerate(text) if ch.isdigit())
    moved = text[:digit] + str((int(text[digit]) + 1) % 10) + text[digit + 1 :]
    nbformat.write(nb, tmp_path / "same.ipynb")
    cell.outputs[0]["text"] = moved
    nbformat.write(nb, tmp_path / "moved.ipynb")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax"]
    cmd += [
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(ROOT / "tests" / "nbval_sanitize.cfg"),
    ]
    env = {**os.environ, "H200CAST_STATIC_CHARTS": "1"}
    for name, code in (("same.ipynb", 0), ("moved.ipynb", 1)):
        done = subprocess.run(
            [*cmd, name], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == code, (name, done.stdout[-3000:])
    assert "Cell outputs differ" in done.stdout and "mismatch 'stdout'" in done.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),  # plain papermill, nbval, a script: static SVG, byte-stable
        ({"JPY_SESSION_NAME": "/n/01_demand.ipynb"}, False),  # a Jupyter server's kernel
        ({"JPY_SESSION_NAME": "x", "H200CAST_STATIC_CHARTS": "1"}, True),  # forced static
        ({"H200CAST_STATIC_CHARTS": "0"}, False),  # forced interactive (make lab)
    ],
)
def test_charts_are_static_except_in_a_jupyter_server(
    env: dict[str, str], expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from h200cast import notebook

    for name in ("JPY_SESSION_NAME", notebook.STATIC_ENV):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert notebook.static() is expected


def test_fixed_stance_analyses_say_where_a_switching_chain_is_held() -> None:
    from h200cast.notebook import fixed_stance

    assert fixed_stance("customs_ban") == fixed_stance("customs_ban", "", "")
    assert (fixed_stance("customs_ban").stance, fixed_stance("customs_ban").note) == (
        "customs_ban",
        "",
    )
    assert fixed_stance("", "as_reported_2026_01").path == "as_reported_2026_01"
    held = fixed_stance("selective_approval", "", "from_2026_01_31")
    assert held.path == "as_reported_2026_01" and held.stance is None  # the chain's history path
    assert "from_2026_01_31" in held.note and "fixed" in held.note


def test_sobol_overview_has_one_cell_per_input_and_output_in_headline_order() -> None:
    import numpy as np

    from h200cast import figures
    from h200cast.sensitivity import SobolIndices

    total = np.array([[0.1, 0.7, 0.0], [0.9, 0.0, 0.2]])  # outputs x inputs
    ind = SobolIndices(
        inputs=["a", "b", "c"],
        outputs=["us_fee_revenue_total_usd", "domestic_share_end"],
        first=total * 0.8,
        total=total,
        first_low=total * 0.7,
        first_high=total * 0.9,
        total_low=total - 0.05,
        total_high=total + 0.05,
        confidence=0.9,
        evaluations=100,
    )
    chart, table = figures.sobol_overview(ind)
    assert len(table) == 6
    assert list(dict.fromkeys(table["input"])) == ["a", "b", "c"]  # by largest total: 0.9, 0.7, 0.2
    assert list(dict.fromkeys(table["output"])) == ["US fee revenue", "domestic share (horizon)"]
    assert (
        table.set_index(["input", "output"]).loc[("a", "domestic share (horizon)"), "value"] == 0.9
    )
    spec = chart.to_dict()
    assert "total Sobol indices" in spec["title"]["text"] and "runs" in " ".join(
        spec["title"]["subtitle"]
    )
