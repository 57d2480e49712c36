"""Sweeps: the CI sweep's results, spec errors, resuming, and the same results on Dask."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from support import ROOT

from h200cast.cli import main
from h200cast.errors import InputError
from h200cast.explore import sweep
from h200cast.explore.discovery import prim

CI = ROOT / "params" / "sweeps" / "ci.yaml"


@pytest.fixture(scope="module")
def ci_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "ci"
    assert main(["sweep", "ci", "--out", str(out), "--quiet"]) == 0
    return out


def test_ci_sweep_results(ci_sweep: Path) -> None:
    spec = sweep.load_spec("ci")
    t = pq.read_table(ci_sweep / "results.parquet").to_pandas()
    assert (
        len(t) == spec.design.points
        and set(spec.inputs) <= set(t.columns)
        and set(spec.outputs) <= set(t.columns)
    )
    for key, rng in spec.inputs.items():  # the design spans each range
        assert rng.low <= t[key].min() < rng.low + 0.01 * (rng.high - rng.low)
        assert rng.high - 0.01 * (rng.high - rng.low) < t[key].max() <= rng.high
    # directions of the effects: more US-customer volume (the cap is a flow against it), a
    # higher price or customs value raise the duty; a likelier congressional block lowers it
    rho = t[list(spec.inputs)].corrwith(t["us_fee_revenue_total_usd"], method="spearman")
    assert rho["us.us_units_per_month"] > 0.5
    assert rho["money.price_usd"] > 0.2
    assert rho["us.customs_value_share"] > 0.2
    assert rho["us.congress_block_prob_per_month"] < 0
    m = json.loads((ci_sweep / "manifest.json").read_text())
    assert m["rows"] == len(t) and m["spec_sha256"] == spec.digest()


def test_ci_sobol_indices(ci_sweep: Path) -> None:
    s = pd.read_csv(ci_sweep / "sobol.csv")
    assert list(s.columns[:3]) == ["run", "output", "input"]
    assert set(s["run"]) == {"selective_approval"}  # the run the indices describe, always named
    # indices are shares of variance: within [0, 1] up to their confidence intervals
    assert (s["first_lo-90"] <= 1 + 1e-9).all() and (s["first_hi-90"] >= -1e-9).all()
    assert (s["total_lo-90"] <= 1 + 1e-9).all() and (s["total_hi-90"] >= -1e-9).all()
    assert (
        s["total"] >= s["first"] - 0.05
    ).all()  # total includes first order, up to sampling error
    fee = s[s["output"] == "us_fee_revenue_total_usd"].set_index("input")
    # the US cap, a flow against US-customer volume, drives the duty collected
    assert fee["total"].idxmax() == "us.us_units_per_month"
    assert fee.loc["us.licence_lag_months", "total"] < 0.02  # a month's lag barely matters
    ships = s[s["output"] == "shipments_total_units"].set_index("input")
    assert ships["total"].idxmax() == "us.us_units_per_month"  # the cap binds shipments
    # with the cap binding, production and the buyers' pace do not move shipments
    assert ships.loc["supply.production_units_per_month", "total"] < 0.02
    short = s[s["output"] == "shortfall_total_units"].set_index("input")
    assert short["total"].idxmax() == "money.price_usd"  # price moves demand itself


def test_ci_discovery(ci_sweep: Path) -> None:
    d = json.loads((ci_sweep / "discovery.json").read_text())
    assert d["run"] == "selective_approval"
    t = pq.read_table(ci_sweep / "results.parquet").to_pandas()
    base = (t["us_fee_revenue_2026_usd"] < 3e8).mean()
    assert d["coverage"] >= 0.5 and d["density"] > 1.5 * base
    assert any(r.startswith("us.us_units_per_month <=") for r in d["rules"])


def test_ci_expectations_hold(ci_sweep: Path) -> None:
    # the committed `expect:` block holds (the fixture's exit code 0 says so too)
    record = json.loads((ci_sweep / "expectations.json").read_text())
    assert record["spec"] == "ci" and record["passed"] is True and record["failed"] == []
    kinds = {e.get("output", e.get("discovery")) for e in record["expectations"]}
    assert {"us_fee_revenue_2026_usd", "density"} <= kinds
    assert all(e["note"] and e["run"] == "selective_approval" for e in record["expectations"])


def test_prim_finds_a_planted_box() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((5000, 4))
    y = (x[:, 0] > 0.7) & (x[:, 1] < 0.3)
    box, trajectory = prim(x, y, ["a", "b", "c", "d"])
    assert set(box.limits) <= {"a", "b"} and box.density > 0.95 and box.coverage >= 0.5
    assert box.limits["a"][0] == pytest.approx(0.7, abs=0.05) and box.limits["b"][
        1
    ] == pytest.approx(0.3, abs=0.05)
    assert [b.density for b in trajectory] == sorted(
        b.density for b in trajectory
    )  # each peel raises density


def _spec_file(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(CI.read_text())
    edit(data)
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(data))
    return f


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (
            lambda d: d["design"].update(method="halton"),
            "design.method",
            "'grid', 'lhs' or 'sobol'",
        ),
        (
            lambda d: d["inputs"].update({"money.price_usd": {"low": 5, "high": 1}}),
            "inputs.money.price_usd",
            "low < high",
        ),
        (
            lambda d: d["inputs"].update({"money.prise_usd": {"low": 1, "high": 2}}),
            "inputs.money.prise_usd",
            "not a parameter",
        ),
        (lambda d: d.update(outputs=["fee_in_euros"]), None, "unknown outputs"),
        (
            lambda d: d["sensitivity"].update(base_samples=8),
            "sensitivity.base_samples",
            "greater than or equal to 16",
        ),
        (
            lambda d: d["sensitivity"].update(base_samples=1000),
            "sensitivity.base_samples",
            "power of 2",
        ),
        (lambda d: d["discovery"].pop("below"), "discovery", "exactly one of"),
        (lambda d: d["runs"].update(stances=["martial_law"]), "runs.stances.0", "customs_ban"),
        (lambda d: d.update(colour="blue"), "colour", "unknown key"),
    ],
)
def test_bad_specs_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit, key: str | None, words: str
) -> None:
    f = _spec_file(tmp_path, edit)
    assert main(["sweep", str(f), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("h200cast: error:")
        and str(f) in err
        and words in err
        and "Traceback" not in err
    )
    if key:
        assert key in err
    assert not (tmp_path / "out").exists()


def _small(tmp_path: Path, **changes: object) -> sweep.SweepSpec:
    data = yaml.safe_load(CI.read_text())
    data.update(
        {"design": {"method": "sobol", "points": 256, "seed": 5}, "chunk_rows": 64}, **changes
    )
    for key in ("sensitivity", "discovery", "expect"):  # the chunks only: no analyses
        data.pop(key)
    f = tmp_path / "small.yaml"
    f.write_text(yaml.safe_dump(data))
    return sweep.load_spec(f)


def test_an_interrupted_sweep_resumes_without_recomputing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _small(tmp_path)  # jobs=1 throughout: the test watches chunks in this process
    whole = sweep.run_sweep(spec, tmp_path / "whole", jobs=1, quiet=True)
    assert whole["chunks"] == 4
    real_write, written = sweep._write_chunk, []

    def crash_after_two(out: Path, chunk: sweep.Chunk, cols: dict) -> None:
        if len(written) == 2:
            raise KeyboardInterrupt
        real_write(out, chunk, cols)
        written.append(chunk.index)

    monkeypatch.setattr(sweep, "_write_chunk", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(spec, tmp_path / "resumed", jobs=1, quiet=True)
    monkeypatch.setattr(sweep, "_write_chunk", real_write)
    evaluated, real_eval = [], sweep.evaluate_chunk
    monkeypatch.setattr(
        sweep, "evaluate_chunk", lambda c: evaluated.append(c.index) or real_eval(c)
    )
    m = sweep.run_sweep(spec, tmp_path / "resumed", resume=True, jobs=1, quiet=True)
    assert m["chunks_reused"] == 2 and sorted(evaluated) == [2, 3]
    a = pq.read_table(tmp_path / "whole" / "results.parquet")
    b = pq.read_table(tmp_path / "resumed" / "results.parquet")
    assert a.equals(b)
    # without --resume, the same folder is recomputed from scratch
    evaluated.clear()
    sweep.run_sweep(spec, tmp_path / "resumed", jobs=1, quiet=True)
    assert sorted(evaluated) == [0, 1, 2, 3]


def test_resume_reuses_nothing_after_a_parameter_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    spec = _small(tmp_path)
    sweep.run_sweep(spec, tmp_path / "out", jobs=1, quiet=True, params_dir=params)
    evaluated, real_eval = [], sweep.evaluate_chunk
    monkeypatch.setattr(
        sweep, "evaluate_chunk", lambda c: evaluated.append(c.index) or real_eval(c)
    )
    (tmp_path / "out" / "results.parquet").unlink()
    sweep.run_sweep(spec, tmp_path / "out", resume=True, jobs=1, quiet=True, params_dir=params)
    assert evaluated == []  # nothing changed: every chunk reused
    base = params / "base.yaml"
    base.write_text(base.read_text().replace("    value: 0.25\n", "    value: 0.2\n", 1))
    m = sweep.run_sweep(spec, tmp_path / "out", resume=True, jobs=1, quiet=True, params_dir=params)
    assert m["chunks_reused"] == 0 and sorted(evaluated) == [0, 1, 2, 3]


def test_a_worker_loads_each_run_once_and_again_after_a_parameter_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setup a worker keeps between chunks is keyed on the sweep's inputs: a changed
    parameter file in the same process gives the changed results, not the cached ones."""
    import shutil

    from h200cast.results import scenarios

    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    spec = _small(tmp_path)
    loads, real_load = [], scenarios.load_scenario
    monkeypatch.setattr(
        scenarios, "load_scenario", lambda *a, **k: loads.append(1) or real_load(*a, **k)
    )
    sweep._run_setup.cache_clear()
    sweep.run_sweep(spec, tmp_path / "a", jobs=1, quiet=True, params_dir=params)
    assert len(loads) == 1  # four chunks of one run: the scenario is loaded once
    base = params / "base.yaml"  # the fee rate, which the sweep does not vary: 25% to 20%
    base.write_text(base.read_text().replace("    value: 0.25\n", "    value: 0.2\n", 1))
    sweep.run_sweep(spec, tmp_path / "b", jobs=1, quiet=True, params_dir=params)
    assert len(loads) == 2
    fee = "us_fee_revenue_total_usd"
    a = pq.read_table(tmp_path / "a" / "results.parquet").column(fee).to_numpy()
    b = pq.read_table(tmp_path / "b" / "results.parquet").column(fee).to_numpy()
    # the duty is the rate times what ships; the rate moves what ships by less than 0.01%
    assert a.max() > 0 and np.allclose(b, 0.8 * a, rtol=1e-3)


def test_grid_design_is_the_product_of_the_values(tmp_path: Path) -> None:
    spec = _small(
        tmp_path,
        design={"method": "grid", "points": 3, "seed": 0},
        inputs={
            "money.price_usd": {"values": [20000, 27000]},
            "us.fee_rate": {"low": 0.1, "high": 0.3},
        },
    )
    pts = sweep.design_points(spec)
    assert pts.shape == (6, 2) and sorted(set(pts[:, 1].round(6))) == [0.1, 0.2, 0.3]


def test_local_pool_and_dask_give_the_in_process_results(tmp_path: Path) -> None:
    from distributed import LocalCluster

    spec = _small(tmp_path)
    assert sweep.run_sweep(spec, tmp_path / "here", jobs=1, quiet=True)["scheduler"] == "in-process"
    m = sweep.run_sweep(spec, tmp_path / "pool", quiet=True)  # the default: one worker per core
    chunks, cores = m["chunks"], os.cpu_count() or 1
    assert chunks > 1 and m["scheduler"] == (
        f"local pool ({min(cores, chunks)})" if cores > 1 else "in-process"
    )
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        m = sweep.run_sweep(
            spec, tmp_path / "dask", scheduler=cluster.scheduler_address, quiet=True
        )
    assert m["scheduler"].startswith("tcp://127.0.0.1:")
    here = pq.read_table(tmp_path / "here" / "results.parquet")
    assert here.equals(pq.read_table(tmp_path / "pool" / "results.parquet"))
    assert here.equals(pq.read_table(tmp_path / "dask" / "results.parquet"))


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler"),
        ("tcp://127.0.0.1", "cannot reach the Dask scheduler"),
        ("foo", "expected the address of a running Dask scheduler"),
        ("", "expected the address of a running Dask scheduler"),
        ("tcp://", "expected the address of a running Dask scheduler"),
    ],
)
def test_unreachable_or_malformed_scheduler_is_a_clear_error(
    address: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x"
    assert main(["sweep", "ci", "--out", str(out), "--scheduler", address, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and f"--scheduler: got {address!r}" in err
    assert "Traceback" not in err
    assert not out.exists()  # checked before anything is written


def test_sweep_out_never_replaces_a_folder_of_the_users_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.parquet").write_text("my own file")
    (mine / "notes.txt").write_text("keep me")
    assert main(["sweep", "ci", "--out", str(mine), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "folder of other files" in err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt", "results.parquet"]
    assert (mine / "results.parquet").read_text() == "my own file"
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["sweep", "ci", "--out", str(afile), "--quiet"]) == 2
    assert "is not a folder" in capsys.readouterr().err and afile.read_text() == "x"


def test_a_grid_too_large_for_memory_is_refused_before_work(tmp_path: Path) -> None:
    spec = yaml.safe_load((ROOT / "params" / "sweeps" / "ci.yaml").read_text())
    spec["design"] = {"method": "grid", "points": 1000}  # 1000 steps per input: 10**30 points
    f = tmp_path / "huge.yaml"
    f.write_text(yaml.safe_dump(spec))
    with pytest.raises(InputError, match="result rows; expected at most"):
        sweep.run_sweep(sweep.load_spec(f), tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_the_domestic_share_spec_finds_what_keeps_the_compute_gap_small(
    tmp_path: Path,
) -> None:
    # The second example of scenario discovery, as a committed spec: on the market
    # balance of model 2, what keeps the 2026 compute gap under a million accelerators?
    assert main(["sweep", "domestic_share", "--out", str(tmp_path / "d"), "--quiet"]) == 0
    t = pq.read_table(tmp_path / "d" / "results.parquet").to_pandas()
    share = t["domestic_share_2026"]
    assert ((share >= 0) & (share <= 1)).all()
    ban, open_ = (
        t[t["run"] == r]["domestic_share_2026"].to_numpy() for r in ("customs_ban", "open_market")
    )
    assert (ban >= open_ - 1e-12).all()  # same points: a ban never lowers the domestic share
    assert (t["compute_gap_2026_units"] >= 0).all()
    d = json.loads((tmp_path / "d" / "discovery.json").read_text())
    assert d["run"] == "customs_ban"  # the run PRIM describes
    base = (t[t["run"] == "customs_ban"]["compute_gap_2026_units"] < 1e6).mean()
    assert d["coverage"] >= 0.5 and d["density"] > 2 * base
    assert any(r.startswith("demand.ai_spending_growth_per_year <=") for r in d["rules"])
    s = pd.read_csv(tmp_path / "d" / "sobol.csv")
    assert set(s["run"]) == {"customs_ban"}  # of two runs, the one the indices describe
    top = s[s["output"] == "compute_gap_2026_units"].set_index("input")["total"].idxmax()
    assert top == "demand.ai_spending_growth_per_year"  # a bigger market outruns domestic capacity


def test_a_finished_sweeps_analyses_read_back_as_written(ci_sweep: Path, tmp_path: Path) -> None:
    # what `report --sweep DIR` draws: the same indices, box and expectations, not recomputed
    import shutil

    spec, read = sweep.load_analyses(ci_sweep)
    assert spec == sweep.SweepSpec.model_validate(
        json.loads((ci_sweep / "spec.json").read_text())["spec"]
    )
    written = pd.read_csv(ci_sweep / "sobol.csv").drop(columns="run")
    again = read.sobol.frame()
    assert list(again.columns) == list(written.columns)
    assert np.allclose(again.select_dtypes("number"), written.select_dtypes("number"))
    assert read.sobol.evaluations == spec.sensitivity.base_samples * (len(spec.inputs) + 2)
    record = json.loads((ci_sweep / "discovery.json").read_text())
    assert read.box.rules() == record["rules"] and read.box.mass == record["mass"]
    assert [b.rules() for b in read.trajectory] == [b["rules"] for b in record["trajectory"]]
    done = json.loads((ci_sweep / "expectations.json").read_text())["expectations"]
    assert [e.passed for e in read.expectations] == [e["passed"] for e in done]
    # damaged or missing: one InputError naming the folder
    broken = tmp_path / "broken"
    shutil.copytree(ci_sweep, broken)
    (broken / "discovery.json").write_text('{"run": "selective_approval", "rules": ["x ~ 1"]}')
    with pytest.raises(InputError, match=r"--sweep.*analyses cannot be read"):
        sweep.load_analyses(broken)
    (broken / "manifest.json").unlink()  # interrupted: not finished
    with pytest.raises(InputError, match="not a finished sweep"):
        sweep.load_analyses(broken)


def test_the_design_is_computed_once_and_only_the_outputs_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from h200cast.engine import metrics

    spec = _small(tmp_path)
    designs, computed = [], []
    real_design, real_values = sweep.design_points, metrics.values
    monkeypatch.setattr(sweep, "design_points", lambda s: designs.append(1) or real_design(s))

    def values(p, names=None):  # type: ignore[no-untyped-def]
        computed.append(tuple(names) if names is not None else None)
        return real_values(p, names)

    monkeypatch.setattr(metrics, "values", values)
    m = sweep.run_sweep(spec, tmp_path / "out", jobs=1, quiet=True)
    assert designs == [1] and m["points"] == 256
    assert computed and set(computed) == {tuple(spec.outputs)}


def test_the_chunk_sizes_known_from_the_spec_are_the_plans() -> None:
    spec = sweep.load_spec(CI)
    for rows in (1, 7, 64, 10_000):
        s = spec.model_copy(update={"chunk_rows": rows})
        assert sweep.plan_sizes(s) == [len(c.points) for c in sweep.plan(s)]


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_local_workers_give_the_rows_one_process_gives(tmp_path: Path, method: str) -> None:
    spec = _small(tmp_path, design={"method": method, "points": 256, "seed": 5})
    one = sweep.run_sweep(spec, tmp_path / "one", jobs=1, quiet=True)
    two = sweep.run_sweep(spec, tmp_path / "two", jobs=2, quiet=True)
    assert (one["scheduler"], two["scheduler"]) == ("in-process", "local pool (2)")
    a = pq.read_table(tmp_path / "one" / "results.parquet")
    b = pq.read_table(tmp_path / "two" / "results.parquet")
    assert a.num_rows == 256 and a.equals(b)
