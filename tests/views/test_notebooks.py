"""The notebooks: structure, size, and outputs that two runs with the same seed reproduce.

nbval (run by ``make test`` with ``--nbval-lax``) checks the summary cells marked
``# NBVAL_CHECK_OUTPUT`` against their stored outputs; this module checks the rest of
what the suite promises about the notebooks:

* on one machine, two runs with the same inputs and seed give byte-identical outputs;
* every output, charts included, matches the committed run up to last-bit noise in its
  numbers (``goldens.py``: each number within 1e-6 relative or absolute). The committed
  run may come from another CPU, whose SIMD kernels round differently. Set
  ``H200CAST_GOLDENS`` to folders of notebooks (``os.pathsep``-separated) to compare with
  those instead of ``notebooks/`` (``tests/portable_goldens.sh`` does).
"""

from __future__ import annotations

import ast
import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from goldens import ABS, REL, differences
from support import ROOT

from h200cast.report.runner import Job, execute_many, notebook_paths

NOTEBOOKS = notebook_paths()
PARAMETERS = {"stance", "path", "switching", "overrides", "draws", "seed", "vintage", "output_dir"}
_GOLDENS_ENV = os.environ.get("H200CAST_GOLDENS", "")
GOLDEN_DIRS = [Path(p) for p in _GOLDENS_ENV.split(os.pathsep) if p] or [ROOT / "notebooks"]
GOLDENS = [d / p.name for d in GOLDEN_DIRS for p in NOTEBOOKS]


def test_the_explorer_seven_notebooks_and_the_stance_page_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "00_explorer.ipynb",
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


def _named(stem: str) -> Path:
    return next(p for p in NOTEBOOKS if p.stem == stem)


def test_papermill_lists_the_parameters() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(_named("03_fee_revenue"))],
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


def _run_all(folder: Path) -> Path:
    """Every notebook at its defaults (plus an output folder each, PNG charts included), run
    into ``folder``."""
    png = (("H200CAST_PNG_CHARTS", "1"),)
    jobs = [
        Job(p, folder / p.name, {"output_dir": str(folder / p.stem)}, env=png) for p in NOTEBOOKS
    ]
    outcomes = execute_many(jobs, workers=2, progress=False)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    return folder


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run_all(tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="module")
def fresh_again(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run_all(tmp_path_factory.mktemp("again"))


def test_two_runs_with_the_same_seed_give_byte_identical_outputs(
    fresh: Path, fresh_again: Path
) -> None:
    # The promise on one machine: same inputs and seed, the same bytes: every output of
    # every cell, charts included, and every file that output_dir gets.
    for p in NOTEBOOKS:
        first, second = nbformat.read(fresh / p.name, 4), nbformat.read(fresh_again / p.name, 4)
        assert _outputs(first) == _outputs(second), f"{p.name}: a second run differs"
        written = sorted(f.name for f in (fresh / p.stem).iterdir())
        assert written == sorted(f.name for f in (fresh_again / p.stem).iterdir()), p.name
        assert {Path(f).suffix for f in written} >= {".csv", ".png", ".svg"}, p.name
        for name in written:
            assert (fresh / p.stem / name).read_bytes() == (
                fresh_again / p.stem / name
            ).read_bytes(), f"{p.name}: {name} differs between two runs"


@pytest.mark.parametrize(
    "golden",
    GOLDENS,
    ids=[p.stem if len(GOLDEN_DIRS) == 1 else f"{p.parent}:{p.stem}" for p in GOLDENS],
)
def test_outputs_match_the_committed_run(fresh: Path, golden: Path) -> None:
    # Every output of a run here, charts included, against the committed run, which may
    # come from another CPU: numbers agree within goldens.REL / goldens.ABS, text exactly.
    found = differences(
        _outputs(nbformat.read(golden, 4)), _outputs(nbformat.read(fresh / golden.name, 4))
    )
    assert not found, (
        f"{golden}: outputs differ from the committed run beyond rel {REL} / abs {ABS} "
        "(after a change to the model, `make notebooks` refreshes them); "
        "outputs[code cell][output]:\n" + "\n".join(f"  outputs{d}" for d in found[:10])
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_checked_summaries_print_rounded_numbers(path: Path) -> None:
    # nbval compares the checked cells' text exactly, on any machine: their numbers must be
    # rounded far above last-bit noise (at most 2 decimals, no exponents), and never print
    # a negative zero, which a rounded -1e-13 would.
    nb = nbformat.read(path, 4)
    for c in nb.cells:
        if c.cell_type != "code" or "# NBVAL_CHECK_OUTPUT" not in c.source:
            continue
        text = "".join(o.get("text", "") for o in c.outputs)
        assert not re.search(r"\d\.\d{3}", text), text
        assert not re.search(r"\d[eE][-+]?\d", text), text
        assert not re.search(r"(?<![\w.])-0(\.0*)?(?![\d.])", text), text


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


def test_the_stance_comparison_takes_the_run_its_parameters_select(tmp_path: Path) -> None:
    # 05 compares the six stances and the vintage's path with the run its parameters select:
    # a path beside them is added (a stance takes its own place; a chain: see test_report)
    nb = ROOT / "notebooks" / "05_stance_comparison.ipynb"
    params = {"path": "as_reported_2026_01", "draws": 100, "output_dir": str(tmp_path / "files")}
    (o,) = execute_many([Job(nb, tmp_path / "out.ipynb", params)], 1, False)
    assert o.ok, o.error
    table = (tmp_path / "files" / "stance_table.csv").read_text()
    runs = [line.split(",")[0] for line in table.splitlines()[1:]]
    from h200cast import STANCES

    assert list(dict.fromkeys(runs)) == [*STANCES, "as_reported_2026_04", "as_reported_2026_01"]
    prose = "".join(
        str(out.get("data", {}).get("text/markdown", ""))
        for c in nbformat.read(tmp_path / "out.ipynb", 4).cells
        for out in c.get("outputs", [])
    )
    assert "The parameters select **as_reported_2026_01** (a stance path)" in prose


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
    from h200cast import settings
    from h200cast.views import notebook

    for name in ("JPY_SESSION_NAME", settings.STATIC_ENV):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert notebook.static() is expected


def test_fixed_stance_analyses_say_where_a_switching_chain_is_held() -> None:
    from h200cast.views.notebook import fixed_stance

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

    from h200cast.explore.sensitivity import SobolIndices
    from h200cast.views import figures

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


def test_a_figure_shows_as_its_chart_and_names_its_data(tmp_path: Path) -> None:
    # notebook.figure: without output_dir the chart itself (committed outputs unchanged); with
    # one, the same output and a note of its CSV in the metadata (the report links it)
    from h200cast import figures, notebook
    from h200cast.api import run

    shown = figures.shortfall_by_run([run(stance="open_market", draws=50)])
    assert notebook.figure("", "x", shown) is shown[0]
    linked = notebook.figure(str(tmp_path), "x", shown)
    _, meta = linked._repr_mimebundle_()
    assert meta["h200cast"] == {"data": "x.csv"} and (tmp_path / "x.csv").is_file()
    assert repr(linked) == repr(shown[0])  # text/plain: the same bytes from run to run


def test_a_saved_static_figure_shows_the_drawing_it_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SVG shown is the one written, byte for byte, and the chart is not converted again;
    under another renderer the chart draws itself."""
    import altair as alt

    from h200cast import figures, notebook
    from h200cast.api import run

    before = alt.renderers.active
    monkeypatch.setenv("H200CAST_STATIC_CHARTS", "1")
    notebook.setup()
    shown = figures.shortfall_by_run([run(stance="open_market", draws=50)])
    own = shown[0]._repr_mimebundle_()
    linked = notebook.figure(str(tmp_path), "x", shown)
    monkeypatch.setattr(type(shown[0]), "to_dict", lambda *a, **k: pytest.fail("converted again"))
    data, meta = linked._repr_mimebundle_()
    assert data == own == {"image/svg+xml": (tmp_path / "x.svg").read_text(encoding="utf-8")}
    assert meta == {"h200cast": {"data": "x.csv"}}
    monkeypatch.undo()
    with alt.renderers.enable("json"):
        data, meta = linked._repr_mimebundle_()
    assert "application/json" in data and meta["h200cast"] == {"data": "x.csv"}
    alt.renderers.enable(before)


def test_under_the_runner_the_worker_draws_what_the_kernel_shows_and_saves(
    tmp_path: Path,
) -> None:
    """A kernel under the runner never starts vl-convert: it leaves each chart to the
    worker, which shows the same SVG and writes the same files the kernel would have, for a
    figure (shown), a chart only saved (never shown) and a plain chart (shown only)."""
    from h200cast.report.runner import Job, execute
    from h200cast.views import charts

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import sys\n"
            "import altair as alt, pandas as pd\n"
            "from h200cast import notebook\n"
            "notebook.setup()\n"
            "def chart(k):\n"
            "    df = pd.DataFrame({'x': [1, 2, 3], 'y': [k, 1.0, 3.5]})\n"
            "    return alt.Chart(df).mark_line(clip=True).encode(x='x:Q', y='y:Q')\n"
            f"out = {str(tmp_path / 'files')!r}"
        ),
        nbformat.v4.new_code_cell("notebook.figure(out, 'shown', (chart(1.0), chart(1.0).data))"),
        nbformat.v4.new_code_cell("notebook.save(out, 'saved', chart=chart(2.0))\nNone"),
        nbformat.v4.new_code_cell("chart(3.0)"),
        nbformat.v4.new_code_cell("print('vl_convert' in sys.modules)"),
    ]
    source = tmp_path / "charts.ipynb"
    nbformat.write(nb, source)
    png = (("H200CAST_PNG_CHARTS", "1"),)
    done = execute(Job(source, tmp_path / "out.ipynb", {}, env=png, html=tmp_path / "out.html"))
    assert done.ok, done.error
    ran = nbformat.read(tmp_path / "out.ipynb", 4)
    assert ran.cells[4].outputs[0]["text"].strip() == "False"  # the kernel drew nothing
    shown = [o for c in ran.cells for o in c.outputs if "data" in o]
    assert all(charts.DEFERRED not in o["data"] for o in shown)
    import altair as alt
    import pandas as pd

    def drawn(k: float) -> str:  # here, in a process that has drawn other charts before
        df = pd.DataFrame({"x": [1, 2, 3], "y": [k, 1.0, 3.5]})
        return charts.svg(alt.Chart(df).mark_line(clip=True).encode(x="x:Q", y="y:Q").to_dict())

    files = tmp_path / "files"
    assert shown[0]["data"]["image/svg+xml"] == drawn(1.0) == (files / "shown.svg").read_text()
    assert shown[0]["metadata"] == {"h200cast": {"data": "shown.csv"}}
    assert (files / "saved.svg").read_text() == drawn(2.0)
    assert shown[1]["data"]["image/svg+xml"] == drawn(3.0)
    for name in ("shown", "saved"):
        assert (files / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    written = sorted(f.name for f in files.iterdir())
    assert written == ["saved.png", "saved.svg", "shown.csv", "shown.png", "shown.svg"]
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert [base64.b64decode(x).decode() for x in images] == [drawn(1.0), drawn(3.0)]


def test_under_the_runner_a_failing_notebook_still_gets_the_charts_it_saved(
    tmp_path: Path,
) -> None:
    """The charts a notebook saved before its failing cell are written, as its kernel wrote
    them when it drew them itself; the page fails with the cell's error."""
    from h200cast.report.runner import Job, execute

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import altair as alt, pandas as pd\n"
            "from h200cast import notebook\n"
            "notebook.setup()\n"
            "df = pd.DataFrame({'x': [1, 2], 'y': [2.0, 1.0]})\n"
            f"notebook.figure({str(tmp_path / 'files')!r}, 'kept', "
            "(alt.Chart(df).mark_line().encode(x='x:Q', y='y:Q'), df))"
        ),
        nbformat.v4.new_code_cell("raise ValueError('this cell fails')"),
    ]
    source = tmp_path / "fails.ipynb"
    nbformat.write(nb, source)
    done = execute(Job(source, tmp_path / "out.ipynb", {}))
    assert not done.ok and "this cell fails" in done.error
    assert (tmp_path / "files" / "kept.svg").read_text().startswith("<svg")
