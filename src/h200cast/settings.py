"""Every folder the suite reads or writes, and every ``H200CAST_*`` variable, in one place.

The checkout is found from this file's location (the folder above ``src/`` that holds
``params/base.yaml``), so commands work from any working directory. Each folder can be
pointed elsewhere by its variable:

* ``H200CAST_PARAMS``: the parameter folder (``params/``);
* ``H200CAST_DATA``: the data folder (``data/``: evidence, history, observations);
* ``H200CAST_STATIC_CHARTS``: ``1`` forces static SVG charts, ``0`` interactive ones
  (unset: static everywhere but a Jupyter server).

The notebooks and ``reports/`` always belong to the checkout: a copy of ``params/``
elsewhere changes the inputs, not where the notebooks live.
"""

from __future__ import annotations

import os
from pathlib import Path

PARAMS_ENV = "H200CAST_PARAMS"
DATA_ENV = "H200CAST_DATA"
STATIC_ENV = "H200CAST_STATIC_CHARTS"
JUPYTER_SESSION_ENV = "JPY_SESSION_NAME"
"""Set by a Jupyter server in each kernel it starts; papermill and nbval do not set it."""


def checkout() -> Path:
    """The project's root folder: the nearest parent of this file with ``params/base.yaml``.

    Falls back to the working directory for an installed (non-editable) package.
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "params" / "base.yaml").is_file():
            return parent
    return Path.cwd()


def params_dir() -> Path:
    """The ``params/`` folder (or ``$H200CAST_PARAMS``)."""
    env = os.environ.get(PARAMS_ENV)
    return Path(env) if env else checkout() / "params"


def data_dir() -> Path:
    """The ``data/`` folder (or ``$H200CAST_DATA``)."""
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else checkout() / "data"


def estimates_dir(params: Path | None = None) -> Path:
    """``params/estimates/``: the stored fits of ``h200cast estimate``."""
    return Path(params or params_dir()) / "estimates"


def notebooks_dir() -> Path:
    """The checkout's ``notebooks/`` (never derived from ``$H200CAST_PARAMS``)."""
    return checkout() / "notebooks"


def reports_dir() -> Path:
    """The checkout's ``reports/``."""
    return checkout() / "reports"


def static_charts() -> bool:
    """Whether charts render as static SVG: unless forced, everywhere but a Jupyter server."""
    chosen = os.environ.get(STATIC_ENV, "")
    if chosen:
        return chosen != "0"
    return not os.environ.get(JUPYTER_SESSION_ENV)
