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
        "firm_orders",
        "us_allowed",
        "supply_available",
        "shipments",
        "shortfall_beijing",
        "shortfall_buyers",
        "shortfall_us_rule",
        "shortfall_supply",
        "backlog",
        "intentions_waiting",
        "blocked_waiting",
        "firm_backlog",
        "left_beijing",
        "left_buyers",
        "left_us_rule",
        "left_supply",
        "production",
        "stock_released",
        "reallocated",
        "written_down",
        "licensed_unused",
        "lost_to_domestic",
        "grey_channel",
        "revenue_usd",
        "customs_value_usd",
        "us_fee_usd",
        "us_fee_upper_usd",
        "sent_to_china",
        "refused_at_customs",
        "us_entries",
        "market_units",
        "accelerator_demand",
        "domestic_capacity",
        "domestic_wanted",
        "domestic_units",
        "compute_gap",
        "approvals_unused",
    ):
        x = p[name]
        assert x.shape == (p.n_draws, p.n_months), name
        assert np.isfinite(x).all(), name
        assert (x >= -TOL * np.maximum(1.0, np.abs(x).max())).all(), f"{name} negative"
    assert (p["inventory"] >= -1e-6).all(), "inventory negative"
    # shipments never exceed what is outstanding, firm orders, the US allowance or supply
    assert_le(ship, dem, "shipments <= demand")
    assert_le(np.cumsum(ship, axis=1), np.cumsum(p["firm_orders"], axis=1), "shipped <= ordered")
    assert_le(
        np.cumsum(p["firm_orders"], axis=1),
        np.cumsum(p["permitted"], axis=1),
        "ordered <= permitted",
    )
    assert_le(ship, p["us_allowed"], "shipments <= US allowance")
    assert_le(ship, p["supply_available"], "shipments <= supply")
    # outstanding = fresh + what waited; each pool's flows balance (nothing counted twice)
    carried = np.concatenate([np.zeros((p.n_draws, 1)), p["backlog"][:, :-1]], axis=1)
    np.testing.assert_allclose(dem, p["new_demand"] + carried, rtol=1e-9, atol=1e-6)
    left = p["left_beijing"] + p["left_buyers"] + p["left_us_rule"] + p["left_supply"]
    np.testing.assert_allclose(dem, ship + p["backlog"] + left, rtol=1e-9, atol=1e-3)
    # the four parts of the shortfall add up to it
    parts = (
        p["shortfall_beijing"]
        + p["shortfall_buyers"]
        + p["shortfall_us_rule"]
        + p["shortfall_supply"]
    )
    np.testing.assert_allclose(parts, dem - ship, rtol=1e-9, atol=1e-3)
    # stock flow: inventory falls by shipments and stock released, rises by production
    inv0 = p.draws.col("supply.inventory_units")
    np.testing.assert_allclose(
        p["inventory"],
        inv0 + np.cumsum(p["production"] - ship - p["stock_released"], axis=1),
        rtol=1e-9,
        atol=1e-3,
    )
    # China's cumulative volume stays within the US cap (a flow: half the US-customer volume)
    cap = p.draws.col("us.china_cap_share_of_us_volume") * (
        p.draws.col("us.us_cumulative_units_before")
        + p.draws.col("us.us_units_per_month") * np.arange(1, p.n_months + 1)
    )
    assert_le(np.cumsum(ship, axis=1), cap, "cumulative China volume <= US cap")
    assert_le(ship, ship * p["us_open"], "nothing ships once Washington has closed")
    # money: the duty is at most the rate times the customs value, which is at most the
    # sale value; at a rate of 25% or less it stays under the upper bound (25% of sales)
    rate = p.draws.col("us.fee_rate")
    assert_le(p["us_fee_usd"], rate * p["customs_value_usd"], "duty <= rate x customs value")
    # the customs value and the upper bound are both of the chips entering the US in the month
    assert_le(p["customs_value_usd"], 4 * p["us_fee_upper_usd"], "customs value <= sale value")
    assert_le(ship, p["sent_to_china"], "shipped to China <= sent through US testing")
    np.testing.assert_allclose(
        p["us_entries"].sum(axis=1), p["sent_to_china"].sum(axis=1), rtol=1e-9, atol=1e-6
    )
    low = np.broadcast_to(rate <= 0.25, p["us_fee_usd"].shape)
    assert_le(p["us_fee_usd"][low], p["us_fee_upper_usd"][low], "duty <= 25% of the sale value")
    np.testing.assert_allclose(
        p["nvidia_net_usd"], p["revenue_usd"] - p["us_fee_usd"], rtol=1e-12, atol=1e-6
    )
    # the market balance closes exactly: demand = domestic + legal Nvidia + grey + gap
    np.testing.assert_allclose(
        p["accelerator_demand"],
        p["domestic_units"] + ship + p["grey_channel"] + p["compute_gap"],
        rtol=1e-12,
        atol=1e-6,
    )
    # shares stay in [0, 1]; domestic deployments stay within capacity and what is wanted
    for name in ("domestic_share", "domestic_share_desired", "us_open", "terms_final"):
        assert ((p[name] >= 0) & (p[name] <= 1)).all(), name
    assert_le(p["domestic_units"], p["domestic_capacity"], "domestic units <= capacity")
    assert_le(p["domestic_units"], p["domestic_wanted"], "domestic units <= wanted")
    # totals: every fresh intention is shipped or short, and the split adds up
    m = values(p)
    np.testing.assert_allclose(
        m["shipments_total_units"] + m["shortfall_total_units"],
        m["demand_total_units"],
        rtol=1e-9,
        atol=1e-3,
    )
    np.testing.assert_allclose(
        m["shortfall_beijing_units"]
        + m["shortfall_buyers_units"]
        + m["shortfall_us_rule_units"]
        + m["shortfall_supply_units"],
        m["shortfall_total_units"],
        rtol=1e-9,
        atol=1e-3,
    )
    low = p.draws.vec("us.fee_rate") <= 0.25
    assert_le(
        m["us_fee_revenue_total_usd"][low], m["us_fee_upper_total_usd"][low], "duty <= upper bound"
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
    "demand.blocked_persistence": (0.0, 1.0),
    "demand.firm_order_persistence": (0.0, 1.0),
    "demand.alternatives_sensitivity": (0.0, 1.0),
    "demand.lost_to_domestic_share": (0.0, 0.7),
    "demand.grey_performance_ratio": (1.0, 10.0),
    "demand.grey_supply_units_per_month": (0.0, 2e5),
    "demand.grey_enforcement": (0.0, 1.0),
    "buyers.terms_final_prob_per_month": (0.0, 1.0),
    "buyers.never_convert_prob": (0.0, 1.0),
    "buyers.conversion_per_month": (0.0, 1.0),
    "us.customs_value_share": (0.0, 1.0),
    "us.duty_collection_prob": (0.0, 1.0),
    "us.duty_pass_through": (0.0, 1.0),
    "us.review_stall_prob": (0.0, 1.0),
    "us.stall_exit_prob_per_month": (0.0, 1.0),
    "us.licence_units": (0.0, 2e5),
    "us.licensed_buyers": (0.0, 10.0),
    "us.licence_every_months": (0.1, 12.0),
    "us.congress_block_prob_per_month": (0.0, 1.0),
    "supply.reallocation_per_month": (0.0, 1.0),
    "supply.writedown_share": (0.0, 1.0),
    "domestic.capacity_order_response": (0.0, 1.0),
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
    "beijing.customs_refusal_share": (0.0, 1.0),
    "us.entry_lead_months": (0.0, 6.0),
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
    # The orderings rest on two structural facts that random values could break, so they
    # are held: special cases stay within their committed range (at most 3%, below every
    # other stance's admitted share, so a ban's buyers are the fewest), and spare domestic
    # capacity does not feed back into how long H200 buyers wait (with that feedback an
    # open market that ships more leaves more spare capacity, and its buyers give up sooner:
    # a few units' difference in some draws).
    held = ("beijing.special_cases_share", "demand.alternatives_sensitivity")
    kept = tuple(o for o in overrides if not o.startswith(held))
    extra = ("beijing.special_cases_share=0.03", "demand.alternatives_sensitivity=0")
    check_orderings((*kept, *extra), seed, draws=40)


def check_orderings(overrides: tuple[str, ...], seed: int, draws: int) -> None:
    """For the same draws: open_market ships the most, customs_ban the least, and a ban
    leaves the domestic share of deployments at least as high as an open market, every month."""
    res = {
        s: simulate(scenario(stance=s, overrides=overrides), draws=draws, seed=seed)
        for s in STANCES
    }
    total = {s: p["shipments"].sum(axis=1) for s, p in res.items()}
    for s in STANCES:
        assert_le(total[s], total["open_market"], f"{s} ships no more than open_market")
        assert_le(total["customs_ban"], total[s], f"customs_ban ships no more than {s}")

    # the share of everything deployed over the horizon (a month alone can dip: an open
    # market that used up the cumulative US cap early ships less that month than a ban)
    def share(p: Paths) -> np.ndarray:
        dom = p["domestic_units"].sum(axis=1)
        total = dom + p["shipments"].sum(axis=1) + p["grey_channel"].sum(axis=1)
        return np.divide(dom, total, out=np.ones_like(dom), where=total > 0)

    assert_le(
        share(res["open_market"]),
        share(res["customs_ban"]),
        "domestic share of deployments under customs_ban >= open_market",
    )


def test_orderings_committed_parameters() -> None:
    check_orderings((), seed=11, draws=2000)


# --- hand-computed cases ------------------------------------------------------------------------

AMPLE = (
    "supply.inventory_units=1e9",
    "supply.reallocation_per_month=0",
    "us.us_cumulative_units_before=1e10",
    "us.licence_lag_months=0",
    "us.review_stall_prob=0",
    "us.licence_units=1e9",
    "us.retighten_prob_per_month=0",
    "us.congress_block_prob_per_month=0",
    "us.customs_value_share=1",
    "us.duty_collection_prob=1",
    "us.duty_pass_through=0",
    "buyers.never_convert_prob=0",
    "buyers.terms_final_prob_per_month=1",
    "buyers.conversion_per_month=1",
    "demand.new_orders_units_per_month=0",
    "money.price_usd=27000",
    "calendar.horizon_months=12",
)
"""Nothing limits an open market: terms final at once, every permitted intention ordered,
licences and stock ample, the duty collected on the full price and not passed on."""


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
    # firm orders beyond stock wait (persistence 0.95) or are cancelled: all short of supply
    r = run(stance="open_market", overrides=over, point=True)
    m = p50(r)
    assert m["shipments_total_units"] == pytest.approx(300_000)
    assert m["shortfall_supply_units"] == pytest.approx(1_700_000)
    assert m["inventory_end_units"] == pytest.approx(0, abs=1e-6)


def test_backlog_carries_unmet_demand_forward() -> None:
    # Licences arrive after 3 months; firm orders all wait, so nothing is lost and all 2M ship.
    over = (*AMPLE, "us.licence_lag_months=3", "demand.firm_order_persistence=1")
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
    # Domestic capacity shrinks to 5% a year and never responds, and grey channels (up to
    # 200k a month) take two thirds of the unserved foreign demand (a 3x performance gap)
    # of the unserved foreign demand: domestic chips stay a minority of what is deployed.
    over = (
        "domestic.logit_speed_per_year=0",
        "domestic.share_at_reference=0.3",
        "domestic.capacity_multiple_2026=0.05",
        "domestic.capacity_growth_per_year=0",
        "domestic.capacity_order_response=0",
        "demand.grey_supply_units_per_month=2e5",
        "demand.grey_performance_ratio=3",
        "calendar.horizon_months=24",
    )
    r = run(stance="open_market", overrides=over, point=True)
    assert r.paths["domestic_share"].max() < 0.5
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


def test_blocks_of_draws_give_the_same_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    # The loop runs over blocks of draws; the block size must not change any number.
    import h200cast.engine.model as model

    sc = scenario(switching="from_2026_01_31")
    whole = simulate(sc, 700, 3)
    monkeypatch.setattr(model, "BLOCK", 128)
    blocks = simulate(sc, 700, 3)
    for name in model.VARIABLES:
        np.testing.assert_array_equal(whole[name], blocks[name], err_msg=name)
