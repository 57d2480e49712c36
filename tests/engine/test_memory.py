"""The engine keeps freed memory for its next block (glibc's malloc thresholds raised)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from h200cast.engine import memory

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the thresholds are glibc's malloc's (memory.py changes nothing elsewhere)",
)

FAULTS = """
import json, resource, sys
import numpy as np
import h200cast.engine.model  # noqa: F401  (importing the engine sets the thresholds)
from h200cast.engine import memory

before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):  # a block's arrays, allocated, written and freed, again and again
    a = np.ones(500_000)
    b = a * 2.0
    del a, b
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(json.dumps({"faults": after - before, "set": memory.reuse_freed_memory()}))
"""


def _faults(**env: str) -> dict[str, object]:
    clean = {
        k: v for k, v in os.environ.items() if k not in (*memory.USER_SETTINGS, "H200CAST_MALLOC")
    }
    out = subprocess.run(
        [sys.executable, "-c", FAULTS],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_freed_arrays_are_reused_instead_of_faulted_in_again() -> None:
    tuned, system = _faults(), _faults(H200CAST_MALLOC="system")
    assert tuned["set"] is True and system["set"] is False
    # 80 arrays of 4 MB: about 1,000 faults each when every one is mapped afresh
    assert system["faults"] > 40_000  # type: ignore[operator]
    assert tuned["faults"] < 5_000  # type: ignore[operator]


@pytest.mark.parametrize("key", memory.USER_SETTINGS)
def test_a_users_own_malloc_settings_are_left_alone(key: str) -> None:
    value = "glibc.malloc.trim_threshold=131072" if key == "GLIBC_TUNABLES" else "131072"
    assert _faults(**{key: value})["set"] is False


def test_the_thresholds_are_within_what_glibc_accepts() -> None:
    # glibc refuses an mmap threshold above half its largest heap (32 MiB on 64-bit)
    assert 2**20 <= memory.MMAP_BYTES <= 32 * 2**20
    assert memory.TRIM_BYTES >= memory.MMAP_BYTES
