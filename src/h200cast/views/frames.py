"""Tidy tables from model results, for charts, notebooks and reports.

Charts never see (draws x months) arrays: they get quantile bands per month (a few
hundred rows, well under Altair's 5,000-row limit) or medians, with units scaled for
people (thousand units, $ billion, %).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from h200cast.engine.metrics import BY_NAME
from h200cast.engine.model import VARIABLES
from h200cast.results.result import Result
from h200cast.views.units import display

if TYPE_CHECKING:
    import pandas as pd

QUANTILES = (5, 10, 25, 50, 75, 90, 95)


def unit_of(variable: str) -> tuple[float, str]:
    """Divisor and display unit of a monthly variable or a metric."""
    unit = VARIABLES[variable][0] if variable in VARIABLES else BY_NAME[variable].unit
    d = display(unit, "chart")
    return d.divisor, d.label


def _results(results: Result | Sequence[Result]) -> list[Result]:
    return [results] if isinstance(results, Result) else list(results)


def bands(
    results: Result | Sequence[Result],
    variable: str,
    *,
    cumulative: bool = False,
    quantiles: Sequence[int] = QUANTILES,
) -> pd.DataFrame:
    """Quantiles over draws of a monthly variable, one row per run and month.

    Columns: ``run``, ``month`` (timestamp), ``variable``, ``unit`` and ``p5`` ... ``p95``
    in the display unit. ``cumulative`` sums the variable from the first month first.
    """
    import pandas as pd

    frames = []
    for r in _results(results):
        x = r.paths[variable]
        if cumulative:
            x = np.cumsum(x, axis=1)
        div, unit = unit_of(variable)
        q = np.percentile(x, quantiles, axis=0) / div
        df = pd.DataFrame({f"p{k}": q[i] for i, k in enumerate(quantiles)})
        df.insert(0, "month", pd.to_datetime(r.paths.months))
        df.insert(0, "run", r.label)
        df["variable"] = variable
        df["unit"] = unit
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    origins = {r.origin for r in _results(results) if r.origin and r.origin > r.paths.months[0]}
    if len(origins) == 1:  # observed months before it: charts shade them as history
        out.attrs["origin"] = origins.pop()
    return out


def medians(results: Result | Sequence[Result], variables: Sequence[str]) -> pd.DataFrame:
    """Median over draws of several monthly variables: long table run, month, variable, value."""
    import pandas as pd

    rows = []
    for r in _results(results):
        for v in variables:
            div, unit = unit_of(v)
            rows.append(
                pd.DataFrame(
                    {
                        "run": r.label,
                        "month": pd.to_datetime(r.paths.months),
                        "variable": v,
                        "unit": unit,
                        "value": np.median(r.paths[v], axis=0) / div,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def metric_table(
    results: Result | Sequence[Result], metrics: Sequence[str], digits: int = 2
) -> pd.DataFrame:
    """P5 / P50 / P95 of headline metrics in display units, rounded: one row per run and metric."""
    import pandas as pd

    rows = []
    for r in _results(results):
        for m in metrics:
            div, unit = unit_of(m)
            s = r.stats[m]
            rows.append(
                {
                    "run": r.label,
                    "metric": m,
                    "unit": unit,
                    **{k: round(s[k] / div, digits) for k in ("p5", "p50", "p95")},
                }
            )
    return pd.DataFrame(rows)


def sources(result: Result, keys: Sequence[str]) -> str:
    """A caption naming the publishers behind the parameters under ``keys`` (dotted prefixes)."""
    from h200cast.engine.model import specs
    from h200cast.estimation.evidence import cached

    ev = cached()
    ids = sorted(
        {
            i
            for k, spec in specs(result.scenario)
            if any(k.startswith(p) for p in keys)
            for i in spec.evidence
        }
    )
    from collections import Counter

    count = Counter(ev.sources[ev.facts[i].source_id].publisher for i in ids)
    publishers = sorted(count, key=lambda p: (-count[p], p))  # the most-cited first
    shown = ", ".join(publishers[:6]) + (
        f" and {len(publishers) - 6} more" if len(publishers) > 6 else ""
    )
    return f"Source: h200cast model; inputs from {shown} (evidence {', '.join(ids[:8])}{' ...' if len(ids) > 8 else ''})"


def concat(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack tables with the same columns (so notebooks need not import pandas)."""
    import pandas as pd

    return pd.concat(list(tables), ignore_index=True)


def share_history(known_by: str | None = None) -> pd.DataFrame:
    """The domestic-share counts from ``data/history/``: year, share (%), basis, source, kind.

    ``known_by`` (``YYYY-MM-DD``) keeps the rows published by then, as a vintage sees them.
    """
    import datetime as dt

    import pandas as pd

    from h200cast.estimation import history

    day = dt.date.fromisoformat(known_by) if known_by else dt.date.max

    return pd.DataFrame(
        [
            {
                "year": r.year,
                "share": 100 * r.share,
                "basis": r.basis,
                "source": r.source,
                "kind": "forecast" if r.kind == "forecast" else "count",
                "period": r.period,
            }
            for r in history.load_shares()
            if r.published <= day
        ]
    )


def share_fit(
    stored: dict | None = None, basis: str | None = None, years: Sequence[float] | None = None
) -> pd.DataFrame:
    """The fitted S-curve for one counting basis with its 90% prediction interval (in %).

    ``stored`` is the stored estimate (``h200cast.estimate.stored("substitution_speed")``,
    read when not given); nothing is refitted.
    """
    import pandas as pd

    from h200cast.estimation.estimate import REFERENCE_BASIS, predict, share_design
    from h200cast.estimation.estimate import stored as load_stored

    rec = (stored or load_stored("substitution_speed"))["record"]["prediction"]
    basis = basis or REFERENCE_BASIS
    at = np.asarray(years if years is not None else np.linspace(2021.0, 2029.5, 35))
    levels = [t[6:-1] for t in rec["terms"] if t.startswith("basis[")]
    mid, lo, hi = predict(rec, share_design(at, [basis] * len(at), levels))
    expit = lambda x: 100.0 / (1.0 + np.exp(-np.asarray(x)))  # noqa: E731
    return pd.DataFrame(
        {"year": at, "p5": expit(lo), "p50": expit(mid), "p95": expit(hi), "basis": basis}
    )


def swing_table(oat: pd.DataFrame, metrics: Sequence[str], n: int = 3) -> pd.DataFrame:
    """The ``n`` inputs that swing each metric most, with the swing in the metric's display unit."""
    import pandas as pd

    rows = []
    for m in metrics:
        div, unit = unit_of(m)
        sub = oat[oat["metric"] == m].drop_duplicates("input").head(n)
        rows += [
            {
                "metric": m,
                "rank": i + 1,
                "input": r.input,
                "swing": round(r.swing / div, 1),
                "unit": unit,
            }
            for i, r in enumerate(sub.itertuples())
        ]
    return labelled(pd.DataFrame(rows))


def labelled(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its ``input`` column (dotted keys) in words with units
    (:mod:`h200cast.views.labels`), the keys kept in a ``key`` column."""
    from h200cast.views.labels import text

    return table.assign(key=table["input"], input=table["input"].map(text))
