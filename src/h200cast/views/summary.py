"""The four headline quantities in words, across runs: the report's summary.

Each sentence names what is measured, the months it covers, and the runs with the lowest
and the highest median, each with its 5-95% band (the words of
:func:`h200cast.views.notebook.describe`). Everything comes from the results; nothing is
written down beforehand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from h200cast.results.result import Result
from h200cast.views.notebook import amount, band, describe


@dataclass(frozen=True)
class Quantity:
    """A headline quantity: its metric, what to call it, and whether it is a total or an end value."""

    metric: str
    what: str
    total: bool  # summed over the horizon (else: its value in the last month)


QUANTITIES = (
    Quantity("demand_total_units", "China's demand for H200s", True),
    Quantity("shortfall_total_units", "The shortfall (demand that never ships)", True),
    Quantity(
        "us_fee_revenue_total_usd",
        "The US duty collected (Section 232, 25% of the customs value at US entry)",
        True,
    ),
    Quantity(
        "domestic_share_end",
        "The domestic share of China's AI accelerator deployments",
        False,
    ),
)
"""Demand, the shortfall, the US fee collected and the domestic share, in that order."""


@dataclass(frozen=True)
class Sentence:
    """One quantity's sentence, with the metric it reports (for an anchor or a tooltip)."""

    metric: str
    text: str


def month_name(month: str) -> str:
    """``"2026-01"`` as ``"January 2026"``."""
    return dt.date.fromisoformat(f"{month}-01").strftime("%B %Y")


def covers(result: Result, total: bool) -> str:
    """The months a quantity covers: the whole horizon for a total, else its last month."""
    months = result.paths.months
    if total:
        return f"from {month_name(months[0])} to {month_name(months[-1])}"
    return f"at the end of {month_name(months[-1])}"


def sentence(results: Sequence[Result], q: Quantity) -> Sentence:
    """``q`` across ``results``: the run with the lowest median and the one with the highest."""
    order = sorted(results, key=lambda r: (r.stats[q.metric]["p50"], r.stats[q.metric]["mean"]))
    # with equal medians, by the mean: the lowest and the highest mean are then low and high
    low, high = order[0], order[-1]
    head = f"{q.what}, {covers(low, q.total)}"
    if len(order) == 1:
        return Sentence(q.metric, f"{head}: {describe(low, q.metric)} under {low.label}.")
    if amount(low, q.metric) != amount(high, q.metric):
        text = (
            f"{head}: {describe(low, q.metric)} under {low.label}, the lowest median, to "
            f"{describe(high, q.metric)} under {high.label}, the highest"
        )
    else:  # e.g. nothing collected at the median anywhere: the means tell the runs apart
        text = (
            f"{head}: a median of {amount(low, q.metric)} under every run, with P5-P95 from "
            f"{band(low, q.metric)} under {low.label} to {band(high, q.metric)} under "
            f"{high.label}; the means over the draws run from "
            f"{amount(low, q.metric, 'mean', True)} to {amount(high, q.metric, 'mean', True)}"
        )
    return Sentence(q.metric, text + ".")


def headline(results: Sequence[Result]) -> list[Sentence]:
    """The four headline quantities across ``results``, one sentence each."""
    if not results:
        return []
    return [sentence(results, q) for q in QUANTITIES]
