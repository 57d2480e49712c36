"""Process pools: forked only where it is safe, and forked workers handle signals as spawned ones."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from h200cast.engine import executors


def test_pools_are_spawned_unless_a_fork_is_asked_for_and_safe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert executors.start_method(False) == "spawn"
    # the test suite itself may run other threads (kernels' clients, Dask): count them as
    # a fresh command would, then as one that started a thread
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert executors.start_method(True) == "fork"
    assert executors.start_method(False) == "spawn"
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    # another thread could hold a lock that a forked child would wait on forever
    assert executors.start_method(True) == "spawn"


def test_a_real_thread_makes_a_fresh_process_spawn() -> None:
    code = """
import json, threading
from h200cast.engine import executors
before = executors.start_method(True)
stop = threading.Event()
t = threading.Thread(target=stop.wait)
t.start()
during = executors.start_method(True)
stop.set(); t.join()
print(json.dumps([before, during, executors.start_method(True)]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["fork", "spawn", "fork"]


FORKED = """
import json, os, signal
from h200cast.engine import executors

def handlers():
    return [signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
            signal.getsignal(signal.SIGINT) is signal.default_int_handler, os.getppid()]

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: None)  # as the CLI's sigterm_interrupts
    with executors.process_pool(1, fork=True) as pool:
        method = pool._mp_context.get_start_method()
        term, intr, parent = pool.submit(handlers).result(timeout=60)
    print(json.dumps([method, term, intr, parent == os.getpid()]))
"""


def test_a_forked_worker_does_not_run_the_parents_signal_handlers() -> None:
    # in a fresh interpreter, which runs no other thread: the pool forks
    out = subprocess.run([sys.executable, "-c", FORKED], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["fork", True, True, True]


def test_worker_count_is_bounded_by_the_tasks() -> None:
    assert executors.worker_count(4, 2) == 2
    assert executors.worker_count(None, 0) == 1
    assert executors.worker_count(1, 10) == 1
