"""The model's formulas and month indexing, hand-computed one function at a time.

Each formula is called with a getter over a dict of hand-set parameter values (arrays,
so that several cases go through at once), and compared with the number worked out in
the comment: the month a cap, a licence round, a stop or a re-tightening falls in, the
direction of the domestic S-curve's clock, the approval pool's bounds.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from support import scenario
from test_model import AMPLE

from h200cast.api import run
from h200cast.engine import model as M
from h200cast.engine.model import Clock, Draws


def getter(**values: float | list[float]) -> M.Getter:
    """A parameter getter over hand-set values; ``a__b`` names the dotted key ``a.b``."""
    table = {k.replace("__", "."): np.asarray(x, dtype=float) for k, x in values.items()}
    return lambda key: table[key]


def licences(
    lag: float, every: float, buyers: float, units: float, stalled: bool = False
) -> M.Getter:
    """The licence parameters of a review that never stalls (or, ``stalled``, always does:
    then it ends 2 months late)."""
    return getter(
        us__licence_lag_months=lag,
        us__review_stall_prob=1.0 if stalled else 0.0,
        event__review_stall=0.5,
        event__review_exit=0.5,
        us__stall_exit_prob_per_month=0.5,
        us__licence_every_months=every,
        us__licensed_buyers=buyers,
        us__licence_units=units,
    )


T12 = np.arange(12.0)
MONTH_P = 2e6 / 12  # the book's mode released over 12 months (AMPLE)


# --- small helpers ---------------------------------------------------------------------------


def test_grow_ramp_and_geometric_month() -> None:
    # 44% a year over 6 months is 1.2; over 12 months 1.44; over 0 months 1.
    np.testing.assert_allclose(M._grow(np.array(0.44), np.array([0.0, 6.0, 12.0])), [1, 1.2, 1.44])
    # the share of month t after time 2.5: months 0, 1 none, month 2 half, 3 on all
    np.testing.assert_allclose(M._ramp(np.arange(5.0), np.array(2.5)), [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(M._ramp(np.arange(3.0), np.array(0.0)), [1, 1, 1])
    # hazard 0.5: u = 0.5 gives floor(ln 0.5 / ln 0.5) = 1; u = 0.7 floor(1.737) = 1;
    # u = 0.8 floor(2.32) = 2; u = 0.1 floor(0.152) = 0; hazard 0: never (inf)
    u = np.array([0.5, 0.7, 0.8, 0.1, 0.3])
    h = np.array([0.5, 0.5, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(M._geometric_month(u, h), [1, 1, 2, 0, np.inf])
    # a hazard of 1 is an event in the first month, whatever u
    np.testing.assert_array_equal(M._geometric_month(np.array([0.99]), np.array([1.0])), [0])


def test_expit_and_logit() -> None:
    np.testing.assert_allclose(M._expit(np.array([0.0, math.log(3)])), [0.5, 0.75])
    np.testing.assert_allclose(M._logit(np.array([0.5, 0.75, 0.2])), [0, math.log(3), -math.log(4)])
    # clipped into (0, 1): finite at the ends, with the sign of the side
    end = M._logit(np.array([0.0, 1.0]))
    assert np.isfinite(end).all()
    assert end[0] == pytest.approx(-math.log(1e9), rel=1e-6)
    assert end[1] == pytest.approx(math.log(1e9), rel=1e-6)


def test_stream_key_shares_stance_levers_by_name() -> None:
    assert M.stream_key("stances.open_market.substitution_push") == "stance.substitution_push"
    assert (
        M.stream_key("stances.customs_ban.approvals.initial_batch_units")
        == "stance.approvals.initial_batch_units"
    )
    assert M.stream_key("stances.x") == "stances.x"  # too short to be a lever
    assert M.stream_key("money.price_usd") == "money.price_usd"


# --- the US side: cap, licences, review, closing -------------------------------------------


def test_us_cap_counts_the_months_up_to_and_including_t() -> None:
    # Half of (1,000 before + 100 a month): by the end of month 0, (1,000 + 100) / 2 = 550;
    # of month 11, (1,000 + 1,200) / 2 = 1,100.
    v = getter(
        us__china_cap_share_of_us_volume=0.5,
        us__us_cumulative_units_before=1000.0,
        us__us_units_per_month=100.0,
    )
    cap = M.us_cap_cumulative(v, T12)
    assert cap[0] == 550
    assert cap[11] == 1100
    np.testing.assert_allclose(np.diff(cap), 50.0)


def test_licence_rounds_fall_in_the_month_that_contains_their_time() -> None:
    # Review ends at 2.5 (lag 2.5, no stall); rounds every 3 months: at 2.5, 5.5, 8.5, 11.5,
    # so in months 2, 5, 8, 11, each of 2 buyers x 10 = 20 units.
    v = licences(lag=2.5, every=3.0, buyers=2.0, units=10.0)
    want = np.zeros(12)
    want[[2, 5, 8, 11]] = 20.0
    np.testing.assert_array_equal(M.licences_issued(v, T12), want)


def test_a_round_at_a_whole_month_is_issued_in_that_month() -> None:
    # Lag 3, every 4 months: rounds at 3, 7, 11 (time 3 lies in month 3, not month 2).
    v = licences(lag=3.0, every=4.0, buyers=1.0, units=7.0)
    want = np.zeros(12)
    want[[3, 7, 11]] = 7.0
    np.testing.assert_array_equal(M.licences_issued(v, T12), want)


def test_several_rounds_in_a_month_when_they_come_faster() -> None:
    # Lag 0, every half month: rounds at 0, 0.5 in month 0, then 1, 1.5 in month 1, ...
    v = licences(lag=0.0, every=0.5, buyers=1.0, units=1.0)
    np.testing.assert_array_equal(M.licences_issued(v, np.arange(4.0)), [2, 2, 2, 2])


def test_licences_by_a_month_are_the_rounds_issued_up_to_it() -> None:
    # The first case's rounds, 20 units in months 2, 5, 8 and 11: by the end of each month
    # 0, 0, 20, 20, 20, 40, ...; and a round at a whole month counts from that month on.
    v = licences(lag=2.5, every=3.0, buyers=2.0, units=10.0)
    by = [float(M.licences_by(v, float(t))) for t in range(12)]
    assert by == [0, 0, 20, 20, 20, 40, 40, 40, 60, 60, 60, 80]
    w = licences(lag=3.0, every=4.0, buyers=1.0, units=7.0)
    assert [float(M.licences_by(w, float(t))) for t in (2, 3, 6, 7)] == [0, 7, 7, 14]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    lag=hs.floats(0, 30).map(lambda x: round(x * 4) / 4),  # whole months often
    every=hs.floats(0.05, 12).map(lambda x: max(round(x * 4) / 4, 0.05)),
    buyers=hs.sampled_from([0.0, 1.0, 3.0, 12.5]),
    units=hs.floats(0, 1e5),
    stalled=hs.booleans(),
    t=hs.integers(0, 59),
)
def test_licences_by_a_month_agree_with_its_months_summed(
    lag: float, every: float, buyers: float, units: float, stalled: bool, t: int
) -> None:
    # What a check of month t reads (the volume licensed by then, and whether any was)
    # equals what summing licences_issued over months 0..t gives, stalled reviews included.
    v = licences(lag, every, buyers, units, stalled)
    months = M.licences_issued(v, np.arange(t + 1.0))
    by = M.licences_by(v, float(t))
    assert bool(by > 0) == bool(months.sum() > 0) and bool(by == 0) == bool(months.sum() == 0)
    np.testing.assert_allclose(by, months.sum(), rtol=1e-12)


def test_review_end_on_time_or_stalled() -> None:
    # Lag 2. Draw 0: stall prob 0.3, u = 0.5 >= 0.3, on time: 2. Draw 1: u = 0.2 < 0.3,
    # stalled; exit hazard 0.5 with u = 0.8: floor(ln 0.2 / ln 0.5) = 2, plus 1: 2 + 3 = 5.
    # Draw 2: u = 0.3 is not below 0.3: on time.
    v = getter(
        us__licence_lag_months=2.0,
        us__review_stall_prob=0.3,
        event__review_stall=[0.5, 0.2, 0.3],
        event__review_exit=0.8,
        us__stall_exit_prob_per_month=0.5,
    )
    np.testing.assert_array_equal(M.review_end(v), [2, 5, 2])


def test_us_closes_at_the_earlier_hazard_and_is_shut_from_that_month() -> None:
    # Administration: hazard 0.5, u = 0.8: month 2. Congress: hazard 0.5, u = 0.9:
    # floor(ln 0.1 / ln 0.5) = 3. The earlier is month 2: open in months 0 and 1 only.
    v = getter(
        event__us_retighten=0.8,
        us__retighten_prob_per_month=0.5,
        event__congress_block=0.9,
        us__congress_block_prob_per_month=0.5,
    )
    assert M.us_close_month(v) == 2
    np.testing.assert_array_equal(M.us_open(v, np.arange(5.0)), [1, 1, 0, 0, 0])
    # and the other way round: Congress first
    w = getter(
        event__us_retighten=0.9,
        us__retighten_prob_per_month=0.5,
        event__congress_block=0.5,
        us__congress_block_prob_per_month=0.5,
    )
    assert M.us_close_month(w) == 1


def test_terms_final_month_and_never_convert() -> None:
    # never_convert 0.2: u = 0.1 < 0.2 never (inf). u = 0.84: rest (0.84 - 0.2) / 0.8 = 0.8,
    # hazard 0.5: floor(ln 0.2 / ln 0.5) = 2. u = 0.2 (not below): rest 0, month 0.
    v = getter(
        event__terms_final=[0.1, 0.84, 0.2],
        buyers__never_convert_prob=0.2,
        buyers__terms_final_prob_per_month=0.5,
    )
    np.testing.assert_array_equal(M.terms_final_month(v), [np.inf, 2, 0])


def test_duty_collected_below_its_probability() -> None:
    v = getter(event__duty_collected=[0.1, 0.5, 0.7], us__duty_collection_prob=0.5)
    np.testing.assert_array_equal(M.duty_collected(v), [1, 0, 0])


# --- demand, supply, prices -----------------------------------------------------------------------


def test_prices_and_the_duty() -> None:
    # rate 0.25 x customs share 0.8 = 0.2 a unit; half passed on: price 10,000 x 1.1.
    v = getter(
        us__fee_rate=0.25,
        us__customs_value_share=0.8,
        money__price_usd=10000.0,
        us__duty_pass_through=0.5,
        demand__reference_price_usd=5500.0,
        demand__price_elasticity=-1.0,
    )
    assert M.unit_duty_share(v) == pytest.approx(0.2)
    assert M.buyer_price(v) == pytest.approx(11000.0)
    # buyers pay twice the reference price at elasticity -1: half the demand
    assert M.elasticity_factor(v) == pytest.approx(0.5)


def test_book_release_and_new_orders_after_it() -> None:
    # A 900-unit book over 2.5 months: 360 in months 0 and 1, 180 in month 2, then none.
    # New orders (100 a month, growing 44% a year from the end of delivery) start half-way
    # through month 2: 50 in month 2, then 100 x 1.44 ** ((t - 2.5) / 12).
    v = getter(
        demand__order_book_units=900.0,
        demand__order_delivery_months=2.5,
        demand__new_orders_units_per_month=100.0,
        demand__ai_spending_growth_per_year=0.44,
    )
    t = np.arange(5.0)
    np.testing.assert_allclose(M.book_release(v, t), [360, 360, 180, 0, 0])
    grow = 1.44 ** ((t - 2.5) / 12)
    np.testing.assert_allclose(M.new_orders_base(v, t), 100 * grow * np.array([0, 0, 0.5, 1, 1]))


def test_production_starts_after_its_lead_and_stops_at_the_stop_month() -> None:
    # 100 a month from lead 1.5 (half of month 1), stopped from month 4 on.
    v = getter(supply__production_units_per_month=100.0, supply__production_lead_months=1.5)
    t = np.arange(6.0)
    np.testing.assert_allclose(M.production_capacity(v, t, Clock(0, 4)), [0, 50, 100, 100, 0, 0])
    np.testing.assert_allclose(
        M.production_capacity(v, t, Clock(0, None)), [0, 50, 100, 100, 100, 100]
    )
    np.testing.assert_allclose(M.production_capacity(v, t, Clock(0, 0)), np.zeros(6))


def test_market_units_grow_from_the_reference_month() -> None:
    # 1,000 a month at the reference month, 44% a year; the forecast starts 6 months later:
    # month 0 is 1,000 x 1.2, month 6 is 1,000 x 1.44.
    v = getter(domestic__market_units_per_month=1000.0, demand__ai_spending_growth_per_year=0.44)
    np.testing.assert_allclose(
        M.market_units(v, np.array([0.0, 6.0]), Clock(6, None)), [1200, 1440]
    )


def test_capacity_base_moves_to_its_multiple_over_the_first_year_then_grows() -> None:
    # Deployments at reference: 0.25 x 1,000 = 250. Multiple 4 over the first 12 months
    # (x2 at 6 months, x4 at 12), then 21% a year (x1.1 at 18 months).
    v = getter(
        domestic__share_at_reference=0.25,
        domestic__market_units_per_month=1000.0,
        domestic__capacity_multiple_2026=4.0,
        domestic__capacity_growth_per_year=0.21,
    )
    e = np.array([0.0, 6.0, 12.0, 18.0])
    np.testing.assert_allclose(M.capacity_base(v, e, Clock(0, None)), [250, 500, 1000, 1100])
    # the clock counts from the reference month: month 0 of a forecast 6 months on is x2
    np.testing.assert_allclose(M.capacity_base(v, np.array([0.0]), Clock(6, None)), [500])


def test_switch_share_grey_and_market_balance_by_hand() -> None:
    # lost_to_domestic 0.5 at push 2: 1 - 0.5**2 = 0.75; at push 0: none.
    v = getter(
        demand__lost_to_domestic_share=0.5,
        demand__grey_performance_ratio=4.0,
        demand__grey_enforcement=0.5,
        demand__grey_supply_units_per_month=100.0,
    )
    np.testing.assert_allclose(M.switch_share(v, np.array([2.0, 0.0, 1.0])), [0.75, 0, 0.5])
    assert M.grey_propensity(v) == pytest.approx(0.75)
    assert M.grey_capacity(v) == pytest.approx(50.0)
    # 40 unserved: 30 would go grey, within 50; 400 unserved: 300 capped at 50
    np.testing.assert_allclose(M.grey_channel(v, np.array([40.0, 400.0])), [30, 50])
    # Market 1,000, desired domestic 0.4, 100 H200s shipped, capacity 500, push 1:
    # foreign 600, unserved 500, grey min(375, 50) = 50, switching 0.5 x 450 = 225,
    # wanted 400 + 225 = 625, domestic 500, gap 1,000 - 100 - 50 - 500 = 350,
    # share 500 / 650, domestic serving foreign demand 500 - 400 = 100.
    b = M.market_balance(
        v,
        np.array([1000.0]),
        np.array([0.4]),
        np.array([100.0]),
        np.array([500.0]),
        np.array([1.0]),
    )
    assert (b.demand[0], b.grey[0], b.wanted[0], b.domestic[0], b.gap[0]) == pytest.approx(
        (1000, 50, 625, 500, 350)
    )
    assert b.share[0] == pytest.approx(500 / 650)
    assert b.foreign_served_by_domestic[0] == pytest.approx(100)
    # shipments above the market pull demand up to them; nothing deployed gives the desired share
    c = M.market_balance(
        v, np.array([100.0, 0.0]), np.array([0.4, 0.3]), np.array([300.0, 0.0]),
        np.array([0.0, 0.0]), np.array([1.0, 1.0]),
    )  # fmt: skip
    assert c.demand[0] == 300
    assert c.gap[0] == 0
    assert c.share[0] == 0
    assert c.share[1] == pytest.approx(0.3)


def test_at_entry_re_dates_arrivals_by_the_lead() -> None:
    # Arrivals 10, 20, 30, 40 with a lead of half a month: by the end of month j the US has
    # seen the arrivals up to time j + 1.5: 10 + 10 = 20, 30 + 15 = 45 (so 25), 60 + 20 = 80
    # (35), and the last month only up to the horizon: 100 (20).
    x = np.array([[10.0, 20.0, 30.0, 40.0]])
    np.testing.assert_allclose(M.at_entry(x, np.array([[0.5]])), [[20, 25, 35, 20]])
    np.testing.assert_allclose(M.at_entry(x, np.array([[0.0]])), x)
    np.testing.assert_allclose(M.at_entry(x, np.array([[1.0]])), [[30, 30, 40, 0]])


# --- the approvals and the stance levers ----------------------------------------------------------


def _approval_draws(initial: float, follow: float, every: float, n: int = 1) -> Draws:
    a = "stances.selective_approval.approvals"
    return Draws(
        n,
        {
            f"{a}.initial_batch_units": np.full(n, initial),
            f"{a}.follow_on_batch_units": np.full(n, follow),
            f"{a}.follow_on_every_months": np.full(n, every),
        },
    )


def test_approval_batches_start_in_the_stances_first_month() -> None:
    # The stance holds from month 2: 100 then, 10 every 3 months after (months 5, 8).
    d = _approval_draws(100.0, 10.0, 3.0)
    w = np.array([[0, 0, 0.5, 1, 1, 1, 1, 1, 1, 1.0]])
    b = M.approval_batches(d, "stances.selective_approval.approvals", w)
    np.testing.assert_array_equal(b, [[0, 0, 100, 0, 0, 10, 0, 0, 10, 0]])


def test_approval_batches_several_in_a_month_and_never_without_the_stance() -> None:
    # Every half month from month 0: two follow-on rounds a month after the first; a draw
    # that never holds the stance gets nothing.
    d = _approval_draws(100.0, 10.0, 0.5, n=2)
    w = np.array([[1, 1, 1, 1.0], [0, 0, 0, 0.0]])
    b = M.approval_batches(d, "stances.selective_approval.approvals", w)
    np.testing.assert_array_equal(b, [[100, 20, 20, 20], [0, 0, 0, 0]])


def test_stance_levers_admit_the_tightest_limit() -> None:
    lv = M._StanceLevers(0, np.array([0.6, 0.6, 0.6]), np.array([0.5, 0.5, 0.5]), None, None)
    # share 0.6; quota 0.5 x domestic / new: 0.5 x 100 / 100 = 0.5, 0.5 x 400 / 100 = 2 (no
    # limit beyond 0.6), and no fresh intentions admits 1 (then the share, 0.6).
    out = lv.admits(np.array([100.0, 100.0, 0.0]), np.array([100.0, 400.0, 5.0]))
    np.testing.assert_allclose(out, [0.5, 0.6, 0.6])
    assert lv.conversion(np.array([0.3])) == 0.3
    appr = {"conversion": np.array([0.2, 0.9]), "eligible": np.array([0.7, 0.4])}
    lv2 = M._StanceLevers(1, None, None, appr, np.zeros((2, 3)))
    np.testing.assert_allclose(lv2.admits(np.array([1.0, 1.0]), np.zeros(2)), [0.7, 0.4])
    # conditions can slow conversion, never speed it
    np.testing.assert_allclose(lv2.conversion(np.array([0.5, 0.5])), [0.2, 0.5])
    assert lv2.pool is not None and lv2.pool.shape == (2,) and not lv2.pool.any()
    assert M._StanceLevers(0, None, None, None, None).pool is None
    np.testing.assert_array_equal(
        M._StanceLevers(0, None, None, None, None).admits(np.ones(2), np.ones(2)), [1, 1]
    )


APPROVALS = (
    *AMPLE,
    "stances.selective_approval.approvals.eligible_share=1",
    "stances.selective_approval.approvals.conversion_per_month=1",
    "stances.selective_approval.approvals.follow_on_every_months=100",
    "demand.backlog_persistence=1",
)


def test_approved_volume_caps_firm_orders_and_is_used_up() -> None:
    # A first batch of 300,000 in month 0 and no more within the year: buyers order
    # 166,667 in month 0 (all of the month), then 133,333 in month 1 and none after;
    # the pool left is 0 from month 1 on.
    over = (*APPROVALS, "stances.selective_approval.approvals.initial_batch_units=300000")
    p = run(stance="selective_approval", overrides=over, point=True).paths
    o = p["firm_orders"][0]
    assert o[0] == pytest.approx(2e6 / 12)
    assert o[1] == pytest.approx(300000 - 2e6 / 12)
    assert o[2:] == pytest.approx(np.zeros(10), abs=1e-6)
    left = p["approvals_unused"][0]
    assert left[0] == pytest.approx(300000 - 2e6 / 12)
    assert left[1:] == pytest.approx(np.zeros(11), abs=1e-6)


def test_approved_volume_left_adds_up_over_the_stances_with_approvals() -> None:
    # open_market given selective_approval's approvals too, each stance half of every month:
    # each stance's pool gets a first batch of 300,000 in month 0, and each stance's buyers
    # order half of what waits (83,333 a month; 166,667 between them). Each pool is left
    # with 300,000 - 83,333 (t + 1) after month t: the two together 433,333, 266,667 and
    # 100,000 after months 0-2; month 3 orders the last 2 x 50,000 and none is left.
    over = (*APPROVALS, "stances.selective_approval.approvals.initial_batch_units=300000")
    sc = scenario(switching="from_2026_01_31", overrides=over)
    both = sc.stances["open_market"].model_copy(
        update={"approvals": sc.stances["selective_approval"].approvals}
    )
    sc = sc.model_copy(update={"stances": {**sc.stances, "open_market": both}})
    pt = M.simulate(sc, point=True)
    names = pt.stance_names
    w = np.zeros((1, pt.n_months, len(names)))
    w[0, :, names.index("open_market")] = 0.5
    w[0, :, names.index("selective_approval")] = 0.5
    p = M.simulate_values(sc, pt.draws.values, weights=w)
    left = p["approvals_unused"][0]
    np.testing.assert_allclose(left[:3], 600000 - MONTH_P * np.arange(1, 4), rtol=1e-12)
    assert left[3:] == pytest.approx(np.zeros(p.n_months - 3), abs=1e-6)
    o = p["firm_orders"][0]
    np.testing.assert_allclose(o[:4], [MONTH_P, MONTH_P, MONTH_P, 100000], rtol=1e-12)
    assert o[4:] == pytest.approx(np.zeros(p.n_months - 4), abs=1e-6)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    batch=hs.floats(0, 5e5),
    follow=hs.floats(0, 2e5),
    every=hs.floats(0.2, 12),
    conversion=hs.floats(0, 1),
    final=hs.floats(0, 1),
    seed=hs.integers(0, 2**16),
)
def test_the_approval_pool_is_never_negative_and_bounds_orders(
    batch: float, follow: float, every: float, conversion: float, final: float, seed: int
) -> None:
    # Whatever the batches, the pace and when the terms are final, what buyers order never
    # exceeds what was approved, and the pool left is never negative.
    over = (
        *AMPLE,
        "stances.selective_approval.approvals.eligible_share=1",
        f"stances.selective_approval.approvals.initial_batch_units={batch!r}",
        f"stances.selective_approval.approvals.follow_on_batch_units={follow!r}",
        f"stances.selective_approval.approvals.follow_on_every_months={every!r}",
        f"stances.selective_approval.approvals.conversion_per_month={conversion!r}",
        f"buyers.terms_final_prob_per_month={final!r}",
    )
    p = M.simulate(scenario(stance="selective_approval", overrides=over), draws=8, seed=seed)
    pool = p["approvals_unused"]
    assert (pool >= -1e-6).all()
    batches = M.approval_batches(
        p.draws, "stances.selective_approval.approvals", np.ones((1, p.n_months))
    )
    granted, ordered = np.cumsum(batches, axis=1), np.cumsum(p["firm_orders"], axis=1)
    assert (ordered <= granted + 1e-6 * np.maximum(granted, 1)).all()
    np.testing.assert_allclose(pool, granted - ordered, rtol=1e-9, atol=1e-3)


# --- the domestic S-curve ---------------------------------------------------------------------------


def test_the_domestic_s_curve_clock_runs_forward_at_the_push() -> None:
    # share at reference 0.5 (logit 0), speed 1.2 a year, push p: the desired share in month t
    # is expit(0.1 x (from_reference + p x t)) after the first month (trapezoid of a constant
    # push). It rises month by month, faster with a bigger push.
    base = ("domestic.share_at_reference=0.5", "domestic.logit_speed_per_year=1.2")
    sc = scenario(stance="open_market", overrides=base)
    k0 = M.simulate(sc, point=True).clock.from_reference
    for push in (1.0, 2.0):
        over = (*base, f"stances.open_market.substitution_push={push}")
        p = M.simulate(scenario(stance="open_market", overrides=over), point=True)
        t = np.arange(p.n_months)
        want = 1 / (1 + np.exp(-0.1 * (k0 + push * t)))
        np.testing.assert_allclose(p["domestic_share_desired"][0], want, rtol=1e-12)
    assert k0 > 0  # the reference month lies before the forecast's start


def test_push_changes_mid_horizon_by_the_trapezoid() -> None:
    # Under the reported path the push changes with the stance; the clock's step from month
    # t-1 to t is the mean of the two months' push.
    base = ("domestic.share_at_reference=0.5", "domestic.logit_speed_per_year=1.2")
    p = M.simulate(scenario(path="as_reported_2026_01", overrides=base), point=True)
    push = p.push()[0]
    steps = np.concatenate([[0.0], 0.5 * (push[1:] + push[:-1])])
    elapsed = p.clock.from_reference + np.cumsum(steps)
    np.testing.assert_allclose(
        p["domestic_share_desired"][0], 1 / (1 + np.exp(-0.1 * elapsed)), rtol=1e-12
    )
    assert np.ptp(push) > 0  # the push does move


def test_approval_batches_start_per_draw() -> None:
    # Draw 0 holds the stance from month 1, draw 1 from month 3: each gets its first batch
    # then, and a follow-on every 2 months after its own start.
    d = _approval_draws(100.0, 10.0, 2.0, n=2)
    w = np.array([[0, 1, 1, 1, 1, 1.0], [0, 0, 0, 1, 1, 1.0]])
    b = M.approval_batches(d, "stances.selective_approval.approvals", w)
    np.testing.assert_array_equal(b, [[0, 100, 0, 10, 0, 10], [0, 0, 0, 100, 0, 10]])


# --- Paths: subsets, concatenation, each draw's stance ------------------------------------------


def test_take_and_concat_give_back_the_same_paths() -> None:
    sc = scenario(switching="from_2026_01_31")
    p = M.simulate(sc, draws=30, seed=5)
    idx = np.array([4, 0, 17])
    sub = p.take(idx)
    assert sub.n_draws == 3
    for name in ("shipments", "domestic_share", "us_fee_usd", "backlog"):
        np.testing.assert_array_equal(sub[name], p[name][idx], err_msg=name)
    np.testing.assert_array_equal(sub.stance_weights, p.stance_weights[idx])
    np.testing.assert_array_equal(
        sub.draws.vec("money.price_usd"), p.draws.vec("money.price_usd")[idx]
    )
    # derived series are recomputed, not carried: take() keeps only the primary ones
    fresh = p.take(np.arange(30))
    assert "us_fee_usd" not in fresh.arrays
    # two parts back together are the whole
    a, b = p.take(np.arange(0, 12)), p.take(np.arange(12, 30))
    whole = M.Paths.concat([a, b])
    assert whole.n_draws == 30
    assert M.Paths.concat([a]) is a
    for name in ("shipments", "permitted", "domestic_share", "us_fee_usd"):
        np.testing.assert_array_equal(whole[name], p[name], err_msg=name)
    np.testing.assert_array_equal(whole.stance_weights, p.stance_weights)
    np.testing.assert_array_equal(
        whole.draws.vec("event.us_retighten"), p.draws.vec("event.us_retighten")
    )
    assert whole.months == p.months and whole.stance_names == p.stance_names


def test_concat_of_runs_that_share_one_stance_path() -> None:
    # Runs of a stance path keep one row of weights (first axis 1), taken or joined.
    p = M.simulate(scenario(path="as_reported_2026_01"), draws=6, seed=1)
    assert p.stance_weights.shape[0] == 1
    sub = p.take(np.array([1, 2]))
    assert sub.stance_weights.shape[0] == 1
    both = M.Paths.concat([sub, p.take(np.array([3]))])
    assert both.stance_weights.shape[0] == 1
    np.testing.assert_array_equal(both["shipments"], p["shipments"][[1, 2, 3]])
    # a point run (one row of weights) joined to a sampled run of the same chain: its row
    # stands for its one draw
    sc = scenario(switching="from_2026_01_31")
    pt, q = M.simulate(sc, point=True), M.simulate(sc, draws=2, seed=1)
    mixed = M.Paths.concat([pt, q])
    assert mixed.stance_weights.shape == (3, q.n_months, len(q.stance_names))
    np.testing.assert_array_equal(mixed.stance_weights[:1], pt.stance_weights)
    np.testing.assert_array_equal(mixed.stance_weights[1:], q.stance_weights)
    np.testing.assert_array_equal(mixed["shipments"][1:], q["shipments"])


def test_stance_of_draw_is_the_stance_with_most_days() -> None:
    # January 2026 under the reported path: 21 of 31 days customs_ban; then selective approval.
    p = M.simulate(scenario(path="as_reported_2026_01"), draws=3, seed=1)
    s = p.stance_of_draw()
    assert s.shape == (3, p.n_months)
    assert (s[:, 0] == "customs_ban").all()
    assert (s[:, 1:] == "selective_approval").all()


def test_simulate_values_follows_the_chains_median_path_by_default() -> None:
    # Without weights each run follows the median path (u = 0.5 every month), as --point.
    sc = scenario(switching="from_2026_01_31")
    pt = M.simulate(sc, point=True)
    vals = {k: np.repeat(x, 2) for k, x in pt.draws.values.items()}
    p = M.simulate_values(sc, vals, seed=99)
    assert p.stance_weights.shape[0] == 1  # one path for every run, as a stance's
    np.testing.assert_array_equal(p.stance_weights[0], pt.stance_weights[0])
    assert p.stance_of_draw().shape == (2, p.n_months)
    for i in range(2):
        np.testing.assert_array_equal(p["shipments"][i], pt["shipments"][0])


def test_unknown_variable_names_the_known_ones() -> None:
    p = M.simulate(scenario(stance="open_market"), draws=2, seed=1)
    with pytest.raises(KeyError, match="unknown variable 'nope'; known: new_demand, demand"):
        p["nope"]
    np.testing.assert_array_equal(p.t(), [np.arange(p.n_months)])
    assert p.t().dtype == float


def test_firm_orders_left_go_to_the_us_rule_only_while_it_allows_strictly_less() -> None:
    # Firm backlog 0 -> 50 -> 10 with orders 100, 0 and shipments 30, 20: 20 cancelled in
    # each month. Month 0 the US side allows 5 of a supply of 10 (it binds); month 1 it
    # allows 7 of 7 (a tie: supply binds as much, and the shortfall is supply's).
    p = M.Paths(
        ["2026-01", "2026-02"], ("open_market",), np.ones((1, 2, 1)), Draws(1, {}), Clock(0, None)
    )
    row = lambda *x: np.array([x], dtype=float)  # noqa: E731
    p.arrays.update(
        firm_backlog=row(50, 10),
        firm_orders=row(100, 0),
        shipments=row(30, 20),
        us_allowed=row(5, 7),
        supply_available=row(10, 7),
    )
    np.testing.assert_array_equal(p["left_us_rule"], [[20, 0]])
    np.testing.assert_array_equal(p["left_supply"], [[0, 20]])
    np.testing.assert_array_equal(p["shortfall_us_rule"], [[70, 0]])
    np.testing.assert_array_equal(p["shortfall_supply"], [[0, 30]])


def test_simulate_defaults_are_1000_draws_and_seed_0() -> None:
    sc = scenario(stance="open_market", overrides=("calendar.horizon_months=3",))
    p = M.simulate(sc)
    assert p.n_draws == 1000
    np.testing.assert_array_equal(p["shipments"], M.simulate(sc, draws=1000, seed=0)["shipments"])


@pytest.mark.parametrize(("which", "draws", "block"), [("path", 10, 4), ("switching", 2, 1)])
def test_blocks_of_draws_of_a_path_or_a_chain(
    monkeypatch: pytest.MonkeyPatch, which: str, draws: int, block: int
) -> None:
    # A stance path keeps one row of weights for all draws; a chain one per draw: either
    # way each block of draws gets its own draws' weights.
    kw = {"path": "as_reported_2026_01"} if which == "path" else {"switching": "from_2026_01_31"}
    sc = scenario(**kw)
    whole = M.simulate(sc, draws, 3)
    monkeypatch.setattr(M, "BLOCK", block)
    blocks = M.simulate(sc, draws, 3)
    for name in ("shipments", "permitted", "domestic_share", "approvals_unused"):
        np.testing.assert_array_equal(whole[name], blocks[name], err_msg=name)


def test_market_balance_with_less_than_one_card_deployed() -> None:
    # Half a domestic card and nothing else: the share is 1 (0.5 / 0.5), not the desired
    # share; domestic chips serving less than the domestic-preferring demand serve no
    # foreign-preferring demand (0, not a negative number or a floor of 1).
    v = getter(
        demand__lost_to_domestic_share=0.0,
        demand__grey_performance_ratio=1.0,
        demand__grey_enforcement=1.0,
        demand__grey_supply_units_per_month=0.0,
    )
    one = lambda x: np.array([x])  # noqa: E731
    b = M.market_balance(v, one(10.0), one(0.5), one(0.0), one(0.5), one(1.0))
    assert b.domestic[0] == 0.5
    assert b.share[0] == 1.0
    assert b.foreign_served_by_domestic[0] == 0.0


def test_the_quiet_edges_give_no_floating_point_warning() -> None:
    # A zero hazard (never), a hazard too small to divide by, a switch share of 1 and a
    # quota over a vanishing month of intentions are all handled without a RuntimeWarning.
    v = getter(demand__lost_to_domestic_share=1.0)
    lv = M._StanceLevers(0, None, np.array([0.5, 0.5]), None, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        never = M._geometric_month(np.array([0.3, 0.0, 0.5]), np.array([0.0, 0.0, 1e-320]))
        full = M.switch_share(v, np.array([1.0, 2.0]))
        q = lv.admits(np.array([1e-320, 0.0]), np.array([1e300, 0.0]))
    assert never[0] == np.inf and never[1] == np.inf and never[2] > 1e300
    np.testing.assert_array_equal(full, [1.0, 1.0])
    np.testing.assert_array_equal(q, [1.0, 1.0])


def test_a_quota_over_less_than_one_intention_still_applies() -> None:
    # Half a unit of fresh intentions and 0.2 domestic chips at 0.5 H200 per chip: 0.1 of
    # 0.5 is admitted (a share of 0.2), not all of it.
    lv = M._StanceLevers(0, None, np.array([0.5]), None, None)
    assert lv.admits(np.array([0.5]), np.array([0.2]))[0] == pytest.approx(0.2)


def test_approvals_admit_only_the_eligible_buyers_at_the_approvals_pace() -> None:
    # Eligible share 0.6 of 166,667 a month; approvals' conversion 0.5 below the buyers' 1.
    over = (
        *AMPLE,
        "stances.selective_approval.approvals.eligible_share=0.6",
        "stances.selective_approval.approvals.conversion_per_month=0.5",
        "stances.selective_approval.approvals.initial_batch_units=1e9",
        "demand.backlog_persistence=1",
    )
    p = M.simulate(scenario(stance="selective_approval", overrides=over), point=True)
    np.testing.assert_allclose(p["permitted"][0], 0.6 * MONTH_P, rtol=1e-12)
    o = p["firm_orders"][0]
    assert o[0] == pytest.approx(0.5 * 0.6 * MONTH_P)
    assert o[1] == pytest.approx(0.5 * (0.5 * 0.6 * MONTH_P + 0.6 * MONTH_P))


@pytest.mark.parametrize("multiple", [None, 5.0])
def test_a_quota_admits_per_domestic_chip_deployed_the_month_before(multiple: float | None) -> None:
    # buyer_share 0.5 over ratio 2: 0.25 H200 per domestic chip. Month 0 counts the chips
    # deployed at the start (desired share x market, within capacity); month t the
    # domestic deployments of month t - 1. A share that rises re-admits blocked intentions
    # in proportion, as a loosening stance does.
    over = (
        *AMPLE,
        "stances.domestic_quota.domestic_quota.buyer_share=0.5",
        "stances.domestic_quota.domestic_quota.ratio=2",
        "demand.blocked_persistence=1",
        "demand.backlog_persistence=1",
        "demand.alternatives_sensitivity=0",
    )
    if multiple is not None:  # capacity ample: the start's deployments are desired x market
        over = (*over, f"domestic.capacity_multiple_2026={multiple}")
    p = M.simulate(scenario(stance="domestic_quota", overrides=over), point=True)
    new, permitted, blocked = p["new_demand"][0], p["permitted"][0], p["blocked_waiting"][0]
    special = float(p.draws.vec("beijing.special_cases_share")[0])
    cap0 = M.capacity_base(p.draws.col, np.array([[0.0]]), p.clock)[0, 0]
    dom0 = min(p["domestic_share_desired"][0, 0] * p["market_units"][0, 0], cap0)
    if multiple is not None:
        assert dom0 < cap0
    share0 = max(min(1.0, 0.25 * dom0 / new[0]), special)
    assert share0 < 1
    assert permitted[0] == pytest.approx(share0 * new[0], rel=1e-12)
    prev, readmitted = share0, 0.0
    for t in range(1, p.n_months):
        share = max(min(1.0, 0.25 * p["domestic_units"][0, t - 1] / new[t]), special)
        readmit = np.clip((share - prev) / (1 - prev), 0, 1) * blocked[t - 1]
        assert permitted[t] == pytest.approx(share * new[t] + readmit, rel=1e-9), t
        prev, readmitted = share, readmitted + readmit
    assert readmitted > 0
