"""One vocabulary names every interval: statsforecast's lo-90 / hi-90."""

from __future__ import annotations

import csv
import io

import pytest
import yaml
from support import ROOT

from h200cast import intervals
from h200cast.estimation.backtest import Score, to_csv
from h200cast.explore.sensitivity import sobol
from h200cast.results.scores import interval_names


def test_names_follow_the_level_in_percent() -> None:
    assert intervals.names(90) == ("lo-90", "hi-90")
    assert intervals.names(97.5, "first_") == ("first_lo-97.5", "first_hi-97.5")
    assert intervals.names(intervals.percent(0.9)) == ("lo-90", "hi-90")
    assert interval_names(80) == intervals.names(80)
    with pytest.raises(ValueError, match=r"90, not 0\.9"):
        intervals.names(0.9)


def test_backtest_csv_names_its_intervals_from_the_vocabulary() -> None:
    fields = {f: 1.0 for f in Score.__dataclass_fields__}
    fields.update({k: "x" for k in ("estimate", "cutoff", "target", "note")})
    fields.update({f"in{p}": True for p in intervals.LEVELS})
    header = next(csv.reader(io.StringIO(to_csv([Score(**fields)]))))  # type: ignore[arg-type]
    for p in intervals.LEVELS:
        assert {*intervals.names(p), f"in-{p}"} <= set(header)
    assert not any(h.startswith(("lo5", "hi9", "lo9")) for h in header)


def test_stored_estimates_and_sobol_frames_use_it() -> None:
    record = yaml.safe_load(
        (
            ROOT / "params" / "vintages" / "2026-04-30" / "estimates" / "demand_growth.yaml"
        ).read_text()
    )
    coef = record["record"]["coefficients"][0]
    assert {"lo-90", "hi-90"} <= set(coef) and "ci90_low" not in coef
    r = sobol(lambda x: x[:1], [(0.0, 1.0), (0.0, 1.0)], 64, bootstrap=20, seed=1, confidence=0.8)
    assert {"first_lo-80", "first_hi-80", "total_lo-80", "total_hi-80"} <= set(r.frame().columns)
