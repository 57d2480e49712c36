"""The evidence files: the committed ones load and hold together, broken ones are refused.

``data/evidence/facts.csv`` and ``sources.csv`` are checked on load (unique ids, ISO
dates, numbers where numbers belong, known sources, well-formed URLs, no unused
source). Broken copies written to a scratch folder must each raise an
:class:`InputError` that names the file and the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from h200cast import settings
from h200cast.cli import main
from h200cast.errors import InputError
from h200cast.estimation import evidence
from h200cast.estimation.evidence import FACT_COLUMNS, SOURCE_COLUMNS, load, well_formed_url

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
PARAMS = ROOT / "params"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("H200CAST_DATA", raising=False)
    monkeypatch.delenv("H200CAST_PARAMS", raising=False)


@pytest.fixture(scope="module")
def ev():
    return load(DATA)


# --- the committed evidence ---------------------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_default_location_is_the_checkout():
    assert settings.data_dir().resolve() == DATA.resolve()
    ev = load()
    assert len(ev.facts) == len(_csv_rows(DATA / "evidence" / "facts.csv"))


def test_committed_evidence_loads(ev):
    facts = _csv_rows(DATA / "evidence" / "facts.csv")
    sources = _csv_rows(DATA / "evidence" / "sources.csv")
    assert len(facts) > 200 and len(sources) > 100
    # ids unique: every row became one entry
    fact_ids = [r["id"] for r in facts]
    source_ids = [r["source_id"] for r in sources]
    assert len(set(fact_ids)) == len(fact_ids) == len(ev.facts)
    assert len(set(source_ids)) == len(source_ids) == len(ev.sources)
    # every fact's source exists, every source is used
    used = {f.source_id for f in ev.facts.values()}
    assert used <= set(ev.sources)
    assert used == set(ev.sources)
    for f in ev.facts.values():
        assert ev.source_of(f.id).source_id == f.source_id
        if f.low is not None and f.high is not None:
            assert f.low <= f.high, f.id
    assert all(well_formed_url(s.url) for s in ev.sources.values())


def test_cli_evidence_check(capsys):
    assert main(["evidence", "check"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    ev = load(DATA)
    from h200cast.results.scoring import load_observations, load_states

    assert out.strip() == (
        f"ok  {len(ev.facts)} facts, {len(ev.sources)} sources; "
        f"{len(load_observations())} observations, {len(load_states())} states"
    )
    assert out.startswith("ok  300 facts, 167 sources; ")


def test_cli_evidence_show_l191(ev, capsys):
    fact = ev.facts["L191"]
    src = ev.source_of("L191")
    assert fact.value == 27000 and fact.unit == "USD/chip"
    assert main(["evidence", "show", "L191"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "L191" in out
    assert "= 27000 USD/chip" in out
    assert f"source {src.source_id}" in out
    assert f"<{src.url}>" in out
    assert src.url.startswith("https://")


def test_cli_evidence_show_unknown_id(capsys):
    assert main(["evidence", "show", "L999"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "h200cast: error: data/evidence/facts.csv: id: got 'L999': unknown evidence id\n"


def _cited_ids(node) -> list[str]:
    """Every id in an ``evidence:`` list anywhere in a YAML tree."""
    found: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "evidence":
                assert isinstance(v, list), f"`evidence:` should be a list, got {v!r}"
                found.extend(str(x) for x in v)
            else:
                found.extend(_cited_ids(v))
    elif isinstance(node, list):
        for v in node:
            found.extend(_cited_ids(v))
    return found


def test_every_id_cited_in_params_exists(ev):
    files = sorted(PARAMS.rglob("*.yaml"))
    assert PARAMS / "base.yaml" in files and len(files) >= 8
    cited: dict[str, list[str]] = {}
    for f in files:
        for i in _cited_ids(yaml.safe_load(f.read_text(encoding="utf-8"))):
            cited.setdefault(i, []).append(str(f.relative_to(ROOT)))
    # the walk reaches base, stances and path steps
    assert len(cited) > 50
    assert "L186" in cited and any("paths/" in f for f in cited["L186"])  # a path step
    assert any("stances/" in f for f in cited["S004"])
    unknown = {i: where for i, where in cited.items() if i not in ev.facts}
    assert not unknown, f"cited but not in facts.csv: {unknown}"


def test_ids_mentioned_in_params_text_exist(ev):
    """Ids quoted in notes and assumptions ("(L188, L189)") must exist too."""
    for f in sorted(PARAMS.rglob("*.yaml")):
        for i in re.findall(r"\b[LS]\d{3}\b", f.read_text(encoding="utf-8")):
            assert i in ev.facts, f"{f.relative_to(ROOT)} mentions {i}, not in facts.csv"


def test_opencapital_revenue_rows_say_aggregator(ev):
    opencapital = {s.source_id for s in ev.sources.values() if s.publisher == "OpenCapital"}
    assert opencapital, "no OpenCapital source in sources.csv"
    rows = [
        f
        for f in ev.facts.values()
        if f.quantity.startswith("nvidia_china_hk_revenue") and f.source_id in opencapital
    ]
    assert len(rows) >= 15
    lacking = [f.id for f in rows if not re.search(r"\baggregator\b", f.note, re.IGNORECASE)]
    assert not lacking, f"OpenCapital revenue rows without 'aggregator' in the note: {lacking}"


def test_every_fact_has_a_publication_date_distinct_from_its_period(ev):
    rows = _csv_rows(DATA / "evidence" / "facts.csv")
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["published"]) for r in rows)
    with_period = [f for f in ev.facts.values() if f.period]
    assert len(with_period) > 100
    for f in with_period:
        start, end = evidence.period_bounds(f.period)
        if f.kind == "reported":
            assert f.published >= end, f.id
        elif f.kind == "estimate":
            assert f.published >= start, f.id
    # a quarter's revenue is known when it is published, not when the quarter ends
    l257 = ev.facts["L257"]
    assert (l257.period, l257.published.isoformat(), l257.value) == ("FY2026Q4", "2026-02-25", 0)
    assert evidence.period_bounds("FY2026Q4")[1].isoformat() == "2026-01-31"
    # events keep their day in `period`, apart from the day they became public
    assert (ev.facts["S001"].period, ev.facts["S001"].published.isoformat()) == (
        "2026-01-12",
        "2026-01-15",
    )
    assert ev.facts["L191"].date == ev.facts["L191"].published  # `date` is the publication date


def test_aggregator_revenue_is_published_four_weeks_after_its_quarter(ev):
    rows = [
        f
        for f in ev.facts.values()
        if f.quantity.startswith("nvidia_china_hk_revenue")
        and f.source_id in ("src-001", "src-007")
    ]
    assert len(rows) == 19
    for f in rows:
        assert re.fullmatch(r"FY20\d\dQ[1-4]", f.period), f.id
        assert "quarter end + 28 days" in f.note, f.id
    # the 28 days count from the real quarter end the ledger gave (a Sunday), e.g. 2 May 2021
    assert ev.facts["L001"].published.isoformat() == "2021-05-30"


def test_evidence_through_april_2026_is_present_with_sources(ev):
    new = [f"L{i}" for i in range(247, 292)]
    assert set(new) <= set(ev.facts) and len(ev.facts) == 300 and len(ev.sources) == 167
    for fid in new:
        f = ev.facts[fid]
        assert dt.date(2026, 2, 1) <= f.published <= dt.date(2026, 4, 30), fid
        src = ev.source_of(fid)
        assert src.url.startswith("https://") and src.title, fid
        assert src.date <= f.published, fid
        assert len(f.note) > 40, fid
    assert ev.facts["L250"].value == 0 and ev.facts["L250"].published == dt.date(2026, 2, 24)
    assert ev.facts["L265"].quantity == "nvidia_halts_china_h200_production"
    assert ev.facts["L265"].published == dt.date(2026, 3, 5)
    assert (ev.facts["L276"].value, ev.facts["L276"].period) == (41, "2025")
    assert ev.source_of("L250").url.startswith("https://indianexpress.com/")
    # one source page, several facts
    assert {ev.facts[i].source_id for i in ("L251", "L253", "L254", "L255")} == {"src-149"}


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("2025", "2025-01-01", "2025-12-31"),
        ("2025H2", "2025-07-01", "2025-12-31"),
        ("2024Q1", "2024-01-01", "2024-03-31"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2026-04-24", "2026-04-24", "2026-04-24"),
        ("FY2026", "2025-02-01", "2026-01-31"),
        ("FY2022Q1", "2021-02-01", "2021-04-30"),
        ("FY2026Q4", "2025-11-01", "2026-01-31"),
        ("FY2025Q1..FY2025Q3", "2024-02-01", "2024-10-31"),
        ("2025-01..2025-09", "2025-01-01", "2025-09-30"),
    ],
)
def test_period_bounds(period, first, last):
    assert evidence.period_bounds(period) == (
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
    )


@pytest.mark.parametrize(
    "period", ["", "2025H3", "2025Q5", "2025-13", "FY26Q4", "2026..2025", "2025-02-30"]
)
def test_period_bounds_refuses(period):
    assert evidence.period_bounds(period) is None


def test_forecasts_and_estimates_may_precede_the_end_of_their_period(tmp_path):
    forecast = "L004,2025-10-20,FY2026Q4,demand,guidance_usd,0,,,USD,forecast,src-002,guidance"
    estimate = "L005,2025-12-01,2025,market,market_usd,37,,,USD,estimate,src-002,under way"
    write(tmp_path, sources=GOOD_SOURCES, facts=[*GOOD_FACTS, FACT3, forecast, estimate])
    ev = load(tmp_path)
    assert ev.facts["L004"].published < evidence.period_bounds("FY2026Q4")[1]
    assert ev.facts["L005"].published < evidence.period_bounds("2025")[1]
    assert ev.facts["L003"].period == "FY2026Q4"


# --- broken copies ---------------------------------------------------------------------------

SOURCES_HEADER = ",".join(SOURCE_COLUMNS)
FACTS_HEADER = ",".join(FACT_COLUMNS)
SRC1 = "src-001,https://example.com/a,A title,Example,2026-01-02"
SRC2 = "src-002,https://example.org/b,Another title,Example,2026-01-03"
FACT1 = "L001,2026-01-02,,price,h200_unit_price_usd,27000,,,USD/chip,reported,src-001,a note"
FACT2 = "L002,2026-01-03,,supply,h200_inventory_units,,600000,700000,units,estimate,src-002,note"
# a quarter's revenue, published after the quarter ends
FACT3 = "L003,2026-02-25,FY2026Q4,history,revenue_usd,0,,,USD,reported,src-001,a quarter"


def write(tmp: Path, *, sources: list[str] | None = None, facts: list[str] | None = None) -> Path:
    """Write evidence/sources.csv and evidence/facts.csv (None: leave the file out)."""
    d = tmp / "evidence"
    d.mkdir(exist_ok=True)
    if sources is not None:
        (d / "sources.csv").write_text("\n".join(sources) + "\n", encoding="utf-8")
    if facts is not None:
        (d / "facts.csv").write_text("\n".join(facts) + "\n", encoding="utf-8")
    return d


GOOD_SOURCES = [SOURCES_HEADER, SRC1, SRC2]
GOOD_FACTS = [FACTS_HEADER, FACT1, FACT2]


def test_minimal_good_copy_loads(tmp_path):
    write(tmp_path, sources=GOOD_SOURCES, facts=GOOD_FACTS)
    ev = load(tmp_path)
    assert set(ev.facts) == {"L001", "L002"}
    assert ev.facts["L002"].low == 600000 and ev.facts["L002"].value is None
    assert ev.facts["L001"].value == 27000


def _raises(tmp_path: Path, file: str) -> InputError:
    with pytest.raises(InputError) as exc:
        load(tmp_path)
    e = exc.value
    assert e.file == str(tmp_path / "evidence" / file), e.render()
    assert "\n" not in e.render()
    assert e.render().startswith(str(tmp_path / "evidence" / file) + ": ")
    return e


FACT_CASES = {
    "duplicate_id": (
        [FACTS_HEADER, FACT1, FACT2, FACT1.replace("2026-01-02", "2026-01-05")],
        "line 4 (L001).id",
        "duplicate fact id",
    ),
    "non_iso_date": (
        [FACTS_HEADER, FACT1, FACT2.replace("2026-01-03", "03/01/2026")],
        "line 3 (L002).published",
        "expected a publication date YYYY-MM-DD",
    ),
    "no_publication_date": (
        [FACTS_HEADER, FACT1, FACT2.replace("2026-01-03", "")],
        "line 3 (L002).published",
        "expected a publication date YYYY-MM-DD: every fact needs the day it became public",
    ),
    "impossible_publication_date": (
        [FACTS_HEADER, FACT1, FACT2.replace("2026-01-03", "2026-02-30")],
        "line 3 (L002).published",
        "expected an ISO date",
    ),
    "short_publication_date": (
        [FACTS_HEADER, FACT1, FACT2.replace("2026-01-03", "2026-1-3")],
        "line 3 (L002).published",
        "expected a publication date YYYY-MM-DD",
    ),
    "bad_period": (
        [FACTS_HEADER, FACT1, FACT3.replace("FY2026Q4", "Q4 FY26")],
        "line 3 (L003).period",
        "expected a period: YYYY,",
    ),
    "period_backwards": (
        [FACTS_HEADER, FACT1, FACT3.replace("FY2026Q4", "2026-03..2026-01")],
        "line 3 (L003).period",
        "expected a period",
    ),
    "reported_before_its_period_ends": (
        [FACTS_HEADER, FACT1, FACT3.replace("2026-02-25", "2026-01-25")],
        "line 3 (L003).published",
        "expected a publication date on or after the end of the period FY2026Q4 (2026-01-31)",
    ),
    "estimate_before_its_period_begins": (
        [FACTS_HEADER, FACT1, FACT2.replace(",2026-01-03,,", ",2026-01-03,2027,")],
        "line 3 (L002).published",
        "expected a publication date on or after the start of the period 2027 (2027-01-01)",
    ),
    "too_few_cells": (
        [FACTS_HEADER, FACT1, FACT2.rsplit(",", 2)[0]],
        "line 3",
        "expected 12 cells, got 10",
    ),
    "non_number_value": (
        [FACTS_HEADER, FACT1.replace(",27000,", ",27k,"), FACT2],
        "line 2 (L001).value",
        "expected a number",
    ),
    "nan_value": (
        [FACTS_HEADER, FACT1.replace(",27000,", ",nan,"), FACT2],
        "line 2 (L001).value",
        "expected a finite number",
    ),
    "low_above_high": (
        [FACTS_HEADER, FACT1, FACT2.replace(",600000,700000,", ",800000,700000,")],
        "line 3 (L002).low",
        "expected low <= high",
    ),
    "unknown_source": (
        [FACTS_HEADER, FACT1, FACT2, FACT1.replace("L001", "L003").replace("src-001", "src-009")],
        "line 4 (L003).source_id",
        "not defined in sources.csv",
    ),
    "bad_fact_id": (
        [FACTS_HEADER, FACT1, FACT2.replace("L002", "X002")],
        "line 3 (X002).id",
        "expected a fact id like L001",
    ),
}


@pytest.mark.parametrize("case", list(FACT_CASES))
def test_broken_facts(case, tmp_path):
    facts, where, expected = FACT_CASES[case]
    write(tmp_path, sources=GOOD_SOURCES, facts=facts)
    e = _raises(tmp_path, "facts.csv")
    assert e.key == where
    assert expected in e.message
    assert where in e.render()


@pytest.mark.parametrize(
    "url",
    [
        "htp:/x",
        "https://example.com/a b",
        "https:///path-without-host",
        "example.com/no-scheme",
        "ftp://example.com/file",
        "urn:other:x",
        "urn:h200cast:seed:Bad-Name",
    ],
)
def test_malformed_url(url, tmp_path):
    src2 = f'src-002,"{url}",Another title,Example,2026-01-03'
    write(tmp_path, sources=[SOURCES_HEADER, SRC1, src2], facts=GOOD_FACTS)
    e = _raises(tmp_path, "sources.csv")
    assert e.key == "line 3 (src-002).url"
    assert e.value == url
    assert "expected an http(s) URL" in e.message
    assert not well_formed_url(url)


@pytest.mark.parametrize(
    "url", ["urn:h200cast:seed:abc_123", "https://example.com/x?y=1", "http://a.b/"]
)
def test_accepted_url(url, tmp_path):
    assert well_formed_url(url)
    src2 = f'src-002,"{url}",Another title,Example,2026-01-03'
    write(tmp_path, sources=[SOURCES_HEADER, SRC1, src2], facts=GOOD_FACTS)
    assert load(tmp_path).sources["src-002"].url == url


def test_duplicate_source_id(tmp_path):
    write(tmp_path, sources=[SOURCES_HEADER, SRC1, SRC2, SRC1], facts=GOOD_FACTS)
    e = _raises(tmp_path, "sources.csv")
    assert e.key == "line 4 (src-001).source_id"
    assert "duplicate source id" in e.message


def test_non_iso_source_date(tmp_path):
    write(
        tmp_path,
        sources=[SOURCES_HEADER, SRC1, SRC2.replace("2026-01-03", "2026-1-3")],
        facts=GOOD_FACTS,
    )
    e = _raises(tmp_path, "sources.csv")
    assert e.key == "line 3 (src-002).date"
    assert "expected an ISO date" in e.message


@pytest.mark.parametrize(
    ("file", "header"),
    [
        ("facts.csv", FACTS_HEADER.replace(",note", "")),
        ("facts.csv", FACTS_HEADER.replace("low,high", "high,low")),
        ("sources.csv", SOURCES_HEADER.replace("url", "link")),
    ],
    ids=["facts_missing_column", "facts_swapped_columns", "sources_renamed_column"],
)
def test_wrong_header(file, header, tmp_path):
    sources = [SOURCES_HEADER, SRC1, SRC2]
    facts = [FACTS_HEADER, FACT1, FACT2]
    (sources if file == "sources.csv" else facts)[0] = header
    write(tmp_path, sources=sources, facts=facts)
    e = _raises(tmp_path, file)
    assert e.key == "header"  # line 1
    assert e.value == header
    expected = ",".join(FACT_COLUMNS if file == "facts.csv" else SOURCE_COLUMNS)
    assert f"expected the header {expected}" in e.message


def test_unused_source(tmp_path):
    src3 = "src-003,https://example.net/c,Unused,Example,2026-01-04"
    write(tmp_path, sources=[*GOOD_SOURCES, src3], facts=GOOD_FACTS)
    e = _raises(tmp_path, "sources.csv")
    assert e.value == ["src-003"]
    assert "no fact uses" in e.message
    assert "src-003" in e.render()


@pytest.mark.parametrize("missing", ["facts.csv", "sources.csv"])
def test_missing_file(missing, tmp_path):
    write(
        tmp_path,
        sources=None if missing == "sources.csv" else GOOD_SOURCES,
        facts=None if missing == "facts.csv" else GOOD_FACTS,
    )
    e = _raises(tmp_path, missing)
    assert e.message == "file not found"


def test_cli_evidence_check_without_a_publication_date(tmp_path, monkeypatch, capsys):
    """A fact without a publication date: exit 2, one line, nothing on stdout."""
    write(
        tmp_path, sources=GOOD_SOURCES, facts=[FACTS_HEADER, FACT1, FACT3.replace("2026-02-25", "")]
    )
    monkeypatch.setenv("H200CAST_DATA", str(tmp_path))
    assert main(["evidence", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"h200cast: error: {tmp_path / 'evidence' / 'facts.csv'}: line 3 (L003).published: "
        "got '': expected a publication date YYYY-MM-DD: every fact needs the day it became public\n"
    )


def test_cli_evidence_check_on_a_malformed_publication_date(tmp_path, monkeypatch, capsys):
    bad = FACT3.replace("2026-02-25", "25 Feb 2026")
    write(tmp_path, sources=GOOD_SOURCES, facts=[FACTS_HEADER, FACT1, bad])
    monkeypatch.setenv("H200CAST_DATA", str(tmp_path))
    assert main(["evidence", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"h200cast: error: {tmp_path / 'evidence' / 'facts.csv'}: line 3 (L003)")
    assert "published: got '25 Feb 2026': expected a publication date YYYY-MM-DD" in err


def test_cli_evidence_check_on_broken_copy(tmp_path, monkeypatch, capsys):
    """Through the CLI: exit 2 and one line naming the file and the line."""
    write(tmp_path, sources=GOOD_SOURCES, facts=[FACTS_HEADER, FACT1, FACT1])
    monkeypatch.setenv("H200CAST_DATA", str(tmp_path))
    assert main(["evidence", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"h200cast: error: {tmp_path / 'evidence' / 'facts.csv'}: line 3 (L001).id: "
        "got 'L001': duplicate fact id\n"
    )
