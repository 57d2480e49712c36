"""The model's invariants, orderings between stances, and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from support import scenario

from h200cast.api import run
from h200cast.engine.metrics import summarize, values
from h200cast.engine.model import Paths, simulate
from h200cast.scenario.schema import STANCES

TOL = 1e-6


def assert_le(a: np.ndarray, b: np.ndarray, what: str) -> None:
    slack = TOL * np.maximum(1.0, np.abs(b))
    bad = a > b + slack
    assert not bad.any(), f"{what}: {bad.sum()} cells violate, worst {np.max(a - b)}"


def check_invariants(p: Paths) -> None:
    """Everything that must hold for every draw and month."""
    ship, dem = p["shipments"], p["demand"]
    for name in (
        "new_demand",
        "demand",
        "permitted",
        "us_allowed",
        "supply_available",
        "shipments",
        "shortfall_beijing",
        "shortfall_us_rule",
        "shortfall_supply",
        "backlog",
        "production",
        "lost_to_domestic",
        "grey_channel",
        "revenue_usd",
        "us_fee_usd",
        "nvidia_net_usd",
        "market_units",
        "domestic_capacity",
        "domestic_units",
        "approvals_unused",
    ):
        x = p[name]
        assert x.shape == (p.n_draws, p.n_months), name
        assert np.isfinite(x).all(), name
        assert (x >= -TOL * np.maximum(1.0, np.abs(x).max())).all(), f"{name} negative"
    assert (p["inventory"] >= -1e-6).all(), "inventory negative"
    # shipments never exceed demand (incl. backlog), Beijing's permit, the US allowance or supply
    assert_le(ship, dem, "shipments <= demand")
    assert_le(ship, p["permitted"], "shipments <= permitted")
    assert_le(ship, p["us_allowed"], "shipments <= US allowance")
    assert_le(ship, p["supply_available"], "shipments <= supply")
    # demand is fresh demand plus last month's backlog; the backlog is the persisting shortfall
    carried = np.concatenate([np.zeros((p.n_draws, 1)), p["backlog"][:, :-1]], axis=1)
    np.testing.assert_allclose(dem, p["new_demand"] + carried, rtol=1e-9, atol=1e-6)
    persistence = p.draws.col("demand.backlog_persistence")
    np.testing.assert_allclose(p["backlog"], persistence * (dem - ship), rtol=1e-9, atol=1e-6)
    # the three parts of the shortfall add up to it
    parts = p["shortfall_beijing"] + p["shortfall_us_rule"] + p["shortfall_supply"]
    np.testing.assert_allclose(parts, dem - ship, rtol=1e-9, atol=1e-6)
    # stock flow: inventory falls by shipments and rises by production
    inv0 = p.draws.col("supply.inventory_units")
    np.testing.assert_allclose(
        p["inventory"], inv0 + np.cumsum(p["production"] - ship, axis=1), rtol=1e-9, atol=1e-3
    )
    # China's cumulative volume stays within the US cap
    cap = p.draws.col("us.china_cap_share_of_us_volume") * (
        p.draws.col("us.us_cumulative_units_before")
        + p.draws.col("us.us_units_per_month") * np.arange(1, p.n_months + 1)
    )
    assert_le(np.cumsum(ship, axis=1), cap, "cumulative China volume <= US cap")
    # money: fee = rate x revenue, net = revenue - fee
    np.testing.assert_allclose(
        p["us_fee_usd"], p.draws.col("us.fee_rate") * p["revenue_usd"], rtol=1e-12, atol=1e-6
    )
    np.testing.assert_allclose(
        p["revenue_usd"], ship * p.draws.col("money.price_usd"), rtol=1e-12, atol=1e-6
    )  # USD; atol covers subnormal floats
    # shares stay in [0, 1]; the realised domestic share never exceeds the desired one
    for name in ("domestic_share", "domestic_share_desired", "us_open"):
        assert ((p[name] >= 0) & (p[name] <= 1)).all(), name
    assert_le(p["domestic_share"], p["domestic_share_desired"], "realised share <= desired share")
    assert_le(p["domestic_units"], p["domestic_capacity"], "domestic units <= capacity")
    # totals: every unit of demand is shipped or short, and the split adds up
    m = values(p)
    np.testing.assert_allclose(
        m["shipments_total_units"] + m["shortfall_total_units"],
        m["demand_total_units"],
        rtol=1e-9,
        atol=1e-3,
    )
    np.testing.assert_allclose(
        m["shortfall_beijing_units"] + m["shortfall_us_rule_units"] + m["shortfall_supply_units"],
        m["shortfall_total_units"],
        rtol=1e-9,
        atol=1e-3,
    )
    np.testing.assert_allclose(
        m["us_fee_revenue_total_usd"],
        p.draws.vec("us.fee_rate") * m["nvidia_revenue_total_usd"],
        rtol=1e-12,
        atol=1e-6,  # USD; covers subnormal floats when the fee rate is near zero
    )


@pytest.mark.parametrize("stance", STANCES)
def test_invariants_committed_stances(stance: str) -> None:
    check_invariants(simulate(scenario(stance=stance), draws=500, seed=7))


def test_invariants_reported_path() -> None:
    check_invariants(simulate(scenario(path="as_reported_2026_01"), draws=500, seed=7))


# --- properties over random parameters ------------------------------------------------------

_RANGES = {
    "demand.order_book_units": (0.0, 5e6),
    "demand.new_orders_units_per_month": (0.0, 4e5),
    "demand.ai_spending_growth_per_year": (-0.5, 2.0),
    "demand.price_elasticity": (-2.0, 0.0),
    "demand.backlog_persistence": (0.0, 1.0),
    "demand.lost_to_domestic_share": (0.0, 0.7),
    "demand.grey_channel_share": (0.0, 0.3),  # with the base high of lost_to_domestic (0.7), <= 1
    "money.price_usd": (1000.0, 80000.0),
    "us.fee_rate": (0.0, 1.0),
    "us.us_cumulative_units_before": (0.0, 5e6),
    "us.us_units_per_month": (0.0, 1e5),
    "us.licence_lag_months": (0.0, 12.0),
    "us.retighten_prob_per_month": (0.0, 1.0),
    "supply.inventory_units": (0.0, 3e6),
    "supply.production_lead_months": (0.0, 24.0),
    "supply.production_units_per_month": (0.0, 3e5),
    "domestic.share_at_reference": (0.0, 1.0),
    "domestic.logit_speed_per_year": (0.0, 3.0),
    "domestic.capacity_multiple_2026": (0.05, 5.0),
    "domestic.capacity_growth_per_year": (-0.5, 2.0),
    "beijing.special_cases_share": (0.0, 1.0),
}


@hs.composite
def random_overrides(draw: hs.DrawFn) -> tuple[str, ...]:
    """Point values for a random subset of inputs, anywhere in a wide valid range."""
    keys = draw(hs.lists(hs.sampled_from(sorted(_RANGES)), unique=True, max_size=len(_RANGES)))
    out = [f"{k}={draw(hs.floats(*_RANGES[k], allow_nan=False))!r}" for k in keys]
    out.append(f"calendar.horizon_months={draw(hs.integers(1, 60))}")
    if draw(hs.booleans()):
        out.append(f"supply.production_stop_month={draw(hs.integers(0, 40))}")
    return tuple(out)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    overrides=random_overrides(),
    which=hs.sampled_from([*STANCES, "as_reported_2026_01"]),
    seed=hs.integers(0, 2**31 - 1),
)
def test_invariants_random_parameters(overrides: tuple[str, ...], which: str, seed: int) -> None:
    kw = {"path": which} if which not in STANCES else {"stance": which}
    check_invariants(simulate(scenario(**kw, overrides=overrides), draws=40, seed=seed))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=random_overrides(), seed=hs.integers(0, 2**31 - 1))
def test_orderings_random_parameters(overrides: tuple[str, ...], seed: int) -> None:
    check_orderings(overrides, seed, draws=40)


def check_orderings(overrides: tuple[str, ...], seed: int, draws: int) -> None:
    """For the same draws: open_market ships the most, customs_ban the least, and a ban
    leaves the domestic share at least as high as an open market, every month."""
    res = {
        s: simulate(scenario(stance=s, overrides=overrides), draws=draws, seed=seed)
        for s in STANCES
    }
    total = {s: p["shipments"].sum(axis=1) for s, p in res.items()}
    for s in STANCES:
        assert_le(total[s], total["open_market"], f"{s} ships no more than open_market")
        assert_le(total["customs_ban"], total[s], f"customs_ban ships no more than {s}")
    assert_le(
        res["open_market"]["domestic_share"],
        res["customs_ban"]["domestic_share"],
        "domestic share under customs_ban >= open_market",
    )


def test_orderings_committed_parameters() -> None:
    check_orderings((), seed=11, draws=2000)


# --- hand-computed cases ------------------------------------------------------------------------

AMPLE = (
    "supply.inventory_units=1e9",
    "us.us_cumulative_units_before=1e10",
    "us.licence_lag_months=0",
    "us.retighten_prob_per_month=0",
    "demand.new_orders_units_per_month=0",
    "money.price_usd=27000",
    "calendar.horizon_months=12",
)


def p50(result) -> dict[str, float]:
    """Each metric's median (the value itself for a --point run)."""
    return {k: v["p50"] for k, v in result.stats.items()}


def test_open_market_with_ample_supply_ships_the_whole_book() -> None:
    # No limit anywhere: the 2,000,000-unit book (its mode) ships over 12 months at $27,000;
    # the fee is 25% of 2e6 x 27,000 = $13.5 billion.
    r = run(stance="open_market", overrides=AMPLE, point=True)
    m = p50(r)
    assert m["demand_total_units"] == pytest.approx(2_000_000)
    assert m["shipments_total_units"] == pytest.approx(2_000_000)
    assert m["shortfall_total_units"] == pytest.approx(0, abs=1e-6)
    assert m["nvidia_revenue_total_usd"] == pytest.approx(54e9)
    assert m["us_fee_revenue_total_usd"] == pytest.approx(13.5e9)
    assert m["us_fee_revenue_2026_usd"] == pytest.approx(13.5e9)
    assert m["nvidia_net_total_usd"] == pytest.approx(40.5e9)
    np.testing.assert_allclose(r.paths["shipments"][0], np.full(12, 2e6 / 12))


def test_customs_ban_ships_only_special_cases() -> None:
    # Under a ban only special cases pass: 1% (the mode) of the 2,000,000 fresh demand.
    r = run(stance="customs_ban", overrides=AMPLE, point=True)
    m = p50(r)
    assert m["shipments_total_units"] == pytest.approx(20_000)
    assert m["us_fee_revenue_total_usd"] == pytest.approx(0.25 * 20_000 * 27_000)
    assert m["shortfall_beijing_units"] == pytest.approx(m["shortfall_total_units"])
    assert m["shortfall_us_rule_units"] == pytest.approx(0, abs=1e-6)


def test_us_cap_binds_at_half_the_us_volume() -> None:
    # 100,000 units shipped to US customers and none added: China may take 50,000 in all.
    over = (*AMPLE, "us.us_cumulative_units_before=100000", "us.us_units_per_month=0")
    r = run(stance="open_market", overrides=over, point=True)
    m = p50(r)
    assert m["shipments_total_units"] == pytest.approx(50_000)
    assert m["shortfall_us_rule_units"] == pytest.approx(m["shortfall_total_units"])


def test_supply_shortfall_when_stock_runs_out() -> None:
    # 300,000 in stock, no production: ships 300,000 and the rest is short of supply.
    over = (
        *AMPLE,
        "supply.inventory_units=300000",
        "supply.production_units_per_month=0",
        "demand.backlog_persistence=0",
    )
    r = run(stance="open_market", overrides=over, point=True)
    m = p50(r)
    assert m["shipments_total_units"] == pytest.approx(300_000)
    assert m["shortfall_supply_units"] == pytest.approx(1_700_000)
    assert m["inventory_end_units"] == pytest.approx(0, abs=1e-6)


def test_backlog_carries_unmet_demand_forward() -> None:
    # Licences arrive after 3 months; with full persistence nothing is lost and all 2M ship.
    over = (*AMPLE, "us.licence_lag_months=3", "demand.backlog_persistence=1")
    r = run(stance="open_market", overrides=over, point=True)
    ship = r.paths["shipments"][0]
    assert ship[:3] == pytest.approx([0, 0, 0])
    assert ship[3] == pytest.approx(4 * 2e6 / 12)
    assert ship.sum() == pytest.approx(2e6)


def test_price_elasticity_scales_demand() -> None:
    # At $35,000 with elasticity -0.4 (the mode), demand is (35/27)^-0.4 of the book.
    over = (*tuple(x for x in AMPLE if not x.startswith("money.")), "money.price_usd=35000")
    r = run(stance="open_market", overrides=over, point=True)
    assert r.stats["demand_total_units"]["p50"] == pytest.approx(2e6 * (35000 / 27000) ** -0.4)


def test_reported_path_january_weights() -> None:
    # January 2026: 6 days justify-the-need, 21 days stop, 4 days approvals.
    p = simulate(scenario(path="as_reported_2026_01"), draws=2, seed=1)
    w = dict(zip(p.stance_names, p.stance_share[0], strict=True))
    assert w["necessity_only"] == pytest.approx(6 / 31)
    assert w["customs_ban"] == pytest.approx(21 / 31)
    assert w["selective_approval"] == pytest.approx(4 / 31)
    assert p.stance_share[1:, p.stance_names.index("selective_approval")] == pytest.approx(1.0)


def test_months_to_share_never_is_horizon_plus_one() -> None:
    over = (
        "domestic.logit_speed_per_year=0",
        "domestic.share_at_reference=0.3",
        "calendar.horizon_months=24",
    )
    r = run(stance="open_market", overrides=over, point=True)
    assert r.stats["months_to_domestic_share_50"]["p50"] == 25


# --- sampling ---------------------------------------------------------------------------------------


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    sc = scenario(stance="selective_approval")
    a, b, c = (summarize(values(simulate(sc, 300, seed))) for seed in (5, 5, 6))
    assert a == b
    assert a != c


def test_stances_share_draws_of_common_inputs() -> None:
    a = simulate(scenario(stance="customs_ban"), 200, 3).draws
    b = simulate(scenario(stance="open_market"), 200, 3).draws
    np.testing.assert_array_equal(a.vec("money.price_usd"), b.vec("money.price_usd"))
    np.testing.assert_array_equal(a.vec("event.us_retighten"), b.vec("event.us_retighten"))


def test_lhs_fills_every_stratum() -> None:
    d = simulate(scenario(stance="open_market"), 1000, 9).draws
    spec = scenario(stance="open_market").money.price_usd
    # map back to uniforms through the triangular CDF and check one draw per 1/1000 stratum
    a, c, b = spec.low, spec.mode, spec.high
    x = d.vec("money.price_usd")
    u = np.where(x < c, (x - a) ** 2 / ((b - a) * (c - a)), 1 - (b - x) ** 2 / ((b - a) * (b - c)))
    assert sorted(np.floor(u * 1000).astype(int).tolist()) == list(range(1000))
