"""A table of faults across the entry points: each exits 2 with one line, and writes nothing.

Where ``test_bad_input.py`` corrupts the parameter files, these corrupt the rest of what
h200cast reads (the data files, saved runs and sweeps, hostile YAML), ask for more than
the machine has, or give an output place that cannot be written (a full disk: a small
tmpfs, mounted where the tests run as root). Each case runs the real command line in a
fresh process with its own copies of ``data/`` and ``params/``.

The audit: every case names its entry point and fault class (``Fault.entry``,
``Fault.kind``). :data:`ELSEWHERE` names the tests in other files that cover a cell of
the matrix entry point x fault class, :data:`NOT_APPLICABLE` the cells that cannot
arise, each with its reason, and :func:`test_every_entry_point_meets_every_fault_class`
fails when a cell is left with neither a case nor a reason (a case removed, an entry
point or fault class added). ``pytest tests/cli/test_corpus.py -k audit -s`` prints the
matrix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
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
    entry: str = ""  # one of ENTRIES
    kind: str = ""  # one of KINDS
    env: dict[str, str] = field(default_factory=dict)  # more environment ({P}, {T} as above)


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


def _damage(file: Path) -> None:
    """Cut ``file`` mid-line and leave garbage after it, as a crash in mid-write leaves it."""
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2] + b"\n  [\x00\xff")


def _cut_at_a_line(file: Path) -> None:
    """Keep the first half of ``file``'s lines: still valid YAML, its fitted spec intact."""
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    file.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")


def _saved_run_with(rel: str, data: str) -> Callable[[Path], None]:
    def f(t: Path) -> None:
        _cli(t, ["run", "--stance", "open_market", "--draws", "50", "--out", str(t / "run")])
        (t / "run" / rel).write_text(data)

    return f


_LAUGHS_IN_BASE = _append(
    "P/base.yaml",
    ("\nzz_laughs:\n" + "".join("  " + line + "\n" for line in LAUGHS.splitlines())).encode(),
)

FAULTS = [
    Fault(
        "facts-not-utf8",
        _append("D/evidence/facts.csv", b"\xff\xfe\n"),
        ["evidence", "check"],
        ["facts.csv", "is not UTF-8"],
        entry="evidence",
        kind="malformed",
    ),
    Fault(
        "sources-not-utf8",
        _append("D/evidence/sources.csv", b"\xc3\x28\n"),
        ["evidence", "check"],
        ["sources.csv", "is not UTF-8"],
        entry="evidence",
        kind="malformed",
    ),
    Fault(
        "history-not-utf8",
        _append("D/history/domestic_share.csv", b"\xff\n"),
        ["estimate", "--dry-run"],
        ["domestic_share.csv", "is not UTF-8"],
        entry="estimate",
        kind="malformed",
    ),
    Fault(
        "observations-not-utf8",
        _append("D/observations/observations.csv", b"\xff\n"),
        ["evidence", "check"],
        ["observations.csv", "is not UTF-8"],
        entry="evidence",
        kind="malformed",
    ),
    Fault(
        "facts-is-a-folder",
        _folder_instead("D/evidence/facts.csv"),
        ["evidence", "check"],
        ["facts.csv", "is a folder"],
        entry="evidence",
        kind="wrong-type",
    ),
    Fault(
        "observations-is-a-folder",
        _folder_instead("D/observations/observations.csv"),
        ["evidence", "check"],
        ["observations.csv", "is a folder"],
        entry="evidence",
        kind="wrong-type",
    ),
    Fault(
        "base-billion-laughs",
        _LAUGHS_IN_BASE,
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "values"],
        entry="run",
        kind="hostile",
    ),
    Fault(
        "base-binary",
        _write("P/base.yaml", bytes(range(256)) * 8),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "not UTF-8"],
        entry="run",
        kind="malformed",
    ),
    Fault(
        "base-nul",
        _append("P/base.yaml", b"\nzz: \x00\n"),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "malformed YAML"],
        entry="run",
        kind="hostile",
    ),
    Fault(
        "base-huge-integer",
        _append("P/base.yaml", b"\nzz: " + b"9" * 5000 + b"\n"),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "malformed YAML"],
        entry="run",
        kind="huge",
    ),
    Fault(
        "base-too-deep",
        _append("P/base.yaml", b"\nzz: " + b"[" * 200 + b"]" * 200 + b"\n"),
        ["run", "--stance", "open_market", "--params-dir", "{P}"],
        ["base.yaml", "nested more"],
        entry="run",
        kind="hostile",
    ),
    Fault(
        "base-too-big",
        _append("P/base.yaml", b"# pad\n" * 200_000),
        ["params", "check", "{P}/base.yaml"],
        ["base.yaml", "bytes"],
        entry="params",
        kind="huge",
    ),
    Fault(
        "path-impossible-date",
        lambda t: (t / "P/paths/as_reported_2026_01.yaml").write_text(
            (t / "P/paths/as_reported_2026_01.yaml").read_text().replace("2026-01-28", "2026-02-30")
        ),
        ["run", "--path", "as_reported_2026_01", "--params-dir", "{P}"],
        ["as_reported_2026_01.yaml", "day is out of range"],
        entry="run",
        kind="out-of-range",
    ),
    Fault(
        "forecast-parquet-damaged",
        _saved_run_with("paths.parquet", "not parquet"),
        ["backtest", "--forecast", "{T}/run", "--out", "{T}/bt"],
        ["paths.parquet", "damaged"],
        entry="backtest",
        kind="corrupted",
    ),
    Fault(
        "forecast-manifest-garbage",
        _saved_run_with("manifest.json", '{"a": '),
        ["backtest", "--forecast", "{T}/run", "--out", "{T}/bt"],
        ["manifest.json", "not a manifest"],
        entry="backtest",
        kind="corrupted",
    ),
    Fault(
        "draws-beyond-memory",
        lambda t: None,
        ["run", "--stance", "open_market", "--draws", str(10**11)],
        ["--draws", "is available"],
        entry="run",
        kind="huge",
    ),
    Fault(
        "sweep-out-users-folder",
        _write("mine/notes.txt", "keep"),
        ["sweep", "ci", "--out", "{T}/mine", "--quiet"],
        ["--out", "folder of other files"],
        entry="sweep",
        kind="unwritable",
    ),
    Fault(
        "sweep-out-is-a-file",
        _write("afile", "keep"),
        ["sweep", "ci", "--out", "{T}/afile", "--quiet"],
        ["--out", "not a folder"],
        entry="sweep",
        kind="wrong-type",
    ),
    Fault(
        "sweep-expectation-of-an-unknown-run",
        _append(
            "P/sweeps/ci.yaml",
            b"  - {output: us_fee_revenue_2026_usd, run: customs_ban, stat: p50, below: 1}\n",
        ),
        ["sweep", "ci", "--params-dir", "{P}", "--out", "{T}/sw", "--quiet"],
        ["P/sweeps/ci.yaml", "expect.6.run", "got 'customs_ban'", "not a run of this sweep"],
        entry="sweep",
        kind="out-of-range",
    ),
    Fault(
        "sweep-empty-scheduler",
        lambda t: None,
        ["sweep", "ci", "--out", "{T}/sw", "--scheduler", "", "--quiet"],
        ["--scheduler"],
        entry="sweep",
        kind="malformed",
    ),
    Fault(
        "report-out-users-folder",
        _write("rep/notes.txt", "keep"),
        ["report", "--stances", "customs_ban", "--paths", "--out", "{T}/rep", "--quiet"],
        ["--out", "folder of other files"],
        entry="report",
        kind="unwritable",
    ),
    Fault(
        "report-unknown-switching",
        lambda t: None,
        ["report", "--stances", "open_market", "--switching", "nope", "--out", "{T}/rep"],
        ["switching chain", "'nope'", "from_2026_01_31, from_2026_04_30"],
        entry="report",
        kind="missing",
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
        entry="report",
        kind="wrong-type",
    ),
    Fault(
        "params-check-folder",
        lambda t: None,
        ["params", "check", "{P}"],
        ["is a folder"],
        entry="params",
        kind="wrong-type",
    ),
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
        entry="params",
        kind="malformed",
    ),
    Fault(
        "vintage-unknown",
        lambda t: None,
        ["report", "--vintage", "2026-03-31", "--out", "{T}/rep", "--quiet"],
        ["--vintage", "unknown vintage; expected one of: 2026-01-31, 2026-04-30"],
        entry="report",
        kind="missing",
    ),
    Fault(
        "vintage-in-the-future",
        lambda t: None,
        ["run", "--stance", "open_market", "--vintage", "2099-12-31", "--out", "{T}/r"],
        ["--vintage", "cannot be dated after today"],
        entry="run",
        kind="out-of-range",
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
        entry="params",
        kind="out-of-range",
    ),
    Fault(
        "score-twice-the-same-vintage",
        lambda t: None,
        ["score", "--vintage", "2026-04-30", "--vintage", "2026-04-30", "--out", "{T}/sc"],
        ["expected each vintage once"],
        entry="score",
        kind="malformed",
    ),
    Fault(
        "sweep-unknown-vintage",
        lambda t: None,
        ["sweep", "ci", "--vintage", "2026-02-01", "--out", "{T}/sw", "--quiet"],
        ["--vintage", "unknown vintage"],
        entry="sweep",
        kind="missing",
    ),
    Fault(
        "observations-contradict",
        _append(
            "D/observations/observations.csv",
            b"2026-02-28,shipments,2026-01,2026-01,5,units,reported,L239,a second January count\n",
        ),
        ["evidence", "check"],
        ["observations.csv", "contradicts line"],
        entry="evidence",
        kind="out-of-range",
    ),
    # --- more cases per entry point and fault class (issue 13, point 8) ---
    Fault(
        "run-wrong-type-override",
        lambda t: None,
        ["run", "--stance", "open_market", "--set", "us.fee_rate=abc", "--out", "{T}/r"],
        ["us.fee_rate", "'abc'"],
        entry="run",
        kind="wrong-type",
    ),
    Fault(
        "run-params-dir-missing",
        lambda t: None,
        ["run", "--stance", "open_market", "--params-dir", "{T}/nope", "--out", "{T}/r"],
        ["nope/base.yaml", "file not found"],
        entry="run",
        kind="missing",
    ),
    Fault(
        "run-out-under-a-file",
        _write("afile", "keep"),
        ["run", "--stance", "open_market", "--draws", "50", "--out", "{T}/afile/r"],
        ["--out", "afile/r", "cannot write there"],
        entry="run",
        kind="unwritable",
    ),
    Fault(
        "run-out-garbage-manifest",
        _write("r/manifest.json", '{"package": "h2'),
        ["run", "--stance", "open_market", "--draws", "50", "--out", "{T}/r"],
        ["--out", "folder of other files"],
        entry="run",
        kind="corrupted",
    ),
    Fault(
        "params-check-laughs",
        _write("laughs.yaml", LAUGHS),
        ["params", "check", "{T}/laughs.yaml"],
        ["laughs.yaml", "values"],
        entry="params",
        kind="hostile",
    ),
    Fault(
        "params-check-missing",
        lambda t: None,
        ["params", "check", "{T}/nope.yaml"],
        ["nope.yaml", "not found"],
        entry="params",
        kind="missing",
    ),
    Fault(
        "params-schema-write-over-a-folder",
        lambda t: (t / "P" / "schema.json").unlink() or (t / "P" / "schema.json").mkdir(),
        ["params", "schema", "--write"],
        ["P/schema.json", "expected a regular file"],
        entry="params",
        kind="unwritable",
        env={"H200CAST_PARAMS": "{P}"},
    ),
    Fault(
        "params-stored-estimate-truncated",
        lambda t: _damage(t / "P/vintages/2026-04-30/estimates/demand_growth.yaml"),
        ["params", "check", "--vintage", "2026-04-30", "--params-dir", "{P}"],
        ["demand_growth.yaml"],
        entry="params",
        kind="corrupted",
    ),
    Fault(
        "estimate-stored-record-cut-at-a-line",
        lambda t: _cut_at_a_line(t / "P/vintages/2026-04-30/estimates/demand_growth.yaml"),
        ["estimate", "--check"],
        ["demand_growth.yaml", "record", "differs from what `h200cast estimate` writes"],
        entry="estimate",
        kind="corrupted",
        env={"H200CAST_PARAMS": "{P}"},
    ),
    Fault(
        "facts-huge-cell",
        _append("D/evidence/facts.csv", b"L999," + b"a" * 300_000 + b"\n"),
        ["evidence", "check"],
        ["facts.csv", "line 30", "field limit"],
        entry="evidence",
        kind="huge",
    ),
    Fault(
        "facts-nul",
        _append("D/evidence/facts.csv", b"L999,\x00\n"),
        ["evidence", "check"],
        ["facts.csv", "line 30"],
        entry="evidence",
        kind="hostile",
    ),
    Fault(
        "sources-missing",
        lambda t: (t / "D/evidence/sources.csv").unlink(),
        ["evidence", "check"],
        ["sources.csv", "not found"],
        entry="evidence",
        kind="missing",
    ),
    Fault(
        "history-huge-cell",
        _append("D/history/domestic_share.csv", b"x," + b"a" * 300_000 + b"\n"),
        ["estimate", "--dry-run"],
        ["domestic_share.csv", "line 25", "field limit"],
        entry="estimate",
        kind="huge",
    ),
    Fault(
        "history-nul",
        _append("D/history/domestic_share.csv", b"a\x00b\n"),
        ["estimate", "--dry-run"],
        ["domestic_share.csv", "line 25"],
        entry="estimate",
        kind="hostile",
    ),
    Fault(
        "history-missing",
        lambda t: (t / "D/history/domestic_share.csv").unlink(),
        ["estimate", "--dry-run"],
        ["domestic_share.csv", "not found"],
        entry="estimate",
        kind="missing",
    ),
    Fault(
        "history-is-a-folder",
        _folder_instead("D/history/domestic_share.csv"),
        ["estimate", "--dry-run"],
        ["domestic_share.csv", "is a folder"],
        entry="estimate",
        kind="wrong-type",
    ),
    Fault(
        "estimate-as-of-before-any-history",
        lambda t: None,
        ["estimate", "--as-of", "2000-01-01", "--out", "{T}/e"],
        ["domestic_share.csv", "too few data points"],
        entry="estimate",
        kind="out-of-range",
    ),
    Fault(
        "estimate-out-under-a-file",
        _write("afile", "keep"),
        ["estimate", "--out", "{T}/afile/e"],
        ["--out", "afile/e", "cannot write there"],
        entry="estimate",
        kind="unwritable",
    ),
    Fault(
        "estimate-check-stored-fit-truncated",
        lambda t: _damage(t / "P/vintages/2026-04-30/estimates/demand_growth.yaml"),
        ["estimate", "--check"],
        ["demand_growth.yaml"],
        entry="estimate",
        kind="corrupted",
        env={"H200CAST_PARAMS": "{P}"},
    ),
    Fault(
        "backtest-observations-header",
        _write("obs.csv", "not,the,header\n1,2,3\n"),
        ["backtest", "--observations", "{T}/obs.csv", "--forecast", "{T}/nope", "--out", "{T}/b"],
        ["obs.csv", "header"],
        entry="backtest",
        kind="malformed",
    ),
    Fault(
        "backtest-observations-huge-cell",
        lambda t: (t / "obs.csv").write_bytes(
            (t / "D/observations/observations.csv").read_bytes() + b"x," + b"a" * 300_000 + b"\n"
        ),
        ["backtest", "--observations", "{T}/obs.csv", "--forecast", "{T}/nope", "--out", "{T}/b"],
        ["obs.csv", "field limit"],
        entry="backtest",
        kind="huge",
    ),
    Fault(
        "backtest-observations-nul",
        lambda t: (t / "obs.csv").write_bytes(
            (t / "D/observations/observations.csv").read_bytes() + b"a\x00b\n"
        ),
        ["backtest", "--observations", "{T}/obs.csv", "--forecast", "{T}/nope", "--out", "{T}/b"],
        ["obs.csv", "line"],
        entry="backtest",
        kind="hostile",
    ),
    Fault(
        "backtest-observations-bad-value",
        lambda t: (t / "obs.csv").write_text(
            (t / "D/observations/observations.csv")
            .read_text()
            .replace(",units,", ",units,", 1)
            .replace("reported,", "reported,", 1)
            + "2026-02-28,shipments,2026-01,2026-01,-5,units,reported,L239,negative\n"
        ),
        ["backtest", "--observations", "{T}/obs.csv", "--forecast", "{T}/nope", "--out", "{T}/b"],
        ["obs.csv", "line"],
        entry="backtest",
        kind="out-of-range",
    ),
    Fault(
        "backtest-forecast-missing",
        lambda t: None,
        ["backtest", "--forecast", "{T}/nope", "--out", "{T}/b"],
        ["nope/paths.parquet", "file not found"],
        entry="backtest",
        kind="missing",
    ),
    Fault(
        "backtest-forecast-is-a-file",
        _write("afile", "keep"),
        ["backtest", "--forecast", "{T}/afile", "--out", "{T}/b"],
        ["afile"],
        entry="backtest",
        kind="wrong-type",
    ),
    Fault(
        "backtest-out-under-a-file",
        _write("afile", "keep"),
        ["backtest", "--out", "{T}/afile/b"],
        ["--out", "afile/b", "cannot write there"],
        entry="backtest",
        kind="unwritable",
    ),
    Fault(
        "score-too-few-draws",
        lambda t: None,
        ["score", "--draws", "5", "--out", "{T}/sc"],
        ["--draws", "100"],
        entry="score",
        kind="out-of-range",
    ),
    Fault(
        "score-vintage-not-a-date",
        lambda t: None,
        ["score", "--vintage", "abc", "--out", "{T}/sc"],
        ["--vintage", "'abc'"],
        entry="score",
        kind="wrong-type",
    ),
    Fault(
        "score-draws-beyond-memory",
        lambda t: None,
        ["score", "--draws", str(10**11), "--out", "{T}/sc"],
        ["--draws", "is available"],
        entry="score",
        kind="huge",
    ),
    Fault(
        "score-observations-nul",
        _append("D/observations/observations.csv", b"a\x00b\n"),
        ["score", "--vintage", "2026-01-31", "--draws", "100", "--out", "{T}/sc"],
        ["observations.csv", "line"],
        entry="score",
        kind="hostile",
    ),
    Fault(
        "score-observations-missing",
        lambda t: (t / "D/observations/observations.csv").unlink(),
        ["score", "--vintage", "2026-01-31", "--draws", "100", "--out", "{T}/sc"],
        ["observations.csv", "not found"],
        entry="score",
        kind="missing",
    ),
    Fault(
        "score-out-under-a-file",
        _write("afile", "keep"),
        ["score", "--vintage", "2026-01-31", "--draws", "100", "--out", "{T}/afile/sc"],
        ["--out", "afile/sc", "cannot write there"],
        entry="score",
        kind="unwritable",
    ),
    Fault(
        "score-out-garbage-manifest",
        _write("sc/manifest.json", "\x00\x01garbage"),
        ["score", "--vintage", "2026-01-31", "--draws", "100", "--out", "{T}/sc"],
        ["--out", "folder of other files"],
        entry="score",
        kind="corrupted",
    ),
    Fault(
        "sweep-grid-beyond-memory",
        lambda t: (t / "huge.yaml").write_text(  # 1000 steps for each input: 10**30 points
            re.sub(
                r"(?m)^design:.*(\n  .*)*",
                "design: {method: grid, points: 1000}",
                (t / "P/sweeps/ci.yaml").read_text(),
            )
        ),
        ["sweep", "{T}/huge.yaml", "--out", "{T}/sw", "--quiet"],
        ["result rows; expected at most"],
        entry="sweep",
        kind="huge",
    ),
    Fault(
        "sweep-spec-laughs",
        _write("laughs.yaml", LAUGHS),
        ["sweep", "{T}/laughs.yaml", "--out", "{T}/sw", "--quiet"],
        ["laughs.yaml", "values"],
        entry="sweep",
        kind="hostile",
    ),
    Fault(
        "sweep-spec-missing",
        lambda t: None,
        ["sweep", "{T}/nope.yaml", "--out", "{T}/sw", "--quiet"],
        ["nope.yaml", "not found"],
        entry="sweep",
        kind="missing",
    ),
    Fault(
        "sweep-resume-truncated-spec-json",
        lambda t: (
            _write("sw/chunks/00000-open_market.parquet", b"PAR1")(t)
            or _write("sw/spec.json", '{"digest": "ab')(t)
        ),
        ["sweep", "ci", "--out", "{T}/sw", "--resume", "--quiet"],
        ["--out", "no sweep of h200cast"],
        entry="sweep",
        kind="corrupted",
    ),
    Fault(
        "check-malformed",
        _write("checks.yaml", "checks: [unclosed\n"),
        ["check", "{T}/checks.yaml"],
        ["checks.yaml", "malformed YAML"],
        entry="check",
        kind="malformed",
    ),
    Fault(
        "check-too-big",
        _write("checks.yaml", "# pad\n" * 200_000),
        ["check", "{T}/checks.yaml"],
        ["checks.yaml", "bytes"],
        entry="check",
        kind="huge",
    ),
    Fault(
        "check-laughs",
        _write("checks.yaml", LAUGHS),
        ["check", "{T}/checks.yaml"],
        ["checks.yaml", "values"],
        entry="check",
        kind="hostile",
    ),
    Fault(
        "check-missing",
        lambda t: None,
        ["check", "{T}/nope.yaml"],
        ["nope.yaml", "not found"],
        entry="check",
        kind="missing",
    ),
    Fault(
        "report-draws-beyond-memory",
        lambda t: None,
        [
            "report",
            "--stances",
            "open_market",
            "--paths",
            "--draws",
            str(10**11),
            "--out",
            "{T}/rep",
        ],  # refused before the runs' progress bar: stderr holds the one line only
        ["--draws", "is available"],
        entry="report",
        kind="huge",
    ),
    Fault(
        "report-params-laughs",
        _LAUGHS_IN_BASE,
        [
            "report",
            "--stances",
            "open_market",
            "--paths",
            "--params-dir",
            "{P}",
            "--out",
            "{T}/rep",
        ],
        ["base.yaml", "values"],
        entry="report",
        kind="hostile",
    ),
    Fault(
        "report-vintage-malformed",
        lambda t: None,
        ["report", "--vintage", "2026-02-30", "--out", "{T}/rep", "--quiet"],
        ["--vintage", "'2026-02-30'"],
        entry="report",
        kind="malformed",
    ),
    Fault(
        "report-vintage-in-the-future",
        lambda t: None,
        ["report", "--vintage", "2099-12-31", "--out", "{T}/rep", "--quiet"],
        ["--vintage", "cannot be dated after today"],
        entry="report",
        kind="out-of-range",
    ),
    Fault(
        "report-out-garbage-manifest",
        lambda t: (
            _write("rep/manifest.json", '{"package": "h200ca')(t)
            or _write("rep/index.html", "a previous report")(t)
        ),
        ["report", "--stances", "open_market", "--paths", "--out", "{T}/rep", "--quiet"],
        ["--out", "folder of other files"],
        entry="report",
        kind="corrupted",
    ),
    Fault(
        "notebooks-unknown",
        lambda t: None,
        ["notebooks", "nope"],
        ["notebook", "'nope'", "expected one of: 00_explorer"],
        entry="notebooks",
        kind="missing",
    ),
    Fault(
        "notebooks-path-outside",
        lambda t: None,
        ["notebooks", "../../etc/passwd"],
        ["notebook", "'../../etc/passwd'", "unknown notebook"],
        entry="notebooks",
        kind="hostile",
    ),
    Fault(
        "scenarios-draws-beyond-memory",
        lambda t: None,
        ["scenarios", "--draws", str(10**11)],
        ["--draws", "is available"],
        entry="scenarios",
        kind="huge",
    ),
    Fault(
        "scenarios-unknown-switching",
        lambda t: None,
        ["scenarios", "--switching", "nope"],
        ["'nope'"],
        entry="scenarios",
        kind="missing",
    ),
    Fault(
        "scenarios-wrong-type-override",
        lambda t: None,
        ["scenarios", "--set", "us.fee_rate=abc"],
        ["us.fee_rate", "'abc'"],
        entry="scenarios",
        kind="wrong-type",
    ),
    Fault(
        "scenarios-malformed-override",
        lambda t: None,
        ["scenarios", "--set", "no-equals-sign"],
        ["--set", "'no-equals-sign'"],
        entry="scenarios",
        kind="malformed",
    ),
    Fault(
        "scenarios-params-laughs",
        _LAUGHS_IN_BASE,
        ["scenarios"],
        ["base.yaml", "values"],
        entry="scenarios",
        kind="hostile",
        env={"H200CAST_PARAMS": "{P}"},
    ),
]


def _fill(t: Path, text: str) -> str:
    return text.replace("{D}", str(t / "D")).replace("{P}", str(t / "P")).replace("{T}", str(t))


def _cli(
    t: Path, args: list[str], env_more: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "H200CAST_DATA": str(t / "D")}
    env.pop("H200CAST_PARAMS", None)
    env.update({k: _fill(t, v) for k, v in (env_more or {}).items()})
    argv = [_fill(t, a) for a in args]
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
    r = _cli(tmp_path, fault.args, fault.env)
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("h200cast: error: "), r.stderr
    for word in fault.expect:
        assert word in lines[0], (word, lines[0])
    assert _tree(tmp_path) == before  # nothing written, nothing of the user's touched


# --- a full disk: a small tmpfs (as root) ------------------------------------------------------

FULL = "{T}/full"
"""Where a full-disk case writes: a tmpfs mounted there with only ``free`` bytes left."""

REPORT_SMALL = ["report", "--stances", "customs_ban", "--paths", "--analyses", "--draws", "100"]
REPORT_SMALL += ["--jobs", "1", "--quiet"]

FULL_DISK = [
    # (fault, free bytes): enough for a command to start writing, not to finish
    (
        Fault(
            "run-full-disk",
            lambda t: None,
            ["run", "--stance", "open_market", "--draws", "200", "--out", f"{FULL}/r"],
            ["--out", "full/r", "No space left on device", "nothing was kept"],
            entry="run",
            kind="full-disk",
        ),
        4096,
    ),
    (
        Fault(
            "estimate-full-disk",
            lambda t: None,
            ["estimate", "--out", f"{FULL}/e"],
            ["--out", "full/e/", "No space left on device", "nothing was kept"],
            entry="estimate",
            kind="full-disk",
        ),
        4096,
    ),
    (
        Fault(
            "backtest-full-disk",
            lambda t: None,
            ["backtest", "--out", f"{FULL}/b"],
            ["--out", "full/b", "No space left on device", "nothing was kept"],
            entry="backtest",
            kind="full-disk",
        ),
        4096,  # backtest.csv fits, manifest.json does not
    ),
    (
        Fault(
            "score-full-disk",
            lambda t: None,
            ["score", "--vintage", "2026-01-31", "--draws", "100", "--out", f"{FULL}/sc"],
            ["--out", "full/sc", "No space left on device", "nothing was kept"],
            entry="score",
            kind="full-disk",
        ),
        4096,
    ),
    (
        Fault(
            "sweep-full-disk",
            lambda t: None,
            ["sweep", "ci", "--out", f"{FULL}/sw", "--jobs", "1", "--quiet"],
            ["--out", "full/sw", "No space left on device"],
            entry="sweep",
            kind="full-disk",
        ),
        0,
    ),
    (
        Fault(
            "report-full-disk",
            lambda t: None,
            [*REPORT_SMALL, "--out", f"{FULL}/rep"],
            ["--out", "full/rep", "No space left on device", "nothing was kept"],
            entry="report",
            kind="full-disk",
        ),
        65536,
    ),
    (
        Fault(
            "params-schema-write-full-disk",
            lambda t: shutil.copytree(t / "P", t / "full" / "P") and None,
            ["params", "schema", "--write"],
            ["full/P/schema.json", "No space left on device", "nothing was kept"],
            entry="params",
            kind="full-disk",
            env={"H200CAST_PARAMS": f"{FULL}/P"},
        ),
        0,
    ),
]


def _tmpfs(where: Path, request: pytest.FixtureRequest) -> None:
    """Mount a 512 KB tmpfs at ``where`` (unmounted at the end of the test), or fail in CI
    and skip elsewhere, saying how to run the case."""
    how = "run the tests as root (as CI does), where `mount -t tmpfs` is allowed"
    where.mkdir()
    if os.geteuid() != 0:
        reason = f"a full disk needs a small tmpfs: {how}"
    else:
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(where)],
            capture_output=True,
            text=True,
        )
        if r.returncode == 0:
            request.addfinalizer(
                lambda: subprocess.run(["umount", "-l", str(where)], check=False)  # type: ignore[func-returns-value]
            )
            return
        reason = f"mount -t tmpfs refused ({r.stderr.strip()}): {how}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _leave_free(where: Path, free: int) -> None:
    """Fill the tmpfs at ``where`` but for ``free`` bytes."""
    filler = where / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
    if free:
        os.truncate(filler, max(filler.stat().st_size - free, 0))


@pytest.mark.parametrize(("fault", "free"), FULL_DISK, ids=[f.id for f, _ in FULL_DISK])
def test_a_full_disk_is_one_line_naming_the_place_and_nothing_is_left(
    fault: Fault, free: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shutil.copytree(ROOT / "data", tmp_path / "D")
    shutil.copytree(ROOT / "params", tmp_path / "P")
    _tmpfs(tmp_path / "full", request)
    fault.setup(tmp_path)
    _leave_free(tmp_path / "full", free)
    before = _tree(tmp_path)
    r = _cli(tmp_path, fault.args, fault.env)
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("h200cast: error: "), r.stderr
    for word in fault.expect:
        assert word in lines[0], (word, lines[0])
    assert _tree(tmp_path) == before  # no half-written file, in the full place or elsewhere
    assert not [p for p in (tmp_path / "full").rglob("*") if ".tmp" in p.name]


# --- usage errors: argparse's own two lines, exit 2 -------------------------------------------

USAGE = [
    # (id, entry, kind, args, the option the error line must name)
    ("notebooks-jobs", "notebooks", "wrong-type", ["notebooks", "--jobs", "abc"], "--jobs"),
    ("notebooks-jobs-0", "notebooks", "out-of-range", ["notebooks", "--jobs", "0"], "--jobs"),
    ("notebooks-option", "notebooks", "malformed", ["notebooks", "--refrsh"], "--refrsh"),
    ("scenarios-draws-0", "scenarios", "out-of-range", ["scenarios", "--draws", "0"], "--draws"),
]


@pytest.mark.parametrize(
    ("id_", "entry", "kind", "args", "option"), USAGE, ids=[u[0] for u in USAGE]
)
def test_usage_errors_name_the_option(
    id_: str, entry: str, kind: str, args: list[str], option: str, tmp_path: Path
) -> None:
    """A bad option is argparse's usage line and one error line naming the option."""
    r = _cli(tmp_path, args)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("usage: h200cast") and option in lines[-1], r.stderr
    assert list(tmp_path.iterdir()) == []


# --- corrupted previous output that is repaired, not refused -----------------------------------


def test_a_damaged_chunk_is_computed_again_on_resume(tmp_path: Path) -> None:
    spec = tmp_path / "small.yaml"
    spec.write_text(
        "name: small\ndescription: four chunks\ndesign: {method: lhs, points: 40, seed: 1}\n"
        "inputs:\n  money.price_usd: {low: 20000, high: 35000}\n"
        "runs: {stances: [selective_approval]}\noutputs: [shipments_total_units]\n"
        "others: sampled\ndraws_per_point: 5\nchunk_rows: 50\n"
    )
    args = ["sweep", str(spec), "--out", "{T}/sw", "--jobs", "1", "--quiet"]
    shutil.copytree(ROOT / "data", tmp_path / "D")  # _cli points H200CAST_DATA here
    assert _cli(tmp_path, args).returncode == 0
    whole = (tmp_path / "sw" / "results.parquet").read_bytes()
    chunk = sorted((tmp_path / "sw" / "chunks").glob("*.parquet"))[1]
    chunk.write_bytes(chunk.read_bytes()[:100])  # cut short, as by a crash mid-copy
    r = _cli(tmp_path, [*args, "--resume"])
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path / "sw" / "manifest.json").read_text())
    assert m["chunks_reused"] == m["chunks"] - 1  # the damaged one only was computed again
    assert (tmp_path / "sw" / "results.parquet").read_bytes() == whole


# --- the audit: every entry point meets every fault class -----------------------------------------

ENTRIES = (
    "run",
    "params",
    "evidence",
    "estimate",
    "backtest",
    "score",
    "sweep",
    "check",
    "report",
    "notebooks",
    "papermill",
    "scenarios",
)
KINDS = (
    "malformed",
    "out-of-range",
    "wrong-type",
    "huge",
    "hostile",
    "missing",
    "unwritable",
    "full-disk",
    "interrupted",
    "corrupted",
)

ELSEWHERE: dict[tuple[str, str], list[str]] = {
    # (entry, kind): tests in other files ("FILE::TEST" or "FILE::TEST[ID]")
    ("run", "interrupted"): [
        "tests/cli/test_interrupt.py::test_sigterm_exits_130_and_leaves_nothing[run]"
    ],
    ("params", "interrupted"): [
        "tests/cli/test_interrupt.py::test_sigterm_while_writing_exits_130_and_keeps_the_old[params]"
    ],
    ("estimate", "interrupted"): [
        "tests/cli/test_interrupt.py::test_sigterm_while_writing_exits_130_and_keeps_the_old[estimate]"
    ],
    ("backtest", "interrupted"): [
        "tests/cli/test_interrupt.py::test_sigterm_while_writing_exits_130_and_keeps_the_old[backtest]"
    ],
    ("score", "interrupted"): [
        "tests/cli/test_interrupt.py::test_sigterm_while_writing_exits_130_and_keeps_the_old[score]"
    ],
    ("sweep", "interrupted"): [
        "tests/cli/test_interrupt.py::test_sigterm_exits_130_and_leaves_nothing[sweep]",
        "tests/explore/test_sweep.py::test_an_interrupted_sweep_resumes_without_recomputing",
    ],
    ("report", "interrupted"): [
        "tests/report/test_report.py::test_sigterm_mid_build_keeps_the_previous_report_and_leaves_nothing"
    ],
    ("papermill", "interrupted"): [  # the report's SIGTERM stops its papermill kernels
        "tests/report/test_report.py::test_sigterm_mid_build_keeps_the_previous_report_and_leaves_nothing"
    ],
    ("report", "corrupted"): [
        "tests/report/test_report.py::test_a_damaged_cached_page_is_run_again"
    ],
    ("sweep", "corrupted"): [
        "tests/cli/test_corpus.py::test_a_damaged_chunk_is_computed_again_on_resume"
    ],
    ("backtest", "out-of-range"): [
        "tests/estimation/test_estimate.py::test_observations_partly_outside_the_forecast_are_refused"
    ],
    ("check", "out-of-range"): ["tests/explore/test_checks.py::test_bad_file_exits_2"],
    ("check", "wrong-type"): ["tests/explore/test_checks.py::test_bad_file_exits_2"],
    ("sweep", "huge"): [
        "tests/explore/test_sweep.py::test_a_grid_too_large_for_memory_is_refused_before_work"
    ],
    ("report", "malformed"): [
        "tests/report/test_report.py::test_unknown_analysis_exits_2_before_any_work"
    ],
    ("params", "malformed"): ["tests/cli/test_bad_input.py::test_bad_input_in_process"],
    ("papermill", "malformed"): [
        "tests/views/test_notebook_errors.py::test_bad_parameters_fail_in_one_line[vintage-malformed]"
    ],
    ("papermill", "wrong-type"): [
        "tests/views/test_notebook_errors.py::test_bad_parameters_fail_in_one_line[draws]",
        "tests/views/test_notebook_errors.py::test_bad_parameters_fail_in_one_line[overrides-list]",
        "tests/views/test_notebook_errors.py::test_every_notebook_stops_on_a_bad_parameter_in_one_line",
    ],
    ("papermill", "missing"): [
        "tests/views/test_notebook_errors.py::test_bad_parameters_fail_in_one_line[stance]"
    ],
    ("papermill", "out-of-range"): [
        "tests/views/test_notebook_errors.py::test_bad_parameters_fail_in_one_line[draws-zero]"
    ],
    ("papermill", "huge"): [
        "tests/views/test_notebook_errors.py::test_bad_parameters_fail_in_one_line[draws-beyond-memory]"
    ],
    ("papermill", "hostile"): [
        "tests/views/test_notebook_errors.py::test_bad_parameters_fail_in_one_line[stance-a-path]"
    ],
    ("papermill", "unwritable"): [
        "tests/views/test_notebook_errors.py::test_bad_parameters_fail_in_one_line[output-dir-under-a-file]"
    ],
}

_WRITES_NOTHING = "it only reads and prints: there is no output place to be unwritable, fill, half-write or find damaged"
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    **{
        (e, k): _WRITES_NOTHING
        for e in ("evidence", "check", "scenarios")
        for k in ("unwritable", "full-disk", "corrupted")
    },
    (
        "evidence",
        "interrupted",
    ): "it writes nothing, so an interrupt has nothing to leave half-written",
    (
        "check",
        "interrupted",
    ): "it writes nothing, so an interrupt has nothing to leave half-written",
    (
        "scenarios",
        "interrupted",
    ): "it writes nothing, so an interrupt has nothing to leave half-written",
    **{
        ("notebooks", k): "it reads and (with --refresh) writes only the checkout's notebooks/, "
        "which a test must neither damage, fill nor make unwritable; without --refresh it writes "
        "into a private temporary folder"
        for k in ("unwritable", "full-disk", "corrupted", "huge", "interrupted")
    },
    ("papermill", "full-disk"): "output_dir is written by views.notebook (not yet atomic); left "
    "open: see the report of issue 13",
    ("papermill", "corrupted"): "a notebook run reads no earlier output of h200cast (the report's "
    "cached pages are the report's case)",
}


def _cases() -> dict[tuple[str, str], list[str]]:
    cells: dict[tuple[str, str], list[str]] = {}
    for f in [*FAULTS, *(f for f, _ in FULL_DISK)]:
        cells.setdefault((f.entry, f.kind), []).append(f.id)
    for u in USAGE:
        cells.setdefault((u[1], u[2]), []).append(u[0])
    for key, refs in ELSEWHERE.items():
        cells.setdefault(key, []).extend(refs)
    return cells


def _resolves(ref: str) -> bool:
    """Whether ``FILE::TEST[ID]`` names a test that exists (its ``def`` and its id)."""
    file, _, rest = ref.partition("::")
    name, _, case = rest.partition("[")
    path = ROOT / file
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    if f"def {name}(" not in text:
        return False
    return not case or f'"{case.rstrip("]")}"' in text


def test_every_entry_point_meets_every_fault_class_audit() -> None:
    cells = _cases()
    assert {e for e, _ in cells} <= set(ENTRIES) and {k for _, k in cells} <= set(KINDS), cells
    broken = [r for refs in ELSEWHERE.values() for r in refs if not _resolves(r)]
    assert not broken, f"references to tests that do not exist: {broken}"
    both = sorted(set(cells) & set(NOT_APPLICABLE))
    assert not both, f"cells with cases that are also listed as not applicable: {both}"
    gaps = [
        (e, k)
        for e in ENTRIES
        for k in KINDS
        if (e, k) not in cells and (e, k) not in NOT_APPLICABLE
    ]
    width = max(map(len, KINDS))
    for e in ENTRIES:  # the matrix, for `-s`
        for k in KINDS:
            what = cells.get((e, k)) or [f"n/a: {NOT_APPLICABLE.get((e, k), 'GAP')}"]
            print(f"{e:10} {k:{width}}  {', '.join(what)[:150]}")
    assert not gaps, f"entry point x fault class with no case and no reason: {gaps}"
