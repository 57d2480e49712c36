"""Scenarios people can quote: bear / base / bull with probabilities, and signposts.

The switching chain (``params/switching/from_2026_01_31.yaml``) gives each draw a path of
Beijing's stances. A draw's scenario is the family of the stance it is in at the end of
2026: **bear** when Beijing shuts the door (``customs_ban``, ``rd_exemption``,
``necessity_only``), **base** when it lets named firms buy on conditions
(``selective_approval``, ``domestic_quota``), **bull** when it lifts its limits
(``open_market``). The probability of a scenario is its share of the draws; its numbers
are the P5 / P50 / P95 of the draws in it.

A signpost is an event an analyst can watch for, defined on each draw's path (first
customs clearance, final licence terms, China back in Nvidia's guidance, TSMC wafer starts
for the H200). For each, the table gives its probability by its date and the median of a
headline metric among the draws where it is seen and where it is not: which way seeing it
would move the forecast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from h200cast.engine.metrics import values as metric_values
from h200cast.engine.model import Paths

FAMILIES: dict[str, tuple[str, ...]] = {
    "bear": ("customs_ban", "rd_exemption", "necessity_only"),
    "base": ("selective_approval", "domestic_quota"),
    "bull": ("open_market",),
}
"""Each scenario and the stances (at the end of 2026) that make it."""

AT_MONTH = "2026-12"
"""The month whose stance decides a draw's scenario."""

OUTPUTS: tuple[str, ...] = (
    "shipments_2026_units",
    "us_fee_revenue_2026_usd",
    "domestic_share_2026",
    "compute_gap_2026_units",
)
"""Metrics shown for each scenario."""


def _by(p: Paths, var: str, month: str) -> np.ndarray:
    """``var`` summed over the months up to and including ``month``, per draw."""
    idx = np.array([m <= month for m in p.months])
    return p[var][:, idx].sum(axis=1)


def _at(p: Paths, var: str, month: str) -> np.ndarray:
    return p[var][:, p.months.index(month)] if month in p.months else np.zeros(p.n_draws)


@dataclass(frozen=True)
class Signpost:
    """An event to watch for, its date, and how to read it off a draw's path."""

    name: str
    label: str
    by: str
    seen: Callable[[Paths, str], np.ndarray]


SIGNPOSTS: tuple[Signpost, ...] = (
    Signpost(
        "first_customs_clearance",
        "first H200s clear Beijing's customs",
        "2026-06",
        lambda p, m: _by(p, "shipments", m) > 0,
    ),
    Signpost(
        "final_licence_terms",
        "licence and purchase terms final for buyers",
        "2026-04",
        lambda p, m: _at(p, "terms_final", m) > 0,
    ),
    Signpost(
        "china_in_nvidia_guidance",
        "firm China orders Nvidia can put back in its guidance",
        "2026-04",
        lambda p, m: _by(p, "firm_orders", m) > 0,
    ),
    Signpost(
        "tsmc_wafer_starts",
        "TSMC output of H200s for China",
        "2026-09",
        lambda p, m: _by(p, "production", m) > 0,
    ),
)
"""The signposts of the issue, each dated."""


def families(p: Paths) -> np.ndarray:
    """Each draw's scenario name (bear / base / bull), from its stance at ``AT_MONTH``."""
    month = AT_MONTH if AT_MONTH in p.months else p.months[-1]
    stance = p.stance_of_draw()[:, p.months.index(month)]
    out = np.full(p.n_draws, "base", dtype=object)
    for name, members in FAMILIES.items():
        out[np.isin(stance, members)] = name
    return out


def _q(x: np.ndarray) -> dict[str, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"p5": float("nan"), "p50": float("nan"), "p95": float("nan")}
    q = np.percentile(x, [5, 50, 95])
    return {"p5": float(q[0]), "p50": float(q[1]), "p95": float(q[2])}


def scenario_table(p: Paths) -> list[dict]:
    """One row per scenario: probability and P5/P50/P95 of each output among its draws."""
    vals = metric_values(p)
    fam = families(p)
    rows = []
    for name, members in FAMILIES.items():
        mask = fam == name
        row = {"scenario": name, "stances": list(members), "probability": float(mask.mean())}
        for out in OUTPUTS:
            row[out] = _q(vals[out][mask])
        rows.append(row)
    return rows


def signpost_table(p: Paths, metric: str = "shipments_total_units") -> list[dict]:
    """One row per signpost: its probability by its date and the metric's median if seen / not."""
    vals = metric_values(p)[metric]
    fam = families(p)
    overall = float(np.median(vals))
    rows = []
    for s in SIGNPOSTS:
        seen = s.seen(p, s.by)
        # None where no draw (or every draw) sees the signpost: there is nothing to compare
        if_seen = float(np.median(vals[seen])) if seen.any() else None
        if_not = float(np.median(vals[~seen])) if (~seen).any() else None
        bull_seen = float((fam[seen] == "bull").mean()) if seen.any() else None
        if if_seen is None or if_not is None or if_seen == if_not:
            direction = "no change"
        else:
            direction = "up" if if_seen > if_not else "down"
        rows.append(
            {
                "signpost": s.name,
                "label": s.label,
                "by": s.by,
                "probability": float(seen.mean()),
                "metric": metric,
                "p50_overall": overall,
                "p50_if_seen": if_seen,
                "p50_if_not_seen": if_not,
                "bull_share_if_seen": bull_seen,
                "moves_forecast": direction,
            }
        )
    return rows
