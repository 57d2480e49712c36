"""Which inputs move an output most: one-at-a-time changes across each input's range.

Every uncertain input (a parameter with a distribution) is moved in turn to its 5th and
95th percentile, with every other input at its central value. All the variants run as
the draws of one vectorised model call. The swing of each output ranks the inputs for
a tornado chart. This ignores interactions between inputs; global (Sobol) indices need
a sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from h200cast import intervals
from h200cast.engine.metrics import values as metric_values
from h200cast.engine.model import chunk_draws, sample, simulate_values, specs
from h200cast.results.scenarios import load_scenario

if TYPE_CHECKING:
    import pandas as pd

LOW, HIGH = 0.05, 0.95


def one_at_a_time(
    *,
    stance: str | None = None,
    path: str | None = None,
    overrides: Sequence[str] = (),
    metrics: Sequence[str] | None = None,
    vintage: str | None = None,
) -> pd.DataFrame:
    """Change in each metric when each uncertain input moves to its low and high end.

    Returns a long table: ``input``, ``end`` (low/high), ``value`` (the input's value),
    ``metric``, ``result`` and ``change`` (result minus the central run's), sorted by
    each metric's swing, largest first.
    """
    import pandas as pd

    sc = load_scenario(stance=stance, path=path, overrides=tuple(overrides), vintage=vintage)
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


def top_keys(df: pd.DataFrame, metrics: Sequence[str], n: int = 5) -> list[str]:
    """The inputs among the ``n`` that swing any of ``metrics`` most, in order of first mention."""
    return list(dict.fromkeys(k for m in metrics for k in top_inputs(df, m, n)["input"]))


def grid(
    axes: dict[str, Sequence[float]],
    *,
    stance: str | None = None,
    path: str | None = None,
    overrides: Sequence[str] = (),
    draws: int = 300,
    seed: int = 20260131,
    metrics: Sequence[str] = ("us_fee_revenue_total_usd",),
    vintage: str | None = None,
) -> pd.DataFrame:
    """Metrics over a grid of input values, each grid point with the same sampled draws.

    ``axes`` maps dotted parameter keys to the values to try. The draws are sampled once
    and tiled across the grid points, so the whole grid is one model call and differences
    between points are not blurred by sampling noise. Returns one row per grid point and
    metric, with ``p5``, ``p50``, ``p95`` and ``mean``.
    """
    import itertools

    import pandas as pd

    sc = load_scenario(stance=stance, path=path, overrides=tuple(overrides), vintage=vintage)
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


@dataclass(frozen=True)
class SobolIndices:
    """First-order and total Sobol indices of several outputs, with bootstrap intervals."""

    inputs: list[str]
    outputs: list[str]
    first: np.ndarray  # (outputs, inputs)
    total: np.ndarray
    first_low: np.ndarray
    first_high: np.ndarray
    total_low: np.ndarray
    total_high: np.ndarray
    confidence: float
    evaluations: int

    def interval_columns(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """The frame's bound columns: ``(first_lo-90, first_hi-90), (total_lo-90, total_hi-90)``."""
        level = intervals.percent(self.confidence)
        return intervals.names(level, "first_"), intervals.names(level, "total_")

    def frame(self) -> pd.DataFrame:
        """A long table: output, input, first, ``first_lo-90``, ``first_hi-90``, total,
        ``total_lo-90``, ``total_hi-90`` (the level is the confidence, see :mod:`h200cast.intervals`)."""
        import pandas as pd

        (f_lo, f_hi), (t_lo, t_hi) = self.interval_columns()
        rows = [
            {
                "output": o,
                "input": k,
                "first": self.first[i, j],
                f_lo: self.first_low[i, j],
                f_hi: self.first_high[i, j],
                "total": self.total[i, j],
                t_lo: self.total_low[i, j],
                t_hi: self.total_high[i, j],
            }
            for i, o in enumerate(self.outputs)
            for j, k in enumerate(self.inputs)
        ]
        return (
            pd.DataFrame(rows)
            .sort_values(["output", "total"], ascending=[True, False])
            .reset_index(drop=True)
        )

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        inputs: Sequence[str],
        outputs: Sequence[str],
        confidence: float,
        evaluations: int,
    ) -> SobolIndices:
        """The indices back from :meth:`frame`'s table (as ``sobol.csv`` holds it).

        Raises ``KeyError`` when the table lacks a column, an input or an output.
        """
        level = intervals.percent(confidence)
        (f_lo, f_hi), (t_lo, t_hi) = (
            intervals.names(level, "first_"),
            intervals.names(level, "total_"),
        )
        cells = df.set_index(["output", "input"])

        def grid(column: str) -> np.ndarray:
            return np.array(
                [[float(cells.at[(o, k), column]) for k in inputs] for o in outputs], dtype=float
            )

        return cls(
            list(inputs),
            list(outputs),
            grid("first"),
            grid("total"),
            grid(f_lo),
            grid(f_hi),
            grid(t_lo),
            grid(t_hi),
            confidence,
            evaluations,
        )


def sobol(
    func: Callable[[np.ndarray], np.ndarray],
    bounds: Sequence[tuple[float, float]],
    base_samples: int,
    *,
    bootstrap: int = 200,
    confidence: float = 0.9,
    seed: int = 0,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
) -> SobolIndices:
    """Sobol first-order and total indices of ``func`` over independent uniform inputs.

    The design matrices A and B are the first and last d columns of ``base_samples`` points
    (a power of 2) of a scrambled Sobol' sequence in 2d dimensions
    (``scipy.stats.qmc.Sobol``, scrambled with ``seed``); AB_i is A with column i taken
    from B. The outputs are centred on the mean of f(A) and f(B) together; with V their
    variance, the indices are Saltelli's (2010) first-order and Jansen's total estimators:

        first_i = mean(f(B) * (f(AB_i) - f(A))) / V
        total_i = mean((f(A) - f(AB_i)) ** 2) / (2 V)

    Centring removes the output's mean times the noise of mean(f(AB_i) - f(A)) from the
    first-order estimate (the total one is unchanged by it). Intervals are percentile
    bootstrap intervals over the base samples (centring again in each resample), drawn
    from a generator seeded by ``seed``; the estimator is written out rather than taken
    from ``scipy.stats.sobol_indices``, whose bootstrap draws from an unseeded generator.
    ``func`` maps an array (inputs, n) to (outputs, n); it is called once on all
    n = base_samples x (inputs + 2) rows, so it should be vectorised.
    """
    from scipy.stats import qmc

    n, d = base_samples, len(bounds)
    if n < 2 or n & (n - 1):
        raise ValueError(f"base_samples must be a power of 2 (1024, 2048, ...), not {n}")
    u = qmc.Sobol(d=2 * d, scramble=True, seed=seed).random_base2(n.bit_length() - 1)
    return _saltelli(
        func,
        bounds,
        u[:, :d],
        u[:, d:],
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        inputs=inputs,
        outputs=outputs,
    )


def _saltelli(
    func: Callable[[np.ndarray], np.ndarray],
    bounds: Sequence[tuple[float, float]],
    u_a: np.ndarray,
    u_b: np.ndarray,
    *,
    bootstrap: int,
    confidence: float,
    seed: int,
    inputs: Sequence[str],
    outputs: Sequence[str],
) -> SobolIndices:
    """:func:`sobol`'s estimators and bootstrap on given A and B in the unit cube (n, d)."""
    n, d = int(u_a.shape[0]), int(u_a.shape[1])
    lo, hi = np.array(bounds, float).T
    a, b = lo + u_a * (hi - lo), lo + u_b * (hi - lo)
    ab = np.repeat(a[None, :, :], d, axis=0)
    for i in range(d):
        ab[i, :, i] = b[:, i]
    f = np.atleast_2d(func(np.concatenate([a, b, ab.reshape(d * n, d)]).T))  # one vectorised call
    f_a, f_b, f_ab = f[:, :n], f[:, n : 2 * n], f[:, 2 * n :].reshape(f.shape[0], d, n)

    def indices(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fa, fb, fab = f_a[:, idx], f_b[:, idx], f_ab[:, :, idx]
        pooled = np.concatenate([fa, fb], axis=1)
        centre = pooled.mean(axis=1, keepdims=True)
        var = np.var(pooled, axis=1)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.mean((fb - centre)[:, None, :] * (fab - fa[:, None, :]), axis=-1) / var
            total = 0.5 * np.mean((fa[:, None, :] - fab) ** 2, axis=-1) / var
        return np.nan_to_num(first), np.nan_to_num(
            total
        )  # an output that never varies has no variance to share

    first, total = indices(np.arange(n))
    if bootstrap:
        rng = np.random.default_rng([seed, 1])
        reps = [indices(rng.integers(0, n, n)) for _ in range(bootstrap)]
        q = [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100]
        f_lo, f_hi = np.percentile(np.stack([r[0] for r in reps]), q, axis=0)
        t_lo, t_hi = np.percentile(np.stack([r[1] for r in reps]), q, axis=0)
    else:
        f_lo = f_hi = first
        t_lo = t_hi = total
    return SobolIndices(
        list(inputs) or [f"x{j}" for j in range(d)],
        list(outputs) or [f"y{i}" for i in range(first.shape[0])],
        first,
        total,
        f_lo,
        f_hi,
        t_lo,
        t_hi,
        confidence,
        n * (d + 2),
    )


def ranges_for(oat: pd.DataFrame, keys: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Each input's 5th-95th percentile range, from a :func:`one_at_a_time` table."""
    lows = oat[oat["end"] == "low"].drop_duplicates("input").set_index("input")["value"]
    highs = oat[oat["end"] == "high"].drop_duplicates("input").set_index("input")["value"]
    return {k: (float(lows[k]), float(highs[k])) for k in keys}


def model_sobol(
    *,
    stance: str | None = None,
    path: str | None = None,
    ranges: dict[str, tuple[float, float]],
    outputs: Sequence[str],
    base_samples: int = 1024,
    bootstrap: int = 200,
    confidence: float = 0.9,
    seed: int = 0,
    params_dir: Path | None = None,
    overrides: Sequence[str] = (),
    vintage: str | None = None,
) -> SobolIndices:
    """Sobol indices of model outputs over the inputs in ``ranges``; other inputs at their central values."""
    sc = load_scenario(
        stance=stance, path=path, params_dir=params_dir, overrides=tuple(overrides), vintage=vintage
    )
    central = sample(sc, 1, 0, point=True).values
    keys = list(ranges)

    step = chunk_draws(sc.calendar.horizon_months)

    def func(x: np.ndarray) -> np.ndarray:
        # in blocks of runs, so that memory is set by the block and not by the design's size;
        # each run's outputs are those of one call for all (rows are independent)
        parts = []
        for lo in range(0, x.shape[1], step):
            block = x[:, lo : lo + step]
            vals = {k: np.repeat(v, block.shape[1]) for k, v in central.items()}
            for j, k in enumerate(keys):
                vals[k] = block[j]
            out = metric_values(simulate_values(sc, vals, seed), outputs)
            parts.append(np.stack([out[m] for m in outputs]))
        return np.concatenate(parts, axis=1)

    return sobol(
        func,
        [ranges[k] for k in keys],
        base_samples,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        inputs=keys,
        outputs=outputs,
    )
