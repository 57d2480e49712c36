"""Process pools: how many workers, and pools of fresh or forked interpreters.

Sweeps and notebook runs both fan out over processes, never threads (kernels and
papermill are not thread-safe, and the model holds the GIL in numpy's small loops).
Notebook workers are spawned, so that each starts clean whatever the parent holds. Sweep
workers are forked where that is safe (a POSIX system, and no other thread in this
process): a fork starts in milliseconds with the parent's imports, where a spawned
interpreter takes about a second to import numpy, pyarrow and the model, as long as a
sweep of 100,000 points takes to evaluate.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor


def worker_count(jobs: int | None, tasks: int) -> int:
    """``jobs`` workers, by default one per core, never more than ``tasks`` and at least 1."""
    return max(1, min(jobs or os.cpu_count() or 1, tasks or 1))


def start_method(fork: bool) -> str:
    """``fork`` when asked and safe here (fork exists, no other thread runs), else ``spawn``.

    Forking a process that runs other threads can copy a lock one of them holds, and the
    child then waits for it forever; a spawned interpreter has no such risk.
    """
    if fork and "fork" in mp.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def process_pool(
    workers: int, initializer: Callable[[], None] | None = None, *, fork: bool = False
) -> ProcessPoolExecutor:
    """A pool of ``workers`` interpreters, each set up by ``initializer``.

    Spawned by default; forked when ``fork`` and :func:`start_method` finds it safe. A
    forked worker first restores the default SIGTERM and SIGINT handlers, so that it
    handles a signal as a spawned one does instead of running the parent's handlers.
    """
    method = start_method(fork)
    if method == "fork":
        initializer = _forked(initializer)
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context(method), initializer=initializer
    )


class _forked:
    """An initializer for forked workers: default signal handlers, then ``then``."""

    def __init__(self, then: Callable[[], None] | None) -> None:
        self.then = then

    def __call__(self) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if self.then is not None:
            self.then()
