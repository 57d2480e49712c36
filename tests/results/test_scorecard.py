"""The scorecard: `h200cast score` against what was observed after each vintage (issue 11, point 4)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from support import ROOT

from h200cast.cli import main
from h200cast.errors import InputError
from h200cast.results import scorecard
from h200cast.settings import DATA_ENV

JANUARY, APRIL = "2026-01-31", "2026-04-30"


@pytest.fixture(scope="module")
def january() -> scorecard.VintageScores:
    return scorecard.score_vintage(JANUARY, draws=400)


def test_the_january_vintage_is_scored_on_what_came_after(january: scorecard.VintageScores) -> None:
    model = {(r.quantity, r.period): r for r in january.rows if r.forecast == "model"}
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert set(model) == {(q, m) for q in ("shipments", "revenue_usd") for m in months}
    for r in model.values():
        assert r.observed == 0 and r.scored and r.crps is not None and 0 <= r.pit <= 1
    # January is zero in nearly every draw: its intervals are the point [0, 0], not hits
    jan = model["revenue_usd", "2026-01"]
    assert jan.intervals[90].lo == jan.intervals[90].hi == 0 and jan.coverage[90] is None
    assert "not scored as hits" in jan.note
    # the forecast spread grows month by month, and so does its CRPS against the zero observed
    crps = [model["shipments", m].crps for m in months]
    assert crps == sorted(crps) and crps[-1] > 0
    # baselines: the guidance and no-change said zero, so their CRPS is zero
    for fc in ("guidance", "no-change"):
        rows = [r for r in january.rows if r.forecast == fc]
        assert len(rows) == 8 and all(r.crps == 0 for r in rows)
    assert all(
        not r.scored and r.note == "no previous vintage"
        for r in january.rows
        if r.forecast == "previous-vintage"
    )


def test_events_and_what_cannot_be_scored(january: scorecard.VintageScores) -> None:
    by = {(e.event, e.forecast): e for e in january.events}
    shipped = by["any H200 shipped by the end of 2026-04", "model"]
    assert shipped.outcome is False and 0 < shipped.p < 1
    assert shipped.brier == pytest.approx(shipped.p**2)
    assert by["any H200 shipped by the end of 2026-04", "guidance"].brier == 0
    lic = by["US licences issued by the end of 2026-02", "no-change"]  # no-change said none
    assert lic.outcome is True and lic.brier == 1 and lic.clipped
    stance = by["Beijing's stance at the end of 2026-04 is selective_approval", "model"]
    assert stance.outcome is True and 0 < stance.p < 1
    reasons = {n.what: n.reason for n in january.not_scored}
    assert "outside the forecast's months" in reasons["market_units"]
    assert "fee collected" in reasons and "production for China restarted" in reasons
    assert "no volume reported" in reasons["china_production halted"]


def test_a_vintage_scores_only_what_was_public_by_the_report(tmp_path: Path) -> None:
    card = scorecard.score_vintage(JANUARY, draws=200, known_by=dt.date(2026, 1, 31))
    assert not card.rows and not card.events
    assert (
        "no observation published after 2026-01-31 and by 2026-01-31" in card.not_scored[0].reason
    )
    april = scorecard.score_vintage(APRIL, draws=200)
    assert (
        not april.rows
        and "no observation published after 2026-04-30 yet" in april.not_scored[0].reason
    )


def test_the_previous_vintage_is_scored_beside_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    obs = data / "observations" / "observations.csv"
    obs.write_text(
        obs.read_text()
        + "2026-06-05,shipments,2026-05,2026-05,0,units,reported,L265,a test row after April\n"
    )
    monkeypatch.setenv(DATA_ENV, str(data))
    card = scorecard.score_vintage(APRIL, draws=300)
    fcs = {r.forecast: r for r in card.rows if r.period == "2026-05"}
    assert set(fcs) == {"model", "guidance", "no-change", "previous-vintage"}
    assert all(r.scored for r in fcs.values())
    # the April view, which saw no sale to April and production stopped, is nearer zero
    assert fcs["model"].crps < fcs["previous-vintage"].crps


def test_score_cli_writes_its_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sc"
    assert main(["score", "--vintage", JANUARY, "--draws", "300", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "== vintage 2026-01-31" in text and "PIT histogram" in text and "not scored:" in text
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "coverage.csv", "events.csv", "manifest.json", "not_scored.csv", "scorecard.txt", "scores.csv",
    ]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO((out / "scores.csv").read_text())))
    jan = next(r for r in rows if r["forecast"] == "model" and r["quantity"] == "revenue_usd"
               and r["period"] == "2026-01")  # fmt: skip
    assert jan["cover-90"] == "" and jan["lo-90"] == jan["hi-90"] == "0"
    cov = list(csv.DictReader(io.StringIO((out / "coverage.csv").read_text())))
    model90 = next(r for r in cov if r["forecast"] == "model" and r["level"] == "90")
    assert int(model90["point_masses_excluded"]) >= 1
    assert (out / "scorecard.txt").read_text() == text.split("wrote ")[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--vintage", JANUARY, "--vintage", JANUARY], "expected each vintage once"),
        (["--vintage", "2026-03-01"], "unknown vintage"),
        (["--vintage", "2999-01-01"], "cannot be dated after today"),
        (["--vintage", "01/31/2026"], "expected a date YYYY-MM-DD"),
        (["--draws", "20"], "expected at least 100 draws"),
    ],
)
def test_malformed_score_requests_exit_2_and_write_nothing(
    args: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sc"
    assert main(["score", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert not out.exists()


def test_a_baseline_citing_later_evidence_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    f = data / "observations" / "baselines.csv"
    f.write_text(f.read_text() + "2026-01-31,guidance,shipments,0,L262,later guidance\n")
    monkeypatch.setenv(DATA_ENV, str(data))
    with pytest.raises(InputError, match="cites facts published after the vintage 2026-01-31"):
        scorecard.load_baselines()
