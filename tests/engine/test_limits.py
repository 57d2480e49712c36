"""Runs too large for the machine are refused before any work, with the estimate and the limit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from h200cast.engine import limits
from h200cast.errors import InputError


def test_the_estimate_and_the_limit_are_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "available_memory", lambda: 10 * 2**30)
    limits.check_draws(200_000, 36)  # 7.2e6 draw-months in memory: 3.6e9 bytes
    limits.check_draws(8_000_000, 36)  # in chunks: 8.0e9 + 3.1e8 bytes < 0.8 * 10 GiB
    with pytest.raises(InputError) as err:
        limits.check_draws(9_000_000, 36)  # 9.0e9 + 3.1e8 bytes
    text = err.value.render()
    assert "--draws: got 9000000" in text
    assert "8.7 GB of memory and 10.0 GB is available" in text
    most = (8 * 2**30 - 2**19 * 600) // 1000  # 0.8 x 10 GiB less one chunk, 1,000 B a draw
    assert most == 8_275_361 and f"at most about {most:,} draws" in text
    limits.check_draws(most, 36)  # the limit itself passes
    with pytest.raises(InputError):
        limits.check_draws(most + 1, 36)


def test_a_run_is_made_in_chunks_above_a_number_of_draw_months() -> None:
    assert not limits.streamed(233_016, 36) and limits.streamed(233_017, 36)
    assert limits.need_bytes(100_000, 36) == 100_000 * 36 * 500
    assert limits.need_bytes(1_000_000, 120) == 1_000_000 * 1000 + 2**19 * 600


def test_where_memory_is_short_the_message_gives_both_ranges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "available_memory", lambda: 2**30)  # 1 GiB, 0.8 GiB usable
    in_memory = int(0.8 * 2**30 / (36 * 500))
    chunked = int((0.8 * 2**30 - 2**19 * 600) / 1000)
    assert (in_memory, chunked) == (47_721, 544_420)
    limits.check_draws(in_memory, 36)
    limits.check_draws(chunked, 36)
    with pytest.raises(InputError) as err:
        limits.check_draws(150_000, 36)  # 2.7e9 bytes in memory: too many to hold
    assert "at most about 47,721 draws here, or from 233,017 to 544,420" in err.value.render()
    with pytest.raises(InputError) as err:
        limits.check_draws(chunked + 1, 36)
    assert "expected at most about 544,420 draws here" in err.value.render()


PEAK = """
import json, sys
from h200cast.cli.main import main

def kb(field):  # this process's own memory: getrusage's peak would include its parent's,
    # which a fork before exec hands on (pytest's, hundreds of MB into the suite)
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field))

before = kb("VmRSS:")  # the interpreter and its imports
code = main(sys.argv[1:])
print(json.dumps({"code": code, "grew": (kb("VmHWM:") - before) * 1024}), file=sys.stderr)
"""


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc (Linux)")
def test_the_estimate_covers_a_real_run_in_one_piece() -> None:
    """The peak memory a run adds to its process stays within the estimate of need_bytes."""
    import json

    draws = 50_000
    args = ["run", "--stance", "selective_approval", "--draws", str(draws), "--json"]
    r = subprocess.run(
        [sys.executable, "-c", PEAK, *args], capture_output=True, text=True, timeout=300
    )
    got = json.loads(r.stderr.strip().splitlines()[-1])
    assert got["code"] == 0 and not limits.streamed(draws, 36)
    # more than a third of the estimate (it is not wildly high) and no more than it
    assert limits.need_bytes(draws, 36) / 3 < got["grew"] <= limits.need_bytes(draws, 36)


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
