"""Vintages: frozen parameter sets as of a date, their discipline, and conditioning on the
months they observed (issue 11, points 2 and 3)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from support import ROOT

from h200cast.cli import main
from h200cast.engine.model import licences_issued
from h200cast.errors import InputError
from h200cast.results import vintages
from h200cast.results.conditioning import round_size
from h200cast.results.result import run
from h200cast.scenario.load import load_vintage
from h200cast.scenario.ref import ScenarioRef
from h200cast.settings import DATA_ENV, PARAMS_ENV

PARAMS = ROOT / "params"
JANUARY, APRIL = "2026-01-31", "2026-04-30"


# --- the recorded content hash ----------------------------------------------------------------


@pytest.mark.parametrize("name", [JANUARY, APRIL])
def test_each_vintage_is_as_recorded(name: str) -> None:
    # A vintage changes only through a deliberate update: `h200cast params record` adds the
    # new hash with its reason. This test fails on any change to what a vintage resolves to.
    v, _ = load_vintage(PARAMS, name)
    assert v.record, f"vintage {name} has no recorded hash"
    assert vintages.content_digest(v) == v.recorded
    assert all(r.reason.strip() for r in v.record)


def test_a_change_to_a_vintage_is_visible_and_recorded_only_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    monkeypatch.setenv(PARAMS_ENV, str(params))
    vfile = params / "vintages" / APRIL / "vintage.yaml"
    text = vfile.read_text()
    vfile.write_text(text.replace("value: 333333", "value: 340000"))
    assert main(["params", "check", "--vintage", APRIL]) == 2
    err = capsys.readouterr().err
    assert f"vintage {APRIL} changed since it was recorded" in err and err.count("\n") == 1
    assert main(["params", "check", "--vintage", JANUARY]) == 0  # the other is untouched
    assert main(["params", "record", "--vintage", APRIL, "--reason", "  "]) == 2
    assert "expected a reason" in capsys.readouterr().err
    assert main(["params", "record", "--vintage", APRIL, "--reason", "test: IDC revised"]) == 0
    v, _ = load_vintage(params, APRIL)
    assert v.record[-1].reason == "test: IDC revised" and len(v.record) >= 2
    assert main(["params", "check", "--vintage", APRIL]) == 0
    assert "# The April view" in vfile.read_text()  # comments kept


# --- the discipline: a vintage uses only what was published by its date -----------------------


def test_params_check_names_the_parameter_and_the_later_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    monkeypatch.setenv(PARAMS_ENV, str(params))
    base = params / "base.yaml"
    base.write_text(
        base.read_text().replace(
            "evidence: [L178, L179, L193, L231, L217, L216]",
            "evidence: [L178, L179, L193, L231, L217, L216, L287]",
        )
    )
    assert main(["params", "check", "--vintage", JANUARY]) == 2
    err = capsys.readouterr().err
    assert f"{base}: demand.order_book_units:" in err and "L287 (published 2026-04-04)" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    # a single file checked against a date
    assert main(["params", "check", str(params / "paths" / "as_reported_2026_04.yaml"),
                 "--vintage", JANUARY]) == 2  # fmt: skip
    assert "cites evidence published after the vintage 2026-01-31: L248" in capsys.readouterr().err


def test_a_stored_estimate_fitted_on_later_rows_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    monkeypatch.setenv(PARAMS_ENV, str(params))
    for f in (params / "vintages" / APRIL / "estimates").glob("*.yaml"):  # April's fits in January
        shutil.copy(f, params / "vintages" / JANUARY / "estimates" / f.name)
    assert main(["params", "check", "--vintage", JANUARY]) == 2
    err = capsys.readouterr().err  # April's demand fit cites Q4 FY2026, reported in February
    assert "vintage 2026-01-31 cites evidence published after its date: L230" in err
    # a fit that cites nothing later but was not made on the rows by then is refused too
    f = params / "vintages" / JANUARY / "estimates" / "substitution_speed.yaml"
    shutil.copy(PARAMS / "vintages" / JANUARY / "estimates" / "demand_growth.yaml",
                params / "vintages" / JANUARY / "estimates" / "demand_growth.yaml")  # fmt: skip
    f.write_text((PARAMS / "vintages" / JANUARY / "estimates" / f.name).read_text()
                 .replace("mean: 0.650615", "mean: 0.7"))  # fmt: skip
    assert main(["params", "check", "--vintage", JANUARY]) == 2
    assert "differs from a refit on the rows published by 2026-01-31" in capsys.readouterr().err


def _later_rows_changed(tmp_path: Path) -> Path:
    """A copy of data/ in which every row published after 31 January says something else."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    share = data / "history" / "domestic_share.csv"
    rows = list(csv.DictReader(share.open()))
    assert any(r["evidence"] == "L276" for r in rows)
    for r in rows:
        if r["evidence"] == "L276":
            r["share"] = "0.9"
    with share.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    obs = data / "observations" / "states.csv"
    obs.write_text(obs.read_text().replace("2026-03,halted", "2026-03,running"))
    return data


def test_the_january_vintage_ignores_every_row_published_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = run(ScenarioRef("switching", "from_2026_01_31"), draws=300, vintage=JANUARY)
    april = run(ScenarioRef("stance", "open_market"), draws=300, vintage=APRIL)
    monkeypatch.setenv(DATA_ENV, str(_later_rows_changed(tmp_path)))
    after = run(ScenarioRef("switching", "from_2026_01_31"), draws=300, vintage=JANUARY)
    assert json.dumps(after.stats, sort_keys=True) == json.dumps(before.stats, sort_keys=True)
    v, _ = load_vintage(PARAMS, JANUARY)
    vintages.check_estimates(v)  # its estimates still equal a refit on the rows by then
    assert vintages.content_digest(v) == v.recorded
    # while the April vintage sees the changed rows (here: production running in March
    # contradicts nothing it fixes, and its estimates no longer match a refit)
    va, _ = load_vintage(PARAMS, APRIL)
    with pytest.raises(InputError, match="differs from a refit"):
        vintages.check_estimates(va)
    changed = run(ScenarioRef("stance", "open_market"), draws=300, vintage=APRIL)
    assert changed.conditioning is not None and april.conditioning is not None
    assert len(changed.conditioning.constraints) < len(april.conditioning.constraints)


# --- conditioning on the observed months ------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        ScenarioRef("stance", "open_market"),
        ScenarioRef("path", "as_reported_2026_04"),
        ScenarioRef("switching", "from_2026_04_30"),
        ScenarioRef("switching", "from_2026_01_31"),
    ],
)
def test_every_draw_reproduces_the_observed_months(ref: ScenarioRef) -> None:
    r = run(ref, draws=400, seed=7, vintage=APRIL)
    p = r.paths
    assert p.n_draws == 400 and r.origin == "2026-05"
    c = r.conditioning
    assert c is not None and c.kept == 400 and c.ess == 400 and c.simulated >= 400
    assert 0 < c.acceptance < 1  # some draws contradicted what happened, and were removed
    jan_apr = slice(0, 4)
    assert (p["shipments"][:, jan_apr] == 0).all()  # no H200 shipped through April
    assert (p["revenue_usd"][:, jan_apr] == 0).all()
    assert (p["production"][:, 2:] == 0).all()  # production for China stopped in March
    lic = np.cumsum(p.full(licences_issued), axis=1)
    assert (lic[:, 0] == 0).all() and (lic[:, 1] > 0).all()  # first licences in February
    names = list(p.stance_names)
    end_stance = p.stance_weights[:, 1:4, :].argmax(axis=2)
    assert (end_stance == names.index("selective_approval")).all()  # Feb-Apr as observed
    # and the forecast from the origin is free: some draws ship after April
    if ref.name != "customs_ban":
        assert (p["shipments"][:, 4:].sum(axis=1) > 0).any()


def test_round_sizes_follow_the_acceptance_within_their_caps() -> None:
    # the first round is the unconditioned run; then what the acceptance says, plus 20%
    assert round_size(1000, 0, 0, 0) == 1000
    assert round_size(1000, 250, 1000, 250) == 3600  # 750 missing / 0.25 * 1.2
    assert round_size(1000, 990, 5000, 990) == 61  # ceil(10 * 1.2 / 0.198)
    # a round never simulates fewer than the missing draws, nor more than its cap
    assert round_size(1000, 999, 1000, 999) == 2  # ceil(1 * 1.2 / 0.999)
    assert round_size(1000, 0, 1000, 0) == 8000  # acceptance 0: at most 8x draws
    assert round_size(100_000, 0, 100_000, 1) == 100_000  # a large run: at most one run's size
    assert round_size(20_000, 0, 20_000, 1) == 50_000


def test_a_run_that_keeps_one_draw_in_four_takes_two_rounds() -> None:
    r = run(ScenarioRef("stance", "selective_approval"), draws=1000, seed=3, vintage=APRIL)
    c = r.conditioning
    assert c is not None and 0.1 < c.acceptance < 0.5 and c.kept == 1000
    assert c.rounds <= 3 and c.simulated > 1000


def test_the_january_chain_at_april_keeps_only_paths_that_match_the_stance() -> None:
    r = run(ScenarioRef("switching", "from_2026_01_31"), draws=300, vintage=APRIL)
    c = r.conditioning
    assert c is not None
    assert any(x.subject == "beijing_stance" and not x.by_construction for x in c.constraints)
    # the chain leaves selective_approval in ~half of draws by April: fewer draws survive
    own = run(ScenarioRef("switching", "from_2026_04_30"), draws=300, vintage=APRIL)
    assert own.conditioning is not None and c.acceptance < own.conditioning.acceptance


def test_run_json_reports_the_effective_sample_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--stance", "domestic_quota", "--draws", "200", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    cond = obj["conditioning"]
    assert obj["vintage"] == APRIL and obj["origin"] == "2026-05"
    assert cond["kept_draws"] == cond["effective_sample_size"] == 200
    assert cond["simulated_draws"] >= 200 and 0 < cond["acceptance"] < 1
    subjects = {o["subject"] for o in cond["observations"]}
    assert {
        "shipments",
        "revenue_usd",
        "us_licences",
        "beijing_stance",
        "china_production",
    } <= subjects
    assert main(["run", "--stance", "domestic_quota", "--draws", "200"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # the table says it, under its header line
    second = out.splitlines()[1]
    assert second.startswith("vintage 2026-04-30: months before 2026-05 observed")
    assert "draws reproduce them" in second and "effective sample size 200" in second


def test_the_january_vintage_has_nothing_to_condition_on() -> None:
    r = run(ScenarioRef("stance", "open_market"), draws=200, vintage=JANUARY)
    assert r.conditioning is not None and r.conditioning.constraints == ()
    assert r.conditioning.simulated == 0 and r.origin == "2026-01"


def test_a_history_path_that_contradicts_the_observed_stance_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    f = params / "paths" / "as_reported_2026_04.yaml"
    f.write_text(
        f.read_text() + "  - start: 2026-03-01\n    stance: customs_ban\n    evidence: [L265]\n"
    )
    with pytest.raises(InputError, match="contradicts the observed stance at the end of 2026-03"):
        run(ScenarioRef("stance", "open_market"), draws=50, vintage=APRIL, params_dir=params)


# --- bad input to --vintage -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-02-28", "unknown vintage; expected one of: 2026-01-31, 2026-04-30"),
        ("2099-01-01", "a vintage cannot be dated after today"),
        ("2026-13-01", "expected a date YYYY-MM-DD"),
        ("April", "expected a date YYYY-MM-DD"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ["run", "--stance", "open_market", "--draws", "10"],
        ["params", "show", "--stance", "open_market"],
        ["params", "check"],
        ["estimate", "--dry-run"],
    ],
)
def test_bad_vintages_get_one_line_and_exit_2(
    command: list[str], value: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    extra = ["--out", str(out)] if command[0] == "run" else []
    assert main([*command, "--vintage", value, *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and words in captured.err
    assert "Traceback" not in captured.err and not out.exists()
