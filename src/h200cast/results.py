"""One model run end to end: resolve the scenario, simulate, summarise, write.

This is the API that the CLI, the notebooks and the report share, so that each of
them runs the model the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from h200cast import __version__
from h200cast.atomic import atomic_dir
from h200cast.errors import InputError
from h200cast.metrics import BY_NAME, STATS, summarize, values
from h200cast.model import VARIABLES, Paths, simulate
from h200cast.params import Scenario, load_scenario


@dataclass
class Result:
    """A scenario, its monthly paths and its metrics."""

    scenario: Scenario
    paths: Paths
    stance: str | None
    path: str | None
    draws: int
    seed: int
    point: bool
    switching: str | None = None
    as_of: str | None = None
    later_evidence: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The stance, path or switching chain's name."""
        return self.stance or self.path or self.switching or "?"

    def stance_shares(self) -> dict[str, dict[str, float]]:
        """For each month, the share of draws (day-weighted) under each stance that occurs."""
        share = self.paths.stance_share
        return {
            m: {
                n: float(share[t, j])
                for j, n in enumerate(self.paths.stance_names)
                if share[t, j] > 0
            }
            for t, m in enumerate(self.paths.months)
        }

    @cached_property
    def values(self) -> dict[str, np.ndarray]:
        """Each metric for each draw."""
        return values(self.paths)

    @cached_property
    def summary(self) -> dict[str, dict[str, float]]:
        """P5 / P50 / P95 / mean of each metric."""
        return summarize(self.values)

    def identity(self) -> dict[str, Any]:
        """What was run: scenario, draws, seed and the hash of the resolved parameters."""
        return {
            "stance": self.stance,
            "path": self.path,
            "switching": self.switching,
            "draws": self.draws,
            "seed": self.seed,
            "point": self.point,
            "params_sha256": self.scenario.digest(),
        }

    def to_json(self) -> dict[str, Any]:
        """The ``run --json`` object."""
        return {
            **self.identity(),
            "as_of": self.as_of,
            "params_citing_later_evidence": self.later_evidence,
            "metrics": self.summary,
            "stance_shares": self.stance_shares(),
        }

    def manifest(self) -> dict[str, Any]:
        """What produced these results; no clock time, so that reruns are byte-identical."""
        return {
            "package": "h200cast",
            "version": __version__,
            **self.identity(),
            "sampling": self.scenario.sampling.method,
            "files": ["paths.parquet", "summary.csv", "scenario.yaml", "manifest.json"],
        }

    def write(self, out_dir: Path) -> Path:
        """Write paths, summary, resolved parameters and manifest, all or nothing."""
        import yaml

        with atomic_dir(Path(out_dir)) as tmp:
            write_paths_parquet(self.paths, tmp / "paths.parquet")
            (tmp / "summary.csv").write_text(summary_csv([self]), encoding="utf-8")
            (tmp / "scenario.yaml").write_text(
                yaml.safe_dump(
                    self.scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True
                ),
                encoding="utf-8",
            )
            (tmp / "manifest.json").write_text(
                json.dumps(self.manifest(), indent=2) + "\n", encoding="utf-8"
            )
        return Path(out_dir)


def summary_csv(results: Iterable[Result]) -> str:
    """``summary.csv``: one row per run and metric, floats written exactly (``repr``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "metric", "unit", *STATS, "description"])
    for res in results:
        for name, stats in res.summary.items():
            m = BY_NAME[name]
            w.writerow([res.label, name, m.unit, *(repr(stats[s]) for s in STATS), m.description])
    return buf.getvalue()


def write_paths_parquet(paths: Paths, file: Path) -> None:
    """Monthly paths as a wide table: one row per draw and month, one column per variable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    D, T = paths.n_draws, paths.n_months
    cols: dict[str, Any] = {
        "draw": pa.array(np.repeat(np.arange(D, dtype=np.int32), T)),
        "month": pa.array(np.tile(np.array(paths.months), D)).dictionary_encode(),
        "stance": pa.array(paths.stance_of_draw().reshape(-1)).dictionary_encode(),
    }
    for name in VARIABLES:
        cols[name] = pa.array(np.ascontiguousarray(paths[name]).reshape(-1))
    table = pa.table(cols)
    meta = {f"unit.{k}": u for k, (u, _) in VARIABLES.items()}
    table = table.replace_schema_metadata({**{k.encode(): v.encode() for k, v in meta.items()}})
    pq.write_table(table, file, compression="zstd")


def run(
    *,
    stance: str | None = None,
    path: str | None = None,
    switching: str | None = None,
    overrides: Iterable[str] = (),
    draws: int = 1000,
    seed: int = 20260131,
    point: bool = False,
    params_dir: Path | None = None,
    as_of: dt.date | None = None,
) -> Result:
    """Resolve a stance (or path) with overrides, and run the model.

    Parameters
    ----------
    stance, path, switching
        Exactly one: a stance name held throughout, a stance path's name, or a
        switching chain's name (Beijing's stance sampled per draw).
    overrides
        ``KEY=VALUE`` strings (dotted keys as in ``h200cast params show --json``).
    draws, seed
        Monte Carlo draws and the seed of every sampling stream.
    point
        One run with every parameter at its central value.
    params_dir
        Parameter folder, by default the checkout's ``params/``.
    as_of
        Refit estimated parameters on evidence published by this date; hand-set
        parameters that cite later evidence are listed in ``later_evidence``.
    """
    for key, value, least in (
        ("draws", draws, 1),
        ("seed", seed, 0),
    ):  # notebooks pass these as typed
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise InputError(f"expected a whole number >= {least}", key=key, value=repr(value))
    scenario = load_scenario(
        stance=stance,
        path=path,
        switching=switching,
        overrides=tuple(overrides),
        params_dir=params_dir,
        as_of=as_of,
    )
    paths = simulate(scenario, draws=draws, seed=seed, point=point)
    later = params_citing_after(scenario, as_of) if as_of else []
    return Result(
        scenario,
        paths,
        stance,
        path,
        1 if point else draws,
        seed,
        point,
        switching,
        as_of.isoformat() if as_of else None,
        later,
    )


def params_citing_after(scenario: Scenario, date: dt.date) -> list[str]:
    """Dotted keys of inputs (parameters, path steps, chain rows) citing evidence after ``date``."""
    from h200cast.evidence import cached
    from h200cast.params import cited

    facts = cached().facts
    return [
        ".".join(loc[:-1])
        for loc, ids in cited(scenario.model_dump(mode="python"))
        if any(facts[i].date > date for i in ids)
    ]
