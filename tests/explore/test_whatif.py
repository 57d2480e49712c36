"""The what-if grid behind the report's kernel-free page."""

from __future__ import annotations

import itertools
import math

import pytest
from support import scenario

from h200cast.explore.whatif import FIELDS, LEVERS, NEVER, grid, levers_for
from h200cast.scenario.load import load_vintage
from h200cast.settings import params_dir


@pytest.fixture(scope="module")
def january() -> list[dict]:
    runs = [(s, scenario(stance=s, vintage="2026-01-31")) for s in ("customs_ban", "open_market")]
    return grid(runs, draws=60)


def _key(r: dict, skip: str) -> tuple:
    return tuple((k, r[k]) for k in ("run", *FIELDS.values()) if k != skip)


def test_every_combination_once_per_run(january: list[dict]) -> None:
    size = math.prod(len(lv.values) for lv in LEVERS)
    assert len(january) == 2 * size
    combos = {
        tuple(r[FIELDS[lv.key]] for lv in LEVERS) for r in january if r["run"] == "open_market"
    }
    assert combos == set(itertools.product(*(lv.values for lv in LEVERS)))
    assert all(r["kept"] == 60 for r in january)  # nothing observed at the January vintage


def test_levers_move_the_outputs_the_way_they_must(january: list[dict]) -> None:
    by = {tuple(_key(r, "")): r for r in january}
    for r in january:
        if r["fee"] == 0.10:  # a higher fee rate collects more (demand is inelastic near list)
            hi = by[tuple((k, 0.35 if k == "fee" else v) for k, v in _key(r, ""))]
            assert hi["us_fee_revenue_total_usd_mean"] >= r["us_fee_revenue_total_usd_mean"]
        if r["stop"] == NEVER:  # stopping production never ships more, on the same draws
            early = by[tuple((k, 6.0 if k == "stop" else v) for k, v in _key(r, ""))]
            assert early["shipments_total_units_mean"] <= r["shipments_total_units_mean"] + 1e-6


def test_at_the_april_vintage_points_keep_only_draws_that_match_what_happened() -> None:
    v, _ = load_vintage(params_dir(), "2026-04-30")
    sc = scenario(stance="open_market", vintage="2026-04-30")
    stop = next(lv for lv in levers_for(sc) if lv.key == "supply.production_stop_month")
    assert stop.values == (2.0,) and "observed" in stop.label  # observed: not a choice
    rows = grid([("open_market", sc)], draws=80, vintage=v)
    assert len(rows) == math.prod(len(lv.values) for lv in levers_for(sc))
    assert all(0 <= r["kept"] < 80 for r in rows) and any(r["kept"] > 0 for r in rows)
    for r in rows:
        if r["kept"] == 0:
            assert r["shipments_total_units_mean"] is None
