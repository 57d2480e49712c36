"""The curated history files: they load, cite real evidence, match it, and bad copies fail.

``data/history/*.csv`` are hand-built from ``data/evidence/facts.csv``. These tests check
each row's figure against the fact it cites (so a typo in a number fails), that the
labels follow the cited facts (forecasts stay forecasts, aggregator rows come from the
aggregator), that :func:`as_of` drops rows published after a date, and that broken
copies raise an :class:`InputError` naming the file, the line and the column.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from h200cast.errors import InputError
from h200cast.estimation import history
from h200cast.estimation.evidence import load

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("H200CAST_DATA", raising=False)


@pytest.fixture(scope="module")
def ev():
    return load(DATA)


@pytest.fixture(scope="module")
def revenue():
    return history.load_revenue(DATA)


@pytest.fixture(scope="module")
def shares():
    return history.load_shares(DATA)


@pytest.fixture(scope="module")
def output():
    return history.load_output(DATA)


# --- the committed files ------------------------------------------------------------------


def _data_lines(name: str) -> int:
    text = (DATA / "history" / name).read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines()[1:] if line.strip())


def test_committed_files_load_by_default():
    assert len(history.load_revenue()) == _data_lines(history.REVENUE_FILE) >= 20
    assert len(history.load_shares()) == _data_lines(history.SHARE_FILE) >= 15
    assert len(history.load_output()) == _data_lines(history.OUTPUT_FILE) >= 20


def test_every_row_cites_existing_evidence_and_published_is_the_latest(ev, revenue, shares, output):
    for row in [*revenue, *shares, *output]:
        assert row.evidence, row
        for fid in row.evidence:
            assert fid in ev.facts, (row, fid)
    for row in [*shares, *output]:
        assert row.published == max(ev.facts[f].date for f in row.evidence)
    # a quarter is known only once Nvidia has reported it, four weeks after it ends
    for row in revenue:
        latest = max(ev.facts[f].date for f in row.evidence)
        assert row.published == max(latest, row.period_end + history.REPORTING_LAG), row
        assert row.published >= row.period_end + history.REPORTING_LAG


def _pct(x: float) -> float:
    return x / 100


def test_revenue_values_equal_the_cited_facts(ev, revenue):
    for row in revenue:
        (fid,) = row.evidence
        fact = ev.facts[fid]
        assert fact.unit == "USD" and "revenue" in fact.quantity, row
        if fact.value is not None:
            assert row.revenue_usd == fact.value, row
        else:  # a range (L025, one quarter's): the row is its midpoint, and says so
            assert row.revenue_usd == (fact.low + fact.high) / 2, row
            assert "midpoint" in row.note.lower(), row
    # the range is one quarter's (its period's), not split over two quarters
    (l025,) = [r for r in revenue if r.evidence == ("L025",)]
    assert l025.fiscal_quarter == ev.facts["L025"].period == "FY2025Q4"
    assert l025.period_end + history.REPORTING_LAG == ev.facts["L025"].published


def test_share_values_equal_the_cited_facts(ev, shares):
    checked = 0
    for row in shares:
        (fid,) = row.evidence
        fact = ev.facts[fid]
        assert fact.unit.startswith("%"), row
        points = [fact.value] if fact.value is not None else [fact.low, fact.high]
        if row.basis == "nvidia_complement":
            expected = [1 - _pct(x) for x in points]
        else:
            expected = [_pct(x) for x in points]
        assert any(row.share == pytest.approx(e, abs=1e-9) for e in expected), row
        checked += 1
    assert checked == len(shares)


def test_complement_rows_come_from_foreign_or_nvidia_shares(ev, shares):
    for row in shares:
        quantity = ev.facts[row.evidence[0]].quantity
        foreign = "nvidia" in quantity or "foreign" in quantity or "imported" in quantity
        assert foreign == (row.basis == "nvidia_complement"), row


def test_output_values_equal_the_cited_facts(ev, output):
    for row in output:
        (fid,) = row.evidence
        assert row.value == ev.facts[fid].value, row


def test_kinds_follow_the_cited_facts(ev, shares, output):
    for row in shares:
        fact_kind = ev.facts[row.evidence[0]].kind
        assert (row.kind == "forecast") == (fact_kind == "forecast"), row
    allowed = {"reported": {"reported", "plan"}, "estimate": {"estimate"}, "forecast": {"forecast"}}
    for row in output:
        assert row.kind in allowed[ev.facts[row.evidence[0]].kind], row


def test_revenue_versions_follow_the_sources(ev, revenue):
    for row in revenue:
        source = ev.source_of(row.evidence[0])
        assert row.aggregator == (source.publisher == "OpenCapital"), row
        assert (row.version == "alternate") == ("alternate" in source.title), row
        assert (row.version == "press") == (not row.aggregator), row


def test_flags_and_exclusions(revenue, shares):
    (q4fy26,) = [r for r in revenue if "L230" in r.evidence]
    assert q4fy26.fiscal_quarter == "FY2026Q4" and "FLAG" in q4fy26.note
    cited = {fid for r in shares for fid in r.evidence}
    # "0%" statements are about Nvidia's current sales, not the domestic share
    assert not cited & {"L104", "L120", "L122"}


def test_as_of_keeps_exactly_what_was_published_by_then(ev, revenue, shares, output):
    cut = dt.date(2025, 6, 30)
    for rows in (revenue, shares, output):
        kept = history.as_of(rows, cut)
        expected = [r for r in rows if all(ev.facts[f].date <= cut for f in r.evidence)]
        assert kept == expected
        assert history.as_of(rows, cut.isoformat()) == kept
    # the cut falls in the middle: some rows on each side, for revenue and shares
    for rows in (revenue, shares):
        kept = history.as_of(rows, cut)
        assert 0 < len(kept) < len(rows)
        assert all(r.published > cut for r in rows if r not in kept)
    assert history.as_of(output, dt.date(2020, 1, 1)) == []


def test_as_of_refuses_a_bad_date(revenue):
    with pytest.raises(InputError, match="as_of"):
        history.as_of(revenue, "30/06/2025")


def test_frame_has_one_row_per_record(shares):
    df = history.frame(shares)
    assert list(df.columns) == [*history.SHARE_COLUMNS, "published"]
    assert len(df) == len(shares)
    assert df["share"].between(0, 1).all()


# --- broken copies --------------------------------------------------------------------------

GOOD_REVENUE = "FY2022Q1,2021-05-02,1390000000,primary,true,L001,ok"
GOOD_SHARE = "1H2023,2023.25,0.1,IDC,units,data,L011,ok"
GOOD_OUTPUT = "2025,output,huawei,units,805000,estimate,L082,ok"

_BAD = {
    "wrong header": (
        history.load_revenue,
        history.REVENUE_FILE,
        "fiscal_quarter,period_end,revenue,version,aggregator,evidence,note\n" + GOOD_REVENUE,
        "line 1",
        "header",
    ),
    "share above 1": (
        history.load_shares,
        history.SHARE_FILE,
        ",".join(history.SHARE_COLUMNS)
        + f"\n{GOOD_SHARE}\n2023,2023.5,1.5,Bernstein,value,data,L126,x",
        "line 3",
        "column share",
    ),
    "unknown basis": (
        history.load_shares,
        history.SHARE_FILE,
        ",".join(history.SHARE_COLUMNS)
        + f"\n{GOOD_SHARE}\n2023,2023.5,0.19,Bernstein,revenue,data,L126,x",
        "line 3",
        "column basis",
    ),
    "bad fiscal quarter": (
        history.load_revenue,
        history.REVENUE_FILE,
        ",".join(history.REVENUE_COLUMNS)
        + f"\n{GOOD_REVENUE}\nFY22Q2,2021-08-01,1720000000,primary,true,L002,x",
        "line 3",
        "column fiscal_quarter",
    ),
    "unknown evidence id": (
        history.load_output,
        history.OUTPUT_FILE,
        ",".join(history.OUTPUT_COLUMNS)
        + f"\n{GOOD_OUTPUT}\n2025,output,huawei,chips,300000,estimate,L097 L999,x",
        "line 3",
        "column evidence",
    ),
    "empty evidence": (
        history.load_output,
        history.OUTPUT_FILE,
        ",".join(history.OUTPUT_COLUMNS)
        + f"\n{GOOD_OUTPUT}\n2025,output,huawei,chips,300000,estimate,,x",
        "line 3",
        "column evidence",
    ),
    "percent not fraction": (
        history.load_shares,
        history.SHARE_FILE,
        ",".join(history.SHARE_COLUMNS)
        + "\n2024,2024.5,34,MorganStanley,self_sufficiency,data,L033,x",
        "line 2",
        "column share",
    ),
    "period end of another quarter": (
        history.load_revenue,
        history.REVENUE_FILE,
        ",".join(history.REVENUE_COLUMNS) + "\nFY2022Q2,2021-05-02,1720000000,primary,true,L002,x",
        "line 2",
        "column period_end",
    ),
    "unknown measure": (
        history.load_output,
        history.OUTPUT_FILE,
        ",".join(history.OUTPUT_COLUMNS) + "\n2025,output,huawei,fabs,3,plan,L080,x",
        "line 2",
        "column measure",
    ),
}


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "evidence", tmp_path / "evidence")
    (tmp_path / "history").mkdir()
    return tmp_path


def test_a_good_scratch_copy_loads(scratch):
    (scratch / "history" / history.SHARE_FILE).write_text(
        ",".join(history.SHARE_COLUMNS) + f"\n{GOOD_SHARE}\n", encoding="utf-8"
    )
    (row,) = history.load_shares(scratch)
    assert row.share == 0.1 and row.published == dt.date(2023, 10, 1)


@pytest.mark.parametrize("case", sorted(_BAD))
def test_bad_copies_name_file_line_and_column(scratch, case):
    loader, name, text, line, column = _BAD[case]
    path = scratch / "history" / name
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        loader(scratch)
    message = str(err.value)
    assert str(path) in message
    assert line in message
    assert column in message


def test_missing_file_is_an_input_error(scratch):
    with pytest.raises(InputError, match="file not found"):
        history.load_revenue(scratch)


# --- data/observations/: rows are checked as the history files are ---------------------------

OBS_HEADER = "observed_on,variable,period_start,period_end,value,unit,basis,evidence,note"
GOOD_OBS = "2026-05-30,shipments,2026-02,2026-04,1000,units,reported,L001,ok"
_BAD_OBS = {
    "unknown evidence id": (
        "2026-05-30,shipments,2026-02,2026-04,1000,units,reported,L001 L999,x",
        "evidence",
        "'L999'",
    ),
    "no evidence": (
        "2026-05-30,shipments,2026-02,2026-04,1000,units,reported,,x",
        "evidence",
        "''",
    ),
    "observed before the period ends": (
        "2026-04-29,shipments,2026-02,2026-04,1000,units,reported,L001,x",
        "observed_on",
        "'2026-04-29'",
    ),
    "observed before the period starts": (
        "2025-12-01,shipments,2026-02,2026-04,1000,units,reported,L001,x",
        "observed_on",
        "'2025-12-01'",
    ),
    "period backwards": (
        "2026-05-30,shipments,2026-04,2026-02,1000,units,reported,L001,x",
        "period_end",
        "'2026-02'",
    ),
    "not a month": (
        "2026-05-30,shipments,2026-2,2026-04,1000,units,reported,L001,x",
        "period_start",
        "'2026-2'",
    ),
    "share above 1": (
        "2026-05-30,domestic_share,2026-02,2026-04,1.5,share,reported,L001,x",
        "value",
        "'1.5'",
    ),
    "not finite": (
        "2026-05-30,shipments,2026-02,2026-04,nan,units,reported,L001,x",
        "value",
        "'nan'",
    ),
    "unknown variable": (
        "2026-05-30,shipmints,2026-02,2026-04,1,units,reported,L001,x",
        "variable",
        "'shipmints'",
    ),
    "observed before its evidence was published": (
        "2026-02-10,shipments,2026-01,2026-01,0,units,reported,L250 L251,x",
        "observed_on",
        "'2026-02-10'",
    ),
}


@pytest.mark.parametrize("case", sorted(_BAD_OBS))
def test_bad_observations_name_file_line_column_and_value(tmp_path, case, capsys):
    from h200cast.cli import main
    from h200cast.results import scoring

    row, column, shown = _BAD_OBS[case]
    path = tmp_path / "observations.csv"
    path.write_text(f"{OBS_HEADER}\n{GOOD_OBS}\n{row}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        scoring.load_observations(path)
    assert str(err.value).startswith(f"{path}: line 3, column {column}: got {shown}: expected")
    # the CLI stops before any backtest runs or anything is written
    out = tmp_path / "bt"
    rc = main(
        ["backtest", "--forecast", str(tmp_path), "--observations", str(path), "--out", str(out)]
    )
    assert rc == 2 and not out.exists()
    assert capsys.readouterr().err == f"h200cast: error: {err.value}\n"


def test_good_observations_load(tmp_path):
    from h200cast.results import scoring

    path = tmp_path / "observations.csv"
    share = "2026-07-01,domestic_share,2026-06,2026-06,0.4,share,reported,L011 L033,month end"
    path.write_text(f"{OBS_HEADER}\n{GOOD_OBS}\n\n{share}\n", encoding="utf-8")
    a, b = scoring.load_observations(path)
    assert (a.observed_on, a.value, a.evidence, a.line) == (
        dt.date(2026, 5, 30),
        1000.0,
        ("L001",),
        2,
    )
    assert (b.period_start, b.period_end, b.evidence, b.line) == (
        "2026-06",
        "2026-06",
        ("L011", "L033"),
        4,
    )


def test_committed_observations_cite_evidence_published_by_then(ev):
    from h200cast.results import scoring

    rows = scoring.load_observations()
    assert len(rows) == _data_lines_in(DATA / "observations" / "observations.csv") >= 5
    for ob in rows:
        assert ob.observed_on >= min(ev.facts[i].published for i in ob.evidence), ob
    jan = {ob.variable: ob for ob in rows if (ob.period_start, ob.period_end) == ("2026-01",) * 2}
    assert jan["shipments"].value == 0 and jan["revenue_usd"].value == 0
    assert jan["shipments"].observed_on == dt.date(2026, 2, 6)  # L249, the earliest report
    assert "L257" in jan["revenue_usd"].evidence  # Nvidia's zero H200 revenue for the quarter
    shares = [ob for ob in rows if ob.variable == "domestic_share"]
    assert [(ob.period_start, ob.value) for ob in shares] == [("2025-01", 0.41)]


def _data_lines_in(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip())


def test_contradicting_observations_are_refused(tmp_path, capsys):
    from h200cast.cli import main
    from h200cast.results import scoring

    path = tmp_path / "observations.csv"
    other = "2026-06-01,shipments,2026-02,2026-04,2000,units,reported,L011,another source"
    path.write_text(f"{OBS_HEADER}\n{GOOD_OBS}\n{other}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        scoring.load_observations(path)
    assert str(err.value) == (
        f"{path}: line 3, column value: got '2000': contradicts line 2 "
        "(shipments 2026-02..2026-04 = 1000, evidence L001): two observations of the same "
        "variable and months must give the same value"
    )
    out = tmp_path / "bt"
    rc = main(
        ["backtest", "--forecast", str(tmp_path), "--observations", str(path), "--out", str(out)]
    )
    assert rc == 2 and not out.exists()
    assert capsys.readouterr().err == f"h200cast: error: {err.value}\n"


def test_agreeing_or_overlapping_observations_are_not_contradictions(tmp_path):
    from h200cast.results import scoring

    path = tmp_path / "observations.csv"
    rows = [
        GOOD_OBS,
        "2026-06-01,shipments,2026-02,2026-04,1000.0,units,reported,L011,same outcome from another source",
        "2026-06-01,shipments,2026-02,2026-02,0,units,reported,L011,one month of the three",
        "2026-06-01,shipments,2026-01,2026-03,5000,units,reported,L011,overlapping months",
        "2026-06-01,inventory,2026-02,2026-04,2000,units,reported,L011,another variable",
    ]
    path.write_text(OBS_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert len(scoring.load_observations(path)) == 5


# --- data/observations/states.csv -------------------------------------------------------------

STATE_HEADER = "observed_on,subject,month,state,basis,evidence,note"
GOOD_STATE = "2026-03-31,china_production,2026-03,halted,reported,L265,stopped"


def test_committed_states_load():
    from h200cast.results import scoring
    from h200cast.scenario.schema import STANCES

    rows = scoring.load_states()
    assert len(rows) == _data_lines_in(DATA / "observations" / "states.csv")
    by = {(r.subject, r.month): r for r in rows}
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    for subject in ("beijing_stance", "us_licences", "china_production"):
        assert [m for s, m in by if s == subject] == months  # every month, once
    assert all(by["beijing_stance", m].state in STANCES for m in months)
    assert by["beijing_stance", "2026-01"].state == "selective_approval"
    assert by["beijing_stance", "2026-01"].basis == "reported"
    assert by["us_licences", "2026-01"].state == "none"
    assert by["us_licences", "2026-02"].state == "small_quantities"
    assert [by["china_production", m].state for m in months] == [
        "running",
        "running",
        "halted",
        "halted",
    ]
    assert "L265" in by["china_production", "2026-03"].evidence


_BAD_STATES = {
    "unknown subject": ("2026-03-31,nvidia_mood,2026-03,halted,reported,L265,x", "subject"),
    "state of another subject": (
        "2026-03-31,beijing_stance,2026-03,halted,reported,L265,x",
        "state",
    ),
    "unknown basis": ("2026-04-30,china_production,2026-04,halted,assumed,L265,x", "basis"),
    "observed before the month ends": (
        "2026-04-29,china_production,2026-04,halted,carried,L265,x",
        "observed_on",
    ),
    "observed before its evidence": (
        "2026-02-28,china_production,2026-02,running,carried,L265,x",
        "observed_on",
    ),
    "reported from older facts only": (
        "2026-04-30,china_production,2026-04,halted,reported,L265,x",
        "basis",
    ),
    "unknown evidence": ("2026-04-30,china_production,2026-04,halted,carried,L999,x", "evidence"),
    "not a month": ("2026-04-30,china_production,2026-4,halted,carried,L265,x", "month"),
}


@pytest.mark.parametrize("case", sorted(_BAD_STATES))
def test_bad_states_name_file_line_and_column(tmp_path, case):
    from h200cast.results import scoring

    row, column = _BAD_STATES[case]
    path = tmp_path / "states.csv"
    path.write_text(f"{STATE_HEADER}\n{GOOD_STATE}\n{row}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        scoring.load_states(path)
    assert str(err.value).startswith(f"{path}: line 3, column {column}: got ")
    assert ": expected" in str(err.value) and "\n" not in str(err.value)


def _data_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA / "evidence", data / "evidence")
    shutil.copytree(DATA / "observations", data / "observations")
    return data


def test_contradicting_states_fail_evidence_check(tmp_path, monkeypatch, capsys):
    from h200cast.cli import main

    data = _data_copy(tmp_path)
    states = data / "observations" / "states.csv"
    lines = states.read_text(encoding="utf-8").splitlines()
    line = 1 + next(i for i, t in enumerate(lines) if ",beijing_stance,2026-03," in t)
    lines.append("2026-04-30,beijing_stance,2026-03,customs_ban,carried,L233,a second reading")
    states.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("H200CAST_DATA", str(data))
    assert main(["evidence", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"h200cast: error: {states}: line {len(lines)}, column state: got 'customs_ban': "
        f"contradicts line {line} (beijing_stance 2026-03 = selective_approval, evidence "
        "L233 L241 L264): two observations of the same subject and month must give the same "
        "state\n"
    )


def test_contradicting_observations_fail_evidence_check(tmp_path, monkeypatch, capsys):
    from h200cast.cli import main

    data = _data_copy(tmp_path)
    obs = data / "observations" / "observations.csv"
    text = obs.read_text(encoding="utf-8")
    obs.write_text(text + "2026-03-05,shipments,2026-01,2026-01,5000,units,reported,L264,x\n")
    monkeypatch.setenv("H200CAST_DATA", str(data))
    assert main(["evidence", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    line = text.count("\n") + 1
    assert err.startswith(f"h200cast: error: {obs}: line {line}, column value: got '5000': ")
    assert "contradicts line 2 (shipments 2026-01..2026-01 = 0, evidence L249 L250" in err
