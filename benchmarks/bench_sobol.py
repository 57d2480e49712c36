"""Compare h200cast's Sobol indices with SALib's on the Ishigami function.

For each number of base samples N (1,024 and 4,096 by default) and each of several seeds,
both estimate the first-order and total indices of Ishigami (a = 7, b = 0.1) from
N (d + 2) runs with the same bootstrap count and confidence: h200cast with
``explore.sensitivity.sobol``, SALib with ``SALib.sample.sobol.sample`` and
``SALib.analyze.sobol.analyze`` (no second order), seeds 1, 2, .... Printed per N, as means over the
seeds and the three inputs: the interval widths (ours: percentile interval; SALib's:
twice its ``S1_conf``/``ST_conf``), their ratio (ours / SALib's; at most 1 is the target),
with the standard error of that ratio over the seeds (from each seed's own ratio), and the
absolute errors against the known indices. Both use the same scrambled Sobol' design for a
seed, so the point estimates agree; the widths differ by the bootstrap's resamples and by
the kind of interval (ours the percentiles, SALib's a normal interval on the bootstrap's
standard deviation).

SALib is not a dependency of h200cast; install it for this measurement only:
``.tools/bin/uv pip install --python .venv/bin/python SALib``.

Usage: ``python benchmarks/bench_sobol.py [--n 1024 4096] [--seeds 30] [--bootstrap 200]
[--confidence 0.9]``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

A, B = 7.0, 0.1
FIRST = np.array([0.3139, 0.4424, 0.0])
TOTAL = np.array([0.5576, 0.4424, 0.2437])
BOUNDS = [(-np.pi, np.pi)] * 3


def ishigami(x: np.ndarray) -> np.ndarray:
    """Ishigami on an (inputs, n) array."""
    return np.sin(x[0]) + A * np.sin(x[1]) ** 2 + B * x[2] ** 4 * np.sin(x[0])


def ours(n: int, seed: int, bootstrap: int, confidence: float) -> dict[str, np.ndarray]:
    from h200cast.explore.sensitivity import sobol

    r = sobol(
        lambda x: np.atleast_2d(ishigami(x)),
        BOUNDS,
        n,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
    )
    return {
        "S1": r.first[0],
        "ST": r.total[0],
        "S1_width": r.first_high[0] - r.first_low[0],
        "ST_width": r.total_high[0] - r.total_low[0],
    }


def salib(n: int, seed: int, bootstrap: int, confidence: float) -> dict[str, np.ndarray]:
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [list(b) for b in BOUNDS]}
    x = sample.sample(problem, n, calc_second_order=False, seed=seed)
    y = ishigami(x.T)
    s = analyze.analyze(
        problem,
        y,
        calc_second_order=False,
        num_resamples=bootstrap,
        conf_level=confidence,
        seed=seed,
    )
    return {
        "S1": s["S1"],
        "ST": s["ST"],
        "S1_width": 2 * s["S1_conf"],
        "ST_width": 2 * s["ST_conf"],
    }


def _mean(runs: list[dict[str, np.ndarray]], key: str) -> float:
    return float(np.mean([r[key] for r in runs]))


def _ratio_se(
    ours: list[dict[str, np.ndarray]], salib: list[dict[str, np.ndarray]], key: str
) -> float:
    """Standard error over the seeds of each seed's width ratio (ours / SALib's)."""
    r = [float(np.mean(o[key]) / np.mean(s[key])) for o, s in zip(ours, salib, strict=True)]
    return float(np.std(r, ddof=1) / np.sqrt(len(r))) if len(r) > 1 else float("nan")


def _err(runs: list[dict[str, np.ndarray]], key: str, true: np.ndarray) -> float:
    return float(np.mean([np.abs(r[key] - true) for r in runs]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1024, 4096])
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--confidence", type=float, default=0.9)
    args = ap.parse_args(argv)
    try:
        import SALib  # noqa: F401
    except ImportError:
        print(
            "SALib is not installed (it is not a dependency of h200cast). For this measurement:\n"
            "  .tools/bin/uv pip install --python .venv/bin/python SALib",
            file=sys.stderr,
        )
        return 1
    print(
        f"Ishigami (a={A}, b={B}), {args.seeds} seeds, {args.bootstrap} bootstraps, "
        f"{args.confidence:.0%} intervals; means over seeds and inputs; "
        "ratio ± its standard error over the seeds\n"
    )
    print(
        "| N | runs | S1 width ours | S1 width SALib | ratio | ST width ours | ST width SALib "
        "| ratio | S1 error ours | S1 error SALib | ST error ours | ST error SALib |"
    )
    print("|---" * 12 + "|")
    for n in args.n:
        res: dict[str, list[dict[str, np.ndarray]]] = {"ours": [], "salib": []}
        for seed in range(1, args.seeds + 1):  # SALib's analyze leaves seed 0 unseeded
            res["ours"].append(ours(n, seed, args.bootstrap, args.confidence))
            res["salib"].append(salib(n, seed, args.bootstrap, args.confidence))

        w = {(who, k): _mean(res[who], f"{k}_width") for who in res for k in ("S1", "ST")}
        se = {k: _ratio_se(res["ours"], res["salib"], f"{k}_width") for k in ("S1", "ST")}
        print(
            f"| {n:,} | {n * 5:,} "
            f"| {w['ours', 'S1']:.4f} | {w['salib', 'S1']:.4f} "
            f"| {w['ours', 'S1'] / w['salib', 'S1']:.3f} ± {se['S1']:.3f} "
            f"| {w['ours', 'ST']:.4f} | {w['salib', 'ST']:.4f} "
            f"| {w['ours', 'ST'] / w['salib', 'ST']:.3f} ± {se['ST']:.3f} "
            f"| {_err(res['ours'], 'S1', FIRST):.4f} | {_err(res['salib'], 'S1', FIRST):.4f} "
            f"| {_err(res['ours'], 'ST', TOTAL):.4f} | {_err(res['salib'], 'ST', TOTAL):.4f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
