"""``h200cast estimate`` and ``h200cast backtest``: the statsmodels fits and their backtests."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from h200cast.cli import common
from h200cast.errors import InputError


def add(sub: Any) -> None:
    """Register ``estimate`` and ``backtest``."""
    _add_estimate(sub)
    _add_backtest(sub)


def _add_estimate(sub: Any) -> None:
    es_ = sub.add_parser(
        "estimate",
        help="refit the estimated parameters of a vintage, print the fits and store them",
        description="Refit each estimated parameter on the rows of data/history/ published by "
        "the vintage's date, print the fit, and write it with a record of the data used to "
        "params/vintages/DATE/estimates/NAME.yaml (or --out DIR). A vintage is frozen: a "
        "changed fit fails its recorded hash until `h200cast params record` records why. With "
        "--as-of the refit uses only rows published by DATE and is a view of the past: it is "
        "printed, and written only with --out DIR, never over the stored estimates.",
    )
    es_.add_argument("names", nargs="*", metavar="NAME", help="estimates to fit (default: all)")
    common.add_vintage(es_)
    es_.add_argument(
        "--as-of",
        type=common.date,
        metavar="DATE",
        help="use only rows published by DATE; prints the fits, writes them only with --out",
    )
    wr = es_.add_mutually_exclusive_group()
    wr.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write NAME.yaml into DIR instead of the vintage's estimates/",
    )
    wr.add_argument("--dry-run", action="store_true", help="print the fits, write nothing")
    wr.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail when the vintage's estimates differ from a refit",
    )
    wr.add_argument(
        "--write",
        action="store_true",
        help="store the fits in the vintage's estimates/ (the default; kept for older scripts)",
    )
    es_.set_defaults(func=cmd_estimate)


def _add_backtest(sub: Any) -> None:
    bt = sub.add_parser(
        "backtest",
        help="refit estimates up to cutoffs, score the later observations, write backtest.csv",
    )
    bt.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to write backtest.csv, observations.csv (with --forecast) and manifest.json "
        "(default: reports/backtest/ in the checkout; replaced whole)",
    )
    bt.add_argument(
        "--forecast",
        type=Path,
        metavar="DIR",
        help="also score data/observations/ against a saved run (h200cast run --out DIR)",
    )
    bt.add_argument(
        "--observations",
        type=Path,
        metavar="FILE",
        help="observations file (default data/observations/observations.csv)",
    )
    bt.set_defaults(func=cmd_backtest)


def cmd_estimate(args: argparse.Namespace) -> int:
    """Refit the estimates; print them, store them, or check the stored ones."""
    from h200cast import settings
    from h200cast.estimation.estimate import ESTIMATES, fit, to_yaml
    from h200cast.io.atomic import atomic_write_texts
    from h200cast.views.tables import fit_text

    if args.write and args.as_of:
        raise InputError(
            "a vintage's estimates use the evidence published by its date; drop --as-of to "
            "write, or write the as-of fits elsewhere with --out DIR",
            key="--as-of",
            value=args.as_of.isoformat(),
        )
    if args.out:
        common.check_folder(args.out)
    vintage = common.vintage_name(args)
    names = args.names or list(ESTIMATES)
    fits, skipped = [], []
    for n in names:
        try:
            fits.append(fit(n, args.as_of or dt.date.fromisoformat(vintage)))
        except InputError as err:
            # As of an early date some estimates have too little history; fit the others.
            if not (args.as_of and not args.names):
                raise
            skipped.append(err)
    if not fits:
        raise skipped[0]
    for skip in skipped:
        print(f"h200cast: skipped, {skip.render()}", file=sys.stderr)
    if args.check:
        return _check_estimates(fits, vintage)
    for f in fits:
        print(fit_text(f))
        print()
    if args.dry_run:
        return 0
    if args.as_of and not args.out:
        print(
            f"not written: a refit as of {args.as_of} is a view of the past; the vintage "
            f"{vintage} keeps its own fits (give --out DIR to save these)"
        )
        return 0
    folder = args.out or settings.estimates_dir(vintage)
    files = {folder / f"{f.name}.yaml": to_yaml(f) for f in fits}
    atomic_write_texts(files, key="--out" if args.out else None)  # all of them or none
    for target in files:
        print(f"wrote {target}")
    return 0


def _check_estimates(fits: list[Any], vintage: str) -> int:
    import math

    from h200cast import settings
    from h200cast.estimation.estimate import to_yaml
    from h200cast.io.yamlfile import load_yaml

    for f in fits:
        target = settings.estimates_dir(vintage) / f"{f.name}.yaml"
        stored = load_yaml(target)
        for k, v in f.spec.items():
            old = stored.get("spec", {}).get(k)
            same = (
                math.isclose(old, v, rel_tol=1e-4, abs_tol=1e-9)
                if isinstance(v, float)
                else old == v
            )
            if not same:
                raise InputError(
                    f"stale: a refit gives {k}={v!r}; run `h200cast estimate`",
                    file=target,
                    key=f"spec.{k}",
                    value=old,
                )
        import yaml

        where = _first_difference(yaml.safe_load(to_yaml(f)), stored)
        if where is not None:
            raise InputError(
                "differs from what `h200cast estimate` writes (a file it wrote is never edited "
                "by hand: cut short, or changed); run `h200cast estimate`",
                file=target,
                key=where or None,
            )
        print(f"ok  {target}")
    return 0


def _first_difference(want: Any, got: Any, at: str = "") -> str | None:
    """The dotted place where ``got`` first differs from ``want`` (floats to 1e-6), or None."""
    import math

    if isinstance(want, dict) and isinstance(got, dict):
        for k in want.keys() | got.keys():
            if k not in want or k not in got:
                return f"{at}.{k}".lstrip(".")
            inner = _first_difference(want[k], got[k], f"{at}.{k}")
            if inner is not None:
                return inner
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{at} ({len(got)} items, expected {len(want)})".lstrip(".")
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            inner = _first_difference(a, b, f"{at}[{i}]")
            if inner is not None:
                return inner
        return None
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return None if math.isclose(want, got, rel_tol=1e-6, abs_tol=1e-9) else at.lstrip(".")
    return None if want == got else at.lstrip(".")


def cmd_backtest(args: argparse.Namespace) -> int:
    """Backtest the estimates; with --forecast, score observations against a saved run."""
    from h200cast import settings
    from h200cast.estimation import backtest
    from h200cast.io import manifest
    from h200cast.io.atomic import atomic_dir, check_out_dir
    from h200cast.results import scoring
    from h200cast.views.tables import backtest_text

    out = args.out or settings.params_dir().parent / "reports" / "backtest"
    check_out_dir(out)
    # read the observations before the (slower) backtests, so that a bad row fails at once
    observations = scoring.load_observations(args.observations) if args.forecast else []
    if args.forecast:
        scoring.load_saved_run(args.forecast)  # a damaged run fails now, not after the backtests
    bt = backtest.run_all()
    scores = bt.scores
    print("Backtests (pseudo-out-of-sample: cutoffs are on the period a figure describes)")
    print(backtest_text(scores, backtest.coverage(scores)))
    for line in bt.skipped:
        print(f"skipped: {line}")
    observed = []
    if args.forecast:
        observed = scoring.score_observations(args.forecast, observations)
        print(f"\nObservations scored against {args.forecast}:")
        print(
            backtest_text(observed, backtest.coverage(observed))
            if observed
            else "(no observations in range)"
        )
    files = ["backtest.csv", *(["observations.csv"] if args.forecast else []), "manifest.json"]
    record = manifest.header(
        command="backtest",
        forecast=str(args.forecast) if args.forecast else None,
        observations=len(observed),
        skipped=bt.skipped,
        files=files,
    )
    with atomic_dir(out) as tmp:
        (tmp / "backtest.csv").write_text(backtest.to_csv(scores), encoding="utf-8")
        if args.forecast:
            (tmp / "observations.csv").write_text(backtest.to_csv(observed), encoding="utf-8")
        manifest.write(tmp, record)
    print(f"\nwrote {out}/ ({', '.join(files)})")
    return 0
