"""``h200cast sweep``: evaluate a sweep spec in chunks; Sobol indices, scenario discovery and
the spec's expectations (exit 1 when one fails, 2 for bad input)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from h200cast.cli import common


def add(sub: Any) -> None:
    """Register the command."""
    sw = sub.add_parser(
        "sweep",
        help="evaluate a parameter sweep; Sobol indices, scenario discovery; exit 1 when an "
        "expectation of the spec fails",
    )
    sw.add_argument("spec", metavar="SPEC", help="a file, or a name in params/sweeps/")
    sw.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: sweeps/NAME/)"
    )
    sw.add_argument(
        "--jobs",
        type=common.positive_int,
        default=None,
        help="local worker processes (default: one per core; 1: in-process)",
    )
    sw.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786",
    )
    sw.add_argument(
        "--resume", action="store_true", help="keep the finished chunks of an interrupted sweep"
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.add_argument("--params-dir", type=Path, default=None)
    common.add_vintage(sw)

    sw.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Evaluate a sweep spec; write its results, Sobol indices, PRIM box and expectations;
    exit 1 when an expectation fails."""
    from h200cast.explore import sweep
    from h200cast.views.tables import expectations_table, sobol_table

    spec = sweep.load_spec(args.spec, args.params_dir, args.vintage)
    out = args.out or Path("sweeps") / spec.name
    m = sweep.run_sweep(
        spec,
        out,
        jobs=args.jobs,
        scheduler=args.scheduler,
        resume=args.resume,
        quiet=args.quiet,
        params_dir=args.params_dir,
    )
    print(
        f"sweep {spec.name}: {m['points']} points x {len(spec.run_names())} runs = {m['rows']} rows "
        f"({m['chunks']} chunks, {m['chunks_reused']} reused) in {m['seconds']} s on {m['scheduler']}; "
        f"wrote {out}/results.parquet"
    )
    res = sweep.analyse(spec, out, args.params_dir)
    if res.sobol is not None:
        s = res.sobol
        print(
            f"\nSobol indices under {res.sobol_run} ({s.evaluations} model runs; "
            f"{int(100 * s.confidence)}% bootstrap intervals):"
        )
        print(sobol_table(s.frame()))
    if res.box is not None and spec.discovery is not None:
        box = res.box
        print(
            f"\nScenario discovery (PRIM) under {res.discovery_run} for "
            f"{sweep.outcome_text(spec.discovery)}: coverage "
            f"{box.coverage:.2f}, density {box.density:.2f}, {box.mass:.1%} of the points"
        )
        for rule in box.rules() or [
            "(no restriction: the outcome is spread over the whole design)"
        ]:
            print(f"  {rule}")
    if not res.expectations:
        return 0
    failed = res.failed
    held = len(res.expectations) - len(failed)
    print(f"\nExpectations ({held} of {len(res.expectations)} hold; {out}/expectations.json):")
    print(expectations_table(res.expectations))
    for r in failed:
        note = f" ({r.expectation.note})" if r.expectation.note else ""
        print(f"FAILED {r.key}: {r.text()}: observed {r.observed:.4g}{note}")
    return 1 if failed else 0
