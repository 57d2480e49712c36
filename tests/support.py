"""Helpers shared by test modules (imported as ``support``; pytest puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path

from h200cast.results.scenarios import load_scenario
from h200cast.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]

_CACHE: dict[tuple, Scenario] = {}


def scenario(
    stance: str | None = None,
    path: str | None = None,
    overrides: tuple[str, ...] = (),
    switching: str | None = None,
    vintage: str | None = None,
) -> Scenario:
    """A validated scenario from the committed parameter files (cached per arguments and
    per vintage: the default one can be set by $H200CAST_VINTAGE, as tests/engine/ does)."""
    from h200cast import settings

    vintage = vintage or settings.default_vintage()
    key = (stance, path, overrides, switching, vintage)
    if key not in _CACHE:
        _CACHE[key] = load_scenario(
            stance=stance, path=path, switching=switching, overrides=overrides, vintage=vintage
        )
    return _CACHE[key]
