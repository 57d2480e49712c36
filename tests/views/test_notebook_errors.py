"""A bad papermill parameter stops the notebook with the CLI's one line, not a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from support import ROOT

from h200cast.report.runner import Job, execute

NOTEBOOK = ROOT / "notebooks" / "03_fee_revenue.ipynb"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"stance": "nope"}, "InputError: stance: got 'nope': unknown stance; expected one of: "),
        ({"draws": "abc"}, "InputError: draws: got 'abc': expected a whole number >= 1"),
        ({"overrides": "abc"}, "InputError: overrides: got 'abc': expected a mapping"),
        ({"overrides": [1, 2]}, "InputError: overrides: got [1, 2]: expected a mapping"),
        ({"overrides": {"us.fee_rat": 0.1}}, "InputError: --set: us.fee_rat: unknown key"),
        ({"vintage": "2026-02-30"}, "InputError: vintage: got '2026-02-30': expected a date"),
        (
            {"vintage": "2026-02-28"},
            f"InputError: {ROOT / 'params' / 'vintages'}: vintage: got '2026-02-28': unknown vintage",
        ),
        ({"vintage": 20260131}, "InputError: vintage: got 20260131: expected a date YYYY-MM-DD"),
        ({"draws": 0}, "InputError: draws: got '0': expected a whole number >= 1"),
        ({"draws": 10**11}, "InputError: --draws: got 100000000000: "),
        (
            {"stance": "../../etc/passwd"},
            "InputError: stance: got '../../etc/passwd': unknown stance",
        ),
        (
            {"output_dir": "{T}/afile/out"},
            "InputError: output_dir: got '{T}/afile/out': lies under {T}/afile, which is not a folder",
        ),
        ({"output_dir": "{T}/afile"}, "InputError: output_dir: got '{T}/afile': is not a folder"),
    ],
    ids=[
        "stance",
        "draws",
        "overrides-text",
        "overrides-list",
        "overrides-unknown-key",
        "vintage-malformed",
        "vintage-unknown",
        "vintage-not-text",
        "draws-zero",
        "draws-beyond-memory",
        "stance-a-path",
        "output-dir-under-a-file",
        "output-dir-a-file",
    ],
)
def test_bad_parameters_fail_in_one_line(
    parameters: dict[str, Any], message: str, tmp_path: Path
) -> None:
    (tmp_path / "afile").write_text("a user's file")
    parameters = {
        k: v.replace("{T}", str(tmp_path)) if isinstance(v, str) else v
        for k, v in parameters.items()
    }
    out = tmp_path / "out.ipynb"
    outcome = execute(Job(NOTEBOOK, out, parameters))
    assert not outcome.ok
    cells = nbformat.read(out, 4).cells
    errors = [(c, o) for c in cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1
    ((cell, error),) = errors
    assert "run_from_parameters(" in cell.source  # the first cell after the parameters
    assert error.ename == "InputError"
    assert error.traceback == [f"InputError: {error.evalue}"]  # one line, no frames
    assert error.traceback[0].startswith(message.replace("{T}", str(tmp_path))), error.traceback[0]
    assert (tmp_path / "afile").read_text() == "a user's file"


@pytest.mark.parametrize(
    "notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem
)
def test_every_notebook_stops_on_a_bad_parameter_in_one_line(
    notebook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.ipynb"
    assert not execute(Job(notebook, out, {"draws": "abc"})).ok
    errors = [
        o
        for c in nbformat.read(out, 4).cells
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert [e.traceback for e in errors] == [
        ["InputError: draws: got 'abc': expected a whole number >= 1"]
    ]
