"""Folders and variables come from settings; the public API is small, lazy and complete."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT


def test_the_notebooks_stay_in_the_checkout_when_params_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from h200cast import settings

    monkeypatch.setenv(settings.PARAMS_ENV, str(tmp_path / "params"))
    assert settings.params_dir() == tmp_path / "params"
    assert settings.notebooks_dir() == ROOT / "notebooks"
    assert settings.reports_dir() == ROOT / "reports"
    assert settings.estimates_dir("2026-04-30") == (
        tmp_path / "params" / "vintages" / "2026-04-30" / "estimates"
    )


def test_notebooks_run_on_a_copy_of_the_params_folder(tmp_path: Path) -> None:
    # With H200CAST_PARAMS on a copy of params/, `h200cast notebooks 01_demand` used to exit 2:
    # the notebooks folder was derived from the params folder.
    shutil.copytree(ROOT / "params", tmp_path / "params")
    env = {**os.environ, "H200CAST_PARAMS": str(tmp_path / "params")}
    r = subprocess.run(
        [sys.executable, "-m", "h200cast", "notebooks", "01_demand", "--jobs", "1", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok" in r.stdout and "01_demand.ipynb" in r.stdout


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, h200cast; "
        "print(sorted(m for m in ('numpy', 'pandas', 'pydantic', 'altair') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_the_public_api_is_reachable_from_the_package() -> None:
    import h200cast

    for name in h200cast.__all__:
        assert getattr(h200cast, name) is not None, name
    assert set(h200cast.STANCES) >= {"customs_ban", "open_market"}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = h200cast.nope  # type: ignore[attr-defined]


def test_a_scenario_ref_names_exactly_one_scenario() -> None:
    from h200cast import InputError, ScenarioRef

    assert ScenarioRef.of(path="as_reported_2026_01").kwargs() == {"path": "as_reported_2026_01"}
    assert ScenarioRef.of("", "", "from_2026_01_31").switching == "from_2026_01_31"
    assert ScenarioRef.of(default_stance="open_market").stance == "open_market"
    with pytest.raises(InputError, match="exactly one"):
        ScenarioRef.of("customs_ban", "as_reported_2026_01")
    with pytest.raises(InputError, match="exactly one"):
        ScenarioRef.of()
    with pytest.raises(InputError, match="expected one of"):
        ScenarioRef("regime", "x")  # type: ignore[arg-type]


def test_overrides_must_be_a_mapping_or_key_value_strings() -> None:
    from h200cast import InputError, run

    with pytest.raises(InputError, match="expected a mapping"):
        run(stance="open_market", overrides="us.fee_rate=0.1", draws=10)  # type: ignore[arg-type]
    a = run(stance="open_market", overrides={"us.fee_rate": 0.1}, draws=50)
    b = run(stance="open_market", overrides=["us.fee_rate=0.1"], draws=50)
    assert a.stats == b.stats


def test_override_values_reach_the_scenario_as_given() -> None:
    import datetime as dt

    import numpy as np

    from h200cast.api import overrides_list

    given = {"a": None, "b": True, "c": np.float64(0.2), "d": [1, 2], "e": dt.date(2026, 3, 1)}
    assert overrides_list(given) == ["a=null", "b=true", "c=0.2", "d=[1, 2]", "e=2026-03-01"]
    # None clears a parameter: the vintage's production stop is gone, as in base.yaml
    from h200cast import load_scenario

    sc = load_scenario(stance="open_market", overrides={"supply.production_stop_month": None})
    assert sc.supply.production_stop_month is None
    from h200cast import notebook  # a notebook's overrides parameter, the same way

    r = notebook.run_from_parameters(
        "open_market", overrides={"supply.production_stop_month": None}, draws=20
    )
    assert r.scenario.supply.production_stop_month is None


def test_a_result_summary_matches_its_stats() -> None:
    from h200cast import run

    res = run(stance="rd_exemption", draws=200, seed=3)
    table = res.summary().set_index("metric")
    assert list(table.index) == list(res.stats)
    for name, stats in res.stats.items():
        assert table.loc[name, "p50"] == stats["p50"]
        assert res.metrics[name].shape == (200,)
    tidy = res.tidy(["shipments"])
    assert len(tidy) == 200 * res.paths.n_months
    assert tidy["value"].sum() == pytest.approx(res.paths["shipments"].sum())
