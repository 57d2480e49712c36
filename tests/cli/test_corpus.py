"""A table of faults across the entry points: each exits 2 with one line, and writes nothing.

Where ``test_bad_input.py`` corrupts the parameter files, these corrupt the rest of what
h200cast reads (the data files, saved runs and sweeps, hostile YAML) or ask for more
than the machine has. Each case runs the real command line in a fresh process with its
own copies of ``data/`` and ``params/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import ROOT

LAUGHS = "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


@dataclass
class Fault:
    """A broken input, the command that reads it, and words its one-line message must hold."""

    id: str
    setup: Callable[[Path], None]  # breaks something under the case's folder
    args: list[str]  # {D}: the data copy, {P}: the params copy, {T}: the case's folder
    expect: list[str]


def _append(rel: str, data: bytes) -> Callable[[Path], None]:
    def f(t: Path) -> None:
        with open(t / rel, "ab") as fh:
            fh.write(data)

    return f


def _folder_instead(rel: str) -> Callable[[Path], None]:
    def f(t: Path) -> None:
        (t / rel).unlink()
        (t / rel).mkdir()

    return f


def _write(rel: str, text: str | bytes) -> Callable[[Path], None]:
    def f(t: Path) -> None:
        (t / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            (t / rel).write_bytes(text)
        else:
            (t / rel).write_text(text)

    return f


def _saved_run_with(rel: str, data: str) -> Callable[[Path], None]:
    def f(t: Path) -> None:
        _cli(t, ["run", "--stance", "open_market", "--draws", "50", "--out", str(t / "run")])
        (t / "run" / rel).write_text(data)

    return f


FAULTS = [
    Fault(
        "facts-not-utf8",
        _append("D/evidence/facts.csv", b"\xff\xfe\n"),
        ["evidence", "check"],
        ["facts.csv", "is not UTF-8"],
    ),
    Fault(
        "sources-not-utf8",
        _append("D/evidence/sources.csv", b"\xc3\x28\n"),
        ["evidence", "check"],
        ["sources.csv", "is not UTF-8"],
    ),
    Fault(
        "history-not-utf8",
        _append("D/history/domestic_share.csv", b"\xff\n"),
        ["estimate", "--dry-run"],
        ["domestic_share.csv", "is not UTF-8"],
    ),
    Fault(
        "observations-not-utf8",
        _append("D/observations/observations.csv", b"\xff\n"),
        ["evidence", "check"],
        ["observations.csv", "is not UTF-8"],
    ),
    Fault(
        "facts-is-a-folder",
        _folder_instead("D/evidence/facts.csv"),
        ["evidence", "check"],
        ["facts.csv", "is a folder"],
    ),
    Fault(
        "observations-is-a-folder",
        _folder_instead("D/observations/observations.csv"),
        ["evidence", "check"],
        ["observations.csv", "is a folder"],
    ),
    Fault(
        "base-billion-laughs",
        _append(
            "P/base.yaml",
            (
                "\nzz_laughs:\n" + "".join("  " + line + "\n" for line in LAUGHS.splitlines())
            ).encode(),
        ),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "values"],
    ),
    Fault(
        "base-binary",
        _write("P/base.yaml", bytes(range(256)) * 8),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "not UTF-8"],
    ),
    Fault(
        "base-nul",
        _append("P/base.yaml", b"\nzz: \x00\n"),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "malformed YAML"],
    ),
    Fault(
        "base-huge-integer",
        _append("P/base.yaml", b"\nzz: " + b"9" * 5000 + b"\n"),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "malformed YAML"],
    ),
    Fault(
        "base-too-deep",
        _append("P/base.yaml", b"\nzz: " + b"[" * 200 + b"]" * 200 + b"\n"),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "nested more"],
    ),
    Fault(
        "base-too-big",
        _append("P/base.yaml", b"# pad\n" * 200_000),
        ["params", "check", "{P}/base.yaml"],
        ["base.yaml", "bytes"],
    ),
    Fault(
        "path-impossible-date",
        lambda t: (t / "P/paths/as_reported_2026_01.yaml").write_text(
            (t / "P/paths/as_reported_2026_01.yaml").read_text().replace("2026-01-28", "2026-02-30")
        ),
        ["run", "--path", "as_reported_2026_01", "--params-dir", "{P}"],
        ["as_reported_2026_01.yaml", "day is out of range"],
    ),
    Fault(
        "forecast-parquet-damaged",
        _saved_run_with("paths.parquet", "not parquet"),
        ["backtest", "--forecast", "{T}/run", "--out", "{T}/bt"],
        ["paths.parquet", "damaged"],
    ),
    Fault(
        "forecast-manifest-garbage",
        _saved_run_with("manifest.json", '{"a": '),
        ["backtest", "--forecast", "{T}/run", "--out", "{T}/bt"],
        ["manifest.json", "not a manifest"],
    ),
    Fault(
        "draws-beyond-memory",
        lambda t: None,
        ["run", "--stance", "open_market", "--draws", str(10**11)],
        ["--draws", "is available"],
    ),
    Fault(
        "sweep-out-users-folder",
        _write("mine/notes.txt", "keep"),
        ["sweep", "ci", "--out", "{T}/mine", "--quiet"],
        ["--out", "folder of other files"],
    ),
    Fault(
        "sweep-out-is-a-file",
        _write("afile", "keep"),
        ["sweep", "ci", "--out", "{T}/afile", "--quiet"],
        ["--out", "not a folder"],
    ),
    Fault(
        "sweep-expectation-of-an-unknown-run",
        _append(
            "P/sweeps/ci.yaml",
            b"  - {output: us_fee_revenue_2026_usd, run: customs_ban, stat: p50, below: 1}\n",
        ),
        ["sweep", "ci", "--params-dir", "{P}", "--out", "{T}/sw", "--quiet"],
        ["P/sweeps/ci.yaml", "expect.6.run", "got 'customs_ban'", "not a run of this sweep"],
    ),
    Fault(
        "sweep-empty-scheduler",
        lambda t: None,
        ["sweep", "ci", "--out", "{T}/sw", "--scheduler", "", "--quiet"],
        ["--scheduler"],
    ),
    Fault(
        "report-out-users-folder",
        _write("rep/notes.txt", "keep"),
        ["report", "--stances", "customs_ban", "--paths", "--out", "{T}/rep", "--quiet"],
        ["--out", "folder of other files"],
    ),
    Fault(
        "report-unknown-switching",
        lambda t: None,
        ["report", "--stances", "open_market", "--switching", "nope", "--out", "{T}/rep"],
        ["switching chain", "'nope'", "from_2026_01_31, from_2026_04_30"],
    ),
    Fault(
        "report-sweep-not-a-sweep",
        _write("mine/notes.txt", "keep"),
        [
            "report",
            "--stances",
            "open_market",
            "--paths",
            "--sweep",
            "{T}/mine",
            "--out",
            "{T}/rep",
        ],
        ["--sweep", "mine", "is not a finished sweep of h200cast"],
    ),
    Fault("params-check-folder", lambda t: None, ["params", "check", "{P}"], ["is a folder"]),
    Fault(
        "params-check-base-copy-unknown-key",
        lambda t: (
            (t / "elsewhere").mkdir()
            or (t / "elsewhere" / "base.yaml").write_text(
                (t / "P" / "base.yaml").read_text() + "extra_section: 1\n"
            )
        ),
        ["params", "check", "{T}/elsewhere/base.yaml"],
        ["elsewhere/base.yaml: extra_section", "unknown key"],
    ),
    Fault(
        "vintage-unknown",
        lambda t: None,
        ["report", "--vintage", "2026-03-31", "--out", "{T}/rep", "--quiet"],
        ["--vintage", "unknown vintage; expected one of: 2026-01-31, 2026-04-30"],
    ),
    Fault(
        "vintage-in-the-future",
        lambda t: None,
        ["run", "--stance", "open_market", "--vintage", "2099-12-31", "--out", "{T}/r"],
        ["--vintage", "cannot be dated after today"],
    ),
    Fault(
        "vintage-cites-later-evidence",
        lambda t: (t / "P/paths/as_reported_2026_01.yaml").write_text(
            (t / "P/paths/as_reported_2026_01.yaml")
            .read_text()
            .replace("evidence: [L147]", "evidence: [L147, L287]")
        ),
        ["params", "check", "--vintage", "2026-01-31", "--params-dir", "{P}"],
        ["P/paths/as_reported_2026_01.yaml", "path.steps.0", "L287 (published 2026-04-04)"],
    ),
    Fault(
        "score-twice-the-same-vintage",
        lambda t: None,
        ["score", "--vintage", "2026-04-30", "--vintage", "2026-04-30", "--out", "{T}/sc"],
        ["expected each vintage once"],
    ),
    Fault(
        "sweep-unknown-vintage",
        lambda t: None,
        ["sweep", "ci", "--vintage", "2026-02-01", "--out", "{T}/sw", "--quiet"],
        ["--vintage", "unknown vintage"],
    ),
    Fault(
        "observations-contradict",
        _append(
            "D/observations/observations.csv",
            b"2026-02-28,shipments,2026-01,2026-01,5,units,reported,L239,a second January count\n",
        ),
        ["evidence", "check"],
        ["observations.csv", "contradicts line"],
    ),
]


def _cli(t: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "H200CAST_DATA": str(t / "D")}
    env.pop("H200CAST_PARAMS", None)
    argv = [
        a.replace("{D}", str(t / "D")).replace("{P}", str(t / "P")).replace("{T}", str(t))
        for a in args
    ]
    return subprocess.run(
        [sys.executable, "-m", "h200cast", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=t,
        timeout=300,
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_each_fault_is_one_clear_line_and_nothing_is_written(fault: Fault, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "data", tmp_path / "D")
    shutil.copytree(ROOT / "params", tmp_path / "P")
    fault.setup(tmp_path)
    before = _tree(tmp_path)
    r = _cli(tmp_path, fault.args)
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("h200cast: error: "), r.stderr
    for word in fault.expect:
        assert word in lines[0], (word, lines[0])
    assert _tree(tmp_path) == before  # nothing written, nothing of the user's touched
