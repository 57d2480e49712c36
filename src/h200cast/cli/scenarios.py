"""``h200cast scenarios``: bear / base / bull with their probabilities, and signposts to watch."""

from __future__ import annotations

import argparse
import json
from typing import Any

from h200cast.cli import common


def add(sub: Any) -> None:
    """Register ``scenarios``."""
    scn = sub.add_parser(
        "scenarios",
        help="bear / base / bull scenarios with their probabilities, and signposts to watch",
    )
    scn.add_argument(
        "--switching", default="from_2026_01_31", help="switching chain (default from_2026_01_31)"
    )
    scn.add_argument("--draws", type=common.positive_int, default=20000)
    scn.add_argument("--seed", type=common.seed, default=common.DEFAULT_SEED)
    scn.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    scn.add_argument("--json", action="store_true", help="print JSON instead of tables")
    scn.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Simulate the chain and print the scenario and signpost tables."""
    from h200cast.engine.limits import check_draws
    from h200cast.engine.model import simulate
    from h200cast.explore import scenarios
    from h200cast.results.scenarios import load_scenario
    from h200cast.views.scenarios import render

    sc = load_scenario(switching=args.switching, overrides=args.overrides)
    check_draws(args.draws, sc.calendar.horizon_months)  # refused before any array is made
    p = simulate(sc, draws=args.draws, seed=args.seed)
    scen, signs = scenarios.scenario_table(p), scenarios.signpost_table(p)
    if args.json:
        doc = {
            "switching": args.switching,
            "draws": args.draws,
            "seed": args.seed,
            "scenarios": scen,
            "signposts": signs,
        }
        print(json.dumps(doc, indent=2, allow_nan=False, default=str).replace("NaN", "null"))
    else:
        print(f"{args.switching}: {args.draws:,} draws, seed {args.seed}\n")
        print(render(scen, signs))
    return 0
