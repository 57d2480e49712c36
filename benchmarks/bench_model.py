"""Time the model engine and the CLI; print a Markdown table for the README.

Measures, on this machine:
* the engine (``simulate``) at 100,000 draws x 36 months for one stance: the first call
  in a fresh process (what a CLI run pays, including first-touch of its memory) and the
  best of several calls in one process (steady state);
* the metrics summary on those paths;
* the engine's steady state against numpy probes of as many elementwise passes over
  arrays of the same size (:mod:`probe`), as ratios measured in the same run: the first
  probe (its numpy calls at their mean size) and the matched one (every pass at its own
  size, the copies into the stored series and into draw order included, views not);
* Python's start-up, and ``h200cast run --json`` end to end at 1,000 and 100,000 draws.

Fresh-process figures are medians over several processes: first-touch memory costs on
virtual machines vary from run to run.

Usage: ``python benchmarks/bench_model.py [--repeat N]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ENGINE = """
import json, time
from h200cast.results.scenarios import load_scenario
from h200cast.engine.model import simulate
from h200cast.engine.metrics import values, summarize
sc = load_scenario({kind}={name!r})
t0 = time.perf_counter(); p = simulate(sc, draws={draws}, seed=1); t1 = time.perf_counter()
summarize(values(p)); t2 = time.perf_counter()
warm = []
for _ in range({warm}):
    a = time.perf_counter(); simulate(sc, draws={draws}, seed=1); warm.append(time.perf_counter() - a)
print(json.dumps({{"first": t1 - t0, "metrics": t2 - t1, "warm": min(warm) if warm else None}}))
"""


def _py(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="fresh processes per figure (default 5)")
    ap.add_argument("--draws", type=int, default=100_000)
    args = ap.parse_args()
    rows = []
    for kind, name in (
        ("stance", "open_market"),
        ("stance", "selective_approval"),
        ("path", "as_reported_2026_01"),
    ):
        runs = [
            _py(ENGINE.format(kind=kind, name=name, draws=args.draws, warm=3 if i == 0 else 0))
            for i in range(args.repeat)
        ]
        first = statistics.median(r["first"] for r in runs)
        worst = max(r["first"] for r in runs)
        metrics = statistics.median(r["metrics"] for r in runs)
        rows.append(
            (
                f"engine, {kind} {name}, {args.draws:,} draws x 36 months: first call (median / worst of "
                f"{args.repeat} processes)",
                f"{first:.2f} s / {worst:.2f} s",
            )
        )
        rows.append(
            (
                f"engine, {kind} {name}: steady state (best of 3 in one process)",
                f"{runs[0]['warm']:.2f} s",
            )
        )
        rows.append((f"metrics summary on those paths, {name}", f"{metrics:.2f} s"))
    startup = statistics.median(_wall([sys.executable, "-c", "pass"]) for _ in range(args.repeat))
    rows.append(("Python start-up (`python -c pass`)", f"{startup:.2f} s"))
    imp = statistics.median(
        _wall([sys.executable, "-c", "import h200cast.results"]) for _ in range(args.repeat)
    )
    rows.append(
        (
            "start-up + `import h200cast.results` (numpy, pydantic, yaml; no pandas, no scipy)",
            f"{imp:.2f} s",
        )
    )
    for draws in (1000, args.draws):
        cmd = [
            sys.executable,
            "-m",
            "h200cast",
            "run",
            "--stance",
            "selective_approval",
            "--json",
            "--draws",
            str(draws),
        ]
        wall = statistics.median(_wall(cmd) for _ in range(args.repeat))
        rows.append(
            (
                f"`h200cast run --stance selective_approval --json --draws {draws:,}` end to end",
                f"{wall:.2f} s",
            )
        )
    rows += probe_rows(args.draws)
    rows += sweep_rows()
    print("| what | time |\n|---|---|")
    for what, t in rows:
        print(f"| {what} | {t} |")


SWEEP_INPUTS = {
    "us.us_cumulative_units_before": (5e5, 3e6),
    "money.price_usd": (2e4, 3.5e4),
    "us.us_units_per_month": (5e3, 2.5e4),
    "supply.inventory_units": (6e5, 7e5),
    "demand.order_book_units": (1e6, 2.5e6),
    "us.licence_lag_months": (1.0, 2.5),
    "us.retighten_prob_per_month": (0.0, 0.04),
    "supply.production_units_per_month": (0.0, 1.1e5),
    "demand.price_elasticity": (-1.0, -0.1),
    "demand.backlog_persistence": (0.6, 0.95),
}


def probe_rows(draws: int) -> list[tuple[str, str]]:
    """The engine's steady state against two numpy probes of its elementwise passes
    (:mod:`probe`): the first, of its numpy calls at their mean size, and the matched one,
    of every pass (copies included, views not) at its own size."""
    from probe import count, matched_seconds, passes, probe_seconds

    from h200cast.engine.model import sample, simulate_values
    from h200cast.results.scenarios import load_scenario
    from h200cast.scenario.ref import ScenarioRef

    rows = []
    for ref in (
        ScenarioRef("stance", "selective_approval"),
        ScenarioRef("path", "as_reported_2026_01"),
    ):
        sc = load_scenario(ref, vintage="2026-01-31")
        calls, elements, _ = count(sc, draws)
        by_size = passes(sc, draws)
        values = sample(sc, draws, 1).values
        engine, probe, matched = [], [], []
        for _ in range(3):  # interleaved: the engine, then each probe, three times
            t = time.perf_counter()
            simulate_values(sc, values, 1)
            engine.append(time.perf_counter() - t)
            probe.append(probe_seconds(calls, elements, repeat=1))
            matched.append(matched_seconds(by_size, repeat=1))
        e, p, m = min(engine), min(probe), min(matched)
        n_copies = sum(c for (kind, _), c in by_size.items() if kind == "copy")
        n_passes = sum(by_size.values()) - n_copies
        rows.append(
            (
                f"engine, {ref.kind} {ref.name}, {draws:,} draws x 36 months, steady state, against "
                f"a numpy probe of its {calls:,} numpy calls over arrays of their mean size, "
                f"{elements // calls:,} values (best of 3, interleaved)",
                f"{e:.2f} s against {p:.2f} s: {e / p:.1f}x the probe",
            )
        )
        rows.append(
            (
                f"the same against the matched probe: {n_passes:,} computing passes (each one "
                f"multiply) and {n_copies:,} copies, every one at its own size, no view counted",
                f"{e:.2f} s against {m:.2f} s: {e / m:.2f}x the matched probe",
            )
        )
    return rows


def _sweep_cli(spec: Path, out: Path, *extra: str) -> tuple[float, float]:
    """``h200cast sweep SPEC --out OUT ...`` in a fresh process: (wall, CPU seconds)."""
    from floor import cpu_children as cpu

    c, t = cpu(), time.perf_counter()
    cmd = [sys.executable, "-m", "h200cast", "sweep", str(spec), "--out", str(out), "--quiet"]
    subprocess.run([*cmd, *extra], capture_output=True, check=True)
    return time.perf_counter() - t, cpu() - c


def _spec(points: int) -> dict[str, Any]:
    """The benchmark sweep: one stance, one run per point, 10 inputs, chunks of 12,500 rows."""
    return {
        "name": "bench",
        "description": "benchmark",
        "design": {"method": "lhs", "points": points, "seed": 1},
        "inputs": {k: {"low": lo, "high": hi} for k, (lo, hi) in SWEEP_INPUTS.items()},
        "runs": {"stances": ["open_market"]},
        "outputs": ["us_fee_revenue_total_usd", "shipments_total_units"],
        "chunk_rows": 12_500,
    }


def _jobs_rows(f: Path, out: Path, points: int, repeat: int) -> list[tuple[str, str]]:
    """``h200cast sweep`` of ``points`` with ``--jobs 1`` and ``--jobs 2``, interleaved."""
    import shutil

    times: dict[str, list[tuple[float, float]]] = {"1": [], "2": []}
    for _ in range(repeat):  # interleaved: one worker, then two
        for jobs in times:
            shutil.rmtree(out, ignore_errors=True)
            times[jobs].append(_sweep_cli(f, out, "--jobs", jobs))
    one = statistics.median(w for w, _ in times["1"])
    two = statistics.median(w for w, _ in times["2"])
    rows = []
    for jobs, label in (("1", "in-process"), ("2", "2 local workers")):
        w = statistics.median(x for x, _ in times[jobs])
        c = statistics.median(x for _, x in times[jobs])
        rows.append(
            (
                f"`h200cast sweep`: {points:,} points x 1 stance, one run each, 10 inputs, "
                f"{-(-points // 12_500)} chunks, `--jobs {jobs}` ({label}; median of {repeat}, "
                "interleaved)",
                f"{w:.2f} s wall, {c:.2f} s CPU"
                + (f"; {one / two:.2f}x `--jobs 1`" if jobs == "2" else ""),
            )
        )
    return rows


def sweep_rows(repeat: int = 3) -> list[tuple[str, str]]:
    """Sweeps of 100,000 and 1,000,000 points of one stance (one run per point) with 1 and 2
    local workers, the first on a Dask cluster of 1 and 2 workers, and Sobol indices of 10
    inputs."""
    import tempfile

    import yaml

    from h200cast.explore import sweep
    from h200cast.explore.sensitivity import model_sobol

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "bench.yaml"
        f.write_text(yaml.safe_dump(_spec(100_000)))
        rows += _jobs_rows(f, Path(tmp) / "out", 100_000, repeat)
        big = Path(tmp) / "bench-1m.yaml"
        big.write_text(yaml.safe_dump(_spec(1_000_000)))
        rows += _jobs_rows(big, Path(tmp) / "out", 1_000_000, 2)
        rows += _dask_rows(sweep, f, Path(tmp))
    t = time.perf_counter()
    model_sobol(
        stance="open_market",
        ranges=SWEEP_INPUTS,
        outputs=["us_fee_revenue_total_usd"],
        base_samples=4096,
    )
    sobol_s = time.perf_counter() - t
    rows.append(
        (
            "Sobol first-order and total indices, 10 inputs, 4,096 base samples (49,152 runs), 200 bootstraps",
            f"{sobol_s:.2f} s",
        )
    )
    return rows


def _dask_rows(sweep: Any, spec_file: Path, tmp: Path) -> list[tuple[str, str]]:
    """Throughput of the sweep on a local Dask cluster of 1 and of 2 worker processes."""
    import shutil

    from distributed import LocalCluster

    spec = sweep.load_spec(spec_file)
    rate = {}
    for n in (1, 2):
        with LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            shutil.rmtree(tmp / "dask", ignore_errors=True)
            sweep.run_sweep(spec, tmp / "dask", scheduler=cluster.scheduler_address, quiet=True)
            shutil.rmtree(tmp / "dask", ignore_errors=True)  # the first run warms the workers
            t = time.perf_counter()
            m = sweep.run_sweep(spec, tmp / "dask", scheduler=cluster.scheduler_address, quiet=True)
            rate[n] = m["points"] / (time.perf_counter() - t)
    return [
        (
            f"the same sweep on a local Dask cluster of {n} worker{'s' if n > 1 else ''} "
            "(warm workers, 1 thread each)",
            f"{rate[n]:,.0f} points/s" + (f"; {rate[2] / rate[1]:.2f}x 1 worker" if n == 2 else ""),
        )
        for n in (1, 2)
    ]


if __name__ == "__main__":
    main()
