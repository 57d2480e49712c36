"""Hand-computed cases for the mechanisms of model 2, one or two per mechanism.

Each case starts from ``AMPLE`` (nothing limits an open market; see test_model.py) and
switches on one mechanism, so that the expected numbers follow by hand from the
parameter values named in the test.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import scenario
from test_model import AMPLE, p50

from h200cast.api import run
from h200cast.engine.model import sample, simulate_values
from h200cast.scenario import calendar

BOOK = 2e6  # the mode of demand.order_book_units
MONTH = BOOK / 12  # released evenly over 12 months


def test_necessity_only_ships_its_share_of_fresh_demand() -> None:
    # 20% (the mode) of each month's fresh intentions is admitted; the rest waits apart
    # and is never re-presented: 0.2 x 2M = 400,000, not 59% as in model 1.
    m = p50(run(stance="necessity_only", overrides=AMPLE, point=True))
    assert m["shipments_total_units"] == pytest.approx(0.2 * BOOK)
    assert m["permitted_total_units"] == pytest.approx(0.2 * BOOK)
    assert m["shortfall_beijing_units"] == pytest.approx(0.8 * BOOK)


def test_rd_exemption_ships_its_share_of_fresh_demand() -> None:
    # 5% (the mode): 100,000 units; the special cases (1%) lie inside it.
    m = p50(run(stance="rd_exemption", overrides=AMPLE, point=True))
    assert m["shipments_total_units"] == pytest.approx(0.05 * BOOK)


def test_approvals_never_convert_when_terms_are_never_final() -> None:
    # Buyers who never accept the terms place no firm order: nothing ships, nothing is
    # paid, and the whole book is short for want of orders.
    over = (*AMPLE, "buyers.never_convert_prob=1")
    m = p50(run(stance="open_market", overrides=over, point=True))
    assert m["firm_orders_total_units"] == 0
    assert m["shipments_total_units"] == 0
    assert m["us_fee_revenue_total_usd"] == 0
    assert m["shortfall_buyers_units"] == pytest.approx(BOOK)


def test_terms_final_month_delays_orders() -> None:
    # Hazard 0.2 a month and the median draw u = 0.5: the terms are final in month
    # floor(ln 0.5 / ln 0.8) = 3. With full persistence the first three months' intentions
    # wait, and month 3 orders (and ships) four months' worth.
    over = (*AMPLE, "buyers.terms_final_prob_per_month=0.2", "demand.backlog_persistence=1")
    r = run(stance="open_market", overrides=over, point=True)
    ship = r.paths["shipments"][0]
    assert ship[:3] == pytest.approx([0, 0, 0])
    assert ship[3] == pytest.approx(4 * MONTH)
    assert ship.sum() == pytest.approx(BOOK)


def test_conversion_rate_spreads_orders() -> None:
    # Half of what waits is ordered each month, and nothing leaves (persistence 1):
    # month 0 orders 0.5 x M; month 1 0.5 x (0.5 M + M) = 0.75 M.
    over = (*AMPLE, "buyers.conversion_per_month=0.5", "demand.backlog_persistence=1")
    r = run(stance="open_market", overrides=over, point=True)
    o = r.paths["firm_orders"][0]
    assert o[0] == pytest.approx(0.5 * MONTH)
    assert o[1] == pytest.approx(0.75 * MONTH)


def test_stalled_review_holds_licences() -> None:
    # The review stalls for sure; with exit hazard 0.2 and u = 0.5 it ends
    # floor(ln 0.5 / ln 0.8) + 1 = 4 months after the on-time date (0): no licence, no
    # shipment before month 4; firm orders wait (persistence 1) and ship in month 4.
    over = (
        *AMPLE,
        "us.review_stall_prob=1",
        "us.stall_exit_prob_per_month=0.2",
        "demand.firm_order_persistence=1",
    )
    r = run(stance="open_market", overrides=over, point=True)
    ship = r.paths["shipments"][0]
    assert ship[:4] == pytest.approx([0, 0, 0, 0])
    assert ship[4] == pytest.approx(5 * MONTH)
    m = p50(r)
    assert m["shortfall_us_rule_units"] == pytest.approx(0, abs=1e-6)


def test_licences_come_in_discrete_rounds() -> None:
    # 3 named buyers x 10,000 units every 2 months from month 0: 30,000 licensed in months
    # 0, 2, 4, ...; firm orders wait, so shipments are 30,000 in those months, 0 between.
    over = (
        *AMPLE,
        "us.licence_units=10000",
        "us.licensed_buyers=3",
        "us.licence_every_months=2",
        "demand.firm_order_persistence=1",
    )
    r = run(stance="open_market", overrides=over, point=True)
    ship = r.paths["shipments"][0]
    np.testing.assert_allclose(ship, np.tile([30000.0, 0.0], 6))
    assert p50(r)["shortfall_us_rule_units"] == pytest.approx(BOOK - 6 * 30000)


def test_us_cap_is_a_flow() -> None:
    # No US-customer volume before the start and 12,000 a month: China may take 6,000 a
    # month, 72,000 over 12 months.
    over = (*AMPLE, "us.us_cumulative_units_before=0", "us.us_units_per_month=12000")
    m = p50(run(stance="open_market", overrides=over, point=True))
    assert m["shipments_total_units"] == pytest.approx(72000)


def test_congress_block_closes_sales() -> None:
    # Congress blocks with hazard 0.1 a month: at u = 0.5, in month floor(ln 0.5/ln 0.9) = 6.
    # Six months ship; then nothing, all waiting orders and intentions are dropped, and
    # the China stock is released: 30% (the mode) written down, the rest re-allocated.
    over = (*AMPLE, "us.congress_block_prob_per_month=0.1", "supply.inventory_units=2e6")
    r = run(stance="open_market", overrides=over, point=True)
    ship = r.paths["shipments"][0]
    assert ship[:6] == pytest.approx([MONTH] * 6)
    assert ship[6:].sum() == 0
    left = 2e6 - 6 * MONTH
    m = p50(r)
    assert m["written_down_total_units"] == pytest.approx(0.3 * left)
    assert m["reallocated_total_units"] == pytest.approx(0.7 * left)
    assert m["inventory_end_units"] == pytest.approx(0, abs=1e-6)


def test_production_follows_firm_orders_after_stock() -> None:
    # 300,000 in stock, 200,000 a month of capacity from month 0: the first months ship from
    # stock and make only what orders beyond stock need; stock runs out in month 1.
    over = (
        *AMPLE,
        "supply.inventory_units=100000",
        "supply.production_lead_months=0",
        "supply.production_units_per_month=200000",
    )
    r = run(stance="open_market", overrides=over, point=True)
    made = r.paths["production"][0]
    assert made[0] == pytest.approx(MONTH - 100000)  # first shipments come from stock
    assert made[1:] == pytest.approx([MONTH] * 11)
    assert p50(r)["shipments_total_units"] == pytest.approx(BOOK)


def test_no_orders_no_production_and_stock_reallocated() -> None:
    # With no firm orders Nvidia makes nothing for China and re-allocates 10% of its China
    # stock a month: after 12 months 700,000 x 0.9^12 remain.
    over = (
        *AMPLE,
        "buyers.never_convert_prob=1",
        "supply.inventory_units=700000",
        "supply.reallocation_per_month=0.1",
        "supply.production_lead_months=0",
    )
    m = p50(run(stance="open_market", overrides=over, point=True))
    assert m["production_total_units"] == 0
    assert m["inventory_end_units"] == pytest.approx(700000 * 0.9**12)


def test_duty_base_collection_and_upper_bound() -> None:
    # Customs value 80% of the $27,000 price: duty 0.25 x 0.8 x 27,000 x 2M = $10.8B; the
    # upper bound is 25% of the sale value, $13.5B. Not collected: $0, bound unchanged.
    over = (*AMPLE, "us.customs_value_share=0.8")
    m = p50(run(stance="open_market", overrides=over, point=True))
    assert m["us_fee_revenue_total_usd"] == pytest.approx(10.8e9)
    assert m["us_fee_upper_total_usd"] == pytest.approx(13.5e9)
    m = p50(run(stance="open_market", overrides=(*over, "us.duty_collection_prob=0"), point=True))
    assert m["us_fee_revenue_total_usd"] == 0
    assert m["us_fee_upper_total_usd"] == pytest.approx(13.5e9)


def test_duty_owed_at_us_entry_and_refused_chips_pay_it() -> None:
    # 10% of the tested chips are refused at Beijing's customs; they go back to stock and
    # their orders stay on the book (firm orders kept in full), so month m sends the month's
    # 166,667 plus last month's refusals: sent_m = M (1 - 0.1^(m+1)) / 0.9, 90% ship. Chips
    # enter the US a month before they reach customs, and every entry pays the duty
    # (0.25 x $27,000 = $6,750 a chip): month 0 holds the entries for months 0 and 1,
    # month j those for month j + 1, month 11 none (its chips would arrive after the horizon).
    over = (
        *AMPLE,
        "beijing.customs_refusal_share=0.1",
        "us.entry_lead_months=1",
        "demand.firm_order_persistence=1",
    )
    r = run(stance="open_market", overrides=over, point=True)
    m, p = p50(r), r.paths
    sent = MONTH * (1 - 0.1 ** np.arange(1, 13)) / 0.9
    np.testing.assert_allclose(p["sent_to_china"][0], sent, rtol=1e-12)
    np.testing.assert_allclose(p["shipments"][0], 0.9 * sent, rtol=1e-12)
    np.testing.assert_allclose(p["refused_at_customs"][0], 0.1 * sent, rtol=1e-9)
    entries = np.r_[sent[0] + sent[1], sent[2:], 0.0]
    np.testing.assert_allclose(p["us_fee_usd"][0], 6750 * entries, rtol=1e-12)
    assert m["us_fee_revenue_total_usd"] == pytest.approx(6750 * sent.sum())
    assert m["us_fee_upper_total_usd"] == pytest.approx(6750 * sent.sum())  # refused in it
    assert m["nvidia_revenue_total_usd"] == pytest.approx(0.9 * sent.sum() * 27000)
    assert p["firm_backlog"][0, -1] == pytest.approx(0.1 * sent[-1])  # still on order
    assert p["inventory"][0, -1] == pytest.approx(1e9 - 0.9 * sent.sum())  # back in stock


def test_customs_ban_refuses_chips_ordered_before_it() -> None:
    # Open market in months 0-2, customs_ban from month 3. The review ends at month 3, so
    # the 3 x 166,667 = 500,000 firm orders of months 0-2 wait; in month 3 they and the ban
    # month's special cases (1% of 166,667) arrive at customs, having entered the US in
    # month 2 (lead 1) while the market was open. Customs pass only the special cases:
    # 500,000 are refused, and all pay the duty. From month 4 Nvidia knows of the ban at
    # entry and sends only special cases: nothing more is refused.
    over = (
        *AMPLE,
        "us.licence_lag_months=3",
        "us.entry_lead_months=1",
        "demand.firm_order_persistence=1",
    )
    sc = scenario(switching="from_2026_01_31", overrides=over)
    names = list(calendar.ordered(list(sc.stances)))
    W = np.zeros((1, 12, len(names)))
    W[0, :3, names.index("open_market")] = 1.0
    W[0, 3:, names.index("customs_ban")] = 1.0
    p = simulate_values(sc, sample(sc, 1, 0, point=True).values, weights=W)
    special = 0.01 * MONTH
    assert p["sent_to_china"][0, 3] == pytest.approx(3 * MONTH + special)
    assert p["shipments"][0, 3] == pytest.approx(special)
    assert p["refused_at_customs"][0, 3] == pytest.approx(3 * MONTH)
    assert p["us_fee_usd"][0, 2] == pytest.approx((3 * MONTH + special) * 0.25 * 27000)
    assert p["us_fee_usd"][0, 3] == pytest.approx(special * 0.25 * 27000)
    assert p["refused_at_customs"][0, 4:] == pytest.approx(np.zeros(8))
    assert p["firm_backlog"][0, 3] == pytest.approx(3 * MONTH)  # still on order


def test_duty_pass_through_raises_the_buyers_price() -> None:
    # All of a 25% duty on the full price passed on: buyers pay 1.25 x $27,000, and demand
    # falls to 1.25^-0.4 (elasticity at its mode) of the book.
    over = (*AMPLE, "us.duty_pass_through=1")
    m = p50(run(stance="open_market", overrides=over, point=True))
    assert m["demand_total_units"] == pytest.approx(BOOK * 1.25**-0.4)
    assert m["nvidia_revenue_total_usd"] == pytest.approx(m["shipments_total_units"] * 27000 * 1.25)


def test_market_balance_by_hand() -> None:
    # Month 0 of a point run: demand = market; foreign-preferring = (1 - s*) x demand;
    # grey = min((1 - 1/R) x (foreign - H200), (1 - e) x K); domestic = min(capacity,
    # preferring + switching).
    r = run(stance="customs_ban", overrides=AMPLE, point=True)
    p = r.paths
    A, s = p["market_units"][0, 0], p["domestic_share_desired"][0, 0]
    S = p["shipments"][0, 0]
    R, K, e = 1.5, 12000, 0.25  # modes of grey_performance_ratio, _supply_, _enforcement
    lam = 0.5  # mode of lost_to_domestic_share
    push = 1.5  # customs_ban's push (mode)
    F = (1 - s) * A
    G = min((1 - 1 / R) * (F - S), (1 - e) * K)
    assert p["grey_channel"][0, 0] == pytest.approx(9000)  # grey supply binds, not the gap
    wanted = A - F + (1 - (1 - lam) ** push) * (F - S - G)
    Dd = min(p["domestic_capacity"][0, 0], wanted)
    assert p["grey_channel"][0, 0] == pytest.approx(G)
    assert p["domestic_units"][0, 0] == pytest.approx(Dd)
    assert p["compute_gap"][0, 0] == pytest.approx(A - S - G - Dd)
    assert p["domestic_share"][0, 0] == pytest.approx(Dd / (Dd + S + G))


def test_grey_channel_follows_the_performance_gap_within_grey_supply() -> None:
    # Grey supply ample (1M a month, no enforcement): the performance gap alone decides.
    # A 910C at 80% of the chip buyers cannot get (R = 1.25) sends 1 - 1/1.25 = 20% of the
    # unserved foreign-preferring demand grey; against a 910B (R = 6 / 0.85) 88%.
    ample = (*AMPLE, "demand.grey_supply_units_per_month=1e6", "demand.grey_enforcement=0")
    for R in (1.25, 6 / 0.85):
        p = run(
            stance="customs_ban",
            overrides=(*ample, f"demand.grey_performance_ratio={R}"),
            point=True,
        ).paths
        unserved = (1 - p["domestic_share_desired"][0, 0]) * p["market_units"][0, 0]
        unserved -= p["shipments"][0, 0]
        assert p["grey_channel"][0, 0] == pytest.approx((1 - 1 / R) * unserved)
    # Enforcement stopping 60% of 12,000 a month caps it at 4,800, whatever the gap.
    over = (*AMPLE, "demand.grey_enforcement=0.6", "demand.grey_performance_ratio=3")
    p = run(stance="customs_ban", overrides=over, point=True).paths
    assert p["grey_channel"][0] == pytest.approx(np.full(12, 4800.0))


def test_ban_raises_domestic_share_of_deployments() -> None:
    # Same point, only the stance differs: stopping the H200 leaves domestic chips a larger
    # share of what is deployed (the landed model moved it by 0.07 points).
    a = run(stance="open_market", overrides=AMPLE, point=True).paths["domestic_share"][0]
    b = run(stance="customs_ban", overrides=AMPLE, point=True).paths["domestic_share"][0]
    assert (b >= a - 1e-12).all()
    assert b[11] - a[11] > 0.05
