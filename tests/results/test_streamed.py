"""A run made in chunks gives the numbers the run in one piece gives, in bounded memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from h200cast.engine import limits
from h200cast.errors import InputError
from h200cast.results.result import run
from h200cast.scenario.ref import ScenarioRef

REFS = [
    ScenarioRef("stance", "open_market"),
    ScenarioRef("path", "as_reported_2026_04"),
    ScenarioRef("switching", "from_2026_04_30"),
]


@pytest.mark.parametrize("vintage", ["2026-01-31", "2026-04-30"])
@pytest.mark.parametrize("ref", REFS, ids=[r.name for r in REFS])
def test_a_run_in_chunks_has_the_stats_of_the_run_in_one_piece(
    ref: ScenarioRef, vintage: str
) -> None:
    whole = run(ref, draws=900, seed=4, vintage=vintage)
    parts = run(ref, draws=900, seed=4, vintage=vintage, chunk=250)
    assert whole.streamed is None and parts.streamed is not None
    assert parts.stats == whole.stats  # exactly: the same draws, kept in the same order
    for name, x in whole.metrics.items():
        np.testing.assert_array_equal(parts.metrics[name], x, err_msg=name)
    assert parts.conditioning == whole.conditioning
    a, b = whole.stance_shares(), parts.stance_shares()
    assert a.keys() == b.keys()
    for m in a:
        assert a[m].keys() == b[m].keys()
        for s in a[m]:
            assert b[m][s] == pytest.approx(a[m][s], rel=1e-12, abs=1e-15)


def test_a_run_in_chunks_keeps_no_paths_and_says_how_to_get_them() -> None:
    r = run(ScenarioRef("stance", "open_market"), draws=300, chunk=100, vintage="2026-01-31")
    with pytest.raises(InputError, match="made in chunks and keeps no monthly paths"):
        _ = r.paths


def test_its_paths_file_holds_the_rows_of_the_run_in_one_piece(tmp_path: Path) -> None:
    ref = ScenarioRef("switching", "from_2026_04_30")
    run(ref, draws=300, seed=9).write(tmp_path / "whole")
    run(ref, draws=300, seed=9, chunk=70).write(tmp_path / "parts")
    a = pq.read_table(tmp_path / "whole" / "paths.parquet").to_pandas()
    b = pq.read_table(tmp_path / "parts" / "paths.parquet").to_pandas()
    assert len(a) == 300 * 36 and list(a.columns) == list(b.columns)
    for col in a.columns:
        assert (a[col].astype(object) == b[col].astype(object)).all(), col
    for f in ("summary.csv", "manifest.json", "scenario.yaml"):
        assert (tmp_path / "whole" / f).read_bytes() == (tmp_path / "parts" / f).read_bytes()


def test_a_large_run_is_made_in_chunks_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "STREAM_CELLS", 36 * 500)
    import h200cast.results.result as result

    monkeypatch.setattr(result, "streamed", limits.streamed)
    small = run(ScenarioRef("stance", "open_market"), draws=500, vintage="2026-01-31")
    large = run(ScenarioRef("stance", "open_market"), draws=501, vintage="2026-01-31")
    assert small.streamed is None and large.streamed is not None
