"""Keep freed memory for the next block instead of returning it to the system (glibc).

The engine allocates the same arrays block after block: a few hundred kilobytes to tens
of megabytes each. glibc's malloc serves every array above its mmap threshold (128 KiB at
first) with fresh pages from the kernel and unmaps them when freed, and trims its heap
once 128 KiB is free at its top, so that each block faults its memory in again: about
23,000 page faults and a third of the time of a sweep chunk of 12,500 runs, and a fifth
of a 100,000-draw run. :func:`reuse_freed_memory` raises both thresholds, so that a
block's arrays reuse the memory the last block freed; peak memory is unchanged (the
memory is reused, not added to), and a process keeps at most :data:`TRIM_BYTES` of free
memory at the top of its heap after a run.

Nothing is changed off glibc, or when the user has tuned malloc already (the
``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or ``GLIBC_TUNABLES`` variables), or
when ``H200CAST_MALLOC=system`` asks for the system's defaults.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

from h200cast import settings

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""mallopt's parameter numbers (glibc's malloc.h)."""

MMAP_BYTES = 32 * 2**20
"""Arrays up to this size come from the heap and are reused; glibc's largest allowed value."""

TRIM_BYTES = 512 * 2**20
"""Free memory at the top of the heap kept for reuse: a 100,000-draw run's arrays."""

USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


@functools.cache
def reuse_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process, once; whether they were set."""
    if not sys.platform.startswith("linux") or settings.system_malloc():
        return False
    if any(k in os.environ for k in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)
    )
