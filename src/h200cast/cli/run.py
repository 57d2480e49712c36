"""``h200cast run``: one stance, path or switching chain; a table, JSON or saved files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from h200cast import __version__
from h200cast.cli import common


def add(sub: Any) -> None:
    """Register ``run``."""
    r = sub.add_parser("run", help="run the model for one stance or stance path")
    common.scenario_args(r)
    r.add_argument(
        "--draws",
        type=common.positive_int,
        default=common.DEFAULT_DRAWS,
        help=f"Monte Carlo draws (default {common.DEFAULT_DRAWS})",
    )
    r.add_argument(
        "--seed",
        type=common.seed,
        default=common.DEFAULT_SEED,
        help=f"seed (default {common.DEFAULT_SEED})",
    )
    r.add_argument(
        "--point", action="store_true", help="one run with every parameter at its central value"
    )
    r.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    r.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write paths.parquet, summary.csv, scenario.yaml, manifest.json into DIR (a new or "
        "empty folder, or an earlier output of h200cast, which is replaced)",
    )
    r.add_argument(
        "--as-of",
        type=common.date,
        metavar="DATE",
        help="refit estimated parameters on evidence published by DATE (YYYY-MM-DD)",
    )
    common.add_vintage(r)
    r.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Run the model and print (or write) its results."""
    from h200cast.io.atomic import check_out_dir
    from h200cast.results.result import run
    from h200cast.scenario.ref import ScenarioRef
    from h200cast.views.tables import metrics_table, stance_table

    if args.out:
        check_out_dir(args.out)  # before the model runs, so that a bad --out fails at once
    res = run(
        ScenarioRef.of(args.stance, args.path, args.switching),
        overrides=args.overrides,
        draws=args.draws,
        seed=args.seed,
        point=args.point,
        params_dir=args.params_dir,
        as_of=args.as_of,
        vintage=args.vintage,
    )
    if res.later_evidence:
        shown = ", ".join(res.later_evidence[:3]) + (", ..." if len(res.later_evidence) > 3 else "")
        print(
            f"h200cast: note: as of {args.as_of}, {len(res.later_evidence)} hand-set parameters still cite "
            f"later evidence ({shown}); see params_citing_later_evidence in --json",
            file=sys.stderr,
        )
    if args.out:
        res.write(args.out)
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
        return 0
    draws = (
        "point estimate (central values)" if res.point else f"{res.draws} draws, seed {res.seed}"
    )
    what = {"stance": "stance", "path": "path", "switching": "switching chain"}[res.ref.kind]
    print(
        f"h200cast {__version__}: {what} {res.ref.name}, {draws}, "
        f"{res.scenario.calendar.horizon_months} months from {res.scenario.calendar.start}"
    )
    if res.conditioning and res.conditioning.simulated:
        print(res.conditioning.line())
    print(metrics_table(res.stats))
    if res.switching:
        print("\nshare of draws in each stance:")
        print(stance_table(res.stance_shares()))
    if args.out:
        print(f"\nwrote {args.out}/ (paths.parquet, summary.csv, scenario.yaml, manifest.json)")
    return 0
