"""The public API: what notebooks, scripts and the CLI call.

>>> import h200cast
>>> res = h200cast.run(stance="customs_ban", draws=200)
>>> res.summary()                      # one row per metric: P5, P50, P95, mean
>>> res.paths["shipments"]             # monthly shipments, shape (draws, months)
>>> res.metrics["us_fee_revenue_total_usd"]   # per draw
>>> res.save("results/ban")            # paths.parquet, summary.csv, scenario.yaml, manifest.json

Everything here is imported lazily by ``h200cast/__init__.py``, so ``import h200cast``
stays cheap. ``docs/api.md`` documents each function with runnable examples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from h200cast.errors import InputError
from h200cast.results import scenarios
from h200cast.results.result import Result
from h200cast.results.result import run as _run
from h200cast.scenario.layers import set_text
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.schema import STANCES, Scenario

if TYPE_CHECKING:
    import pandas as pd

    from h200cast.explore.checks import CheckResult
    from h200cast.explore.sweep import Analyses, ExpectationResult

__all__ = [
    "STANCES",
    "InputError",
    "Result",
    "Scenario",
    "ScenarioRef",
    "SweepOutcome",
    "check",
    "fitted",
    "load_scenario",
    "overrides_list",
    "run",
    "sweep",
    "what_if",
]


def overrides_list(overrides: Mapping[str, Any] | Iterable[str] | None) -> list[str]:
    """``{key: value}`` (or ``["key=value", ...]``) as the ``KEY=VALUE`` strings of ``--set``."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{k}={set_text(v)}" for k, v in overrides.items()]
    if isinstance(overrides, str):
        raise InputError(
            "expected a mapping of dotted keys to values, e.g. {'us.fee_rate': 0.15}",
            key="overrides",
            value=overrides,
        )
    return [str(x) for x in overrides]


def run(
    ref: ScenarioRef | None = None,
    *,
    stance: str | None = None,
    path: str | None = None,
    switching: str | None = None,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    draws: int = 1000,
    seed: int = 20260131,
    point: bool = False,
    params_dir: Path | None = None,
    as_of: dt.date | None = None,
    vintage: str | dt.date | None = None,
) -> Result:
    """Run the model for one scenario, as of a vintage.

    Parameters
    ----------
    ref, stance, path, switching
        A :class:`ScenarioRef`, or exactly one of: a stance held throughout (one of
        :data:`STANCES`), a stance path (``params/paths/``), or a switching chain
        (``params/switching/``) that samples Beijing's stance per draw.
    overrides
        ``{dotted key: value}``, the keys of ``h200cast params show --json``, e.g.
        ``{"us.fee_rate": 0.15}``.
    draws, seed
        Monte Carlo draws, and the seed of every sampling stream.
    point
        One run with every parameter at its central value.
    params_dir
        A parameter folder other than the checkout's ``params/``.
    as_of
        Refit the estimated parameters on the evidence published by this date.
    vintage
        The view as of this date, ``"YYYY-MM-DD"``, a vintage in ``params/vintages/``
        (default: the latest). The months it has observed hold in every draw.

    Returns
    -------
    Result
        ``.summary()``, ``.stats``, ``.metrics``, ``.paths``, ``.tidy()``, ``.save(dir)``.
    """
    ref = ref or ScenarioRef.of(stance, path, switching)
    return _run(
        ref,
        overrides=overrides_list(overrides),
        draws=draws,
        seed=seed,
        point=point,
        params_dir=params_dir,
        as_of=as_of,
        vintage=vintage,
    )


def load_scenario(
    ref: ScenarioRef | None = None,
    *,
    stance: str | None = None,
    path: str | None = None,
    switching: str | None = None,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    params_dir: Path | None = None,
    as_of: dt.date | None = None,
    vintage: str | dt.date | None = None,
) -> Scenario:
    """The validated scenario a run would use: base, vintage, stance (or path, or chain) and
    overrides merged.

    Takes the same scenario arguments as :func:`run`; every cited evidence id is checked.
    """
    return scenarios.load_scenario(
        ref,
        stance=stance,
        path=path,
        switching=switching,
        overrides=overrides_list(overrides),
        params_dir=params_dir,
        as_of=as_of,
        vintage=vintage,
    )


class SweepOutcome:
    """A finished sweep: where it was written, its manifest, its Sobol indices and PRIM box,
    and the outcome of its spec's expectations."""

    def __init__(self, out: Path, manifest: dict[str, Any], analyses: Analyses) -> None:
        self.out = out
        self.manifest = manifest
        self.analyses = analyses

    @property
    def expectations(self) -> list[ExpectationResult]:
        """One outcome per entry of the spec's ``expect:`` block (``.passed``, ``.observed``,
        ``.text()``), as in ``expectations.json``."""
        return self.analyses.expectations

    @property
    def passed(self) -> bool:
        """Whether every expectation holds (``h200cast sweep`` exits 1 otherwise)."""
        return not self.analyses.failed

    def results(self) -> pd.DataFrame:
        """``results.parquet``: one row per point, run and draw, with inputs and outputs."""
        import pandas as pd

        return pd.read_parquet(self.out / "results.parquet")


def sweep(
    spec: str | Path,
    out: str | Path | None = None,
    *,
    jobs: int | None = 1,
    scheduler: str | None = None,
    resume: bool = False,
    quiet: bool = True,
    params_dir: Path | None = None,
) -> SweepOutcome:
    """Evaluate a sweep spec (a file, or a name in ``params/sweeps/``) and its analyses.

    Writes ``results.parquet`` and ``manifest.json`` into ``out`` (default
    ``sweeps/NAME/``), ``sobol.csv`` and ``discovery.json`` when the spec asks for them, and
    ``expectations.json``. A failed expectation does not raise: see ``.passed`` and
    ``.expectations`` of the outcome.
    """
    from h200cast.explore import sweep as sw

    s = sw.load_spec(str(spec), params_dir)
    folder = Path(out) if out else Path("sweeps") / s.name
    manifest = sw.run_sweep(
        s, folder, jobs=jobs, scheduler=scheduler, resume=resume, quiet=quiet, params_dir=params_dir
    )
    return SweepOutcome(folder, manifest, sw.analyse(s, folder, params_dir))


def check(file: str | Path | None = None) -> list[CheckResult]:
    """Run the declarative model checks (default ``params/checks.yaml``); one result per check."""
    from h200cast.explore.checks import default_file, load_checks, run_checks

    return run_checks(load_checks(Path(file) if file else default_file()))


def what_if(
    values: Mapping[str, Sequence[float]],
    ref: ScenarioRef | None = None,
    *,
    stance: str | None = None,
    path: str | None = None,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    draws: int = 300,
    seed: int = 20260131,
    vintage: str | None = None,
) -> pd.DataFrame:
    """The model over a grid of input values (every combination), on common draws.

    Returns one row per grid point and metric: the inputs, ``metric``, and its P5, P50,
    P95 and mean (see :func:`h200cast.explore.sensitivity.grid`). ``vintage`` as in
    :func:`run`; the grid's draws are not conditioned on the observed months.
    """
    from h200cast.explore.sensitivity import grid

    ref = ref or ScenarioRef.of(stance, path)
    if ref.kind == "switching":
        raise InputError(
            "a what-if grid holds one stance or path per run, not a switching chain",
            key="switching",
            value=ref.name,
        )
    return grid(
        dict(values),
        stance=ref.stance,
        path=ref.path,
        overrides=overrides_list(overrides),
        draws=draws,
        seed=seed,
        vintage=vintage,
    )


def fitted(name: str, vintage: str | None = None) -> dict[str, Any]:
    """The stored fit of an estimated parameter at a vintage (the latest by default), no refitting.

    Read from ``params/vintages/DATE/estimates/NAME.yaml``. Holds ``spec`` (the
    distribution the parameter uses) and ``record`` (data, method, coefficients and
    residual checks). ``h200cast estimate --vintage DATE`` refits and stores them.
    """
    from h200cast.estimation.estimate import stored

    return stored(name, vintage=vintage or None)
