"""Backtests: refit each estimate on history up to a cutoff and score it on what came after.

For each cutoff the estimate is refitted on the rows describing periods up to the cutoff,
and each later observation is scored: does it fall inside the fit's 50%, 80% and 90%
prediction intervals, and how far is it from the median? The cutoff is on the period a
figure describes, not on the day it was published: most domestic-share figures were
published in 2025-26 about earlier years, so a publication cutoff before 2025 leaves
almost nothing to fit. These backtests are therefore pseudo-out-of-sample (the figures
may carry hindsight), and the table says so.

Scoring a saved run against outcomes observed after it is :mod:`h200cast.results.scoring`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from h200cast import intervals
from h200cast.errors import InputError
from h200cast.estimation import estimate, history

LEVELS = (0.5, 0.8, 0.9)
SHARE_CUTOFFS = (2023.5, 2024.5, 2025.25)
REVENUE_CUTOFFS = (dt.date(2023, 7, 31), dt.date(2024, 7, 31), dt.date(2025, 1, 31))
HORIZON_QUARTERS = 4


@dataclass
class Backtest:
    """Scores, and the cutoffs that had too little history before them to fit."""

    scores: list[Score]
    skipped: list[str]


@dataclass(frozen=True)
class Score:
    """One observation scored against a forecast made before it."""

    estimate: str
    cutoff: str
    target: str
    observed: float
    p50: float
    lo50: float
    hi50: float
    lo80: float
    hi80: float
    lo90: float
    hi90: float
    in50: bool
    in80: bool
    in90: bool
    error: float  # observed - p50
    note: str = ""


def _score(
    est: str,
    cutoff: str,
    target: str,
    observed: float,
    bands: dict[float, tuple[float, float]],
    p50: float,
    note: str = "",
) -> Score:
    inside = {lv: bands[lv][0] <= observed <= bands[lv][1] for lv in LEVELS}
    return Score(
        est,
        cutoff,
        target,
        observed,
        p50,
        *bands[0.5],
        *bands[0.8],
        *bands[0.9],
        inside[0.5],
        inside[0.8],
        inside[0.9],
        observed - p50,
        note,
    )


def _intervals(
    res: Any, X: np.ndarray
) -> tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]:
    pred = res.get_prediction(X)
    mid = np.asarray(pred.predicted_mean)
    bands = {}
    for lv in LEVELS:
        f = pred.summary_frame(alpha=1 - lv)
        bands[lv] = (np.asarray(f["obs_ci_lower"]), np.asarray(f["obs_ci_upper"]))
    return mid, bands


def backtest_substitution(
    cutoffs: Sequence[float] = SHARE_CUTOFFS, rows: Sequence[history.ShareRow] | None = None
) -> Backtest:
    """Fit the S-curve on share data up to each cutoff year; score the later data rows."""
    rows = [r for r in (history.load_shares() if rows is None else rows) if r.kind == "data"]
    out, skipped = [], []
    for cut in cutoffs:
        train = [r for r in rows if r.year <= cut]
        test = [r for r in rows if r.year > cut]
        try:
            fit = estimate.fit_substitution_speed(rows=train)
        except InputError as exc:
            skipped.append(f"substitution_speed, year<={cut}: {exc.message}")
            continue
        levels = sorted({r.basis for r in train} - {estimate.REFERENCE_BASIS})
        for r in test:
            seen = r.basis in levels or r.basis == estimate.REFERENCE_BASIS
            basis = r.basis if seen else estimate.REFERENCE_BASIS
            X = estimate.share_design(np.array([r.year]), [basis], levels)
            mid, bands = _intervals(fit.model, X)
            expit = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
            b = {lv: (float(expit(lo[0])), float(expit(hi[0]))) for lv, (lo, hi) in bands.items()}
            note = (
                ""
                if seen
                else f"basis {r.basis} not in the fit: scored on {estimate.REFERENCE_BASIS}"
            )
            out.append(
                _score(
                    "substitution_speed",
                    f"year<={cut}",
                    f"share {r.period} {r.source}/{r.basis}",
                    r.share,
                    b,
                    float(expit(mid[0])),
                    note,
                )
            )
    return Backtest(out, skipped)


def backtest_demand_growth(
    cutoffs: Sequence[dt.date] = REVENUE_CUTOFFS, rows: Sequence[history.RevenueRow] | None = None
) -> Backtest:
    """Fit the revenue model on quarters up to each cutoff; score the next quarters (in USD).

    The forecast knows only the export-control events before the cutoff, as a forecaster
    then would: a later control shows up as a miss.
    """
    rows = list(history.load_revenue() if rows is None else rows)
    # score only quarters reported by the history files' vintage (as the fit uses)
    everything = estimate.revenue_series(rows, history.VINTAGE)
    out, skipped = [], []
    for cut in cutoffs:
        train = [r for r in rows if r.period_end <= cut]
        try:
            fit = estimate.fit_demand_growth(rows=train, as_of=None)
        except InputError as exc:
            skipped.append(f"demand_growth, {cut}: {exc.message}")
            continue
        first = dt.date.fromisoformat(fit.data[0]["period_end"])
        events = [ev for ev in estimate.EVENTS if ev.name in {c["event"] for c in fit.comparisons}]
        later = [r for r in everything if r.period_end > cut][:HORIZON_QUARTERS]
        if not later:
            continue
        t = np.array([round((r.period_end - first).days / 91.3125) for r in later], float)
        X = estimate.revenue_design([r.period_end for r in later], t, events)
        mid, bands = _intervals(fit.model, X)
        for i, r in enumerate(later):
            b = {lv: (math.exp(lo[i]), math.exp(hi[i])) for lv, (lo, hi) in bands.items()}
            missed = [ev.name for ev in estimate.EVENTS if cut < ev.date < r.period_end]
            note = f"event after the cutoff: {', '.join(missed)}" if missed else ""
            out.append(
                _score(
                    "demand_growth",
                    cut.isoformat(),
                    f"revenue {r.fiscal_quarter} ({r.version})",
                    r.revenue_usd,
                    b,
                    math.exp(mid[i]),
                    note,
                )
            )
    return Backtest(out, skipped)


def run_all() -> Backtest:
    """Every backtest with its default cutoffs."""
    a, b = backtest_substitution(), backtest_demand_growth()
    return Backtest(a.scores + b.scores, a.skipped + b.skipped)


def coverage(scores: Sequence[Score]) -> dict[str, dict[str, float]]:
    """Share of observations inside each interval, by estimate (nominal: 0.5, 0.8, 0.9)."""
    out = {}
    for est in sorted({s.estimate for s in scores}):
        ss = [s for s in scores if s.estimate == est]
        out[est] = {
            "n": len(ss),
            **{
                f"in{int(lv * 100)}": float(np.mean([getattr(s, f"in{int(lv * 100)}") for s in ss]))
                for lv in LEVELS
            },
        }
    return out


def to_csv(scores: Sequence[Score]) -> str:
    """The scores as CSV, one row per observation."""
    buf = io.StringIO()
    fields = [COLUMNS.get(f, f) for f in Score.__dataclass_fields__]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for s in scores:
        w.writerow(
            {
                COLUMNS.get(k, k): (repr(v) if isinstance(v, float) else v)
                for k, v in asdict(s).items()
            }
        )
    return buf.getvalue()


COLUMNS: dict[str, str] = {
    **{f"lo{p}": intervals.names(p)[0] for p in intervals.LEVELS},
    **{f"hi{p}": intervals.names(p)[1] for p in intervals.LEVELS},
    **{f"in{p}": f"in-{p}" for p in intervals.LEVELS},
}
"""CSV column of each interval field of :class:`Score` (``lo90`` is written ``lo-90``)."""
