"""SIGTERM (a CI time-out, `kill`) stops any command as Ctrl-C does: exit 130, one line,
nothing half-written, nothing of the user's touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "H200CAST_VINTAGE": "2026-01-31"}  # no conditioning rounds: one long run
    return subprocess.Popen(
        [sys.executable, "-m", "h200cast", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--stance", "open_market", "--draws", "400000", "--out", "{T}/out"],
        ["sweep", "{T}/long.yaml", "--out", "{T}/out", "--jobs", "1", "--quiet"],
    ],
    ids=["run", "sweep"],
)
def test_sigterm_exits_130_and_leaves_nothing(args: list[str], tmp_path: Path) -> None:
    keep = tmp_path / "mine.txt"
    keep.write_text("a user's file")
    # a sweep long enough to be caught at work: 200,000 rows in chunks of 2,000
    (tmp_path / "long.yaml").write_text(
        "name: long\ndescription: long enough to interrupt\n"
        "design: {method: lhs, points: 20000, seed: 1}\n"
        "inputs:\n  money.price_usd: {low: 20000, high: 35000}\n"
        "runs: {stances: [selective_approval]}\noutputs: [shipments_total_units]\n"
        "others: sampled\ndraws_per_point: 10\nchunk_rows: 2000\n"
    )
    proc = _start([a.replace("{T}", str(tmp_path)) for a in args], tmp_path)
    time.sleep(2.0)  # past start-up, inside the work
    assert proc.poll() is None, "the command ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err[-2000:])
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith(
        "h200cast: interrupted"
    )
    assert keep.read_text() == "a user's file"
    assert not (tmp_path / "out" / "results.parquet").exists()
    assert not (tmp_path / "out" / "paths.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]  # no temporary left behind
