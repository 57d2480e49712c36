"""Process pools: how many workers, and pools of fresh interpreters.

Sweeps and notebook runs both fan out over processes, never threads (kernels and
papermill are not thread-safe, and the model holds the GIL in numpy's small loops).
Workers are spawned, not forked, so that each starts clean whatever the parent holds.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor


def worker_count(jobs: int | None, tasks: int) -> int:
    """``jobs`` workers, by default one per core, never more than ``tasks`` and at least 1."""
    return max(1, min(jobs or os.cpu_count() or 1, tasks or 1))


def process_pool(
    workers: int, initializer: Callable[[], None] | None = None
) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned interpreters, each set up by ``initializer``."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("spawn"), initializer=initializer
    )
