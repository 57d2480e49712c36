"""Which inputs move an output most: one-at-a-time changes across each input's range.

Every uncertain input (a parameter with a distribution) is moved in turn to its 5th and
95th percentile, with every other input at its central value. All the variants run as
the draws of one vectorised model call. The swing of each output ranks the inputs for
a tornado chart. This ignores interactions between inputs; global (Sobol) indices need
a sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from h200cast.metrics import values as metric_values
from h200cast.model import sample, simulate_values, specs
from h200cast.params import load_scenario

if TYPE_CHECKING:
    import pandas as pd

LOW, HIGH = 0.05, 0.95


def one_at_a_time(
    *,
    stance: str | None = None,
    path: str | None = None,
    overrides: Sequence[str] = (),
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Change in each metric when each uncertain input moves to its low and high end.

    Returns a long table: ``input``, ``end`` (low/high), ``value`` (the input's value),
    ``metric``, ``result`` and ``change`` (result minus the central run's), sorted by
    each metric's swing, largest first.
    """
    import pandas as pd

    sc = load_scenario(stance=stance, path=path, overrides=tuple(overrides))
    central = sample(sc, 1, 0, point=True).values
    moved = [
        (key, end, float(v))
        for key, spec in specs(sc)
        if getattr(spec, "dist", None)
        for end, v in zip(("low", "high"), spec.ppf(np.array([LOW, HIGH])), strict=True)
    ]
    n = 1 + len(moved)
    vals = {k: np.repeat(v, n) for k, v in central.items()}
    for i, (key, _, v) in enumerate(moved, start=1):
        vals[key][i] = v
    out = metric_values(simulate_values(sc, vals))
    rows = [
        {
            "input": key,
            "end": end,
            "value": v,
            "metric": m,
            "result": float(out[m][i]),
            "change": float(out[m][i] - out[m][0]),
        }
        for m in (metrics or list(out))
        for i, (key, end, v) in enumerate(moved, start=1)
    ]
    df = pd.DataFrame(rows)
    swing = (
        df.groupby(["metric", "input"])["change"].agg(lambda c: c.max() - c.min()).rename("swing")
    )
    df = df.join(swing, on=["metric", "input"])
    return df.sort_values(
        ["metric", "swing", "input", "end"], ascending=[True, False, True, False]
    ).reset_index(drop=True)


def top_inputs(df: pd.DataFrame, metric: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` inputs that swing ``metric`` most, in order, from :func:`one_at_a_time`."""
    sub = df[df["metric"] == metric]
    keep = list(dict.fromkeys(sub["input"]))[:n]
    return sub[sub["input"].isin(keep)].reset_index(drop=True)


def grid(
    axes: dict[str, Sequence[float]],
    *,
    stance: str | None = None,
    path: str | None = None,
    overrides: Sequence[str] = (),
    draws: int = 300,
    seed: int = 20260131,
    metrics: Sequence[str] = ("us_fee_revenue_total_usd",),
) -> pd.DataFrame:
    """Metrics over a grid of input values, each grid point with the same sampled draws.

    ``axes`` maps dotted parameter keys to the values to try. The draws are sampled once
    and tiled across the grid points, so the whole grid is one model call and differences
    between points are not blurred by sampling noise. Returns one row per grid point and
    metric, with ``p5``, ``p50``, ``p95`` and ``mean``.
    """
    import itertools

    import pandas as pd

    sc = load_scenario(stance=stance, path=path, overrides=tuple(overrides))
    base = sample(sc, draws, seed)
    points = list(itertools.product(*axes.values()))
    vals = {k: np.tile(v, len(points)) for k, v in base.values.items()}
    for i, point in enumerate(points):
        for key, v in zip(axes, point, strict=True):
            if key not in vals:
                raise KeyError(f"unknown parameter {key!r}")
            vals[key][i * draws : (i + 1) * draws] = v
    out = metric_values(simulate_values(sc, vals, seed))
    rows = []
    for i, point in enumerate(points):
        for m in metrics:
            x = out[m][i * draws : (i + 1) * draws]
            q = np.percentile(x, [5, 50, 95])
            rows.append(
                {
                    **dict(zip(axes, point, strict=True)),
                    "metric": m,
                    "p5": q[0],
                    "p50": q[1],
                    "p95": q[2],
                    "mean": float(x.mean()),
                }
            )
    return pd.DataFrame(rows)
