"""Every folder the suite reads or writes, and every ``H200CAST_*`` variable, in one place.

The checkout is found from this file's location (the folder above ``src/`` that holds
``params/base.yaml``), so commands work from any working directory. Each folder can be
pointed elsewhere by its variable:

* ``H200CAST_PARAMS``: the parameter folder (``params/``);
* ``H200CAST_DATA``: the data folder (``data/``: evidence, history, observations);
* ``H200CAST_VINTAGE``: the vintage used when none is named (unset: the latest);
* ``H200CAST_STATIC_CHARTS``: ``1`` forces static SVG charts, ``0`` interactive ones
  (unset: static everywhere but a Jupyter server);
* ``H200CAST_PNG_CHARTS``: ``1`` saves a PNG beside each saved chart's SVG;
* ``H200CAST_DEFER_CHARTS``: set by the notebook runner for each kernel, a folder: the
  kernel leaves its static charts to the runner's worker to draw;
* ``H200CAST_FORK_KERNELS``: ``0`` starts each of the runner's kernels afresh instead of
  forking it from a warm template (:mod:`h200cast.report.kernels`);
* ``H200CAST_CACHE``: where what depends only on the installed libraries is kept between
  runs (unset: ``$XDG_CACHE_HOME/h200cast``, or ``~/.cache/h200cast``);
* ``H200CAST_MALLOC``: ``system`` keeps glibc's own malloc thresholds (unset: the engine
  raises them, :mod:`h200cast.engine.memory`).

The notebooks and ``reports/`` always belong to the checkout: a copy of ``params/``
elsewhere changes the inputs, not where the notebooks live.
"""

from __future__ import annotations

import os
from pathlib import Path

PARAMS_ENV = "H200CAST_PARAMS"
DATA_ENV = "H200CAST_DATA"
STATIC_ENV = "H200CAST_STATIC_CHARTS"
PNG_ENV = "H200CAST_PNG_CHARTS"
DEFER_ENV = "H200CAST_DEFER_CHARTS"
VINTAGE_ENV = "H200CAST_VINTAGE"
MALLOC_ENV = "H200CAST_MALLOC"
FORK_KERNELS_ENV = "H200CAST_FORK_KERNELS"
CACHE_ENV = "H200CAST_CACHE"
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


def vintages(params: Path | None = None) -> list[str]:
    """The vintages in ``params/vintages/`` (folders named ``YYYY-MM-DD`` with a
    ``vintage.yaml``), oldest first; the last is the default."""
    import re

    root = Path(params or params_dir()) / "vintages"
    day = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    return sorted(
        p.name for p in root.glob("*") if day.match(p.name) and (p / "vintage.yaml").is_file()
    )


def default_vintage(params: Path | None = None) -> str | None:
    """The vintage used when none is named: ``$H200CAST_VINTAGE``, else the latest."""
    chosen = os.environ.get(VINTAGE_ENV, "")
    if chosen:
        return chosen
    found = vintages(params)
    return found[-1] if found else None


def vintage_dir(vintage: str, params: Path | None = None) -> Path:
    """``params/vintages/DATE/``: one frozen parameter set (see :mod:`h200cast.scenario.vintage`)."""
    return Path(params or params_dir()) / "vintages" / vintage


def estimates_dir(vintage: str | None = None, params: Path | None = None) -> Path:
    """``params/vintages/DATE/estimates/``: a vintage's stored fits of ``h200cast estimate``
    (the latest vintage's when ``vintage`` is None)."""
    if vintage is None:
        vintage = default_vintage(params) or "none"
    return vintage_dir(vintage, params) / "estimates"


def notebooks_dir() -> Path:
    """The checkout's ``notebooks/`` (never derived from ``$H200CAST_PARAMS``)."""
    return checkout() / "notebooks"


def reports_dir() -> Path:
    """The checkout's ``reports/``."""
    return checkout() / "reports"


def png_charts() -> bool:
    """Whether saved charts get a PNG beside their SVG (``H200CAST_PNG_CHARTS=1``; off by
    default: no page shows one, and rendering a PNG costs three times an SVG)."""
    return os.environ.get(PNG_ENV, "") not in ("", "0")


def deferred_charts() -> Path | None:
    """Where a static chart is left for the notebook runner to draw, or None
    (``H200CAST_DEFER_CHARTS``: a folder the runner makes for each kernel it starts).

    The kernel then writes each chart's spec there and shows the spec; once the notebook
    has run, the runner's worker process draws them all and writes their files, with one
    vl-convert for every notebook it runs instead of one per kernel (whose start costs
    0.5-0.9 s).
    """
    folder = os.environ.get(DEFER_ENV, "")
    return Path(folder) if folder else None


def static_charts() -> bool:
    """Whether charts render as static SVG: unless forced, everywhere but a Jupyter server."""
    chosen = os.environ.get(STATIC_ENV, "")
    if chosen:
        return chosen != "0"
    return not os.environ.get(JUPYTER_SESSION_ENV)


def system_malloc() -> bool:
    """Whether ``H200CAST_MALLOC=system`` asks the engine to leave malloc's thresholds alone."""
    return os.environ.get(MALLOC_ENV, "").strip().lower() == "system"


def fork_kernels() -> bool:
    """Whether the notebook runner may fork its kernels from a warm template (unless
    ``H200CAST_FORK_KERNELS=0``)."""
    return os.environ.get(FORK_KERNELS_ENV, "") != "0"


def cache_dir() -> Path:
    """Where what depends only on the installed libraries is kept between runs (the Vega
    bundle of the what-if page): ``$H200CAST_CACHE``, else ``$XDG_CACHE_HOME/h200cast`` (when
    it is an absolute path), else ``~/.cache/h200cast``; ``Path.home`` raises RuntimeError
    where there is no home folder."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen:
        return Path(chosen)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # a relative XDG_CACHE_HOME is ignored, as the XDG base directory specification says
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "h200cast"
