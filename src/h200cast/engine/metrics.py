"""Headline metrics: one number per draw, summarised as P5 / P50 / P95 / mean.

Totals over the horizon count each unit of demand once. A month's shortfall includes
the backlog carried into it, so summing monthly shortfalls would count a unit that
waits three months three times. Instead, the total shortfall is the demand that left
the book in each month (the part not carried over) plus what is still on order at the
end; its split follows each month's split, so the three parts always add up to the total.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _months_in_year(p: Paths, year: int) -> np.ndarray:
    return np.array([m.startswith(f"{year}-") for m in p.months])


def _total(var: str) -> Callable[[Paths], np.ndarray]:
    return lambda p: p[var].sum(axis=1)


def _in_year(var: str, year: int) -> Callable[[Paths], np.ndarray]:
    return lambda p: p[var][:, _months_in_year(p, year)].sum(axis=1)


def shortfall_weights(p: Paths) -> np.ndarray:
    """Weight of each month's shortfall in the horizon total, shape (draws, months).

    ``1 - persistence`` for every month but the last (the part that left the book),
    and 1 for the last month (all of it is unmet at the horizon).
    """
    w = np.broadcast_to(
        1.0 - p.draws.col("demand.backlog_persistence"), (p.n_draws, p.n_months)
    ).copy()
    w[:, -1] = 1.0
    return w


def _shortfall(var: str) -> Callable[[Paths], np.ndarray]:
    return lambda p: (p[var] * shortfall_weights(p)).sum(axis=1)


def _at_year_end(var: str, year: int) -> Callable[[Paths], np.ndarray]:
    def f(p: Paths) -> np.ndarray:
        idx = np.flatnonzero(_months_in_year(p, year))
        return p[var][:, idx[-1]] if idx.size else np.full(p.n_draws, np.nan)

    return f


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
        "lost_to_domestic_total_units",
        "units",
        "unmet H200 demand that went to domestic chips",
        _total("lost_to_domestic"),
    ),
    Metric(
        "grey_channel_total_units",
        "units",
        "unmet H200 demand that went to grey channels",
        _total("grey_channel"),
    ),
    Metric(
        "backlog_end_units",
        "units",
        "demand still on order at the horizon",
        lambda p: p["backlog"][:, -1],
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
        "us_fee_revenue_total_usd", "USD", "US fee revenue over the horizon", _total("us_fee_usd")
    ),
    Metric(
        "us_fee_revenue_2026_usd", "USD", "US fee revenue in 2026", _in_year("us_fee_usd", 2026)
    ),
    Metric(
        "nvidia_net_total_usd", "USD", "Nvidia's revenue after the fee", _total("nvidia_net_usd")
    ),
    Metric(
        "domestic_share_2026_end",
        "share",
        "domestic share of new deployments, December 2026",
        _at_year_end("domestic_share", 2026),
    ),
    Metric(
        "domestic_share_2027_end",
        "share",
        "domestic share of new deployments, December 2027",
        _at_year_end("domestic_share", 2027),
    ),
    Metric(
        "domestic_share_end",
        "share",
        "domestic share of new deployments at the horizon",
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


def values(p: Paths) -> dict[str, np.ndarray]:
    """Every metric for every draw."""
    return {m.name: m.compute(p) for m in METRICS}


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
