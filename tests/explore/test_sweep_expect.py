"""A sweep spec's ``expect:`` block: evaluation, the exit codes of ``h200cast sweep``, errors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from support import ROOT

import h200cast
from h200cast.cli import main
from h200cast.errors import InputError
from h200cast.explore import sweep

CI = ROOT / "params" / "sweeps" / "ci.yaml"


def _two_runs(expect: list[dict[str, Any]], discovery: bool = True) -> sweep.SweepSpec:
    data: dict[str, Any] = {
        "name": "t",
        "description": "two runs",
        "design": {"method": "lhs", "points": 4},
        "inputs": {"money.price_usd": {"low": 20000, "high": 35000}},
        "runs": {"stances": ["customs_ban", "open_market"]},
        "outputs": ["us_fee_revenue_2026_usd", "shipments_total_units"],
        "expect": expect,
    }
    if discovery:
        data["discovery"] = {
            "output": "us_fee_revenue_2026_usd",
            "below": 1e9,
            "run": "open_market",
        }
    spec = sweep.SweepSpec.model_validate(data)
    sweep.check_expectations(spec)
    return spec


TABLE = pd.DataFrame(
    {
        "run": ["customs_ban"] * 5 + ["open_market"] * 5,
        "us_fee_revenue_2026_usd": [1e8, 2e8, 3e8, 4e8, 5e8, 1e9, 2e9, 3e9, 4e9, 5e9],
        "shipments_total_units": [0, 0, 0, 0, np.nan, 1, 2, 3, 4, 5],
    }
)
BOX = SimpleNamespace(coverage=0.6, density=0.4, mass=0.2)


def test_expectations_are_checked_against_a_results_table() -> None:
    spec = _two_runs(
        [
            {
                "output": "us_fee_revenue_2026_usd",
                "run": "customs_ban",
                "stat": "p50",
                "below": 1e9,
            },
            {
                "output": "us_fee_revenue_2026_usd",
                "run": "open_market",
                "stat": "p50",
                "below": 1e9,
            },
            {
                "output": "us_fee_revenue_2026_usd",
                "run": "open_market",
                "stat": "min",
                "above": 1e9,
            },
            {
                "output": "us_fee_revenue_2026_usd",
                "run": "open_market",
                "stat": "max",
                "below": 6e9,
            },
            {
                "output": "us_fee_revenue_2026_usd",
                "run": "customs_ban",
                "stat": "mean",
                "above": 2e8,
            },
            {
                "output": "us_fee_revenue_2026_usd",
                "run": "open_market",
                "stat": "p95",
                "below": 5e9,
            },
            {"output": "shipments_total_units", "run": "customs_ban", "stat": "max", "below": 1},
            {"discovery": "coverage", "above": 0.5, "note": "a real box"},
            {"discovery": "mass", "below": 0.1},
        ]
    )
    got = sweep.evaluate_expectations(spec, TABLE, BOX)
    assert [r.passed for r in got] == [True, False, False, True, True, True, False, True, False]
    observed = [r.observed for r in got]
    assert observed[:6] == pytest.approx([3e8, 3e9, 1e9, 5e9, 3e8, 4.8e9])
    assert np.isnan(observed[6])  # a NaN output never meets a limit
    assert observed[7:] == [0.6, 0.2]
    assert got[0].text() == "p50 of us_fee_revenue_2026_usd under customs_ban < 1e+09"
    assert got[7].run == "open_market"  # the box describes the discovery block's run
    assert got[7].text() == "PRIM box coverage under open_market > 0.5"
    record = sweep.expectations_record(spec, got)
    assert record["passed"] is False
    assert record["failed"] == ["expect.1", "expect.2", "expect.6", "expect.8"]
    first, nan_one, boxed = (record["expectations"][i] for i in (0, 6, 7))
    assert first == {
        "key": "expect.0",
        "expectation": "p50 of us_fee_revenue_2026_usd under customs_ban < 1e+09",
        "output": "us_fee_revenue_2026_usd",
        "run": "customs_ban",
        "stat": "p50",
        "below": 1e9,
        "observed": pytest.approx(3e8),
        "passed": True,
    }
    assert nan_one["observed"] is None and json.dumps(record)  # valid JSON, no NaN
    assert boxed["note"] == "a real box" and boxed["discovery"] == "coverage"


def test_a_run_with_no_rows_fails_its_expectation() -> None:
    spec = _two_runs(
        [{"output": "shipments_total_units", "run": "open_market", "stat": "min", "above": -1}]
    )
    (r,) = sweep.evaluate_expectations(spec, TABLE[TABLE["run"] == "customs_ban"], None)
    assert not r.passed and np.isnan(r.observed)


def test_the_run_may_be_left_out_when_the_sweep_has_one() -> None:
    spec = sweep.SweepSpec.model_validate(
        {
            **yaml.safe_load(CI.read_text()),
            "expect": [{"output": "us_fee_revenue_2026_usd", "stat": "p50", "above": 0}],
        }
    )
    sweep.check_expectations(spec)
    table = pd.DataFrame({"run": ["selective_approval"] * 2, "us_fee_revenue_2026_usd": [1.0, 3.0]})
    (r,) = sweep.evaluate_expectations(spec, table)
    assert r.passed and r.observed == 2.0 and r.run == "selective_approval"


def _small_spec(tmp_path: Path, expect: Any, drop: tuple[str, ...] = ()) -> Path:
    """The CI spec on 128 points, without its Sobol indices, with these expectations."""
    data = yaml.safe_load(CI.read_text())
    data.update({"design": {"method": "sobol", "points": 128, "seed": 5}, "expect": expect})
    for key in ("sensitivity", *drop):
        data.pop(key)
    f = tmp_path / "small.yaml"
    f.write_text(yaml.safe_dump(data))
    return f


def test_a_failing_expectation_exits_1_and_says_what_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _small_spec(
        tmp_path,
        [
            {"output": "us_fee_revenue_2026_usd", "stat": "p50", "above": 0, "note": "some fee"},
            {"output": "us_fee_revenue_2026_usd", "stat": "p50", "below": 1, "note": "impossible"},
            {"discovery": "coverage", "above": 0.25},
        ],
    )
    out = tmp_path / "out"
    assert main(["sweep", str(f), "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "Expectations (2 of 3 hold" in printed
    lines = [ln for ln in printed.splitlines() if ln.startswith("FAILED")]
    assert len(lines) == 1 and lines[0].startswith(
        "FAILED expect.1: p50 of us_fee_revenue_2026_usd under selective_approval < 1: observed "
    )
    assert lines[0].endswith("(impossible)")
    record = json.loads((out / "expectations.json").read_text())
    assert record["passed"] is False and record["failed"] == ["expect.1"]
    assert [e["passed"] for e in record["expectations"]] == [True, False, True]
    assert (out / "results.parquet").is_file() and (out / "discovery.json").is_file()


def test_the_api_reports_expectations_without_raising(tmp_path: Path) -> None:
    f = _small_spec(
        tmp_path, [{"output": "shipments_total_units", "stat": "max", "below": 0}], ("discovery",)
    )
    outcome = h200cast.sweep(f, tmp_path / "out")
    assert outcome.passed is False
    (r,) = outcome.expectations
    assert not r.passed and r.observed > 0 and r.key == "expect.0"


def test_a_sweep_without_expectations_writes_an_empty_record(tmp_path: Path) -> None:
    f = _small_spec(tmp_path, [])
    out = tmp_path / "out"
    assert main(["sweep", str(f), "--out", str(out), "--quiet"]) == 0
    record = json.loads((out / "expectations.json").read_text())
    assert record == {"spec": "ci", "passed": True, "failed": [], "expectations": []}


FEE = "us_fee_revenue_2026_usd"


@pytest.mark.parametrize(
    ("expect", "key", "words"),
    [
        ([{"output": FEE, "stat": "p50", "belwo": 1}], "expect.0.belwo", "unknown key"),
        (
            [{"output": "fee_in_euros", "stat": "p50", "below": 1}],
            "expect.0.output",
            "unknown metric",
        ),
        (
            [{"output": "months_to_domestic_share_50", "stat": "p50", "below": 1}],
            "expect.0.output",
            "not among the sweep's outputs",
        ),
        (
            [{"output": FEE, "run": "customs_ban", "stat": "p50", "below": 1}],
            "expect.0.run",
            "not a run of this sweep",
        ),
        ([{"output": FEE, "stat": "p42", "below": 1}], "expect.0.stat", "'p5', 'p50'"),
        ([{"output": FEE, "below": 1}], "expect.0", "give `stat`"),
        (
            [{"output": FEE, "stat": "p50", "below": 1, "above": 0}],
            "expect.0",
            "exactly one of `below`",
        ),
        ([{"output": FEE, "stat": "p50"}], "expect.0", "exactly one of `below`"),
        ([{"stat": "p50", "below": 1}], "expect.0", "exactly one of `output`"),
        ([{"discovery": "volume", "above": 0.5}], "expect.0.discovery", "'coverage', 'density'"),
        (
            [{"discovery": "coverage", "run": "x", "above": 0.5}],
            "expect.0",
            "takes no `stat` or `run`",
        ),
        ([{"output": FEE, "stat": "p50", "below": "a lot"}], "expect.0.below", "number"),
        ({"output": FEE}, "expect", "list"),
    ],
)
def test_a_malformed_expect_block_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expect: Any, key: str, words: str
) -> None:
    f = _small_spec(tmp_path, expect)
    out = tmp_path / "out"
    assert main(["sweep", str(f), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("h200cast: error:") and "Traceback" not in err and len(err.splitlines()) == 1
    )
    assert str(f) in err and f"{key}:" in err and words in err, err
    assert not out.exists()  # refused before any work


def test_an_expectation_of_the_box_needs_a_discovery_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = _small_spec(tmp_path, [{"discovery": "density", "above": 0.5}], ("discovery",))
    assert main(["sweep", str(f), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "expect.0.discovery" in err and "no `discovery:` block" in err


def test_with_several_runs_an_output_expectation_names_its_run(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"expect\.0\.run: the sweep has several runs"):
        _two_runs([{"output": FEE, "stat": "p50", "below": 1e9}])
    data = {
        "name": "two",
        "description": "two runs",
        "design": {"method": "lhs", "points": 4},
        "inputs": {"money.price_usd": {"low": 20000, "high": 35000}},
        "runs": {"stances": ["customs_ban", "open_market"]},
        "outputs": [FEE],
        "expect": [{"output": FEE, "stat": "p50", "below": 1e9}],
    }
    f = tmp_path / "two.yaml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as exc:
        sweep.load_spec(f)
    assert exc.value.file == str(f) and exc.value.key == "expect.0.run"
    assert "customs_ban, open_market" in exc.value.message


def test_sobol_and_discovery_name_the_run_they_describe(tmp_path: Path) -> None:
    data = {
        "name": "two",
        "description": "two runs, analyses of the second",
        "design": {"method": "lhs", "points": 64, "seed": 3},
        "inputs": {"money.price_usd": {"low": 20000, "high": 35000}},
        "runs": {"stances": ["customs_ban", "open_market"]},
        "outputs": [FEE],
        "sensitivity": {"base_samples": 16, "bootstrap": 0, "outputs": [FEE], "run": "open_market"},
        "discovery": {"output": FEE, "above": 4.5e8, "run": "open_market"},
        "expect": [{"discovery": "coverage", "above": 0.4}],
    }
    f = tmp_path / "two.yaml"
    f.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    assert main(["sweep", str(f), "--out", str(out), "--quiet"]) == 0
    s = pd.read_csv(out / "sobol.csv")
    assert s.columns[0] == "run" and set(s["run"]) == {"open_market"}
    assert json.loads((out / "discovery.json").read_text())["run"] == "open_market"
    (e,) = json.loads((out / "expectations.json").read_text())["expectations"]
    assert e["run"] == "open_market" and e["passed"] is True
