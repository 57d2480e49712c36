"""SIGTERM as Ctrl-C: a killed command unwinds, cleans up and exits 130."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


def interrupt(signum: int, frame: Any) -> None:
    """A signal handler that raises :class:`KeyboardInterrupt`."""
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt (main thread only).

    A command killed with SIGTERM (a CI time-out, ``kill``) then unwinds like Ctrl-C: its
    temporary folders are removed, its workers are stopped, what it replaces stays, and
    the CLI exits with 130.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
