"""Estimates from history: recovery of known parameters, --as-of, stored fits, backtests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from support import ROOT, scenario

from h200cast.cli import main
from h200cast.errors import InputError
from h200cast.estimation import backtest, estimate, history
from h200cast.io.yamlfile import load_yaml
from h200cast.results import scoring
from h200cast.results.scenarios import load_scenario
from h200cast.scenario.distributions import TruncNormal

YEARS = [
    2021.04,
    2022.5,
    2022.5,
    2023.25,
    2023.5,
    2023.5,
    2024.125,
    2024.5,
    2024.5,
    2024.5,
    2025.25,
    2025.375,
    2025.5,
    2025.5,
]
BASES = (
    ["nvidia_complement"] * 3
    + ["units", "ai_servers", "value", "nvidia_complement", "self_sufficiency"]
    + ["nvidia_complement"] * 5
    + ["ai_servers"]
)
LEVEL = {
    "nvidia_complement": 0.0,
    "units": -0.3,
    "ai_servers": -0.8,
    "value": 0.2,
    "self_sufficiency": 0.2,
}
OLD = dt.date(2020, 1, 1)


def share_rows(seed: int, slope: float = 0.8, noise: float = 0.3) -> list[history.ShareRow]:
    """Shares on the real data's years and bases, simulated with a known slope."""
    rng = np.random.default_rng(seed)
    out = []
    for y, b in zip(YEARS, BASES, strict=True):
        x = -0.1 + slope * (y - 2025.5) + LEVEL[b] + rng.normal(0, noise)
        out.append(
            history.ShareRow(
                str(y), y, float(1 / (1 + np.exp(-x))), "IDC", b, "data", ("L011",), "", OLD
            )
        )
    return out


def revenue_rows(
    seed: int, per_quarter: float = 0.08, noise: float = 0.25
) -> list[history.RevenueRow]:
    """19 quarters with a known trend and the three control steps."""
    rng = np.random.default_rng(seed)
    steps = {"oct_2022_controls": -0.3, "oct_2023_controls": -0.2, "apr_2025_h20_licence": -0.7}
    out = []
    for q in range(19):
        end = dt.date(2021, 5, 2) + dt.timedelta(days=round(91.3125 * q))
        x = 21 + per_quarter * q + rng.normal(0, noise)
        x += sum(
            steps[ev.name]
            for ev in estimate.EVENTS
            if (end - ev.date).days > estimate.STEP_AFTER_DAYS
        )
        out.append(
            history.RevenueRow(
                f"FY{2022 + q // 4}Q{q % 4 + 1}",
                end,
                float(np.exp(x)),
                "primary",
                True,
                ("L001",),
                "",
                end + history.REPORTING_LAG,
            )
        )
    return out


def interval90(spec: dict) -> tuple[float, float]:
    lo, hi = TruncNormal(**{k: v for k, v in spec.items() if k != "note"}).ppf(
        np.array([0.05, 0.95])
    )
    return float(lo), float(hi)


def test_substitution_fit_recovers_the_slope_90_percent_of_the_time() -> None:
    # 400 data sets with a true slope of 0.8: the fitted 90% interval should hold it about
    # 90% of the time; with 400 trials the standard error of that rate is 0.015.
    hits = [
        interval90(estimate.fit_substitution_speed(rows=share_rows(s)).spec) for s in range(400)
    ]
    rate = np.mean([lo <= 0.8 <= hi for lo, hi in hits])
    assert 0.86 <= rate <= 0.95, rate


def test_demand_growth_fit_recovers_the_trend() -> None:
    # A true trend of 0.08 a quarter is growth exp(0.32) - 1 = 37.7% a year. With iid noise,
    # OLS intervals should hold it about 90% of the time (measured 0.91; HAC gave 0.75).
    truth = float(np.exp(4 * 0.08) - 1)
    later = dt.date(2030, 1, 1)
    hits = [
        interval90(estimate.fit_demand_growth(rows=revenue_rows(s), as_of=later).spec)
        for s in range(300)
    ]
    rate = np.mean([lo <= truth <= hi for lo, hi in hits])
    assert 0.85 <= rate <= 0.96, rate
    # and the point estimate is unbiased to within sampling error
    means = [
        estimate.fit_demand_growth(rows=revenue_rows(s), as_of=later).spec["mean"]
        for s in range(100)
    ]
    assert abs(np.median(means) - truth) < 0.05


def test_as_of_leaves_out_every_later_row() -> None:
    cut = dt.date(
        2025, 12, 31
    )  # by mid-2025 only five share figures were published: too few to fit
    f = estimate.fit("substitution_speed", as_of=cut)
    used = {d["period"] + d["source"] for d in f.data}
    for r in history.load_shares():
        key = r.period + r.source
        if r.kind == "data" and r.published > cut:
            assert key not in used or any(
                x.period + x.source == key and x.published <= cut for x in history.load_shares()
            ), r
    assert all(dt.date.fromisoformat(d["published"]) <= cut for d in f.data)
    g = estimate.fit("demand_growth", as_of=cut)
    assert all(dt.date.fromisoformat(d["published"]) <= cut for d in g.data)
    assert g.data[-1]["fiscal_quarter"] == "FY2026Q3"  # reported in November 2025; FY2026Q4 was not
    # and a scenario built as of that date carries the refitted distributions
    sc = load_scenario(stance="open_market", as_of=cut)
    assert sc.domestic.logit_speed_per_year.mean == pytest.approx(f.spec["mean"])
    assert sc.demand.ai_spending_growth_per_year.mean == pytest.approx(g.spec["mean"])
    # fewer share figures were published by then than the stored fit uses, so the S-curve differs
    stored = load_yaml(
        ROOT / "params" / "vintages" / "2026-04-30" / "estimates" / "substitution_speed.yaml"
    )
    assert f.stats["n"] < stored["record"]["rows"]
    assert sc.domestic.logit_speed_per_year.mean != stored["spec"]["mean"]


def test_as_of_run_reports_parameters_citing_later_evidence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(
            ["run", "--stance", "customs_ban", "--draws", "100", "--as-of", "2025-12-31", "--json"]
        )
        == 0
    )
    out, err = capsys.readouterr()
    obj = json.loads(out)
    assert obj["as_of"] == "2025-12-31"
    assert "demand.order_book_units" in obj["params_citing_later_evidence"]  # Jan 2026 orders
    assert "domestic.logit_speed_per_year" not in obj["params_citing_later_evidence"]  # refitted
    assert "hand-set parameters still cite later evidence" in err


def test_stored_estimates_are_current() -> None:
    assert main(["estimate", "--check"]) == 0
    for name in estimate.ESTIMATES:
        stored = load_yaml(
            ROOT / "params" / "vintages" / "2026-04-30" / "estimates" / f"{name}.yaml"
        )
        assert stored["target"] == estimate.fit(name).target
        assert stored["record"]["rows"] == len(stored["record"]["data"]) >= 12


def test_scenario_reads_the_stored_estimates() -> None:
    sc = scenario(stance="open_market")
    stored = load_yaml(
        ROOT / "params" / "vintages" / "2026-04-30" / "estimates" / "substitution_speed.yaml"
    )["spec"]
    spec = sc.domestic.logit_speed_per_year
    assert spec.dist == "truncnormal" and spec.mean == stored["mean"] and spec.sd == stored["sd"]
    assert set(stored["evidence"]) <= set(spec.evidence)


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        (lambda: share_rows(1)[:4], "too few"),
        (lambda: share_rows(1)[:7], "degrees of freedom"),
        (
            lambda: [
                *share_rows(1)[:-1],
                history.ShareRow("x", 2025.5, 1.0, "IDC", "units", "data", ("L011",), "", OLD),
            ],
            "strictly between 0 and 1",
        ),
        (
            lambda: [
                *share_rows(1)[:-1],
                history.ShareRow("x", 2025.5, 0.0, "IDC", "units", "data", ("L011",), "", OLD),
            ],
            "strictly between 0 and 1",
        ),
    ],
)
def test_bad_share_inputs_give_clear_errors(rows, words: str) -> None:
    with pytest.raises(InputError, match=words) as err:
        estimate.fit_substitution_speed(rows=rows())
    assert history.SHARE_FILE in err.value.render()


def test_too_few_quarters() -> None:
    with pytest.raises(InputError, match="too few") as err:
        estimate.fit_demand_growth(rows=revenue_rows(1)[:4], as_of=dt.date(2030, 1, 1))
    assert history.REVENUE_FILE in err.value.render()


def test_unknown_estimate_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match="unknown estimate"):
        estimate.fit("nonesuch")
    assert main(["estimate", "nonesuch"]) == 2
    assert "substitution_speed" in capsys.readouterr().err


def test_unknown_from_estimate_in_a_file(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "params", tmp_path / "params")
    base = tmp_path / "params" / "base.yaml"
    base.write_text(
        base.read_text().replace("from_estimate: demand_growth", "from_estimate: nonesuch")
    )
    with pytest.raises(InputError) as err:
        load_scenario(stance="open_market", params_dir=tmp_path / "params")
    msg = err.value.render()
    assert str(base) in msg and "demand.ai_spending_growth_per_year" in msg and "nonesuch" in msg
    # an estimate fitted for another parameter is refused too
    base.write_text(
        base.read_text().replace("from_estimate: nonesuch", "from_estimate: substitution_speed")
    )
    with pytest.raises(InputError, match=r"fitted for 'domestic\.logit_speed_per_year'"):
        load_scenario(stance="open_market", params_dir=tmp_path / "params")


def test_as_of_too_early_to_fit_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--stance", "open_market", "--as-of", "2025-06-30"]) == 2
    err = capsys.readouterr().err
    assert "domestic_share.csv" in err and "degrees of freedom" in err and "Traceback" not in err


def test_write_with_as_of_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "--write", "--as-of", "2025-01-01"]) == 2


def test_estimate_text_shows_fit_and_comparisons(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["estimate", "substitution_speed", "--dry-run"]) == 0
    out = capsys.readouterr().out
    for words in (
        "per_year",
        "durbin_watson",
        "truncated normal",
        "analysts' forecasts",
        "MorganStanley",
    ):
        assert words in out


def test_backtests_score_nested_intervals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bt = backtest.run_all()
    assert {s.estimate for s in bt.scores} == {"substitution_speed", "demand_growth"}
    for s in bt.scores:
        assert s.lo90 <= s.lo80 <= s.lo50 <= s.p50 <= s.hi50 <= s.hi80 <= s.hi90, s
        assert s.in90 >= s.in80 >= s.in50  # inside a narrow interval means inside the wider ones
        assert s.in90 == (s.lo90 <= s.observed <= s.hi90)
    assert any("degrees of freedom" in x for x in bt.skipped)  # 2023.5 has too little history
    # the H20 licence requirement came after the 2024-07 cutoff: its forecasts miss low quarters
    h20 = [
        s
        for s in bt.scores
        if "apr_2025_h20_licence" in s.note and s.target.startswith("revenue FY2026Q2")
    ]
    assert h20 and all(s.observed < s.p50 for s in h20)
    assert main(["backtest", "--out", str(tmp_path / "bt")]) == 0
    rows = (tmp_path / "bt" / "backtest.csv").read_text().splitlines()
    assert len(rows) == 1 + len(bt.scores)
    assert "coverage" in capsys.readouterr().out


@pytest.fixture
def params_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of params/ that the commands use as the checkout's (writes land beside it)."""
    import shutil

    dest = tmp_path / "checkout" / "params"
    shutil.copytree(ROOT / "params", dest)
    monkeypatch.setenv("H200CAST_PARAMS", str(dest))
    return dest


def test_backtest_writes_its_csv_by_default(
    params_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = params_copy.parent / "reports" / "backtest"
    assert main(["backtest"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}/" in printed and "coverage" in printed
    rows = (out / "backtest.csv").read_text().splitlines()
    assert rows[0].startswith("estimate,cutoff,target,observed,p50")
    assert len(rows) == 1 + len(backtest.run_all().scores)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["package"] == "h200cast" and manifest["files"] == [
        "backtest.csv",
        "manifest.json",
    ]
    (out / "backtest.csv").write_text("stale")
    assert main(["backtest"]) == 0  # its own earlier output is replaced
    assert (out / "backtest.csv").read_text().splitlines() == rows
    assert sorted(p.name for p in out.parent.iterdir()) == ["backtest"]


def _estimates(params: Path) -> dict[str, str]:
    return {
        p.name: p.read_text()
        for p in sorted((params / "vintages" / "2026-04-30" / "estimates").glob("*.yaml"))
    }


def test_estimate_writes_the_fits_by_default(
    params_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for f in (params_copy / "vintages" / "2026-04-30" / "estimates").glob("*.yaml"):
        f.write_text(f.read_text().replace("rows:", "rows_before_the_refit:", 1))
    assert main(["estimate"]) == 0
    printed = capsys.readouterr().out
    written = _estimates(params_copy)
    assert set(written) == {f"{n}.yaml" for n in estimate.ESTIMATES}
    for name, text in written.items():
        assert text == estimate.to_yaml(
            estimate.fit(name.removesuffix(".yaml"), dt.date(2026, 4, 30))
        )
        assert f"wrote {params_copy / 'vintages' / '2026-04-30' / 'estimates' / name}" in printed
    assert main(["estimate", "--check"]) == 0
    assert main(["estimate", "--write"]) == 0  # the old spelling still works
    assert _estimates(params_copy) == written


def test_estimate_dry_run_and_as_of_leave_the_stored_fits_alone(
    params_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _estimates(params_copy)
    assert main(["estimate", "--dry-run"]) == 0
    assert main(["estimate", "--as-of", "2025-12-31"]) == 0
    assert "not written" in capsys.readouterr().out
    assert _estimates(params_copy) == before
    # an as-of refit is written only where --out says
    out = tmp_path / "asof"
    assert main(["estimate", "--as-of", "2025-12-31", "--out", str(out)]) == 0
    assert _estimates(params_copy) == before
    text = (out / "substitution_speed.yaml").read_text()
    assert text == estimate.to_yaml(estimate.fit("substitution_speed", dt.date(2025, 12, 31)))
    assert text != before["substitution_speed.yaml"]


def test_observations_are_scored_against_a_saved_run(tmp_path: Path) -> None:
    assert (
        main(
            [
                "run",
                "--stance",
                "open_market",
                "--draws",
                "500",
                "--vintage",
                "2026-01-31",
                "--out",
                str(tmp_path / "f"),
            ]
        )
        == 0
    )
    import pyarrow.parquet as pq

    t = pq.read_table(tmp_path / "f" / "paths.parquet").to_pandas()
    feb_apr = t[t.month.isin(["2026-02", "2026-03", "2026-04"])].groupby("draw").shipments.sum()
    median = float(feb_apr.median())
    header = "observed_on,variable,period_start,period_end,value,unit,basis,evidence,note\n"
    # two files: in one file, two values for the same months would contradict each other
    obs, far = tmp_path / "obs.csv", tmp_path / "far.csv"
    obs.write_text(
        f"{header}2026-05-30,shipments,2026-02,2026-04,{median},units,reported,L001,median\n"
    )
    far.write_text(
        f"{header}2026-05-30,shipments,2026-02,2026-04,{feb_apr.max() * 3},units,reported,L001,far above\n"
    )
    rows = scoring.load_observations(obs) + scoring.load_observations(far)
    scores = scoring.score_observations(tmp_path / "f", rows)
    assert [s.in50 for s in scores] == [True, False] and [s.in90 for s in scores] == [True, False]
    assert scores[0].p50 == pytest.approx(median)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "observed_on,variable,period_start,period_end,value,unit,basis,evidence,note\n"
        "2026-05-30,shipmints,2026-02,2026-04,1,units,reported,L001,typo\n"
    )
    with pytest.raises(InputError, match="expected a model variable") as err:
        scoring.load_observations(bad)
    assert f"{bad}: line 2, column variable: got 'shipmints'" in err.value.render()


def test_a_level_is_scored_at_the_end_of_its_period(tmp_path: Path) -> None:
    # Inventory is a stock: an observation over Feb-Apr is compared with April's level,
    # not with the sum of three month-end levels.
    import pyarrow.parquet as pq

    run = _saved_run(tmp_path)
    t = pq.read_table(run / "paths.parquet").to_pandas()
    april = float(t[t.month == "2026-04"].inventory.median())
    summed = float(
        t[t.month.isin(["2026-02", "2026-03", "2026-04"])].groupby("draw").inventory.sum().median()
    )
    assert summed > 1.5 * april  # the two readings differ, so the test can tell them apart
    (score,) = scoring.score_observations(
        run,
        _observations(
            tmp_path, f"2026-05-30,inventory,2026-02,2026-04,{april},units,reported,L001,level"
        ),
    )
    assert score.p50 == pytest.approx(april)


def _saved_run(tmp_path: Path) -> Path:
    out = tmp_path / "f"
    assert (
        main(
            [
                "run",
                "--stance",
                "open_market",
                "--draws",
                "50",
                "--vintage",
                "2026-01-31",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def _observations(tmp_path: Path, *rows: str) -> list[scoring.Observation]:
    f = tmp_path / "obs.csv"
    f.write_text(
        "observed_on,variable,period_start,period_end,value,unit,basis,evidence,note\n"
        + "".join(f"{r}\n" for r in rows)
    )
    return scoring.load_observations(f)


def test_a_forecast_is_dated_by_the_latest_evidence_it_cites(tmp_path: Path) -> None:
    import re

    from h200cast.estimation.evidence import cached

    run = _saved_run(tmp_path)
    ids = set(re.findall(r"\b[LS]\d{3}\b", (run / "scenario.yaml").read_text()))
    latest = max(cached().facts[i].date for i in ids)
    manifest = json.loads((run / "manifest.json").read_text())
    assert scoring.forecast_date(run, manifest)[0] == latest
    assert scoring.forecast_date(run, {**manifest, "as_of": "2026-06-30"})[0] == dt.date(
        2026, 6, 30
    )


def test_observations_made_before_the_forecast_are_refused(tmp_path: Path) -> None:
    run = _saved_run(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "as_of": "2026-06-30"}))
    rows = _observations(
        tmp_path,
        "2026-07-01,shipments,2026-02,2026-04,1000,units,reported,L001,after the forecast",
        "2026-05-30,shipments,2026-02,2026-04,1000,units,reported,L001,known when the forecast was made",
    )
    with pytest.raises(InputError) as err:
        scoring.score_observations(run, rows)
    msg = err.value.render()
    assert msg.startswith(f"{tmp_path / 'obs.csv'}: line 3, column observed_on: got '2026-05-30'")
    assert "2026-06-30" in msg and "after the forecast" in msg
    assert len(scoring.score_observations(run, rows[:1])) == 1


def test_observations_partly_outside_the_forecast_are_refused(tmp_path: Path) -> None:
    run = _saved_run(tmp_path)
    outside = (
        "2026-02-01,shipments,2025-11,2025-12,1000,units,reported,L001,before the forecast's months"
    )
    partly = "2026-02-01,shipments,2025-12,2026-01,1000,units,reported,L001,straddles its start"
    assert scoring.score_observations(run, _observations(tmp_path, outside)) == []
    with pytest.raises(
        InputError, match=r"line 2, column period_start/period_end: got '2025-12\.\.2026-01'"
    ):
        scoring.score_observations(run, _observations(tmp_path, partly))


def test_committed_observations_file_loads() -> None:
    rows = scoring.load_observations()
    assert rows and all(r.evidence for r in rows)
    # none was known by the time the stored forecasts' evidence ends
    assert min(r.observed_on for r in rows) > dt.date(2026, 1, 31)


def test_stored_prediction_matches_statsmodels() -> None:
    # charts draw the S-curve from the stored record, without statsmodels: same interval
    f = estimate.fit("substitution_speed")
    levels = [c["term"][6:-1] for c in f.coefficients if c["term"].startswith("basis[")]
    years = np.array([2021.5, 2024.0, 2026.5, 2029.0])
    X = estimate.share_design(years, ["nvidia_complement", "units", "value", "ai_servers"], levels)
    ref = f.model.get_prediction(X).summary_frame(alpha=0.10)
    mid, lo, hi = estimate.predict(estimate.stored("substitution_speed")["record"]["prediction"], X)
    np.testing.assert_allclose(mid, ref["mean"], rtol=1e-9)
    np.testing.assert_allclose(lo, ref["obs_ci_lower"], rtol=1e-9)
    np.testing.assert_allclose(hi, ref["obs_ci_upper"], rtol=1e-9)


def test_estimate_as_of_an_early_date_fits_what_it_can(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Mid-2025 has enough revenue quarters for the growth fit but too few share rows for
    # the S-curve: the growth fit is printed, the S-curve named as skipped, nothing written.
    assert main(["estimate", "--as-of", "2025-06-30"]) == 0
    out, err = capsys.readouterr()
    assert "== demand_growth" in out and "== substitution_speed" not in out
    assert "skipped" in err and "substitution_speed" in err and "too few data points" in err
    # asked for by name, the S-curve is an error
    assert main(["estimate", "--as-of", "2025-06-30", "substitution_speed"]) == 2
    assert "too few data points" in capsys.readouterr().err
