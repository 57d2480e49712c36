"""Reports over many runs: every stance and stance path, side by side.

For now the report is a summary table (``summary.csv``) and a manifest; the notebook
and HTML report build on it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from h200cast import __version__
from h200cast.atomic import atomic_dir
from h200cast.errors import InputError
from h200cast.params import STANCES, available, default_params_dir
from h200cast.results import Result, run, summary_csv
from h200cast.tables import comparison_table

HEADLINE = (
    "demand_total_units",
    "shipments_total_units",
    "shortfall_total_units",
    "us_fee_revenue_total_usd",
    "domestic_share_end",
    "months_to_domestic_share_50",
)


def runs_requested(
    stances: Sequence[str] | None, paths: Sequence[str] | None, params_dir: Path
) -> list[tuple[str, str]]:
    """(kind, name) of each run: all stances and paths unless some are named."""
    if stances is None and paths is None:
        stances, paths = list(STANCES), available(params_dir, "paths")
    out = [("stance", s) for s in (stances or [])] + [("path", p) for p in (paths or [])]
    if not out:
        raise InputError(
            "nothing to run: name at least one stance or path", key="--stances/--paths"
        )
    return out


def build_summary(
    *,
    stances: Sequence[str] | None,
    paths: Sequence[str] | None,
    draws: int,
    seed: int,
    out: Path,
    quiet: bool = False,
    params_dir: Path | None = None,
) -> int:
    """Run each stance and path, print a comparison table, write ``summary.csv`` and a manifest."""
    from tqdm import tqdm

    params_dir = Path(params_dir) if params_dir else default_params_dir()
    todo = runs_requested(stances, paths, params_dir)
    results: list[Result] = []
    for kind, name in tqdm(todo, desc="runs", unit="run", disable=quiet, file=sys.stderr):
        kw = {kind: name}
        results.append(run(**kw, draws=draws, seed=seed, params_dir=params_dir))
    manifest = {
        "package": "h200cast",
        "version": __version__,
        "draws": draws,
        "seed": seed,
        "runs": [
            {"kind": k, "name": n, "params_sha256": r.scenario.digest()}
            for (k, n), r in zip(todo, results, strict=True)
        ],
    }
    with atomic_dir(out) as tmp:
        (tmp / "summary.csv").write_text(summary_csv(results), encoding="utf-8")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(
        f"h200cast {__version__}: {len(results)} runs, {draws} draws each, seed {seed}; P50 [P5-P95]"
    )
    print(comparison_table({r.label: r.summary for r in results}, HEADLINE))
    print(f"\nwrote {out}/summary.csv")
    return 0
