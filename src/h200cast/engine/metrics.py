"""Headline metrics: one number per draw, summarised as P5 / P50 / P95 / mean.

Totals over the horizon count each unit of demand once. A month's shortfall includes
what waits from earlier months, so summing monthly shortfalls would count a unit that
waits three months three times. Instead, the total shortfall is what left each pool in
each month (given up or cancelled) plus what still waits at the end, by pool: blocked by
Beijing, permitted but not ordered (buyers), firm but held by the US side, firm but short
of supply. The four parts add up to the total, and shipments plus the total shortfall
equal the fresh intentions.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from h200cast.engine.model import Paths


@dataclass(frozen=True)
class Metric:
    """A headline output."""

    name: str
    unit: str
    description: str
    compute: Callable[[Paths], np.ndarray]


def row_sum(x: np.ndarray) -> np.ndarray:
    """Each row's sum (each draw's total over the months given).

    numpy adds a row in an order that depends on the array's memory layout (pairwise
    along a contiguous row, one column after another in Fortran order), and the layout of
    a derived array can follow the number of draws: summing a C-ordered copy keeps each
    draw's total to the last bit whatever the number of draws, so that a run made in
    chunks gives the numbers of the run in one piece.
    """
    return np.ascontiguousarray(x).sum(axis=1)


def _months_in_year(p: Paths, year: int) -> np.ndarray:
    return np.array([m.startswith(f"{year}-") for m in p.months])


def _total(var: str) -> Callable[[Paths], np.ndarray]:
    return lambda p: row_sum(p[var])


def _in_year(var: str, year: int) -> Callable[[Paths], np.ndarray]:
    return lambda p: row_sum(p[var][:, _months_in_year(p, year)])


_POOLS = {
    "beijing": ("left_beijing", None),
    "buyers": ("left_buyers", None),
    "us_rule": ("left_us_rule", True),
    "supply": ("left_supply", False),
}


def shortfall_part(p: Paths, part: str) -> np.ndarray:
    """What left one pool over the horizon plus what it still holds at the end, per draw."""
    left, us_binds = _POOLS[part]
    total = row_sum(p[left])
    if part == "beijing":
        return total + p["blocked_waiting"][:, -1]
    if part == "buyers":
        return total + p["intentions_waiting"][:, -1]
    binds = p["us_allowed"][:, -1] < p["supply_available"][:, -1]
    end = p["firm_backlog"][:, -1]
    return total + np.where(binds == us_binds, end, 0.0)


def _shortfall(var: str) -> Callable[[Paths], np.ndarray]:
    if var == "shortfall":
        return lambda p: functools.reduce(operator.add, (shortfall_part(p, k) for k in _POOLS))
    return lambda p: shortfall_part(p, var.removeprefix("shortfall_"))


def _months_until(var: str, cutoff: str) -> Callable[[Paths], np.ndarray]:
    return lambda p: row_sum(p[var][:, np.array([m <= cutoff for m in p.months])])


def _at_year_end(var: str, year: int) -> Callable[[Paths], np.ndarray]:
    def f(p: Paths) -> np.ndarray:
        idx = np.flatnonzero(_months_in_year(p, year))
        return p[var][:, idx[-1]] if idx.size else np.full(p.n_draws, np.nan)

    return f


def _year_share(p: Paths, year: int) -> np.ndarray:
    """Domestic deployments over all deployments summed over the months of ``year``."""
    m = _months_in_year(p, year)
    dom = row_sum(p["domestic_units"][:, m])
    total = dom + row_sum(p["shipments"][:, m]) + row_sum(p["grey_channel"][:, m])
    return np.divide(dom, total, out=np.full(p.n_draws, np.nan), where=total > 0)


def months_to_share(threshold: float) -> Callable[[Paths], np.ndarray]:
    """Months from the start until the domestic share first reaches ``threshold``.

    Month 1 is the first forecast month; horizon + 1 means never within the horizon.
    """

    def f(p: Paths) -> np.ndarray:
        hit = p["domestic_share"] >= threshold
        return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, p.n_months + 1).astype(float)

    return f


METRICS: tuple[Metric, ...] = (
    Metric(
        "demand_total_units", "units", "H200 demand arising over the horizon", _total("new_demand")
    ),
    Metric(
        "shipments_total_units",
        "units",
        "H200s shipped to China over the horizon",
        _total("shipments"),
    ),
    Metric(
        "shipments_2026_units",
        "units",
        "H200s shipped to China in 2026",
        _in_year("shipments", 2026),
    ),
    Metric(
        "shortfall_total_units",
        "units",
        "demand never shipped (left the book or still waiting at the end)",
        _shortfall("shortfall"),
    ),
    Metric(
        "shortfall_beijing_units",
        "units",
        "part of the shortfall blocked by Beijing",
        _shortfall("shortfall_beijing"),
    ),
    Metric(
        "shortfall_buyers_units",
        "units",
        "part of the shortfall permitted by Beijing but never firmly ordered",
        _shortfall("shortfall_buyers"),
    ),
    Metric(
        "shortfall_us_rule_units",
        "units",
        "part of the shortfall blocked by the US rule",
        _shortfall("shortfall_us_rule"),
    ),
    Metric(
        "shortfall_supply_units",
        "units",
        "part of the shortfall short of supply",
        _shortfall("shortfall_supply"),
    ),
    Metric(
        "shipments_h1_2026_units",
        "units",
        "H200s shipped to China in January-June 2026",
        _months_until("shipments", "2026-06"),
    ),
    Metric(
        "shipments_share_of_fresh",
        "share",
        "shipments over the horizon as a share of the fresh intentions",
        lambda p: np.divide(
            row_sum(p["shipments"]),
            row_sum(p["new_demand"]),
            out=np.zeros(p.n_draws),
            where=row_sum(p["new_demand"]) > 0,
        ),
    ),
    Metric(
        "permitted_total_units",
        "units",
        "intentions Beijing admitted over the horizon",
        _total("permitted"),
    ),
    Metric(
        "firm_orders_total_units",
        "units",
        "firm H200 orders placed over the horizon",
        _total("firm_orders"),
    ),
    Metric(
        "lost_to_domestic_total_units",
        "units",
        "domestic deployments serving foreign-preferring demand (substitution on the market balance)",
        _total("lost_to_domestic"),
    ),
    Metric(
        "refused_at_customs_total_units",
        "units",
        "tested H200s Beijing's customs refused over the horizon (they paid the duty)",
        _total("refused_at_customs"),
    ),
    Metric(
        "grey_channel_total_units",
        "units",
        "accelerators deployed through grey channels",
        _total("grey_channel"),
    ),
    Metric(
        "compute_gap_total_units",
        "units",
        "accelerator demand nothing served over the horizon (domestic capacity short)",
        _total("compute_gap"),
    ),
    Metric(
        "compute_gap_2026_units",
        "units",
        "the same, in 2026",
        _in_year("compute_gap", 2026),
    ),
    Metric(
        "domestic_units_total",
        "units",
        "domestic accelerators deployed over the horizon",
        _total("domestic_units"),
    ),
    Metric(
        "backlog_end_units",
        "units",
        "intentions and firm orders still waiting at the horizon",
        lambda p: p["backlog"][:, -1],
    ),
    Metric(
        "production_total_units",
        "units",
        "H200s made for China over the horizon",
        _total("production"),
    ),
    Metric(
        "written_down_total_units",
        "units",
        "China stock written down over the horizon",
        _total("written_down"),
    ),
    Metric(
        "reallocated_total_units",
        "units",
        "China stock re-allocated to other customers over the horizon",
        _total("reallocated"),
    ),
    Metric(
        "inventory_end_units",
        "units",
        "H200s left in stock at the horizon",
        lambda p: p["inventory"][:, -1],
    ),
    Metric(
        "nvidia_revenue_total_usd",
        "USD",
        "Nvidia's revenue from H200 sales to China",
        _total("revenue_usd"),
    ),
    Metric("nvidia_revenue_2026_usd", "USD", "the same, in 2026", _in_year("revenue_usd", 2026)),
    Metric(
        "us_fee_revenue_total_usd",
        "USD",
        "Section 232 duty collected over the horizon (owed at US entry, refused chips included)",
        _total("us_fee_usd"),
    ),
    Metric(
        "us_fee_revenue_2026_usd",
        "USD",
        "Section 232 duty collected on chips entering the US in 2026",
        _in_year("us_fee_usd", 2026),
    ),
    Metric(
        "us_fee_upper_total_usd",
        "USD",
        "upper bound of the fee: 25% of the China sale value of the chips entering the US",
        _total("us_fee_upper_usd"),
    ),
    Metric(
        "customs_value_total_usd",
        "USD",
        "declared value at US entry of the China-bound H200s",
        _total("customs_value_usd"),
    ),
    Metric(
        "nvidia_net_total_usd", "USD", "Nvidia's revenue after the fee", _total("nvidia_net_usd")
    ),
    Metric(
        "domestic_share_2026_end",
        "share",
        "domestic share of actual deployments (cards shipped), December 2026",
        _at_year_end("domestic_share", 2026),
    ),
    Metric(
        "domestic_share_2026",
        "share",
        "domestic share of accelerators deployed in 2026 (cards shipped in the year, as IDC counts)",
        lambda p: _year_share(p, 2026),
    ),
    Metric(
        "domestic_share_2027_end",
        "share",
        "domestic share of actual deployments (cards shipped), December 2027",
        _at_year_end("domestic_share", 2027),
    ),
    Metric(
        "domestic_share_end",
        "share",
        "domestic share of actual deployments (cards shipped) at the horizon",
        lambda p: p["domestic_share"][:, -1],
    ),
    Metric(
        "months_to_domestic_share_50",
        "months",
        "months until the domestic share reaches 50% (horizon+1: never)",
        months_to_share(0.5),
    ),
    Metric(
        "months_to_domestic_share_80",
        "months",
        "months until the domestic share reaches 80% (horizon+1: never)",
        months_to_share(0.8),
    ),
)
"""Every headline metric, in the order tables show them."""

BY_NAME = {m.name: m for m in METRICS}
STATS = ("p5", "p50", "p95", "mean")


def values(p: Paths, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Every metric (or those in ``names``, in their order) for every draw."""
    if names is None:
        return {m.name: m.compute(p) for m in METRICS}
    return {n: BY_NAME[n].compute(p) for n in names}


def summarize(vals: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """P5, P50, P95 and mean of each metric over draws."""
    out = {}
    for name, x in vals.items():
        q = np.percentile(x, [5, 50, 95])
        out[name] = {
            "p5": float(q[0]),
            "p50": float(q[1]),
            "p95": float(q[2]),
            "mean": float(np.mean(x)),
        }
    return out
