"""Curated historical series: Nvidia's China revenue, the domestic share, domestic output.

``data/history/`` holds three small CSV files built by hand from the evidence: every
row cites the fact ids (``data/evidence/facts.csv``) its figure comes from. They are
read with the standard ``csv`` module and checked (exact header, numbers, shares in
[0, 1], known labels, evidence ids that exist) so that a typo fails loudly with an
:class:`InputError` naming the file, the line and the column.

Each row also carries ``published``, the latest date among its cited facts, so that a
back-test can keep only what was known on a given day with :func:`as_of`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from h200cast import settings
from h200cast.errors import InputError
from h200cast.estimation import evidence
from h200cast.io.textfile import csv_errors, read_text

if TYPE_CHECKING:
    import pandas as pd

REVENUE_FILE = "nvidia_china_revenue.csv"
SHARE_FILE = "domestic_share.csv"
OUTPUT_FILE = "domestic_output.csv"

REVENUE_COLUMNS = (
    "fiscal_quarter",
    "period_end",
    "revenue_usd",
    "version",
    "aggregator",
    "evidence",
    "note",
)
SHARE_COLUMNS = ("period", "year", "share", "source", "basis", "kind", "evidence", "note")
OUTPUT_COLUMNS = ("year", "series", "producer", "measure", "value", "kind", "evidence", "note")

VERSIONS = frozenset({"primary", "alternate", "press"})
SHARE_SOURCES = frozenset({"IDC", "Bernstein", "TrendForce", "MorganStanley", "Nvidia", "Other"})
BASES = frozenset(
    {"units", "value", "self_sufficiency", "procurement", "ai_servers", "nvidia_complement"}
)
SHARE_KINDS = frozenset({"data", "forecast"})
SERIES = frozenset({"output", "capacity", "revenue", "market"})
PRODUCERS = frozenset({"huawei", "cambricon", "hygon", "smic", "all_domestic", "market"})
MEASURES = frozenset({"dies", "chips", "units", "wafers_per_month", "usd", "cny"})
OUTPUT_KINDS = frozenset({"reported", "estimate", "forecast", "plan"})

_FISCAL_QUARTER = re.compile(r"^FY(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_YEAR_IN_TEXT = re.compile(r"(?<!\d)(\d{4})(?!\d)")
# Nvidia's fiscal quarters end on a Sunday near the end of April, July, October and
# January; a period_end further than this from the month's last day is a wrong label.
_QUARTER_END_TOLERANCE = dt.timedelta(days=10)
# Nvidia reports a quarter three to four weeks after it ends; the aggregator dates its
# rows at the quarter's end. A quarter counts as known only once it was reported.
REPORTING_LAG = dt.timedelta(days=28)
# The history files were curated from the evidence published by this day. Fits and
# backtests count a quarter as reported only by then (unless given an as-of date), so
# that evidence added later changes them only once the history files are revised.
VINTAGE = dt.date(2026, 4, 30)


@dataclass(frozen=True)
class RevenueRow:
    """Nvidia's China (incl. Hong Kong) revenue in one fiscal quarter, from one source."""

    fiscal_quarter: str
    period_end: dt.date
    revenue_usd: float
    version: str
    aggregator: bool
    evidence: tuple[str, ...]
    note: str
    published: dt.date  # the later of the cited facts' dates and period_end + REPORTING_LAG


@dataclass(frozen=True)
class ShareRow:
    """One figure for the domestic share of China's AI accelerator market."""

    period: str
    year: float
    share: float
    source: str
    basis: str
    kind: str
    evidence: tuple[str, ...]
    note: str
    published: dt.date


@dataclass(frozen=True)
class OutputRow:
    """One figure for domestic accelerator output, capacity, revenue or market size."""

    year: int
    series: str
    producer: str
    measure: str
    value: float
    kind: str
    evidence: tuple[str, ...]
    note: str
    published: dt.date


Row = TypeVar("Row", RevenueRow, ShareRow, OutputRow)


class Reader:
    """Rows of one CSV file with the helpers that turn cells into checked values.

    Used for the history files here and for ``data/observations/`` (:mod:`h200cast.backtest`).
    """

    def __init__(self, path: Path, columns: tuple[str, ...], data_dir: Path) -> None:
        self.path = path
        self.columns = columns
        self.data_dir = data_dir
        self.line = 0

    def rows(self) -> Iterator[dict[str, str]]:
        """Yield each data row as a dict, after checking the header and the cell count."""
        text = read_text(self.path, "utf-8-sig")
        reader = csv.reader(io.StringIO(text, newline=""))
        with csv_errors(self.path, reader):  # a NUL byte, a huge cell: one line
            header = tuple(next(reader, ()))
            if header != self.columns:
                raise InputError(
                    f"expected the header {','.join(self.columns)}",
                    file=self.path,
                    key="line 1, header",
                    value=",".join(header),
                )
            for cells in reader:
                self.line = reader.line_num
                if not cells or all(not c.strip() for c in cells):
                    continue
                if len(cells) != len(self.columns):
                    raise InputError(
                        f"expected {len(self.columns)} cells, got {len(cells)}",
                        file=self.path,
                        key=f"line {self.line}",
                    )
                yield dict(zip(self.columns, cells, strict=True))

    def error(self, message: str, column: str, value: object) -> InputError:
        """An InputError that names this file, the current line and ``column``."""
        return InputError(
            message, file=self.path, key=f"line {self.line}, column {column}", value=value
        )

    def number(self, row: dict[str, str], column: str) -> float:
        """A finite number."""
        text = row[column].strip()
        try:
            x = float(text)
        except ValueError:
            raise self.error("expected a number", column, row[column]) from None
        if not math.isfinite(x):
            raise self.error("expected a finite number", column, row[column])
        return x

    def choice(self, row: dict[str, str], column: str, allowed: frozenset[str]) -> str:
        """One of the ``allowed`` labels."""
        text = row[column]
        if text not in allowed:
            raise self.error(f"expected one of {sorted(allowed)}", column, text)
        return text

    def date(self, row: dict[str, str], column: str) -> dt.date:
        """An ISO date ``YYYY-MM-DD``."""
        text = row[column]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise self.error("expected an ISO date YYYY-MM-DD", column, text)
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise self.error("expected an ISO date YYYY-MM-DD", column, text) from None

    def month(self, row: dict[str, str], column: str) -> str:
        """A month ``YYYY-MM``."""
        text = row[column]
        if not _MONTH.fullmatch(text):
            raise self.error("expected a month YYYY-MM", column, text)
        return text

    def evidence(self, row: dict[str, str]) -> tuple[tuple[str, ...], dt.date]:
        """The cited fact ids (at least one, all known) and the latest of their dates."""
        ids = tuple(row["evidence"].split())
        if not ids:
            raise self.error(
                "expected at least one evidence id (space-separated)", "evidence", row["evidence"]
            )
        if len(set(ids)) != len(ids):
            raise self.error("evidence id cited twice", "evidence", row["evidence"])
        facts = evidence.cached(self.data_dir).facts
        for fid in ids:
            if fid not in facts:
                raise self.error(
                    "expected an id in evidence/facts.csv (not found there)", "evidence", fid
                )
        return ids, max(facts[fid].date for fid in ids)


def _data_dir(data_dir: Path | str | None) -> Path:
    return Path(data_dir) if data_dir is not None else settings.data_dir()


def _nominal_quarter_end(fiscal_year: int, quarter: int) -> dt.date:
    """The last calendar day of the month in which Nvidia's fiscal quarter ends."""
    year, month = (fiscal_year, 1) if quarter == 4 else (fiscal_year - 1, 1 + 3 * quarter)
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def load_revenue(data_dir: Path | str | None = None) -> list[RevenueRow]:
    """Load ``history/nvidia_china_revenue.csv``: China revenue by fiscal quarter.

    Parameters
    ----------
    data_dir
        The data folder (holding ``history/`` and ``evidence/``); the checkout's by default.

    Returns
    -------
    list[RevenueRow]
        One row per figure in file order; a quarter can have several (primary table,
        alternate table, press), which is why ``version`` and ``aggregator`` are kept.
    """
    base = _data_dir(data_dir)
    r = Reader(base / "history" / REVENUE_FILE, REVENUE_COLUMNS, base)
    out: list[RevenueRow] = []
    primary: set[str] = set()
    for row in r.rows():
        fq = row["fiscal_quarter"]
        m = _FISCAL_QUARTER.match(fq)
        if not m:
            raise r.error("expected a fiscal quarter like FY2025Q3", "fiscal_quarter", fq)
        period_end = r.date(row, "period_end")
        nominal = _nominal_quarter_end(int(m.group(1)), int(m.group(2)))
        if abs(period_end - nominal) > _QUARTER_END_TOLERANCE:
            raise r.error(
                f"expected the end of {fq}, near {nominal}", "period_end", row["period_end"]
            )
        revenue = r.number(row, "revenue_usd")
        if revenue < 0:
            raise r.error("expected revenue >= 0", "revenue_usd", row["revenue_usd"])
        version = r.choice(row, "version", VERSIONS)
        if version == "primary":
            if fq in primary:
                raise r.error("a second primary row for this quarter", "fiscal_quarter", fq)
            primary.add(fq)
        aggregator = r.choice(row, "aggregator", frozenset({"true", "false"})) == "true"
        ids, published = r.evidence(row)
        published = max(published, period_end + REPORTING_LAG)
        out.append(
            RevenueRow(fq, period_end, revenue, version, aggregator, ids, row["note"], published)
        )
    return out


def load_shares(data_dir: Path | str | None = None) -> list[ShareRow]:
    """Load ``history/domestic_share.csv``: the domestic share of China's AI accelerators.

    Parameters
    ----------
    data_dir
        The data folder (holding ``history/`` and ``evidence/``); the checkout's by default.

    Returns
    -------
    list[ShareRow]
        One row per figure. Shares counted on different bases (``basis``) and forecasts
        (``kind == "forecast"``) are different quantities: filter before fitting.
    """
    base = _data_dir(data_dir)
    r = Reader(base / "history" / SHARE_FILE, SHARE_COLUMNS, base)
    out: list[ShareRow] = []
    for row in r.rows():
        period = row["period"].strip()
        stated = _YEAR_IN_TEXT.findall(period)
        if not stated:
            raise r.error(
                "expected a period naming its year, e.g. 2023 or 1H2023", "period", period
            )
        year = r.number(row, "year")
        if not any(int(y) <= year < int(y) + 1 for y in stated):
            raise r.error(
                f"expected a decimal year within the period's year {stated[0]}",
                "year",
                row["year"],
            )
        share = r.number(row, "share")
        if not 0 <= share <= 1:
            raise r.error(
                "expected a share in [0, 1] (a fraction, not a percent)", "share", row["share"]
            )
        source = r.choice(row, "source", SHARE_SOURCES)
        basis = r.choice(row, "basis", BASES)
        kind = r.choice(row, "kind", SHARE_KINDS)
        ids, published = r.evidence(row)
        out.append(ShareRow(period, year, share, source, basis, kind, ids, row["note"], published))
    return out


def load_output(data_dir: Path | str | None = None) -> list[OutputRow]:
    """Load ``history/domestic_output.csv``: domestic output, capacity, revenue, market size.

    Parameters
    ----------
    data_dir
        The data folder (holding ``history/`` and ``evidence/``); the checkout's by default.

    Returns
    -------
    list[OutputRow]
        One row per figure. Conflicting figures for the same producer and year stay as
        separate rows: ``measure`` (dies, chips, units...) and ``kind`` tell them apart.
    """
    base = _data_dir(data_dir)
    r = Reader(base / "history" / OUTPUT_FILE, OUTPUT_COLUMNS, base)
    out: list[OutputRow] = []
    for row in r.rows():
        if not _YEAR.match(row["year"]):
            raise r.error("expected a four-digit calendar year", "year", row["year"])
        series = r.choice(row, "series", SERIES)
        producer = r.choice(row, "producer", PRODUCERS)
        measure = r.choice(row, "measure", MEASURES)
        value = r.number(row, "value")
        if value < 0:
            raise r.error("expected a value >= 0", "value", row["value"])
        kind = r.choice(row, "kind", OUTPUT_KINDS)
        ids, published = r.evidence(row)
        out.append(
            OutputRow(
                int(row["year"]),
                series,
                producer,
                measure,
                value,
                kind,
                ids,
                row["note"],
                published,
            )
        )
    return out


def as_of(rows: Sequence[Row], date: dt.date | str) -> list[Row]:
    """The rows whose every cited fact was dated on or before ``date``.

    Parameters
    ----------
    rows
        Rows from one of the loaders.
    date
        The cut-off, a date or an ISO string; rows with ``published > date`` are dropped,
        so a back-test sees only what was known then.
    """
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            raise InputError("expected an ISO date YYYY-MM-DD", key="as_of", value=date) from None
    return [row for row in rows if row.published <= date]


def frame(rows: Sequence[RevenueRow | ShareRow | OutputRow]) -> pd.DataFrame:
    """The rows as a pandas DataFrame, one column per field (``evidence`` stays a tuple)."""
    import pandas as pd

    return pd.DataFrame([asdict(row) for row in rows])
