"""``h200cast score``: each vintage's forecast scored against what was observed after it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from h200cast.cli import common


def add(sub: Any) -> None:
    """Register ``score``."""
    sc = sub.add_parser(
        "score",
        help="score each vintage against the observations published after it (CRPS, PIT, Brier)",
        description="Run each vintage's own chain (conditioned on what it had observed) and "
        "score it against every observation published after its date, beside Nvidia's "
        "guidance, a no-change forecast and the previous vintage. Writes scores.csv, "
        "events.csv, coverage.csv, not_scored.csv, scorecard.txt and manifest.json.",
    )
    sc.add_argument(
        "--vintage",
        metavar="DATE",
        action="append",
        default=[],
        help="a vintage to score (repeatable; default: every vintage)",
    )
    sc.add_argument(
        "--draws", type=common.positive_int, default=2000, help="draws per forecast (>= 100)"
    )
    sc.add_argument("--seed", type=common.seed, default=common.DEFAULT_SEED)
    sc.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to write (default: reports/scorecard/ in the checkout; replaced whole)",
    )
    sc.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Score the vintages, print the scorecard and write its tables."""
    from h200cast import settings
    from h200cast.io import manifest
    from h200cast.io.atomic import atomic_dir, check_out_dir
    from h200cast.results import scorecard as sc
    from h200cast.views.tables import scorecard_text

    names = sc.check_request(args.vintage, args.draws)
    out = args.out or settings.reports_dir() / "scorecard"
    check_out_dir(out)
    cards = [sc.score_vintage(n, draws=args.draws, seed=args.seed) for n in names]
    text = scorecard_text(cards)
    files = {
        "scores.csv": sc.rows_csv(cards),
        "events.csv": sc.events_csv(cards),
        "coverage.csv": sc.coverage_csv(cards),
        "not_scored.csv": sc.not_scored_csv(cards),
        "scorecard.txt": text,
    }
    with atomic_dir(out) as tmp:
        for name, body in files.items():
            (tmp / name).write_text(body, encoding="utf-8")
        manifest.write(
            tmp,
            manifest.header(
                vintages=names, draws=args.draws, seed=args.seed, files=[*files, "manifest.json"]
            ),
        )
    sys.stdout.write(text)
    print(f"wrote {out}/scores.csv, events.csv, coverage.csv, not_scored.csv, scorecard.txt")
    return 0
