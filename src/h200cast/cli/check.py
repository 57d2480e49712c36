"""``h200cast check``: the declarative model checks of ``params/checks.yaml``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add(sub: Any) -> None:
    """Register the command."""
    ck = sub.add_parser(
        "check", help="run the model checks in params/checks.yaml; exit 1 when any fails"
    )
    ck.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="checks file (default params/checks.yaml)",
    )

    ck.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Run the model checks; exit 1 when any fails."""
    from h200cast.explore.checks import default_file, load_checks, run_checks
    from h200cast.views.tables import checks_table

    file = args.file or default_file()
    results = run_checks(load_checks(file))
    print(checks_table(results))
    failed = sum(not r.passed for r in results)
    print(f"\n{len(results) - failed} of {len(results)} checks passed ({file})")
    return 1 if failed else 0
