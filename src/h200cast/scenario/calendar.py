"""The calendar: month labels and offsets, and a stance path as monthly weights.

A path says which stance holds from which day. The model steps in months, so each
month gets the share of its days spent under each stance: January 2026 under the
reported path is partly ``necessity_only``, partly ``customs_ban`` and partly
``selective_approval``. A month's permitted volume is the day-weighted mix of what
each stance permits.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from h200cast.scenario.schema import STANCES, StanceName, StancePath


def add_months(month: str, n: int) -> str:
    """``YYYY-MM`` plus ``n`` months."""
    y, m = map(int, month.split("-"))
    k = y * 12 + (m - 1) + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def months_between(a: str, b: str) -> int:
    """Whole months from month ``a`` to month ``b`` (negative when b is earlier)."""
    ya, ma = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    return (yb - ya) * 12 + (mb - ma)


def month_labels(start: str, horizon: int) -> list[str]:
    """The ``YYYY-MM`` labels of the forecast months."""
    return [add_months(start, i) for i in range(horizon)]


def ordered(names: set[str] | list[str]) -> tuple[StanceName, ...]:
    """Stance names in the canonical order, strictest first."""
    return tuple(s for s in STANCES if s in set(names))


def weights(path: StancePath, start: str, horizon: int, names: tuple[str, ...]) -> np.ndarray:
    """Share of each month's days under each stance, shape (months, len(names)).

    Rows sum to 1. Days before the first step count under the first step's stance
    (validation already requires the first step to start on or before the calendar).
    """
    w = np.zeros((horizon, len(names)))
    col = {n: i for i, n in enumerate(names)}
    steps = list(path.steps)
    for t, label in enumerate(month_labels(start, horizon)):
        first = dt.date.fromisoformat(label + "-01")
        nxt = dt.date.fromisoformat(add_months(label, 1) + "-01")
        days = (nxt - first).days
        for i, step in enumerate(steps):
            lo = max(step.start, first) if i else first
            hi = min(steps[i + 1].start, nxt) if i + 1 < len(steps) else nxt
            if hi > lo:
                w[t, col[step.stance]] += (hi - lo).days / days
    return w
