"""How much a run may ask of the machine, checked before the work starts.

The engine holds every monthly series as a (draws x months) array of float64; its peak
memory was measured at about 162 bytes per draw-month (issue 14's measurement at
100,000 draws x 36 months). A run whose estimate exceeds the memory the machine has
available is refused with the estimate and the limit, instead of running until it is
killed or failing inside numpy.
"""

from __future__ import annotations

import os

from h200cast.errors import InputError

BYTES_PER_DRAW_MONTH = 200
"""Peak memory per draw and month, rounded up from the measured 162 bytes."""


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``, else physical)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - no sysconf (Windows)
        return 8 * 2**30


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GB"


def check_draws(draws: int, months: int, *, key: str = "--draws") -> None:
    """Refuse ``draws`` x ``months`` when its arrays would not fit in the available memory."""
    need = draws * months * BYTES_PER_DRAW_MONTH
    have = available_memory()
    if need > 0.8 * have:
        most = int(0.8 * have / (months * BYTES_PER_DRAW_MONTH))
        raise InputError(
            f"{draws:,} draws x {months} months need about {_gb(need)} of memory and "
            f"{_gb(have)} is available; expected at most about {most:,} draws here",
            key=key,
            value=draws,
        )
