"""One model run end to end: resolve the scenario, simulate, summarise, write.

:func:`run` is what the CLI, the notebooks, the report and :func:`h200cast.run` share,
so that each of them runs the model the same way. A :class:`Result` holds the resolved
scenario, the monthly paths (arrays of shape (draws, months)) and the metrics.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from h200cast.engine.limits import STREAM_CELLS, check_draws, streamed
from h200cast.engine.metrics import summarize, values
from h200cast.engine.model import Paths, chunk_draws, simulate, simulate_chunks
from h200cast.errors import InputError
from h200cast.io import manifest
from h200cast.io.atomic import atomic_dir
from h200cast.results.conditioning import Conditioning
from h200cast.results.scenarios import load_scenario
from h200cast.results.store import PathsWriter, summary_csv, write_paths_parquet
from h200cast.scenario import calendar
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Streamed:
    """What a run made in chunks keeps: each draw's metrics and the stance shares.

    Its monthly paths are not kept; ``replay`` runs it again, passing each block of kept
    draws to a sink, which is how :meth:`Result.write` writes ``paths.parquet``.
    """

    metrics: dict[str, np.ndarray]
    months: list[str]
    stance_names: tuple[str, ...]
    stance_share: np.ndarray  # (months, stances)
    replay: Callable[[Callable[[Paths], None]], object] = field(repr=False)


class _Collect:
    """A sink for blocks of draws: their metrics and stance weights, in order."""

    def __init__(self) -> None:
        self.metrics: dict[str, list[np.ndarray]] = {}
        self.weights: np.ndarray | None = None
        self.n = 0
        self.months: list[str] = []
        self.names: tuple[str, ...] = ()

    def __call__(self, part: Paths) -> None:
        for k, x in values(part).items():  # copies: a metric may be a view of a whole series
            self.metrics.setdefault(k, []).append(np.array(x))
        w = part.stance_weights
        add = w.sum(axis=0) if w.shape[0] > 1 else w[0] * part.n_draws
        self.weights = add if self.weights is None else self.weights + add
        self.n += part.n_draws
        self.months, self.names = part.months, part.stance_names

    def streamed(self, replay: Callable[[Callable[[Paths], None]], object]) -> Streamed:
        assert self.weights is not None
        return Streamed(
            {k: np.concatenate(x) for k, x in self.metrics.items()},
            self.months,
            self.names,
            self.weights / self.n,
            replay,
        )


@dataclass
class Result:
    """A scenario, its monthly paths and its metrics.

    A run of more than :data:`~h200cast.engine.limits.STREAM_CELLS` draw-months is made
    in chunks and keeps no paths (``held`` is None, ``streamed`` holds its metrics):
    :attr:`paths` then says so, and :meth:`write` runs it again to write them.
    """

    scenario: Scenario
    held: Paths | None
    ref: ScenarioRef
    draws: int
    seed: int
    point: bool
    as_of: str | None = None
    later_evidence: list[str] = field(default_factory=list)
    conditioning: Conditioning | None = None
    streamed: Streamed | None = None

    @property
    def paths(self) -> Paths:
        """The monthly paths, arrays of shape (draws, months) by variable."""
        if self.held is None:
            raise InputError(
                f"a run of {self.draws:,} draws x {self.scenario.calendar.horizon_months} months "
                "is made in chunks and keeps no monthly paths in memory; expected at most "
                f"{STREAM_CELLS:,} draw-months for .paths, or write them with --out "
                "(paths.parquet)",
                key="draws",
                value=self.draws,
            )
        return self.held

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
        if self.streamed is not None:
            st = self.streamed
            share, names, months = st.stance_share, st.stance_names, st.months
        else:
            share, names, months = (
                self.paths.stance_share,
                self.paths.stance_names,
                self.paths.months,
            )
        return {
            m: {n: float(share[t, j]) for j, n in enumerate(names) if share[t, j] > 0}
            for t, m in enumerate(months)
        }

    @cached_property
    def metrics(self) -> dict[str, np.ndarray]:
        """Each metric for each draw: name -> array of shape (draws,)."""
        if self.streamed is not None:
            return self.streamed.metrics
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
            if self.streamed is not None:
                with PathsWriter(tmp / "paths.parquet") as sink:
                    self.streamed.replay(sink)
            else:
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
    chunk: int | None = None,
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
    chunk
        Make the run in blocks of this many draws, keeping each draw's metrics and no
        paths (:class:`Streamed`); the numbers are those of the run in one piece. By
        default a run is made in one piece up to
        :data:`~h200cast.engine.limits.STREAM_CELLS` draw-months, in chunks of
        :func:`~h200cast.engine.model.chunk_draws` above.
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
    T = scenario.calendar.horizon_months
    check_draws(1 if point else draws, T)
    months = calendar.month_labels(scenario.calendar.start, T)
    found = cond.constraints(v, scenario, months)
    if chunk is None and not point and streamed(draws, T):
        chunk = chunk_draws(T)
    conditioned = cond.Conditioning(v.name, v.origin, tuple(found), 0, 0, 0, 0, {})
    paths: Paths | None = None
    kept: Streamed | None = None
    if point:
        paths = simulate(scenario, draws=draws, seed=seed, point=point)
    elif any(not c.by_construction for c in found):

        def replay(sink: Callable[[Paths], None] | None) -> tuple[Paths | None, Any]:
            return cond.simulate_conditioned(scenario, v, found, draws, seed, chunk, sink)

        if chunk is None:
            paths, conditioned = replay(None)
        else:
            collect = _Collect()
            _, conditioned = replay(collect)
            kept = collect.streamed(replay)
    elif chunk is None:
        paths = simulate(scenario, draws=draws, seed=seed)
    else:
        step = chunk

        def blocks(sink: Callable[[Paths], None]) -> None:
            for _, part in simulate_chunks(scenario, draws, seed, step):
                sink(part)

        collect = _Collect()
        blocks(collect)
        kept = collect.streamed(blocks)
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
        kept,
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
