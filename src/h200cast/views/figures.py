"""The suite's figures: each function builds one chart and the table behind it.

Notebooks, stance pages and the report call these, so that a figure is defined once.
Every function returns ``(chart, table)``: the Altair chart (titled, units on the axes,
sources in the caption) and the tidy table it draws, for saving as CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from h200cast.results.result import Result
from h200cast.views import charts, frames

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

    from h200cast.explore.discovery import Box
    from h200cast.explore.sensitivity import SobolIndices
    from h200cast.results.scorecard import VintageScores

Figure = tuple["alt.TopLevelMixin", "pd.DataFrame"]

SHORTFALL_LABELS = {
    "shortfall_beijing": "blocked by Beijing",
    "shortfall_buyers": "not ordered by buyers",
    "shortfall_us_rule": "held by the US rule",
    "shortfall_supply": "short of supply",
}
DEMAND_LABELS = {
    "demand_book": "order book released",
    "demand_new_orders": "new orders",
    "demand_taken_by_domestic": "taken by domestic chips",
}
MODEL_CAPTION = "Source: h200cast model; inputs in params/ with evidence in data/evidence/."


def demand_fan(result: Result) -> Figure:
    """Monthly H200 demand across the draws."""
    table = frames.bands(result, "new_demand")
    caption = frames.sources(result, ["demand.", "domestic."])
    return charts.fan(table, "H200 demand per month", "thousand units per month", caption), table


def demand_parts(result: Result) -> Figure:
    """What makes up demand: the order book, new orders, and what domestic chips take over (medians)."""
    table = frames.medians(result, list(DEMAND_LABELS))
    table["variable"] = table["variable"].map(DEMAND_LABELS)
    caption = [
        frames.sources(result, ["demand.", "domestic."]),
        "The top layer is demand that domestic chips take over; it is not H200 demand.",
    ]
    chart = charts.stacked(
        table,
        "What makes up demand (medians)",
        "thousand units per month",
        caption=caption,
        order=list(DEMAND_LABELS.values()),
    )
    return chart, table


def demand_and_shipments(result: Result) -> Figure:
    """Demand (with the backlog) against shipments, per month."""
    table = frames.concat(
        [
            frames.bands(result, "demand").assign(run="demand (incl. backlog)"),
            frames.bands(result, "shipments").assign(run="shipments"),
        ]
    )
    caption = frames.sources(result, ["us.", "supply.", "stances."])
    return charts.fan(
        table, "Demand and shipments per month", "thousand units per month", caption
    ), table


def shortfall_split(result: Result) -> Figure:
    """Why demand does not ship: Beijing, the buyers, the US rule, supply (medians per month)."""
    table = frames.medians(result, list(SHORTFALL_LABELS))
    table["variable"] = table["variable"].map(SHORTFALL_LABELS)
    caption = [
        frames.sources(result, ["us.", "supply.", "stances."]),
        "A month's shortfall includes orders still waiting from earlier months.",
    ]
    return charts.stacked(
        table,
        "Why demand does not ship (medians)",
        "thousand units per month",
        caption=caption,
        order=list(SHORTFALL_LABELS.values()),
    ), table


def inventory(result: Result) -> Figure:
    """Nvidia's H200 stock for China at the end of each month."""
    table = frames.bands(result, "inventory")
    caption = frames.sources(result, ["supply."])
    return charts.fan(
        table, "Nvidia's H200 inventory for China, end of month", "thousand units", caption
    ), table


def revenue_monthly(result: Result) -> Figure:
    """Nvidia's revenue and the US fee per month."""
    table = frames.concat(
        [
            frames.bands(result, "revenue_usd").assign(run="Nvidia revenue"),
            frames.bands(result, "us_fee_usd").assign(run="US fee"),
        ]
    )
    caption = frames.sources(result, ["us.fee_rate", "money.", "us."])
    return charts.fan(table, "Revenue and US fee per month", "$ billion per month", caption), table


def fee_cumulative(results: Result | Sequence[Result]) -> Figure:
    """US fee revenue accumulated from the first month (bands for one run, medians for several)."""
    table = frames.bands(results, "us_fee_usd", cumulative=True)
    one = isinstance(results, Result)
    first = results if isinstance(results, Result) else results[0]
    caption = frames.sources(first, ["us.fee_rate", "money.", "us."])
    return charts.fan(table, "US fee revenue, cumulative", "$ billion", caption, bands=one), table


def fee_what_if(what_if: pd.DataFrame, caption: str) -> Figure:
    """Median US fee over the horizon by selling price, one line per fee rate (from sensitivity.grid)."""
    table = what_if.assign(
        **{
            "fee rate": (100 * what_if["us.fee_rate"]).round().astype(int).astype(str) + "%",
            "median fee ($ billion)": what_if["p50"] / 1e9,
        }
    )
    chart = charts.lines(
        table,
        "money.price_usd",
        "median fee ($ billion)",
        "fee rate",
        "US fee revenue over the horizon by price and fee rate",
        "average selling price (USD per H200)",
        "$ billion (median)",
        caption,
    )
    return chart, table


def share_by_stance(results: Sequence[Result]) -> Figure:
    """Median domestic share per stance."""
    table = frames.bands(results, "domestic_share")
    caption = [
        frames.sources(results[0], ["domestic.", "stances."]),
        "Lines: medians of the draws per stance.",
    ]
    return charts.fan(
        table,
        "Domestic share of new AI accelerator deployments, by stance",
        "%",
        caption,
        bands=False,
    ), table


def share_capacity(result: Result) -> Figure:
    """The share buyers would choose (S-curve) against what domestic capacity lets them deploy."""
    table = frames.concat(
        [
            frames.bands(result, "domestic_share_desired").assign(run="share on the S-curve"),
            frames.bands(result, "domestic_share").assign(run="realised, within capacity"),
        ]
    )
    caption = frames.sources(result, ["domestic.", "stances."])
    return charts.fan(
        table, f"Desired and realised domestic share ({result.label})", "%", caption
    ), table


def share_history(stored: dict | None = None, known_by: str | None = None) -> Figure:
    """Domestic-share counts by basis, analysts' forecasts, and the fitted S-curve with its interval.

    ``known_by`` keeps the counts published by that date (a vintage's).
    """
    counts, fit = frames.share_history(known_by), frames.share_fit(stored)
    caption = [
        "Source: IDC, Bernstein, TrendForce, Morgan Stanley and others via data/history/domestic_share.csv.",
        "Line and band: the fit for Nvidia's complement with its 90% prediction interval.",
    ]
    return charts.share_history(counts, fit, caption), frames.concat(
        [counts.assign(series="counts"), fit.assign(series="fit")]
    )


COMPARED = (
    ("new_demand", "H200 demand per month", "thousand units per month", False),
    ("shipments", "Shipments to China, cumulative", "thousand units", True),
    ("us_fee_usd", "US fee revenue, cumulative", "$ billion", True),
    ("domestic_share", "Domestic share of new deployments", "%", False),
)


def stance_comparison(results: Sequence[Result]) -> Figure:
    """The four quantities side by side, one median line per stance or path."""
    caption = f"{MODEL_CAPTION} Lines: medians of the draws."
    tables = [frames.bands(results, v, cumulative=c, quantiles=(50,)) for v, _, _, c in COMPARED]
    panels = [
        charts.fan(t, title, unit, caption, bands=False)
        for t, (_, title, unit, _) in zip(tables, COMPARED, strict=True)
    ]
    return charts.grid(panels, columns=2), frames.concat(tables)


def tornado(oat: pd.DataFrame, metric: str, n: int = 10) -> Figure:
    """The inputs that swing ``metric`` most (from sensitivity.one_at_a_time)."""
    from h200cast.explore.sensitivity import top_inputs

    div, unit = frames.unit_of(metric)
    unit = "percentage points" if unit == "%" else unit
    title = {
        "us_fee_revenue_total_usd": "US fee revenue over the horizon",
        "shipments_total_units": "Shipments to China over the horizon",
        "shortfall_total_units": "Shortfall over the horizon (demand that never ships)",
        "domestic_share_end": "Domestic share at the horizon",
    }.get(metric, metric)
    table = frames.labelled(top_inputs(oat, metric, n).assign(change=lambda d: d["change"] / div))
    caption = "Source: h200cast model, --point runs with one input at a time at its 5th or 95th percentile."
    return charts.tornado(table, title, f"change from the central run ({unit})", caption), table


def shortfall_by_run(results: Sequence[Result]) -> Figure:
    """Shipments and the four parts of the shortfall per stance or path (medians over the horizon)."""
    import pandas as pd

    parts = {
        "shipments_total_units": "shipped",
        "shortfall_beijing_units": "blocked by Beijing",
        "shortfall_buyers_units": "not ordered by buyers",
        "shortfall_us_rule_units": "held by the US rule",
        "shortfall_supply_units": "short of supply",
    }
    table = pd.DataFrame(
        [
            {"run": r.label, "part": label, "value": r.stats[m]["p50"] / 1e6}
            for r in results
            for m, label in parts.items()
        ]
    )
    chart = charts.bars(
        table,
        "run",
        "value",
        "part",
        "Where demand goes, by stance (medians over the horizon)",
        "million units",
        [MODEL_CAPTION, "Medians of each part; they need not add to the median total."],
        order=list(parts.values()),
    )
    return chart, table


OVER = "each input's 5-95% range, others central"
"""What the Sobol runs of notebook 06 vary: the inputs over their ranges, the rest central."""


def sobol_indices(indices: SobolIndices, output: str, over: str = OVER) -> Figure:
    """Sobol first-order and total indices of one output, inputs sorted by total index.

    ``over`` says in the caption what the runs varied (a sweep: its input ranges).
    """
    import pandas as pd

    df = indices.frame()
    df = df[df["output"] == output]
    (f_lo, f_hi), (t_lo, t_hi) = indices.interval_columns()
    table = pd.concat(
        [
            df.assign(index="first order", value=df["first"], low=df[f_lo], high=df[f_hi]),
            df.assign(index="total", value=df["total"], low=df[t_lo], high=df[t_hi]),
        ]
    )[["input", "index", "value", "low", "high"]]
    table["input"] = pd.Categorical(table["input"], categories=list(df["input"]), ordered=True)
    table = frames.labelled(
        table.sort_values(["input", "index"]).assign(input=lambda d: d["input"].astype(str))
    )
    title = {
        "us_fee_revenue_total_usd": "What drives US fee revenue: Sobol indices",
        "shipments_total_units": "What drives shipments: Sobol indices",
    }.get(output, f"What drives the {OUTPUT_LABELS.get(output, output)}: Sobol indices")
    caption = [
        f"Source: h200cast model, {indices.evaluations:,} runs over {over}.",
        f"Bars: first-order and total indices; whiskers: {int(100 * indices.confidence)}% "
        "bootstrap intervals. Total minus first order is the share due to interactions.",
    ]
    return charts.indices(table, title, caption), table


OUTPUT_LABELS = {
    "us_fee_revenue_total_usd": "US fee revenue",
    "us_fee_revenue_2026_usd": "US fee, 2026",
    "shipments_total_units": "shipments",
    "shortfall_total_units": "shortfall",
    "domestic_share_end": "domestic share (horizon)",
    "domestic_share_2027_end": "domestic share (end-2027)",
    "domestic_share_2026": "domestic share (2026)",
    "compute_gap_2026_units": "compute gap, 2026",
}
"""Short column labels for charts that compare several outputs."""


def sobol_overview(indices: SobolIndices, over: str = OVER) -> Figure:
    """Total Sobol indices of every output at once: which inputs matter for which output."""
    import pandas as pd

    df = indices.frame()
    _, (t_lo, t_hi) = indices.interval_columns()
    rows = df.groupby("input")["total"].max().sort_values(ascending=False, kind="stable").index
    df["input"] = pd.Categorical(df["input"], categories=list(rows), ordered=True)
    df["output"] = pd.Categorical(df["output"], categories=indices.outputs, ordered=True)
    table = frames.labelled(
        df.sort_values(["input", "output"])
        .rename(columns={"total": "value", t_lo: "low", t_hi: "high"})
        .assign(
            input=lambda d: d["input"].astype(str),
            output=lambda d: d["output"].astype(str).map(lambda o: OUTPUT_LABELS.get(o, o)),
        )[["input", "output", "value", "low", "high"]]
        .reset_index(drop=True)
    )
    caption = [
        f"Source: h200cast model, {indices.evaluations:,} runs over {over}.",
        "Each cell: the input's total Sobol index for that output (its share of the output's "
        f"variance, interactions included; darker is larger); {int(100 * indices.confidence)}% "
        "bootstrap intervals in the tooltip and the table.",
    ]
    return charts.heatmap(
        table, "Which inputs drive which output: total Sobol indices", caption
    ), table


def outcome_words(output: str, below: float | None, above: float | None) -> str:
    """A discovery's outcome of interest in words, e.g. ``US fee, 2026 below $0.3 billion``."""
    from h200cast.engine.metrics import BY_NAME
    from h200cast.views.units import display

    d = display(BY_NAME[output].unit, "prose")
    limit = below if below is not None else above
    assert limit is not None  # a Discovery has exactly one of them
    amount = d.text(limit) if d.suffix else f"{d.text(limit)} {d.label}"
    return (
        f"{OUTPUT_LABELS.get(output, output)} {'below' if below is not None else 'above'} {amount}"
    )


def prim_box(box: Box, ranges: dict[str, tuple[float, float]], outcome: str) -> Figure:
    """The inputs a PRIM box restricts, each as the part of its sweep range the box keeps."""
    import pandas as pd

    rows = []
    for key, (lo, hi) in box.limits.items():
        low, high = ranges[key]
        kept = (max(lo, low), min(hi, high))
        rows.append(
            {
                "input": key,
                "range_low": low,
                "range_high": high,
                "box_low": kept[0],
                "box_high": kept[1],
                "start": (kept[0] - low) / ((high - low) or 1.0),
                "end": (kept[1] - low) / ((high - low) or 1.0) if high > low else 1.0,
                "kept": f"{_value(kept[0])} to {_value(kept[1])} of {_value(low)} to {_value(high)}",
            }
        )
    table = frames.labelled(pd.DataFrame(rows))
    caption = [
        f"Source: h200cast sweep; PRIM (patient rule induction) on the points with {outcome}.",
        f"Blue: the part of each input's range inside the box; {box.coverage:.0%} of those points "
        f"lie in it (coverage), {box.density:.0%} of the points in it have the outcome (density), "
        f"and it holds {box.mass:.0%} of all points (mass).",
    ]
    return charts.ranges(table, f"Where {outcome}: the PRIM box", caption), table


def _value(x: float) -> str:
    """A parameter's value for a reader: ``8,083``, ``0.8715``, ``0.001105``."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def prim_trajectory(trajectory: Sequence[Box], chosen: Box, outcome: str) -> Figure:
    """PRIM's peeling steps: coverage against density, the box it reports marked."""
    import pandas as pd

    table = pd.DataFrame(
        [
            {
                "step": i,
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "inputs restricted": len(b.limits),
                "box": "reported box" if b == chosen else "peeling step",
            }
            for i, b in enumerate(trajectory)
        ]
    )
    caption = [
        f"Source: h200cast sweep; each point is a box on PRIM's way from every point to the "
        f"densest, for {outcome}.",
        "Peeling trades coverage for density; the reported box is the densest one that still "
        "covers the spec's minimum coverage.",
    ]
    return charts.tradeoff(table, "PRIM: coverage against density", caption), table


SCORE_CAPTION = (
    "Source: h200cast score; observations in data/observations/ with evidence in data/evidence/."
)


def pit_histogram(cards: Sequence[VintageScores], bins: int = 10) -> Figure:
    """The randomized PIT of the model's forecasts, pooled over the vintages scored."""
    import numpy as np
    import pandas as pd

    counts = sum((c.pit_histogram(bins) for c in cards), np.zeros(bins, dtype=int))
    edges = np.linspace(0.0, 1.0, bins + 1)
    table = pd.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "count": counts})
    n = int(counts.sum())
    caption = [
        f"{n} observed quantities; a calibrated forecast gives about {n / bins:.1f} per bin "
        "(dashed); a pile at one end means the outcomes fell in the forecast's tail.",
        "Randomized PIT: where many draws equal the observation (zero shipments), it is drawn "
        "uniformly over their share.",
        SCORE_CAPTION,
    ]
    chart = charts.histogram(
        table, "Where the outcomes fell in the forecasts (PIT)", caption, n / bins
    )
    return chart, table


def crps_against_baselines(cards: Sequence[VintageScores]) -> Figure:
    """CRPS of the model and each baseline for every scored quantity and period (lower is better)."""
    import pandas as pd

    rows = [
        {
            "item": f"{r.period}, vintage {c.vintage.name}",
            "forecast": r.forecast,
            "value": r.crps,
        }
        for c in cards
        for r in c.rows
        if r.scored and r.quantity == "shipments"
    ]
    table = pd.DataFrame(rows, columns=["item", "forecast", "value"])
    caption = [
        "CRPS in H200 units per month (the mean absolute error of the forecast's draws, less "
        "half their spread); a point forecast that was right scores 0 and shows no bar: here "
        "Nvidia's guidance and no-change both said zero, and zero shipped.",
        SCORE_CAPTION,
    ]
    chart = charts.grouped_bars(
        table, "Shipments: CRPS of the model and the baselines", "units", caption
    )
    return chart, table
