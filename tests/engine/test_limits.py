"""Runs too large for the machine are refused before any work, with the estimate and the limit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from h200cast.engine import limits
from h200cast.errors import InputError


def test_the_estimate_and_the_limit_are_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "available_memory", lambda: 10 * 2**30)
    limits.check_draws(1_000_000, 36)  # 7.2e9 bytes < 0.8 * 10 GiB
    with pytest.raises(InputError) as err:
        limits.check_draws(2_000_000, 36)  # 1.44e10 bytes
    text = err.value.render()
    assert "--draws: got 2000000" in text
    assert "13.4 GB of memory and 10.0 GB is available" in text
    most = int(0.8 * 10 * 2**30 / (36 * limits.BYTES_PER_DRAW_MONTH))
    assert f"at most about {most:,} draws" in text
    limits.check_draws(most, 36)  # the limit itself passes
    with pytest.raises(InputError):
        limits.check_draws(most + 1, 36)


def test_available_memory_is_a_plausible_number() -> None:
    assert 2**26 < limits.available_memory() < 2**50


def test_the_cli_refuses_a_trillion_draws_at_once() -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "h200cast",
            "run",
            "--stance",
            "open_market",
            "--draws",
            str(10**12),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "is available; expected at most about" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
