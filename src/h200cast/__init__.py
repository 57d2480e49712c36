"""h200cast: what-if forecasts of China's H200 demand, the supply shortfall, US fee revenue
and domestic substitution under Beijing's policy stances.

The public API (see ``docs/api.md``)::

    import h200cast
    res = h200cast.run(stance="customs_ban", overrides={"us.fee_rate": 0.15}, draws=2000)
    res.summary()

Names are imported on first use, so ``import h200cast`` (and ``h200cast run --json``)
does not pay for numpy, pandas or Altair until they are needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "run",
    "load_scenario",
    "sweep",
    "check",
    "what_if",
    "fitted",
    "STANCES",
    "Result",
    "Scenario",
    "ScenarioRef",
    "SweepOutcome",
    "InputError",
}
_VIEWS = {
    "explorer": "h200cast.views.explorer",
    "figures": "h200cast.views.figures",
    "frames": "h200cast.views.frames",
    "labels": "h200cast.views.labels",
    "notebook": "h200cast.views.notebook",
    "sensitivity": "h200cast.explore.sensitivity",
    "scenarios": "h200cast.views.scenarios",
}
"""Chart, table, notebook and sensitivity helpers, public as ``h200cast.figures`` and so on."""

__all__ = ["__version__", *sorted(_API), *sorted(_VIEWS)]


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module("h200cast.api"), name)
    elif name in _VIEWS:
        value = importlib.import_module(_VIEWS[name])
    else:
        raise AttributeError(f"module 'h200cast' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
