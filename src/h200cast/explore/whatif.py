"""A what-if grid over the main levers, precomputed for a page that needs no kernel.

Every combination of the levers (:data:`LEVERS`: approvals turned into orders, the US
review's chance of stalling, Nvidia's production stop, the fee rate, the selling price)
is run for each scenario of a report with the vectorised engine, on common draws (the
same sampled uncertainties at every grid point, so that differences between points are
the levers' and not sampling noise). At a vintage with observed months, each point keeps
only the draws that reproduce them, as a run does; its effective sample size is kept
beside its numbers. The browser then only filters the table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from h200cast.engine.metrics import values as metric_values
from h200cast.engine.model import sample, simulate_values
from h200cast.scenario import calendar
from h200cast.scenario.schema import Scenario
from h200cast.scenario.vintage import Vintage


@dataclass(frozen=True)
class Lever:
    """One lever of the grid: a parameter (or ``supply.production_stop_month``) and its values."""

    key: str
    label: str
    unit: str
    values: tuple[float, ...]
    default: float

    def text(self, x: float) -> str:
        """A value as the page shows it."""
        if self.key == "supply.production_stop_month":
            return "never" if x < 0 else calendar.add_months("2026-01", int(x))
        if self.unit == "USD":
            return f"${x:,.0f}"
        return f"{x:g}"


NEVER = -1.0
"""The production-stop lever's value for "no stop"."""

LEVERS: tuple[Lever, ...] = (
    Lever(
        "buyers.conversion_per_month",
        "orders per month from waiting buyers",
        "share",
        (0.2, 0.5, 0.9),
        0.5,
    ),
    Lever(
        "us.review_stall_prob", "chance the US review stalls", "probability", (0.2, 0.4, 0.6), 0.4
    ),
    Lever(
        "supply.production_stop_month",
        "Nvidia stops making H200s for China",
        "month",
        (NEVER, 6.0, 12.0),
        NEVER,
    ),
    Lever("us.fee_rate", "US fee rate", "share", (0.10, 0.15, 0.25, 0.35), 0.25),
    Lever("money.price_usd", "selling price", "USD", (20000.0, 27000.0, 35000.0), 27000.0),
)
"""The levers and the values the page offers; the defaults are the parameters' central values."""

OUTPUTS: tuple[tuple[str, str, str], ...] = (
    ("shipments_total_units", "H200s shipped to China", "units"),
    ("shortfall_total_units", "demand not shipped", "units"),
    ("us_fee_revenue_total_usd", "US fee collected", "USD"),
    ("domestic_share_2026_end", "domestic share of deployments, end of 2026", "share"),
)
"""What the page draws: metric, label, unit (totals over the horizon unless named)."""

FIELDS = {
    "buyers.conversion_per_month": "conv",
    "us.review_stall_prob": "stall",
    "supply.production_stop_month": "stop",
    "us.fee_rate": "fee",
    "money.price_usd": "price",
}
"""Short column names for the page (a dotted field name is a nested path in Vega-Lite)."""


def levers_for(scenario: Scenario) -> tuple[Lever, ...]:
    """The levers at a scenario's vintage: a production stop already observed is not a lever."""
    stop = scenario.supply.production_stop_month
    if stop is None:
        return LEVERS
    fixed = Lever(
        "supply.production_stop_month",
        "Nvidia stops making H200s for China (observed)",
        "month",
        (float(stop),),
        float(stop),
    )
    return tuple(fixed if lv.key == fixed.key else lv for lv in LEVERS)


def grid(
    runs: Sequence[tuple[str, Scenario]],
    *,
    draws: int = 200,
    seed: int = 20260131,
    vintage: Vintage | None = None,
) -> list[dict[str, Any]]:
    """One row per run and combination of the levers: the lever values and each output's
    mean, P5 and P95 over the kept draws, with ``kept`` (the effective sample size).

    Parameters
    ----------
    runs
        ``(label, scenario)`` for each run (a stance or path; a switching chain is not a
        grid point: its stance varies by draw).
    draws
        Draws per grid point, shared by every point of a run.
    vintage
        Condition each point on the months the vintage observed (none when None).
    """
    from h200cast.results.conditioning import constraints

    rows: list[dict[str, Any]] = []
    for label, sc in runs:
        levers = levers_for(sc)
        months = calendar.month_labels(sc.calendar.start, sc.calendar.horizon_months)
        stops = next(lv for lv in levers if lv.key == "supply.production_stop_month").values
        others = [lv for lv in levers if lv.key != "supply.production_stop_month"]
        combos = list(itertools.product(*(lv.values for lv in others)))
        for stop in stops:
            s = sc.model_copy(
                update={
                    "supply": sc.supply.model_copy(
                        update={"production_stop_month": None if stop < 0 else int(stop)}
                    )
                }
            )
            base = sample(s, draws, seed).values
            vals = {k: np.tile(v, len(combos)) for k, v in base.items()}
            for j, lv in enumerate(others):
                vals[lv.key] = np.repeat([c[j] for c in combos], draws).astype(float)
            paths = simulate_values(s, vals, seed)
            keep = np.ones(paths.n_draws, dtype=bool)
            if vintage is not None:
                for c in constraints(vintage, s, months):
                    keep &= c.holds(paths)
            out = metric_values(paths, [name for name, _, _ in OUTPUTS])
            mask = keep.reshape(len(combos), draws)
            for i, combo in enumerate(combos):
                row: dict[str, Any] = {"run": label, FIELDS["supply.production_stop_month"]: stop}
                row.update({FIELDS[lv.key]: combo[j] for j, lv in enumerate(others)})
                row["kept"] = int(mask[i].sum())
                for name, _, _ in OUTPUTS:
                    x = out[name].reshape(len(combos), draws)[i][mask[i]]
                    row.update(_stats(name, x))
                rows.append(row)
    return rows


def _stats(name: str, x: np.ndarray) -> dict[str, float | None]:
    """Mean, P5 and P95 of the kept draws, to 4 significant figures (the page's precision)."""
    if x.size == 0:
        return {f"{name}_mean": None, f"{name}_p5": None, f"{name}_p95": None}
    p5, p95 = np.percentile(x, [5, 95])
    return {
        f"{name}_{k}": float(f"{v:.4g}") for k, v in (("mean", x.mean()), ("p5", p5), ("p95", p95))
    }
