"""How much a run may ask of the machine, checked before the work starts.

The engine holds every monthly series as a (draws x months) array of float64; a run's
peak memory, with the metrics summary's derived series, was measured at 330-405 bytes
per draw-month (``h200cast run --json`` at 50,000 to 230,000 draws x 36 months on
2026-12-07; 162 bytes before model 2's market balance). A run of more than
:data:`STREAM_CELLS` draw-months is made in chunks (:func:`h200cast.engine.model.simulate_chunks`) and keeps only each draw's
parameters and metrics, a few hundred bytes a draw, besides one chunk. A run whose
estimate exceeds the memory the machine has available is refused with the estimate and
the limit, instead of running until it is killed or failing inside numpy.
"""

from __future__ import annotations

import os

from h200cast.errors import InputError

BYTES_PER_DRAW_MONTH = 500
"""Peak memory per draw and month, rounded up from the measured 330-405 bytes
(``tests/engine/test_limits.py`` measures a run against it)."""

STREAM_CELLS = 2**23
"""Above this many draw-months (233,016 draws over 36 months) a run is made in chunks."""

BYTES_PER_STREAMED_DRAW = 1_000
"""Memory per draw of a chunked run: 64 parameters and 36 metrics of 8 bytes, the metrics
twice while they are joined (measured: 1.04 GB traced at 1,000,000 draws x 36 months)."""

CHUNK_CELLS = 2**19
"""Draw-months per chunk of a chunked run (:func:`h200cast.engine.model.chunk_draws`)."""

CHUNK_BYTES = CHUNK_CELLS * 600
"""Memory of one chunk at its peak, with every derived series and the block's metrics
(measured: about 530 bytes a draw-month)."""


def streamed(draws: int, months: int) -> bool:
    """Whether a run of ``draws`` x ``months`` is made in chunks."""
    return draws * months > STREAM_CELLS


def need_bytes(draws: int, months: int) -> int:
    """Estimated peak memory of a run."""
    if streamed(draws, months):
        return draws * BYTES_PER_STREAMED_DRAW + CHUNK_BYTES
    return draws * months * BYTES_PER_DRAW_MONTH


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
    need = need_bytes(draws, months)
    have = available_memory()
    if need > 0.8 * have:
        most = most_draws(months, have)
        expected = f"at most about {most:,} draws here"
        if most > draws:  # too many to hold in memory, too few to be made in chunks
            expected = (
                f"at most about {_most_in_memory(months, have):,} draws here, or from "
                f"{STREAM_CELLS // months + 1:,} "
                f"to {most:,}, which are made in chunks"
            )
        raise InputError(
            f"{draws:,} draws x {months} months need about {_gb(need)} of memory and "
            f"{_gb(have)} is available; expected {expected}",
            key=key,
            value=draws,
        )


def most_draws(months: int, have: int) -> int:
    """The most draws over ``months`` whose estimate fits in 80% of ``have`` bytes."""
    budget = 0.8 * have
    chunked = int((budget - CHUNK_BYTES) / BYTES_PER_STREAMED_DRAW)
    return chunked if streamed(chunked, months) else _most_in_memory(months, have)


def _most_in_memory(months: int, have: int) -> int:
    """The most draws over ``months`` made in one piece whose estimate fits in 80% of ``have``."""
    return min(int(0.8 * have / (months * BYTES_PER_DRAW_MONTH)), STREAM_CELLS // months)
