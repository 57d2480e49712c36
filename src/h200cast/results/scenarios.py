"""Scenarios as runs see them: the scenario loader with the evidence and the refits wired in.

:func:`h200cast.scenario.load.load_scenario` knows nothing of the evidence files or of
the statsmodels fits (the scenario layer sits below estimation). This module hands it
the evidence ids of ``data/evidence/facts.csv`` and, for an as-of scenario, the refit
of :mod:`h200cast.estimation.estimate`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from h200cast.scenario import load
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.schema import Scenario


def refit(name: str, as_of: dt.date) -> dict[str, Any]:
    """The estimate ``name`` refitted on the evidence published by ``as_of``, as stored."""
    from h200cast.estimation.estimate import fit

    return fit(name, as_of).record()


def evidence_ids(data_dir: Path | None = None) -> set[str]:
    """The ids of every fact in ``data/evidence/facts.csv``."""
    from h200cast.estimation.evidence import fact_ids

    return fact_ids(data_dir)


def load_scenario(
    ref: ScenarioRef | None = None,
    *,
    stance: str | None = None,
    path: str | None = None,
    switching: str | None = None,
    overrides: Iterable[str] = (),
    params_dir: Path | None = None,
    base_file: Path | None = None,
    as_of: dt.date | None = None,
    vintage: str | dt.date | None = None,
) -> Scenario:
    """Build, validate and evidence-check a scenario (see :func:`h200cast.scenario.load.load_scenario`).

    Give a :class:`ScenarioRef` or exactly one of ``stance``, ``path`` and ``switching``;
    ``vintage`` is a date in ``params/vintages/`` (the latest when None).
    """
    ref = ref or ScenarioRef.of(stance=stance, path=path, switching=switching)
    return load.load_scenario(
        **ref.kwargs(),
        overrides=tuple(overrides),
        params_dir=params_dir,
        base_file=base_file,
        evidence_ids=evidence_ids(),
        as_of=as_of,
        refit=refit if as_of else None,
        vintage=vintage,
    )
