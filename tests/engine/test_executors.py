"""Process pools: forked only where it is safe, and forked workers handle signals as spawned ones."""

from __future__ import annotations

import signal
import threading
from typing import Any

from h200cast.engine import executors


def test_pools_are_spawned_unless_a_fork_is_asked_for_and_safe() -> None:
    assert executors.start_method(False) == "spawn"
    assert executors.start_method(True) == "fork"  # the test runs no other thread
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:  # another thread could hold a lock that a forked child would wait on forever
        assert executors.start_method(True) == "spawn"
    finally:
        stop.set()
        t.join()
    assert executors.start_method(True) == "fork"


def _handlers() -> tuple[Any, Any, int]:
    import os

    return signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), os.getppid()


def test_a_forked_worker_does_not_run_the_parents_signal_handlers() -> None:
    import os

    previous = signal.signal(signal.SIGTERM, lambda *_: None)  # as the CLI's sigterm_interrupts
    try:
        with executors.process_pool(1, fork=True) as pool:
            term, intr, parent = pool.submit(_handlers).result(timeout=60)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert parent == os.getpid()  # forked from this process
    assert term == signal.SIG_DFL
    assert intr is signal.default_int_handler


def test_worker_count_is_bounded_by_the_tasks() -> None:
    assert executors.worker_count(4, 2) == 2
    assert executors.worker_count(None, 0) == 1
    assert executors.worker_count(1, 10) == 1
