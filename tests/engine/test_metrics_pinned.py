"""Headline metrics hand-computed on tiny arrays: each test pins what a metric reads.

The paths here are built by hand (no model run): every variable a metric could read gets
values that tell months and variables apart, so a metric that sums the wrong month, the
wrong year or the wrong variable, or a statistic computed at the wrong percentile, gives
a different number than the one worked out in the comment.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from h200cast.engine.metrics import (
    BY_NAME,
    METRICS,
    STATS,
    _at_year_end,
    _in_year,
    _months_in_year,
    _months_until,
    _shortfall,
    _total,
    _year_share,
    months_to_share,
    shortfall_part,
    summarize,
    values,
)
from h200cast.engine.model import Clock, Draws, Paths

# 2025-11 .. 2028-01: two months of 2025, twelve of 2026, twelve of 2027, one of 2028
MONTHS = [f"2025-{m:02d}" for m in (11, 12)] + [
    f"{y}-{m:02d}" for y in (2026, 2027) for m in range(1, 13)
]
MONTHS.append("2028-01")
T = len(MONTHS)  # 27
POW = 2.0 ** np.arange(T)  # month i holds 2**i: a sum says exactly which months it read


def paths(arrays: dict[str, np.ndarray], months: list[str] = MONTHS, n: int = 1) -> Paths:
    """Hand-made paths: ``arrays`` given as (draws, months); no model run."""
    w = np.ones((1, len(months), 1))
    p = Paths(months, ("open_market",), w, Draws(n, {}), Clock(0, None))
    p.arrays.update({k: np.atleast_2d(np.asarray(x, dtype=float)) for k, x in arrays.items()})
    return p


def bits(*months: str) -> float:
    """The sum of POW over the named months."""
    return float(sum(POW[MONTHS.index(m)] for m in months))


def year(y: int) -> list[str]:
    return [m for m in MONTHS if m.startswith(f"{y}-")]


# --- the statistics ---------------------------------------------------------------------------


def test_percentiles_are_p5_p50_p95_and_the_mean_is_the_mean() -> None:
    # 0, 1, ..., 100: the k-th percentile is k exactly; the mean is 50 too, so a second,
    # skewed array tells the mean from the median: 0, 0, 0, 0, 10 has median 0, mean 2,
    # P5 0 and P95 at 0.95 x 4 = 3.8 places: 0 + 0.8 x 10 = 8.
    s = summarize({"a": np.arange(101.0), "b": np.array([0.0, 0, 0, 0, 10])})
    assert s["a"] == {"p5": 5.0, "p50": 50.0, "p95": 95.0, "mean": 50.0}
    assert s["b"]["p5"] == 0.0
    assert s["b"]["p50"] == 0.0
    assert s["b"]["p95"] == pytest.approx(8.0)
    assert s["b"]["mean"] == pytest.approx(2.0)
    assert set(s["a"]) == set(STATS)
    assert all(isinstance(v, float) for v in s["b"].values())


def test_percentiles_of_an_unsorted_array() -> None:
    # 21 values 0, 10, ..., 200 shuffled: P5 at place 1 (10), P50 at place 10 (100),
    # P95 at place 19 (190); the mean 100.
    x = np.array([70, 0, 200, 30, 110, 50, 190, 10, 130, 150, 90, 20, 170, 60, 100, 40, 180])
    x = np.concatenate([x, [80, 120, 140, 160]]).astype(float)
    s = summarize({"x": x})["x"]
    assert (s["p5"], s["p50"], s["p95"], s["mean"]) == pytest.approx((10, 100, 190, 100))


# --- totals and calendar years ------------------------------------------------------------------

_TOTALS = {
    "demand_total_units": "new_demand",
    "shipments_total_units": "shipments",
    "permitted_total_units": "permitted",
    "firm_orders_total_units": "firm_orders",
    "lost_to_domestic_total_units": "lost_to_domestic",
    "refused_at_customs_total_units": "refused_at_customs",
    "grey_channel_total_units": "grey_channel",
    "compute_gap_total_units": "compute_gap",
    "domestic_units_total": "domestic_units",
    "production_total_units": "production",
    "written_down_total_units": "written_down",
    "reallocated_total_units": "reallocated",
    "nvidia_revenue_total_usd": "revenue_usd",
    "us_fee_revenue_total_usd": "us_fee_usd",
    "us_fee_upper_total_usd": "us_fee_upper_usd",
    "customs_value_total_usd": "customs_value_usd",
    "nvidia_net_total_usd": "nvidia_net_usd",
}
_IN_2026 = {
    "shipments_2026_units": "shipments",
    "compute_gap_2026_units": "compute_gap",
    "nvidia_revenue_2026_usd": "revenue_usd",
    "us_fee_revenue_2026_usd": "us_fee_usd",
}
_AT_END = {"backlog_end_units": "backlog", "inventory_end_units": "inventory"}


def _distinct_paths() -> tuple[Paths, dict[str, float]]:
    """Every summed variable as POW times its own factor (1, 3, 5, ...): a metric that
    reads another variable, or other months, is off by a factor or by a month's bits."""
    names = sorted({*_TOTALS.values(), *_IN_2026.values(), *_AT_END.values()})
    factor = {n: 2.0 * i + 1.0 for i, n in enumerate(names)}
    return paths({n: factor[n] * POW for n in names}), factor


@pytest.mark.parametrize(("metric", "var"), sorted(_TOTALS.items()))
def test_each_total_sums_its_own_variable_over_every_month(metric: str, var: str) -> None:
    p, factor = _distinct_paths()
    assert BY_NAME[metric].compute(p)[0] == factor[var] * (2.0**T - 1)


@pytest.mark.parametrize(("metric", "var"), sorted(_IN_2026.items()))
def test_each_2026_metric_sums_its_own_variable_over_2026_only(metric: str, var: str) -> None:
    p, factor = _distinct_paths()
    # January 2026 is month 2, December month 13: 2**2 + ... + 2**13 = 2**14 - 4
    assert bits(*year(2026)) == 2.0**14 - 4
    assert BY_NAME[metric].compute(p)[0] == factor[var] * (2.0**14 - 4)


@pytest.mark.parametrize(("metric", "var"), sorted(_AT_END.items()))
def test_end_metrics_read_the_last_month(metric: str, var: str) -> None:
    p, factor = _distinct_paths()
    assert BY_NAME[metric].compute(p)[0] == factor[var] * 2.0 ** (T - 1)


def test_first_half_of_2026_includes_june_and_what_came_before() -> None:
    # Every month up to and including 2026-06: months 0..7, 2**8 - 1 = 255.
    p = paths({"shipments": POW})
    assert BY_NAME["shipments_h1_2026_units"].compute(p)[0] == 255.0


def test_year_metrics_per_draw() -> None:
    # Two draws: the second ships twice the first; each draw keeps its own sum.
    p = paths({"shipments": np.stack([POW, 2 * POW])}, n=2)
    np.testing.assert_array_equal(
        BY_NAME["shipments_2026_units"].compute(p), [2.0**14 - 4, 2 * (2.0**14 - 4)]
    )
    np.testing.assert_array_equal(BY_NAME["shipments_total_units"].compute(p).shape, (2,))


def test_share_of_fresh_and_zero_demand() -> None:
    # 30 shipped of 120 fresh intentions: 0.25; with no fresh intentions the share is 0.
    ship = np.array([[10.0, 20.0, 0.0], [0.0, 0.0, 0.0]])
    fresh = np.array([[40.0, 40.0, 40.0], [0.0, 0.0, 0.0]])
    p = paths({"shipments": ship, "new_demand": fresh}, months=MONTHS[:3], n=2)
    np.testing.assert_array_equal(BY_NAME["shipments_share_of_fresh"].compute(p), [0.25, 0.0])


# --- domestic shares and months to a share -------------------------------------------------------


def test_domestic_share_at_year_ends_reads_december() -> None:
    # The share in month i is i / 100: December 2026 is month 13, December 2027 month 25,
    # the horizon (January 2028) month 26.
    p = paths({"domestic_share": np.arange(T) / 100})
    assert BY_NAME["domestic_share_2026_end"].compute(p)[0] == pytest.approx(0.13)
    assert BY_NAME["domestic_share_2027_end"].compute(p)[0] == pytest.approx(0.25)
    assert BY_NAME["domestic_share_end"].compute(p)[0] == pytest.approx(0.26)


def test_domestic_share_at_a_year_end_outside_the_horizon_is_nan() -> None:
    # A horizon that ends in 2026 has no December 2027: NaN, one per draw.
    p = paths({"domestic_share": np.full((3, 4), 0.4)}, months=MONTHS[2:6], n=3)
    out = BY_NAME["domestic_share_2027_end"].compute(p)
    assert out.shape == (3,)
    assert np.isnan(out).all()


def test_domestic_share_of_a_year_counts_its_deployments() -> None:
    # In 2026: domestic 1 a month (12), H200 shipments 2 (24), grey 1 in January only (1):
    # 12 / 37. Months outside 2026 carry 1000 of each and must not count.
    inside = np.array([m.startswith("2026-") for m in MONTHS])
    dom = np.where(inside, 1.0, 1000.0)
    ship = np.where(inside, 2.0, 1000.0)
    grey = np.where(inside, 0.0, 1000.0)
    grey[MONTHS.index("2026-01")] = 1.0
    p = paths({"domestic_units": dom, "shipments": ship, "grey_channel": grey})
    assert BY_NAME["domestic_share_2026"].compute(p)[0] == pytest.approx(12 / 37)


def test_domestic_share_of_a_year_with_nothing_deployed_is_nan() -> None:
    z = np.zeros((2, T))
    z[1, MONTHS.index("2026-03")] = 5.0  # the second draw deploys 5 domestic chips
    p = paths({"domestic_units": z, "shipments": 0 * z, "grey_channel": 0 * z}, n=2)
    out = BY_NAME["domestic_share_2026"].compute(p)
    assert np.isnan(out[0])
    assert out[1] == 1.0


def test_months_to_share_counts_from_one_and_reaches_at_equality() -> None:
    # Shares 0.1, 0.3, 0.5, 0.8, 0.9: 50% is reached (>=) in the third month, 80% in the
    # fourth; a draw that never gets there reads horizon + 1 = 6.
    share = np.array([[0.1, 0.3, 0.5, 0.8, 0.9], [0.1, 0.2, 0.2, 0.3, 0.49]])
    p = paths({"domestic_share": share}, months=MONTHS[:5], n=2)
    np.testing.assert_array_equal(BY_NAME["months_to_domestic_share_50"].compute(p), [3, 6])
    np.testing.assert_array_equal(BY_NAME["months_to_domestic_share_80"].compute(p), [4, 6])
    assert BY_NAME["months_to_domestic_share_50"].compute(p).dtype == float
    # the first month is month 1; the first crossing counts, not a later one
    dip = np.array([[0.6, 0.2, 0.7, 0.1, 0.9]])
    q = paths({"domestic_share": dip}, months=MONTHS[:5])
    assert months_to_share(0.5)(q)[0] == 1
    assert months_to_share(0.65)(q)[0] == 3


# --- the shortfall by pool -------------------------------------------------------------------------


def _pools(us_allowed: float, supply: float) -> Paths:
    """Three months; what left each pool and what each holds at the end, all distinct."""
    m = MONTHS[:3]
    row = lambda *x: np.array([x], dtype=float)  # noqa: E731
    return paths(
        {
            "left_beijing": row(1, 2, 4),  # 7
            "blocked_waiting": row(100, 200, 400),  # ends at 400
            "left_buyers": row(10, 20, 40),  # 70
            "intentions_waiting": row(1000, 2000, 4000),  # ends at 4000
            "left_us_rule": row(3, 0, 0),  # 3
            "left_supply": row(0, 5, 0),  # 5
            "firm_backlog": row(7e4, 8e4, 9e4),  # ends at 90,000
            "us_allowed": row(0, 0, us_allowed),
            "supply_available": row(1e9, 1e9, supply),
        },
        months=m,
    )


def test_shortfall_parts_add_what_left_and_what_still_waits() -> None:
    # At the horizon the US side allows 10 and supply is 20: the US side binds, so the firm
    # backlog (90,000) is the US rule's and none of it is supply's.
    p = _pools(10, 20)
    assert shortfall_part(p, "beijing")[0] == 7 + 400
    assert shortfall_part(p, "buyers")[0] == 70 + 4000
    assert shortfall_part(p, "us_rule")[0] == 3 + 90_000
    assert shortfall_part(p, "supply")[0] == 5
    assert BY_NAME["shortfall_beijing_units"].compute(p)[0] == 407
    assert BY_NAME["shortfall_buyers_units"].compute(p)[0] == 4070
    assert BY_NAME["shortfall_us_rule_units"].compute(p)[0] == 90_003
    assert BY_NAME["shortfall_supply_units"].compute(p)[0] == 5
    assert BY_NAME["shortfall_total_units"].compute(p)[0] == 407 + 4070 + 90_003 + 5


@pytest.mark.parametrize(("us_allowed", "supply"), [(20, 10), (15, 15)])
def test_firm_backlog_is_supplys_when_the_us_side_does_not_bind(
    us_allowed: float, supply: float
) -> None:
    # The US side binds only when it allows strictly less than supply: at 20 against 10, or
    # at a tie, the backlog at the end is short of supply.
    p = _pools(us_allowed, supply)
    assert shortfall_part(p, "us_rule")[0] == 3
    assert shortfall_part(p, "supply")[0] == 5 + 90_000
    assert BY_NAME["shortfall_total_units"].compute(p)[0] == 407 + 4070 + 3 + 90_005


def test_every_metric_has_a_unit_a_description_and_is_computed() -> None:
    assert len(BY_NAME) == len(METRICS)
    p, _ = _distinct_paths()
    extra = {
        "domestic_share": np.full((1, T), 0.5),
        "domestic_units": POW,
        "grey_channel": POW,
        **{k: POW for k in ("left_beijing", "left_buyers", "left_us_rule", "left_supply")},
        **{k: POW for k in ("blocked_waiting", "intentions_waiting", "firm_backlog")},
        "us_allowed": POW,
        "supply_available": POW,
    }
    p.arrays.update({k: np.atleast_2d(v) for k, v in extra.items()})
    vals = values(p)
    assert list(vals) == [m.name for m in METRICS]
    assert all(v.shape == (1,) for v in vals.values())


# --- the metric builders, called afresh (METRICS holds what they built at import) ----------------


def test_builders_sum_totals_years_and_months_up_to_a_cutoff() -> None:
    # Two draws, the second twice the first: totals 2**27 - 1; 2026 2**14 - 4; up to
    # 2026-06 (inclusive) 2**8 - 1; December 2027's value alone 2**25.
    p = paths({"shipments": np.stack([POW, 2 * POW])}, n=2)
    np.testing.assert_array_equal(_total("shipments")(p), [2.0**T - 1, 2 * (2.0**T - 1)])
    np.testing.assert_array_equal(_in_year("shipments", 2026)(p), [2.0**14 - 4, 2 * (2.0**14 - 4)])
    np.testing.assert_array_equal(_in_year("shipments", 2025)(p), [3.0, 6.0])
    np.testing.assert_array_equal(_months_until("shipments", "2026-06")(p), [255.0, 510.0])
    np.testing.assert_array_equal(_at_year_end("shipments", 2027)(p), [2.0**25, 2.0**26])
    assert np.isnan(_at_year_end("shipments", 2030)(p)).all()
    assert _at_year_end("shipments", 2030)(p).shape == (2,)
    np.testing.assert_array_equal(_months_in_year(p, 2028), [False] * (T - 1) + [True])


def test_builders_split_the_shortfall() -> None:
    p = _pools(10, 20)
    assert _shortfall("shortfall_beijing")(p)[0] == 407
    assert _shortfall("shortfall_buyers")(p)[0] == 4070
    assert _shortfall("shortfall_us_rule")(p)[0] == 90_003
    assert _shortfall("shortfall_supply")(p)[0] == 5
    assert _shortfall("shortfall")(p)[0] == 407 + 4070 + 90_003 + 5


def test_months_to_share_built_afresh() -> None:
    # as in test_months_to_share_counts_from_one_and_reaches_at_equality, per draw
    share = np.array([[0.1, 0.3, 0.5, 0.8, 0.9], [0.1, 0.2, 0.2, 0.3, 0.49], [0.9] * 5])
    p = paths({"domestic_share": share}, months=MONTHS[:5], n=3)
    out = months_to_share(0.5)(p)
    np.testing.assert_array_equal(out, [3, 6, 1])
    assert out.dtype == float
    np.testing.assert_array_equal(months_to_share(0.8)(p), [4, 6, 1])


def test_year_share_per_draw_and_quietly_nan_when_nothing_deployed() -> None:
    # Four draws in 2026: (domestic, shipments, grey) = (1, 1, 2) a month: 1/4;
    # (3, 1, 0): 3/4; nothing at all: NaN, without a floating-point warning; half a
    # domestic card in March and nothing else: 1.
    inside = np.array([m.startswith("2026-") for m in MONTHS], dtype=float)
    half = np.where(np.array(MONTHS) == "2026-03", 0.5, 0.0)
    dom = np.stack([inside, 3 * inside, 0 * inside, half])
    ship = np.stack([inside, inside, 0 * inside, 0 * inside])
    grey = np.stack([2 * inside, 0 * inside, 0 * inside, 0 * inside])
    p = paths({"domestic_units": dom, "shipments": ship, "grey_channel": grey}, n=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _year_share(p, 2026)
    assert out[:2] == pytest.approx([0.25, 0.75])
    assert np.isnan(out[2])
    assert out[3] == 1.0
