"""One model run end to end: resolve the scenario, simulate, summarise, write.

:func:`run` is what the CLI, the notebooks, the report and :func:`h200cast.run` share,
so that each of them runs the model the same way. A :class:`Result` holds the resolved
scenario, the monthly paths (arrays of shape (draws, months)) and the metrics.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from h200cast.engine.limits import check_draws
from h200cast.engine.metrics import summarize, values
from h200cast.engine.model import Paths, simulate
from h200cast.errors import InputError
from h200cast.io import manifest
from h200cast.io.atomic import atomic_dir
from h200cast.results.conditioning import Conditioning
from h200cast.results.scenarios import load_scenario
from h200cast.results.store import summary_csv, write_paths_parquet
from h200cast.scenario import calendar
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Result:
    """A scenario, its monthly paths and its metrics."""

    scenario: Scenario
    paths: Paths
    ref: ScenarioRef
    draws: int
    seed: int
    point: bool
    as_of: str | None = None
    later_evidence: list[str] = field(default_factory=list)
    conditioning: Conditioning | None = None

    @property
    def vintage(self) -> str | None:
        """The vintage the run was made at."""
        return self.conditioning.vintage if self.conditioning else None

    @property
    def origin(self) -> str | None:
        """The forecast origin: the first month not observed at the vintage."""
        return self.conditioning.origin if self.conditioning else None

    @property
    def label(self) -> str:
        """The stance, path or switching chain's name."""
        return self.ref.name

    @property
    def stance(self) -> str | None:
        """The stance held throughout, if the run holds one."""
        return self.ref.stance

    @property
    def path(self) -> str | None:
        """The stance path followed, if any."""
        return self.ref.path

    @property
    def switching(self) -> str | None:
        """The switching chain sampled, if any."""
        return self.ref.switching

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
    def metrics(self) -> dict[str, np.ndarray]:
        """Each metric for each draw: name -> array of shape (draws,)."""
        return values(self.paths)

    @cached_property
    def stats(self) -> dict[str, dict[str, float]]:
        """P5 / P50 / P95 / mean of each metric: name -> {stat: value}."""
        return summarize(self.metrics)

    def summary(self) -> pd.DataFrame:
        """The metrics as a table: one row per metric with its unit, P5, P50, P95 and mean."""
        import pandas as pd

        from h200cast.engine.metrics import BY_NAME

        return pd.DataFrame(
            [
                {"metric": k, "unit": BY_NAME[k].unit, **v, "description": BY_NAME[k].description}
                for k, v in self.stats.items()
            ]
        )

    def tidy(self, variables: Iterable[str] | None = None) -> pd.DataFrame:
        """Monthly paths as a tidy table: draw, month, variable, value (``variables``: all by default)."""
        import pandas as pd

        from h200cast.engine.model import VARIABLES

        names = list(variables) if variables is not None else list(VARIABLES)
        D, T = self.paths.n_draws, self.paths.n_months
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "draw": np.repeat(np.arange(D), T),
                        "month": np.tile(self.paths.months, D),
                        "variable": name,
                        "value": np.asarray(self.paths[name]).reshape(-1),
                    }
                )
                for name in names
            ],
            ignore_index=True,
        )

    def identity(self) -> dict[str, Any]:
        """What was run: scenario, draws, seed and the hash of the resolved parameters."""
        return {
            "stance": self.ref.stance,
            "path": self.ref.path,
            "switching": self.ref.switching,
            "draws": self.draws,
            "seed": self.seed,
            "point": self.point,
            "params_sha256": self.scenario.digest(),
            **({"vintage": self.vintage, "origin": self.origin} if self.conditioning else {}),
        }

    def to_json(self) -> dict[str, Any]:
        """The ``run --json`` object."""
        return {
            **self.identity(),
            "as_of": self.as_of,
            "params_citing_later_evidence": self.later_evidence,
            "conditioning": self.conditioning.as_dict() if self.conditioning else None,
            "metrics": self.stats,
            "stance_shares": self.stance_shares(),
        }

    def manifest(self) -> dict[str, Any]:
        """What produced these results; no clock time, so that reruns are byte-identical."""
        return manifest.header(
            **self.identity(),
            sampling=self.scenario.sampling.method,
            files=["paths.parquet", "summary.csv", "scenario.yaml", "manifest.json"],
        )

    def save(self, out_dir: Path) -> Path:
        """Write ``paths.parquet``, ``summary.csv``, ``scenario.yaml`` and ``manifest.json``
        into ``out_dir`` (a new or empty folder, or an earlier output, which is replaced)."""
        return self.write(out_dir)

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
            manifest.write(tmp, self.manifest())
        return Path(out_dir)


def run(
    ref: ScenarioRef,
    *,
    overrides: Iterable[str] = (),
    draws: int = 1000,
    seed: int = 20260131,
    point: bool = False,
    params_dir: Path | None = None,
    as_of: dt.date | None = None,
    vintage: str | dt.date | None = None,
) -> Result:
    """Resolve a scenario with overrides at a vintage, and run the model on the months not yet observed.

    Parameters
    ----------
    ref
        The stance held throughout, the stance path, or the switching chain.
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
    vintage
        The frozen parameter set and observations as of this date (``params/vintages/``;
        the latest when None). The months before its origin are observed: only draws
        that reproduce them are kept (see :mod:`h200cast.results.conditioning`).
    """
    for key, value, least in (
        ("draws", draws, 1),
        ("seed", seed, 0),
    ):  # notebooks pass these as typed
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise InputError(f"expected a whole number >= {least}", key=key, value=repr(value))
    from h200cast import settings
    from h200cast.results import conditioning as cond
    from h200cast.scenario.load import load_vintage

    scenario = load_scenario(
        ref, overrides=tuple(overrides), params_dir=params_dir, as_of=as_of, vintage=vintage
    )
    v, _ = load_vintage(Path(params_dir) if params_dir else settings.params_dir(), vintage)
    check_draws(1 if point else draws, scenario.calendar.horizon_months)
    months = calendar.month_labels(scenario.calendar.start, scenario.calendar.horizon_months)
    found = cond.constraints(v, scenario, months)
    if not point and any(not c.by_construction for c in found):
        paths, conditioned = cond.simulate_conditioned(scenario, v, found, draws, seed)
    else:
        paths = simulate(scenario, draws=draws, seed=seed, point=point)
        conditioned = cond.Conditioning(v.name, v.origin, tuple(found), 0, 0, 0, 0, {})
    later = params_citing_after(scenario, as_of) if as_of else []
    return Result(
        scenario,
        paths,
        ref,
        1 if point else draws,
        seed,
        point,
        as_of.isoformat() if as_of else None,
        later,
        conditioned,
    )


def params_citing_after(scenario: Scenario, date: dt.date) -> list[str]:
    """Dotted keys of inputs (parameters, path steps, chain rows) citing evidence after ``date``."""
    from h200cast.estimation.evidence import cached
    from h200cast.scenario.load import cited

    facts = cached().facts
    return [
        ".".join(loc[:-1])
        for loc, ids in cited(scenario.model_dump(mode="python"))
        if any(facts[i].date > date for i in ids)
    ]
