"""``h200cast report``: the offline HTML report for every stance and path."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from h200cast.cli import common


def add(sub: Any) -> None:
    """Register the command."""
    rep = sub.add_parser("report", help="build the offline HTML report for every stance and path")
    rep.add_argument(
        "--stances", nargs="*", metavar="NAME", default=None, help="stances (default: all six)"
    )
    rep.add_argument(
        "--paths", nargs="*", metavar="NAME", default=None, help="stance paths (default: all)"
    )
    rep.add_argument(
        "--switching",
        nargs="*",
        metavar="NAME",
        default=None,
        help="switching chains to run beside them (default: none; with no NAME: the vintage's own)",
    )
    rep.add_argument("--draws", type=common.positive_int, default=common.DEFAULT_DRAWS)
    rep.add_argument("--seed", type=common.seed, default=common.DEFAULT_SEED)
    rep.add_argument(
        "--jobs",
        type=common.positive_int,
        default=None,
        help="notebook worker processes (default: cores)",
    )
    rep.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="where to write (default: reports/report-<time>/, then reports/latest points at it)",
    )
    rep.add_argument("--force", action="store_true", help="run every notebook, reusing nothing")
    rep.add_argument("--quiet", action="store_true", help="no progress bars")
    rep.add_argument(
        "--analyses",
        nargs="*",
        metavar="NOTEBOOK",
        default=None,
        help="cross-stance notebooks to include (default: 04, 05, 06 and 07)",
    )
    rep.add_argument(
        "--params-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="parameters folder for the model and every page (default: params/)",
    )
    rep.add_argument(
        "--sweep",
        nargs="+",
        type=Path,
        default=[],
        metavar="DIR",
        help="a finished `h200cast sweep` folder: a page with its Sobol indices and PRIM box",
    )
    common.add_vintage(rep)
    rep.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Build the report."""
    from h200cast.report.build import ANALYSES, build_report

    return build_report(
        jobs=args.jobs,
        force=args.force,
        analyses=ANALYSES if args.analyses is None else args.analyses,
        stances=args.stances,
        paths=args.paths,
        switching=args.switching,
        sweeps=args.sweep,
        draws=args.draws,
        seed=args.seed,
        out=args.out,
        quiet=args.quiet,
        params_dir=args.params_dir,
        vintage=common.vintage_name(args),
    )
