"""``h200cast notebooks``: execute the notebooks at their defaults with papermill."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from h200cast.cli import common


def add(sub: Any) -> None:
    """Register the command."""
    nbp = sub.add_parser("notebooks", help="execute the notebooks at their defaults (papermill)")
    nbp.add_argument("names", nargs="*", metavar="NAME", help="notebooks to run (default: all)")
    nbp.add_argument(
        "--refresh",
        action="store_true",
        help="write the executed notebooks back in place (what nbval checks against)",
    )
    nbp.add_argument(
        "--jobs", type=common.positive_int, default=None, help="worker processes (default: cores)"
    )
    nbp.add_argument("--quiet", action="store_true", help="no progress bar")

    nbp.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Execute the notebooks (in place with --refresh)."""
    import tempfile

    from h200cast.report.runner import Job, execute_many, notebook_paths

    paths = notebook_paths(args.names)
    with tempfile.TemporaryDirectory(prefix="h200cast-nb-") as tmp:
        jobs = [
            Job(p, p if args.refresh else Path(tmp) / p.name, {}, clean=args.refresh) for p in paths
        ]
        outcomes = execute_many(jobs, args.jobs, progress=not args.quiet)
    failed = 0
    for o in outcomes:
        status = "ok" if o.ok else "FAILED"
        print(
            f"{status:6}  {o.seconds:5.1f} s  {o.job.notebook.name}"
            + (f"\n        {o.error}" if o.error else "")
        )
        failed += not o.ok
    return 1 if failed else 0
