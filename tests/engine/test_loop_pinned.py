"""The monthly loop's recurrences, month by month, from AMPLE with one mechanism switched on.

Each test states the recurrence the loop must follow and checks every month of a point
run against it, with the month's other quantities read from the run (its inputs) and
the parameter values set by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import scenario
from test_model import AMPLE

from h200cast.engine import model as M

BOOK = 2e6
MONTH = BOOK / 12


def point(*over: str, stance: str = "open_market") -> M.Paths:
    return M.simulate(scenario(stance=stance, overrides=(*AMPLE, *over)), point=True)


def test_new_orders_shrink_as_the_domestic_share_grows() -> None:
    # New intentions of 120,000 a month after a one-month (empty) book, no growth, no price
    # response: month t >= 1 has 120,000 x (1 - desired_t) / (1 - desired_0).
    p = point(
        "demand.order_book_units=0",
        "demand.new_orders_units_per_month=120000",
        "demand.order_delivery_months=1",
        "demand.ai_spending_growth_per_year=0",
        "demand.price_elasticity=0",
        "domestic.share_at_reference=0.3",
        "domestic.logit_speed_per_year=1.2",
    )
    desired = p["domestic_share_desired"][0]
    want = 120000 * (1 - desired) / (1 - desired[0])
    want[0] = 0.0
    np.testing.assert_allclose(p["new_demand"][0], want, rtol=1e-12)
    assert want[-1] < 0.8 * want[1]  # the share does grow
    np.testing.assert_allclose(p["demand_taken_by_domestic"][0][1:], 120000 - want[1:], rtol=1e-9)


UNDER_ONE_CHIP = ("domestic.market_units_per_month=0.1", "us.licence_lag_months=100")
"""A market of a tenth of an accelerator a month and no H200 shipped (licences never
come): domestic capacity, the share at reference x the market x at most 5, stays under 1."""


@pytest.mark.parametrize("tiny", [(), UNDER_ONE_CHIP], ids=["default", "under-one-chip"])
def test_domestic_capacity_responds_to_unmet_domestic_demand(tiny: tuple[str, ...]) -> None:
    # Capacity next month = base next month + the extra so far, each month adding a twelfth
    # of the response (0.6 / 12 = 0.05) times what was wanted beyond capacity, and the
    # extra growing with the base (at base_t / base_{t-1}, also when under one unit).
    p = point(
        "domestic.capacity_order_response=0.6",
        "domestic.capacity_multiple_2026=0.5",
        "domestic.capacity_growth_per_year=0.2",
        *tiny,
    )
    cap, wanted = p["domestic_capacity"][0], p["domestic_wanted"][0]
    T = p.n_months
    base = M.capacity_base(p.draws.col, np.arange(T + 1.0)[None, :], p.clock)[0]
    extra = np.zeros(T)
    for t in range(1, T):
        extra[t] = (extra[t - 1] + 0.05 * max(wanted[t - 1] - cap[t - 1], 0.0)) * (
            base[t] / base[t - 1]
        )
    np.testing.assert_allclose(cap, base[:T] + extra, rtol=1e-10)
    assert extra[-1] > 0.01 * base[T - 1]  # the response does add capacity
    if tiny:
        assert base.max() < 1


@pytest.mark.parametrize("tiny", [(), UNDER_ONE_CHIP], ids=["default", "under-one-chip"])
def test_spare_domestic_capacity_speeds_the_leak_of_what_waits(tiny: tuple[str, ...]) -> None:
    # 20% admitted (necessity_only), half of what waits ordered each month. What is left
    # waiting stays at 0.9 a month, the blocked at 0.8, each times 1 - 0.5 x last month's
    # spare domestic capacity as a share of capacity (none before the first month):
    #   w_t = (w_{t-1} + permitted_t - orders_t) x 0.9 x (1 - 0.5 s_{t-1})
    #   b_t = (b_{t-1} + new_t - permitted_t) x 0.8 x (1 - 0.5 s_{t-1})
    #   s_t = (capacity_t - domestic_t) / capacity_t, a share also under one unit.
    p = point(
        "buyers.conversion_per_month=0.5",
        "demand.backlog_persistence=0.9",
        "demand.blocked_persistence=0.8",
        "demand.alternatives_sensitivity=0.5",
        "domestic.capacity_multiple_2026=5",
        *tiny,
        stance="necessity_only",
    )
    new, permitted, orders = p["new_demand"][0], p["permitted"][0], p["firm_orders"][0]
    waiting, blocked = p["intentions_waiting"][0], p["blocked_waiting"][0]
    cap = p["domestic_capacity"][0]
    spare = (cap - p["domestic_units"][0]) / cap
    assert spare.min() > 0.02  # capacity is spare every month
    if tiny:
        assert cap.max() < 1
    w = b = s = 0.0
    for t in range(p.n_months):
        alt = 1 - 0.5 * s
        w = (w + permitted[t] - orders[t]) * 0.9 * alt
        b = (b + new[t] - permitted[t]) * 0.8 * alt
        assert waiting[t] == pytest.approx(w, rel=1e-9), t
        assert blocked[t] == pytest.approx(b, rel=1e-9), t
        s = spare[t]
    assert orders[1] == pytest.approx(0.5 * (waiting[0] + permitted[1]), rel=1e-12)


@pytest.mark.parametrize("stock0", [3e6, 1e5])
def test_stock_beyond_firm_orders_is_reallocated_at_its_rate(stock0: float) -> None:
    # Licences never come (lag 100 months), so firm orders pile up unshipped (nothing
    # leaks: persistence 1) while units sit in stock; 10% of the stock beyond the firm
    # orders goes to other customers each month: s_t = s_{t-1} - 0.1 max(s_{t-1} - f_t, 0)
    # (with 100,000 in stock, under the first month's orders, nothing goes).
    p = point(
        "us.licence_lag_months=100",
        f"supply.inventory_units={stock0}",
        "supply.production_units_per_month=0",
        "supply.reallocation_per_month=0.1",
        "demand.firm_order_persistence=1",
        "demand.backlog_persistence=1",
    )
    stock, firm = p["inventory"][0], p["firm_backlog"][0]
    prev = stock0
    for t in range(p.n_months):
        prev = prev - 0.1 * max(prev - firm[t], 0.0)
        assert stock[t] == pytest.approx(prev, rel=1e-12), t
    assert p["shipments"].sum() == 0
    assert firm[-1] == pytest.approx(BOOK)
    np.testing.assert_allclose(p["reallocated"][0], -np.diff(stock, prepend=stock0), rtol=1e-9)
    if stock0 < MONTH:  # firm orders exceed the stock from the first month: none leaves
        np.testing.assert_array_equal(stock, stock0)


def test_production_stops_in_its_month() -> None:
    # Nothing in stock; 300,000 a month could be made from the start, and production
    # stops from month 5: firm orders of 166,667 a month are made and shipped to month 4,
    # none after.
    p = point(
        "supply.inventory_units=0",
        "supply.production_units_per_month=300000",
        "supply.production_lead_months=0",
        "supply.production_stop_month=5",
    )
    made = p["production"][0]
    np.testing.assert_allclose(made[:5], MONTH, rtol=1e-12)
    assert (made[5:] == 0).all()
    np.testing.assert_allclose(p["shipments"][0][:5], MONTH, rtol=1e-12)
    assert (p["shipments"][0][5:] == 0).all()
    assert p.clock.production_stop == 5


def _two_stances(share_3: float) -> M.Paths:
    """necessity_only (20% admitted) for months 0-2, then a mix with open_market: month 3
    ``share_3`` open_market, months 4 on all open_market. Nothing leaks."""
    sc = scenario(
        switching="from_2026_01_31",
        overrides=(
            *AMPLE,
            "demand.backlog_persistence=1",
            "demand.blocked_persistence=1",
            "demand.alternatives_sensitivity=0",
            "beijing.special_cases_share=0.01",
        ),
    )
    pt = M.simulate(sc, point=True)
    names = pt.stance_names
    w = np.zeros((1, pt.n_months, len(names)))
    w[0, :3, names.index("necessity_only")] = 1.0
    w[0, 3, names.index("necessity_only")] = 1.0 - share_3
    w[0, 3, names.index("open_market")] = share_3
    w[0, 4:, names.index("open_market")] = 1.0
    return M.simulate_values(sc, pt.draws.values, weights=w)


def test_a_stance_that_loosens_readmits_the_blocked_in_proportion() -> None:
    # Months 0-2 admit 20% of 166,667: 80% of 3 months (400,000) waits blocked. Month 3
    # admits 0.5 x 0.2 + 0.5 x 1 = 60% of fresh intentions; the loosening from 20% to 60%
    # is half the way to 100%, so half the blocked (200,000) is re-admitted too:
    # 100,000 + 200,000. Month 4 (100%) re-admits all that is left: 0.4 x 166,667 from
    # month 3 plus the other 200,000.
    p = _two_stances(0.5)
    permitted, blocked = p["permitted"][0], p["blocked_waiting"][0]
    np.testing.assert_allclose(permitted[:3], 0.2 * MONTH, rtol=1e-12)
    np.testing.assert_allclose(blocked[:3], 0.8 * MONTH * np.arange(1, 4), rtol=1e-12)
    assert permitted[3] == pytest.approx(0.6 * MONTH + 0.5 * 2.4 * MONTH, rel=1e-12)
    assert blocked[3] == pytest.approx(1.2 * MONTH + 0.4 * MONTH, rel=1e-12)
    assert permitted[4] == pytest.approx(MONTH + 1.6 * MONTH, rel=1e-12)
    assert blocked[4:] == pytest.approx(np.zeros(p.n_months - 4), abs=1e-6)
    np.testing.assert_allclose(permitted[5:12], MONTH, rtol=1e-12)
    assert p["permitted"][0].sum() == pytest.approx(BOOK)


def test_a_steady_or_tightening_stance_readmits_nothing() -> None:
    # All open_market from month 3 on; a month-3 share of 0 keeps 20% in month 3 (no
    # loosening, nothing re-admitted), then month 4 loosens all the way.
    p = _two_stances(0.0)
    permitted = p["permitted"][0]
    np.testing.assert_allclose(permitted[:4], 0.2 * MONTH, rtol=1e-12)
    assert permitted[4] == pytest.approx(MONTH + 0.8 * 4 * MONTH, rel=1e-12)


def test_ample_domestic_capacity_adds_nothing() -> None:
    # Capacity 5 times the deployments at the start, never short: the response adds
    # exactly nothing, month after month.
    p = point("domestic.capacity_order_response=0.6", "domestic.capacity_multiple_2026=5")
    assert (p["domestic_wanted"][0] < p["domestic_capacity"][0]).all()
    base = M.capacity_base(p.draws.col, np.arange(p.n_months + 0.0)[None, :], p.clock)[0]
    np.testing.assert_allclose(p["domestic_capacity"][0], base, rtol=1e-12)


def test_a_ban_at_entry_before_the_first_month_counts_as_the_first_months() -> None:
    # Under the reported path (January mostly customs_ban), chips arriving in January
    # entered the US half a month earlier, before the forecast starts: they count under
    # January's stance, as with no lead at all.
    sc = lambda lead: scenario(  # noqa: E731
        path="as_reported_2026_01", overrides=(*AMPLE, f"us.entry_lead_months={lead}")
    )
    a = M.simulate(sc(0.0), point=True)
    b = M.simulate(sc(0.5), point=True)
    assert a["sent_to_china"][0, 0] > 0
    assert b["sent_to_china"][0, 0] == pytest.approx(a["sent_to_china"][0, 0], rel=1e-12)
    assert b["shipments"][0, 0] == pytest.approx(a["shipments"][0, 0], rel=1e-12)


@pytest.mark.parametrize(
    ("lead", "ban", "held"),
    [(1.0, 0, (0, 1)), (0.0, -2, (-2,))],
    ids=["first-month-entry-lead-1", "last-month-no-lead"],
)
def test_a_ban_holds_back_the_chips_that_entered_the_us_under_it(
    lead: float, ban: int, held: tuple[int, ...]
) -> None:
    # customs_ban in one month, open_market in every other. Chips arriving in month t
    # entered the US in month t - lead (the first month for entries before it), and send
    # only the special cases (special x new) when the ban held at entry or at arrival.
    # With a lead of 1 and the ban in month 0, month 1's chips entered in month 0: months
    # 0 and 1 send only the special cases. With no lead and the ban in the last month but
    # one, the last month's chips entered in the last month, open: only that month is held.
    sc = scenario(switching="from_2026_01_31", overrides=(*AMPLE, f"us.entry_lead_months={lead}"))
    pt = M.simulate(sc, point=True)
    names, T = pt.stance_names, pt.n_months
    w = np.zeros((1, T, len(names)))
    w[0, :, names.index("open_market")] = 1.0
    w[0, ban] = 0.0
    w[0, ban, names.index("customs_ban")] = 1.0
    p = M.simulate_values(sc, pt.draws.values, weights=w)
    passes = p.draws.vec("beijing.special_cases_share")[0] * p["new_demand"][0]
    sent = p["sent_to_china"][0]
    months = [t % T for t in held]
    np.testing.assert_allclose(sent[months], passes[months], rtol=1e-12)
    others = np.setdiff1d(np.arange(T), months)
    assert (sent[others] > 10 * passes[others]).all()


def _back_and_forth() -> M.Paths:
    """A scenario of two stances only: open_market for months 0-2, necessity_only (20%
    admitted) for months 3-5, open_market again from month 6. Nothing leaks."""
    over = (
        *AMPLE,
        "demand.backlog_persistence=1",
        "demand.blocked_persistence=1",
        "demand.alternatives_sensitivity=0",
        "beijing.special_cases_share=0.01",
    )
    sc = scenario(stance="open_market", overrides=over)
    nec = scenario(stance="necessity_only", overrides=over).stances["necessity_only"]
    sc = sc.model_copy(update={"stances": {**sc.stances, "necessity_only": nec}})
    pt = M.simulate(sc, point=True)
    names = pt.stance_names
    assert len(names) == 2
    w = np.zeros((1, pt.n_months, 2))
    w[0, :, names.index("open_market")] = 1.0
    w[0, 3:6] = 0.0
    w[0, 3:6, names.index("necessity_only")] = 1.0
    return M.simulate_values(sc, pt.draws.values, weights=w)


def test_a_stance_that_comes_back_readmits_what_the_one_between_blocked() -> None:
    # Months 3-5 admit 20% of 166,667 and block 80% (400,000 in all). Month 6, back to
    # open_market (100%, a loosening from 20% all the way), re-admits all of it:
    # 166,667 + 400,000, and nothing is blocked after. Every weight changes in months 3
    # and 6; month 6's weights are month 0's again.
    p = _back_and_forth()
    permitted, blocked = p["permitted"][0], p["blocked_waiting"][0]
    np.testing.assert_allclose(permitted[:3], MONTH, rtol=1e-12)
    np.testing.assert_allclose(permitted[3:6], 0.2 * MONTH, rtol=1e-12)
    np.testing.assert_allclose(blocked[3:6], 0.8 * MONTH * np.arange(1, 4), rtol=1e-12)
    assert permitted[6] == pytest.approx(MONTH + 2.4 * MONTH, rel=1e-12)
    assert blocked[6:] == pytest.approx(np.zeros(p.n_months - 6), abs=1e-6)
    np.testing.assert_allclose(permitted[7:], MONTH, rtol=1e-12)
    assert permitted.sum() == pytest.approx(BOOK)


def test_no_new_orders_when_domestic_chips_take_the_whole_market_from_the_start() -> None:
    # A share of 1 at the reference month rising at 60 log-odds a year: the desired
    # domestic share is 1 (to the last bit) from the first month, so no foreign-preferring
    # demand is left for new orders (120,000 a month after the book). New demand is the
    # book alone, 2M over 6 months, then 0 (not an undefined 0 / 0).
    p = point(
        "demand.new_orders_units_per_month=120000",
        "demand.order_delivery_months=6",
        "demand.price_elasticity=0",
        "domestic.share_at_reference=1",
        "domestic.logit_speed_per_year=60",
    )
    assert (p["domestic_share_desired"][0] == 1.0).all()
    want = np.r_[np.full(6, BOOK / 6), np.zeros(p.n_months - 6)]
    np.testing.assert_array_equal(p["new_demand"][0], want)
    assert p["demand_new_orders"][0] == pytest.approx(np.zeros(p.n_months), abs=1e-6)
