"""The one vocabulary for intervals: statsforecast's ``lo-90`` / ``hi-90``.

Every table or file that names the bounds of a central interval (backtests, the stored
estimates' coefficients, Sobol indices, forecast scores) takes the names from here: the
level in percent, written without a trailing ``.0`` (``97.5`` gives ``lo-97.5``). The
quantile summaries of a run (``p5``, ``p50``, ``p95``) are quantiles, not intervals, and
keep their names; ``p5`` and ``p95`` bound the ``90`` interval.
"""

from __future__ import annotations

import numbers

LEVELS: tuple[int, ...] = (50, 80, 90)
"""The levels scored and shown by default, in percent."""


def check_level(level: float) -> None:
    """Refuse a level that is not a percentage in [1, 100) (90, not 0.9)."""
    if isinstance(level, bool) or not (isinstance(level, numbers.Real) and 1 <= level < 100):
        raise ValueError(
            f"expected a level in percent, 1 <= level < 100 (90, not 0.9), got {level!r}"
        )


def names(level: float, prefix: str = "") -> tuple[str, str]:
    """The bounds' names at ``level`` percent: ``names(90) == ("lo-90", "hi-90")``;
    with a ``prefix`` (``names(90, "first_")``) ``("first_lo-90", "first_hi-90")``."""
    check_level(level)
    tag = f"{level:g}"
    return f"{prefix}lo-{tag}", f"{prefix}hi-{tag}"


def percent(share: float) -> float:
    """A confidence given as a share (0.9) as the level in percent (90), exactly as written."""
    return round(100 * share, 6)
