"""The CLI's real output: JSON contract, tables, files written, byte-identical reruns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from support import ROOT

from h200cast.cli import main
from h200cast.engine.metrics import METRICS

REQUIRED = [
    "demand_total_units",
    "shipments_total_units",
    "shipments_2026_units",
    "shortfall_total_units",
    "shortfall_beijing_units",
    "shortfall_buyers_units",
    "shortfall_us_rule_units",
    "shortfall_supply_units",
    "nvidia_revenue_total_usd",
    "us_fee_revenue_total_usd",
    "us_fee_revenue_2026_usd",
    "us_fee_upper_total_usd",
    "domestic_share_2026_end",
    "domestic_share_end",
    "months_to_domestic_share_50",
    "months_to_domestic_share_80",
    "compute_gap_total_units",
]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "h200cast", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_run_json_is_one_object_with_the_contract() -> None:
    r = cli("run", "--stance", "customs_ban", "--draws", "200", "--seed", "3", "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)  # exactly one JSON document on stdout
    assert obj["stance"] == "customs_ban" and obj["path"] is None
    assert obj["draws"] == 200 and obj["seed"] == 3
    for name in REQUIRED:
        s = obj["metrics"][name]
        assert set(s) == {"p5", "p50", "p95", "mean"}
        assert s["p5"] <= s["p50"] <= s["p95"], name
    m = obj["metrics"]
    assert 0 <= m["domestic_share_end"]["p5"] <= m["domestic_share_end"]["p95"] <= 1
    assert 1 <= m["months_to_domestic_share_50"]["p50"] <= 37
    assert (
        m["shipments_total_units"]["p95"] < 0.05 * m["demand_total_units"]["p50"]
    )  # a ban lets little through


def test_run_table_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--path", "as_reported_2026_01", "--draws", "100"]) == 0
    out = capsys.readouterr().out
    assert "path as_reported_2026_01, 100 draws" in out
    for m in METRICS:
        assert m.name in out
    assert "$B" in out and "M units" in out and "%" in out


def test_point_run_reports_one_draw(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--stance", "open_market", "--point", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["draws"] == 1 and obj["point"] is True
    for s in obj["metrics"].values():
        assert s["p5"] == s["p50"] == s["p95"] == pytest.approx(s["mean"])


def test_out_writes_every_file_and_reruns_are_byte_identical(tmp_path: Path) -> None:
    args = [
        "run",
        "--stance",
        "selective_approval",
        "--draws",
        "300",
        "--seed",
        "9",
        "--set",
        "us.fee_rate=0.3",
    ]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["manifest.json", "paths.parquet", "scenario.yaml", "summary.csv"]
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    # the content is what was asked for
    table = pq.read_table(tmp_path / "a" / "paths.parquet")
    assert table.num_rows == 300 * 36
    assert {"draw", "month", "shipments", "shortfall_us_rule", "domestic_share"} <= set(
        table.column_names
    )
    resolved = yaml.safe_load((tmp_path / "a" / "scenario.yaml").read_text())
    assert resolved["us"]["fee_rate"]["value"] == 0.3
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert (
        manifest["seed"] == 9 and manifest["draws"] == 300 and len(manifest["params_sha256"]) == 64
    )
    # a different seed changes the numbers
    assert main([*args[:-4], "--seed", "10", "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "summary.csv").read_bytes() != (
        tmp_path / "a" / "summary.csv"
    ).read_bytes()


def test_out_replaces_a_previous_result_whole(tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ["run", "--stance", "open_market", "--draws", "50", "--out", str(out)]
    assert main(args) == 0
    (out / "stale.txt").write_text("old")  # a file an earlier version may have written
    assert main(args) == 0
    assert not (out / "stale.txt").exists()
    assert (out / "manifest.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no temporary folders left


def test_params_show_names_evidence_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["params", "show", "--stance", "domestic_quota"]) == 0
    out = capsys.readouterr().out
    assert "demand.order_book_units" in out and "L178" in out
    assert "stances.domestic_quota.domestic_quota.ratio" in out
    assert "assumption:" in out
    assert "https://" in out  # the sources of the cited facts, with their addresses


def test_report_summarises_every_stance_and_path(tmp_path: Path) -> None:
    r = cli("report", "--draws", "100", "--out", str(tmp_path / "rep"), "--quiet")
    assert r.returncode == 0, r.stderr
    for name in ("customs_ban", "open_market", "as_reported_2026_04"):  # the latest vintage's path
        assert name in r.stdout
    rows = (tmp_path / "rep" / "summary.csv").read_text().splitlines()
    assert len(rows) == 1 + 7 * len(METRICS)


def test_version_and_help() -> None:
    r = cli("--help")
    assert r.returncode == 0 and "run" in r.stdout and "params" in r.stdout
    assert cli("--version").stdout.startswith("h200cast ")


def test_files_written_atomically_get_the_usual_permissions(tmp_path: Path) -> None:
    # A temporary file is created 0600; the file moved into place must read like any other.

    from h200cast.io.atomic import _umask, atomic_write_text

    atomic_write_text(tmp_path / "a.json", "{}\n")
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~_umask()


def test_scenarios_json_has_probabilities_and_signposts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--draws", "600", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    scen = {r["scenario"]: r for r in obj["scenarios"]}
    assert list(scen) == ["bear", "base", "bull"]
    assert sum(r["probability"] for r in scen.values()) == pytest.approx(1.0)
    assert all(0 < r["probability"] < 1 for r in scen.values())  # the chain reaches all three
    signs = {r["signpost"]: r for r in obj["signposts"]}
    assert set(signs) == {
        "first_customs_clearance",
        "final_licence_terms",
        "china_in_nvidia_guidance",
        "tsmc_wafer_starts",
    }
    for r in signs.values():
        assert 0 <= r["probability"] <= 1
        assert r["moves_forecast"] in {"up", "down", "no change"}
    # seeing the first customs clearance can only mean more shipped, never less
    first = signs["first_customs_clearance"]
    assert first["moves_forecast"] == "up" and first["p50_if_seen"] > first["p50_if_not_seen"]


def test_scenarios_table_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--draws", "400"]) == 0
    out = capsys.readouterr().out
    assert "bear" in out and "bull" in out and "Signposts to watch" in out
