"""Model checks (``h200cast check``): the committed checks pass, each kind can fail, bad files exit 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from support import ROOT

from h200cast.cli import main
from h200cast.engine.metrics import values as metric_values
from h200cast.engine.model import simulate
from h200cast.explore.checks import MonotoneCheck, _variants, load_checks, run_checks
from h200cast.results.scenarios import load_scenario

PREFIX = "h200cast: error: "

AMPLE = textwrap.indent(
    textwrap.dedent(
        """\
        overrides:
          supply.inventory_units: 1.0e+9
          supply.reallocation_per_month: 0
          us.us_cumulative_units_before: 1.0e+10
          us.licence_lag_months: 0
          us.review_stall_prob: 0
          us.licence_units: 1.0e+9
          us.retighten_prob_per_month: 0
          us.congress_block_prob_per_month: 0
          buyers.never_convert_prob: 0
          buyers.terms_final_prob_per_month: 1
          buyers.conversion_per_month: 1
          us.duty_pass_through: 0
          demand.new_orders_units_per_month: 0
          money.price_usd: 27000
          calendar.horizon_months: 12
        """
    ),
    "    ",
)
"""The hand-computed case of tests/engine/test_model.py, as the overrides of a check in a list."""


@pytest.fixture(autouse=True)
def _january_vintage(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases are worked out on model 2 as set on 2026-01-31, as params/checks.yaml runs
    (a checks file without `vintage:` would otherwise run at the latest vintage)."""
    from h200cast.settings import VINTAGE_ENV

    monkeypatch.setenv(VINTAGE_ENV, "2026-01-31")


def write(tmp_path: Path, body: str) -> Path:
    """A checks file in ``tmp_path`` holding ``body`` (YAML, dedented)."""
    f = tmp_path / "checks.yaml"
    f.write_text(textwrap.dedent(body), encoding="utf-8")
    return f


def check_cli(capsys, file: Path) -> tuple[int, str, str]:
    rc = main(["check", str(file)])
    out, err = capsys.readouterr()
    return rc, out, err


# --- the committed checks ---------------------------------------------------------------------


def test_committed_checks_all_pass() -> None:
    checks = load_checks()
    assert len(checks) >= 10
    assert {c.kind for c in checks} == {"bounds", "approx", "monotone", "relation"}
    names = {c.name for c in checks}
    assert {
        "market_balance_closes",
        "no_stance_ships_more_than_firm_orders",
        "customs_ban_raises_domestic_share",
        "duty_within_25pct_of_customs_value",
        "necessity_only_ships_within_its_permitted_share",
        "rd_exemption_ships_within_its_permitted_share",
    } <= names
    results = run_checks(checks)
    failed = [f"{r.name}: {r.detail}" for r in results if not r.passed]
    assert not failed, "\n".join(failed)
    assert [r.name for r in results] == [c.name for c in checks]


def test_cli_default_file_exits_0(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT / "tests")  # the default file does not depend on the working folder
    rc = main(["check"])
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert "FAIL" not in out
    assert out.splitlines()[0].split() == ["check", "kind", "result", "detail"]
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert {r[2] for r in rows[: len(load_checks())]} == {"PASS"}
    assert str(ROOT / "params" / "checks.yaml") in out


def test_monotone_variants_match_separate_runs() -> None:
    # Each variant is the run with the input set by --set: same draws, same stance weights
    # per draw (here a switching chain, whose weights are sampled per draw).
    c = MonotoneCheck(
        name="x",
        description="x",
        kind="monotone",
        switching="from_2026_01_31",
        input="supply.inventory_units",
        values=[200000, 900000],
        output="shipments_total_units",
        direction="up",
        draws=60,
        seed=5,
    )
    y = _variants(c)
    for row, v in zip(y, c.values, strict=True):
        sc = load_scenario(switching=c.switching, overrides=(f"{c.input}={v}",))
        alone = metric_values(simulate(sc, draws=60, seed=5))[c.output]
        np.testing.assert_allclose(row, alone, rtol=1e-12)


# --- each kind can fail -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        pytest.param(
            """\
            checks:
              - name: too_tight
                description: shipments cannot be this small
                kind: bounds
                stance: open_market
                draws: 50
                output: shipments_total_units
                stat: p95
                max: 1000
            """,
            "want <= 1000",
            id="bounds-output",
        ),
        pytest.param(
            """\
            checks:
              - name: share_too_low
                description: the domestic share is above 10% in some month
                kind: bounds
                path: as_reported_2026_01
                draws: 50
                variable: domestic_share
                max: 0.1
            """,
            "outside, worst",
            id="bounds-variable",
        ),
        pytest.param(
            textwrap.dedent(
                """\
                checks:
                  - name: wrong_value
                    description: the book is 2,000,000, not 1,900,000
                    kind: approx
                    stance: open_market
                    point: true
                """
            )
            + AMPLE
            + "    output: shipments_total_units\n    value: 1900000\n    tolerance: 1\n",
            "off by 100000",
            id="approx",
        ),
        pytest.param(
            """\
            checks:
              - name: wrong_direction
                description: a higher fee rate raises the fee, it does not lower it
                kind: monotone
                stance: open_market
                draws: 50
                input: us.fee_rate
                values: [0.1, 0.3]
                output: us_fee_revenue_total_usd
                direction: down
            """,
            "of 50 draws rise",
            id="monotone-input",
        ),
        pytest.param(
            """\
            checks:
              - name: fee_moves
                description: the fee revenue does change with the fee rate
                kind: monotone
                stance: open_market
                draws: 50
                input: us.fee_rate
                values: [0.1, 0.3]
                output: us_fee_revenue_total_usd
                direction: flat
            """,
            "draws change",
            id="monotone-flat",
        ),
        pytest.param(
            """\
            checks:
              - name: ban_ships_more
                description: listed loosest last, so shipments rise along the list
                kind: monotone
                stances: [customs_ban, open_market]
                draws: 50
                output: shipments_total_units
                direction: down
            """,
            "draws rise",
            id="monotone-stances",
        ),
        pytest.param(
            """\
            checks:
              - name: balance_without_gap
                description: leaving out the compute gap, the balance does not close
                kind: relation
                stance: customs_ban
                draws: 50
                left: [accelerator_demand]
                op: eq
                right: [domestic_units, shipments, grey_channel]
            """,
            "draw-months violate",
            id="relation-variables",
        ),
        pytest.param(
            """\
            checks:
              - name: ships_more_than_admitted
                description: open market admits everything, so shipments are not 1% of it
                kind: relation
                stances: [open_market]
                draws: 50
                left: [shipments_total_units]
                op: le
                factor: 0.0001
                right: [permitted_total_units]
            """,
            "draws violate",
            id="relation-metrics",
        ),
    ],
)
def test_each_kind_can_fail(tmp_path, capsys, body: str, shown: str) -> None:
    rc, out, err = check_cli(capsys, write(tmp_path, body))
    assert rc == 1, err
    assert err == ""
    row = next(line for line in out.splitlines() if "FAIL" in line)
    assert shown in row
    assert "0 of 1 checks passed" in out


def test_one_failure_among_passes_exits_1(tmp_path, capsys) -> None:
    f = write(
        tmp_path,
        """\
        checks:
          - name: nonnegative
            description: shipments are never negative
            kind: bounds
            stance: customs_ban
            draws: 50
            variable: shipments
            min: 0
          - name: impossible
            description: no draw ships anything (false)
            kind: bounds
            stance: open_market
            draws: 50
            output: shipments_total_units
            max: 0
        """,
    )
    rc, out, _ = check_cli(capsys, f)
    assert rc == 1
    lines = out.splitlines()
    assert any(line.startswith("nonnegative") and " PASS " in line for line in lines)
    assert any(line.startswith("impossible") and " FAIL " in line for line in lines)
    assert "1 of 2 checks passed" in out


# --- bad files: exit 2, naming the file and the key ------------------------------------------

GOOD = """\
  - name: ok
    description: a valid check
    kind: bounds
    stance: open_market
    draws: 10
    output: shipments_total_units
    min: 0
"""


def one(**fields: str) -> str:
    """A checks file with one monotone check, ``fields`` replacing or adding keys."""
    base = {
        "name": "bad",
        "description": "x",
        "kind": "monotone",
        "stance": "open_market",
        "draws": "10",
        "input": "supply.inventory_units",
        "values": "[0, 1000000]",
        "output": "shipments_total_units",
        "direction": "up",
    }
    base.update(fields)
    lines = [f"    {k}: {v}" for k, v in base.items() if v is not None]
    return "checks:\n" + GOOD + "  -\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        pytest.param(one(kind="between"), "checks[1].kind", "unknown kind", id="unknown-kind"),
        pytest.param(
            one(output="shipments_total"), "checks[1].output", "unknown metric", id="unknown-metric"
        ),
        pytest.param(
            one(input="supply.stock_units"),
            "checks[1].input",
            "unknown parameter",
            id="unknown-input",
        ),
        pytest.param(
            one(input="calendar.horizon_months"),
            "checks[1].input",
            "sampled parameter",
            id="input-not-sampled",
        ),
        pytest.param(
            one(values="[0, 500000, 500000]"),
            "checks[1].values",
            "strictly increasing",
            id="values-not-increasing",
        ),
        pytest.param(
            one(input="us.fee_rate", values="[0.5, 2]"),
            "checks[1].values[1]",
            "a share in [0, 1]",
            id="value-outside-domain",
        ),
        pytest.param(
            one(direction="sideways"), "checks[1].direction", "'up', 'down'", id="bad-direction"
        ),
        pytest.param(one(maxx="3"), "checks[1].maxx", "unknown key", id="unknown-key"),
        pytest.param(one(direction=None), "checks[1].direction", "missing key", id="missing-key"),
        pytest.param(one(name="ok"), "checks[1].name", "duplicate", id="duplicate-name"),
        pytest.param(
            one(stance=None), "checks[1]", "exactly one of `stance`, `path`", id="no-scenario"
        ),
        pytest.param(one(stance="loose"), "checks[1].stance", "customs_ban", id="unknown-stance"),
        pytest.param(
            one(stance=None, path="nowhere"), "checks[1].path", "unknown path", id="unknown-path"
        ),
        pytest.param(
            one(overrides="{supply.stock: 1}"),
            "checks[1].overrides.supply.stock",
            "unknown key",
            id="bad-override",
        ),
        pytest.param(
            "checks:\n"
            + GOOD
            + "  - name: late\n    description: x\n    kind: approx\n    stance: open_market\n"
            "    variable: shipments\n    month: 2031-01\n    value: 0\n    tolerance: 1\n",
            "checks[1].month",
            "expected a month from 2026-01 to 2028-12",
            id="month-outside-horizon",
        ),
        pytest.param("checks:\n  - name: [unclosed\n", None, "malformed YAML", id="malformed-yaml"),
        pytest.param("checks: []\n", "checks", "at least 1 item", id="no-checks"),
    ],
)
def test_bad_file_exits_2(tmp_path, capsys, text: str, key: str | None, words: str) -> None:
    f = tmp_path / "checks.yaml"
    f.write_text(text, encoding="utf-8")
    rc, out, err = check_cli(capsys, f)
    assert rc == 2, out + err
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"{PREFIX}{f}: "), err
    if key is not None:
        assert f": {key}: " in err, err
    assert words in err, err
    if key and key.startswith("checks[1]") and "duplicate" not in words:
        assert "in check 'bad'" in err or "in check 'late'" in err, err


def test_missing_file_exits_2(tmp_path, capsys) -> None:
    rc, _, err = check_cli(capsys, tmp_path / "nope.yaml")
    assert rc == 2
    assert err == f"{PREFIX}{tmp_path / 'nope.yaml'}: file not found\n"
