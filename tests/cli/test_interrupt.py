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


def _wait_for_work(chunks: Path, *, sweep: bool) -> None:
    """Until the command is inside its work: a sweep's first finished chunk, or 2 s for a run."""
    if not sweep:
        time.sleep(2.0)  # past start-up, inside a run of 400,000 draws (about 10 s)
        return
    deadline = time.monotonic() + 60
    while not list(chunks.glob("*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--stance", "open_market", "--draws", "400000", "--out", "{T}/out"],
        ["sweep", "{T}/long.yaml", "--out", "{T}/out", "--jobs", "1", "--quiet"],
        ["sweep", "{T}/long.yaml", "--out", "{T}/out", "--jobs", "2", "--quiet"],
    ],
    ids=["run", "sweep", "sweep-forked-workers"],
)
def test_sigterm_exits_130_and_leaves_nothing(args: list[str], tmp_path: Path) -> None:
    keep = tmp_path / "mine.txt"
    keep.write_text("a user's file")
    # a sweep long enough to be caught at work: 2,000,000 rows in chunks of 2,000
    (tmp_path / "long.yaml").write_text(
        "name: long\ndescription: long enough to interrupt\n"
        "design: {method: lhs, points: 200000, seed: 1}\n"
        "inputs:\n  money.price_usd: {low: 20000, high: 35000}\n"
        "runs: {stances: [selective_approval]}\noutputs: [shipments_total_units]\n"
        "others: sampled\ndraws_per_point: 10\nchunk_rows: 2000\n"
    )
    proc = _start([a.replace("{T}", str(tmp_path)) for a in args], tmp_path)
    _wait_for_work(tmp_path / "out" / "chunks", sweep=args[0] == "sweep")
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


# SIGTERM at the moment of writing, for the commands that write an output: the command runs
# as itself, but with the helper in h200cast.io.atomic that it reaches once its work is done
# (the swap of the finished folder into place, or the first finished file of several)
# sending SIGTERM to its own process first. The old output must stay as it was.
KILL_AT = """
import os, signal, sys
from h200cast.io import atomic
name = sys.argv.pop(1)
real = getattr(atomic, name)
def kill_first(*a, **k):
    os.kill(os.getpid(), signal.SIGTERM)
    return real(*a, **k)
setattr(atomic, name, kill_first)
from h200cast.cli.main import main
sys.exit(main())
"""

PREVIOUS = {"manifest.json": '{"package": "h200cast"}', "index.html": "the previous output"}


@pytest.mark.parametrize(
    ("at", "args", "old"),
    [
        ("_umask", ["params", "schema", "--write"], "{T}/P"),
        ("_umask", ["estimate", "--out", "{T}/out"], "{T}/out"),
        ("_swap", ["backtest", "--out", "{T}/out"], "{T}/out"),
        (
            "_swap",
            ["score", "--vintage", "2026-01-31", "--draws", "100", "--out", "{T}/out"],
            "{T}/out",
        ),
        (
            "_swap",
            ["run", "--stance", "open_market", "--draws", "50", "--out", "{T}/out"],
            "{T}/out",
        ),
    ],
    ids=["params", "estimate", "backtest", "score", "run-at-the-swap"],
)
def test_sigterm_while_writing_exits_130_and_keeps_the_old(
    at: str, args: list[str], old: str, tmp_path: Path
) -> None:
    import shutil

    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "params", tmp_path / "P")
    out = Path(old.replace("{T}", str(tmp_path)))
    out.mkdir(exist_ok=True)
    for name, text in PREVIOUS.items():
        if not (out / name).exists():
            (out / name).write_text(text)
    (out / "schema.json").write_text("the previous schema")
    if "estimate" in args:
        (out / "demand_growth.yaml").write_text("the previous fit")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    env = {**os.environ, "H200CAST_PARAMS": str(tmp_path / "P")}
    r = subprocess.run(
        [sys.executable, "-c", KILL_AT, at, *[a.replace("{T}", str(tmp_path)) for a in args]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 130, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["h200cast: interrupted; nothing was written"]
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # the old output as it was, no temporary left beside it
