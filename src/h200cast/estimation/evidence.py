"""The evidence behind every parameter: facts with their sources.

``data/evidence/facts.csv`` holds one figure per row (a reported number, an analyst's
estimate or someone's forecast) and ``data/evidence/sources.csv`` the page each came
from. Both are loaded with the standard ``csv`` module and checked: unique ids, ISO
dates, numbers where numbers belong, every source defined, every URL well formed.

Every fact has a ``published`` date, the day it became public, which is what an
"as of" cut filters on. A fact about a span of time (a quarter's revenue, a year's
shipments, the day of an event) names it in ``period``; a reported figure cannot be
published before its period ends, an estimate not before it begins, and a forecast
any time (see :func:`period_bounds` for the forms).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

from h200cast import settings
from h200cast.errors import InputError
from h200cast.io.textfile import csv_errors, read_text

FACT_COLUMNS = (
    "id",
    "published",
    "period",
    "topic",
    "quantity",
    "value",
    "low",
    "high",
    "unit",
    "kind",
    "source_id",
    "note",
)
SOURCE_COLUMNS = ("source_id", "url", "title", "publisher", "date")
TOPICS = {
    "demand",
    "supply",
    "price",
    "fee",
    "approval",
    "policy",
    "history",
    "domestic",
    "performance",
    "market",
}
KINDS = {"reported", "estimate", "forecast"}
_FACT_ID = re.compile(r"^[LS]\d{3}$")
_SOURCE_ID = re.compile(r"^src-\d{3}$")
_SEED_URN = re.compile(r"^urn:h200cast:seed:[0-9a-z_]+$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PERIOD_FORMS = (
    "YYYY, YYYYH1-2, YYYYQ1-4, YYYY-MM, YYYY-MM-DD, Nvidia's FYYYYY or FYYYYYQ1-4, "
    "or FIRST..LAST of these"
)


@dataclass(frozen=True)
class Fact:
    """One figure from one source."""

    id: str
    published: dt.date
    period: str  # the span the figure describes ("" when it is about the day it was published)
    topic: str
    quantity: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    kind: str
    source_id: str
    note: str

    @property
    def date(self) -> dt.date:
        """The publication date (``published``): what an as-of cut may know."""
        return self.published


@dataclass(frozen=True)
class Source:
    """Where facts come from."""

    source_id: str
    url: str
    title: str
    publisher: str
    date: dt.date


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    text = read_text(path)
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh)
        with csv_errors(path, reader):  # a cell over the field limit: one line, not a traceback
            return _checked_rows(path, columns, reader)


def _checked_rows(
    path: Path, columns: tuple[str, ...], reader: csv.DictReader[str]
) -> list[tuple[int, dict[str, str]]]:
    header = tuple(reader.fieldnames or ())
    if header != columns:
        raise InputError(
            f"expected the header {','.join(columns)}",
            file=path,
            key="header",
            value=",".join(header),
        )
    out = []
    for i, row in enumerate(reader, start=2):
        extra = row.pop(None, None) or []  # DictReader keeps surplus cells under None
        missing = sum(v is None for v in row.values())
        if extra or missing:
            got = len(columns) + len(extra) - missing
            raise InputError(
                f"expected {len(columns)} cells, got {got}", file=path, key=f"line {i}"
            )
        out.append((i, row))
    return out


def _date(text: str, path: Path, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            "expected an ISO date YYYY-MM-DD", file=path, key=where, value=text
        ) from None


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _one_period(text: str) -> tuple[dt.date, dt.date] | None:
    if m := re.fullmatch(r"(\d{4})", text):
        y = int(m[1])
        return dt.date(y, 1, 1), dt.date(y, 12, 31)
    if m := re.fullmatch(r"(\d{4})H([12])", text):
        y, h = int(m[1]), int(m[2])
        return dt.date(y, 6 * h - 5, 1), _last_day(y, 6 * h)
    if m := re.fullmatch(r"(\d{4})Q([1-4])", text):
        y, q = int(m[1]), int(m[2])
        return dt.date(y, 3 * q - 2, 1), _last_day(y, 3 * q)
    if m := re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text):
        y, mo = int(m[1]), int(m[2])
        return dt.date(y, mo, 1), _last_day(y, mo)
    if _DAY.match(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return None
        return day, day
    # Nvidia's fiscal year FYyyyy runs from February of yyyy-1 to January of yyyy; its
    # quarters end on a Sunday within a week of the end of April, July, October, January.
    if m := re.fullmatch(r"FY(\d{4})(?:Q([1-4]))?", text):
        fy, q = int(m[1]), int(m[2] or 0)
        first, last = (3 * q - 2, 3 * q) if q else (1, 12)  # months of the fiscal year, 1 = Feb
        return dt.date(fy - 1 + first // 12, first % 12 + 1, 1), _last_day(fy - 1, last + 1)
    return None


def period_bounds(text: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of a ``period``, or None when it is not one of ``PERIOD_FORMS``.

    Nvidia's fiscal periods are taken by calendar month (FY2026Q4 = November 2025 to
    January 2026), within a week of the Sunday on which they really end.
    """
    first, sep, last = text.partition("..")
    a = _one_period(first)
    b = _one_period(last) if sep else a
    if a is None or b is None or b[0] < a[0]:
        return None
    return a[0], b[1]


def _number(text: str, path: Path, where: str) -> float | None:
    if text.strip() == "":
        return None
    try:
        x = float(text)
    except ValueError:
        raise InputError(
            "expected a number or an empty cell", file=path, key=where, value=text
        ) from None
    if x != x or x in (float("inf"), float("-inf")):
        raise InputError("expected a finite number", file=path, key=where, value=text)
    return x


def well_formed_url(url: str) -> bool:
    """An http(s) URL with a host, or the ``urn:h200cast:seed:NAME`` form for seed articles."""
    if _SEED_URN.match(url):
        return True
    parts = urlparse(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def load_sources(path: Path) -> dict[str, Source]:
    """Read and check ``sources.csv``."""
    out: dict[str, Source] = {}
    for line, row in _rows(path, SOURCE_COLUMNS):
        sid = row["source_id"]
        where = f"line {line} ({sid or 'no id'})"
        if not _SOURCE_ID.match(sid):
            raise InputError(
                "expected a source id like src-001", file=path, key=f"{where}.source_id", value=sid
            )
        if sid in out:
            raise InputError("duplicate source id", file=path, key=f"{where}.source_id", value=sid)
        if not well_formed_url(row["url"]):
            raise InputError(
                "expected an http(s) URL with a host, or urn:h200cast:seed:NAME",
                file=path,
                key=f"{where}.url",
                value=row["url"],
            )
        if not row["title"].strip():
            raise InputError(
                "expected a title", file=path, key=f"{where}.title", value=row["title"]
            )
        out[sid] = Source(
            sid,
            row["url"],
            row["title"],
            row["publisher"],
            _date(row["date"], path, f"{where}.date"),
        )
    return out


def load_facts(path: Path, sources: dict[str, Source]) -> dict[str, Fact]:
    """Read and check ``facts.csv`` against its sources."""
    out: dict[str, Fact] = {}
    for line, row in _rows(path, FACT_COLUMNS):
        fid = row["id"]
        where = f"line {line} ({fid or 'no id'})"
        if not _FACT_ID.match(fid):
            raise InputError(
                "expected a fact id like L001 or S001", file=path, key=f"{where}.id", value=fid
            )
        if fid in out:
            raise InputError("duplicate fact id", file=path, key=f"{where}.id", value=fid)
        if row["topic"] not in TOPICS:
            raise InputError(
                f"expected a topic among {sorted(TOPICS)}",
                file=path,
                key=f"{where}.topic",
                value=row["topic"],
            )
        if row["kind"] not in KINDS:
            raise InputError(
                f"expected a kind among {sorted(KINDS)}",
                file=path,
                key=f"{where}.kind",
                value=row["kind"],
            )
        if row["source_id"] not in sources:
            raise InputError(
                "source_id is not defined in sources.csv",
                file=path,
                key=f"{where}.source_id",
                value=row["source_id"],
            )
        low = _number(row["low"], path, f"{where}.low")
        high = _number(row["high"], path, f"{where}.high")
        if low is not None and high is not None and low > high:
            raise InputError(
                f"expected low <= high, got high={row['high']}",
                file=path,
                key=f"{where}.low",
                value=row["low"],
            )
        published = _published(row, path, where)
        out[fid] = Fact(
            id=fid,
            published=published,
            period=row["period"],
            topic=row["topic"],
            quantity=row["quantity"],
            value=_number(row["value"], path, f"{where}.value"),
            low=low,
            high=high,
            unit=row["unit"],
            kind=row["kind"],
            source_id=row["source_id"],
            note=row["note"],
        )
    return out


def _published(row: dict[str, str], path: Path, where: str) -> dt.date:
    """The row's publication date, checked against the period it describes."""
    text = row["published"].strip()
    if not text:
        raise InputError(
            "expected a publication date YYYY-MM-DD: every fact needs the day it became public",
            file=path,
            key=f"{where}.published",
            value=row["published"],
        )
    if not _DAY.match(text):
        raise InputError(
            "expected a publication date YYYY-MM-DD",
            file=path,
            key=f"{where}.published",
            value=text,
        )
    published = _date(text, path, f"{where}.published")
    if not row["period"]:
        return published
    bounds = period_bounds(row["period"])
    if bounds is None:
        raise InputError(
            f"expected a period: {PERIOD_FORMS}, or an empty cell",
            file=path,
            key=f"{where}.period",
            value=row["period"],
        )
    start, end = bounds
    if row["kind"] == "reported" and published < end:
        raise InputError(
            f"expected a publication date on or after the end of the period {row['period']} "
            f"({end}): a reported figure is known only once its period is over "
            "(an estimate may be published once the period has begun, a forecast at any time)",
            file=path,
            key=f"{where}.published",
            value=text,
        )
    if row["kind"] == "estimate" and published < start:
        raise InputError(
            f"expected a publication date on or after the start of the period {row['period']} "
            f"({start}): an estimate published before its period begins is a forecast",
            file=path,
            key=f"{where}.published",
            value=text,
        )
    return published


@dataclass(frozen=True)
class Evidence:
    """Facts and sources, checked against each other."""

    facts: dict[str, Fact]
    sources: dict[str, Source]

    def source_of(self, fact_id: str) -> Source:
        """The source of a fact."""
        return self.sources[self.facts[fact_id].source_id]


def load(data_dir: Path | None = None) -> Evidence:
    """Load ``data/evidence/{facts,sources}.csv`` and check them."""
    base = Path(data_dir or settings.data_dir()) / "evidence"
    sources = load_sources(base / "sources.csv")
    facts = load_facts(base / "facts.csv", sources)
    unused = sorted(set(sources) - {f.source_id for f in facts.values()})
    if unused:
        raise InputError(
            "sources that no fact uses", file=base / "sources.csv", key="source_id", value=unused
        )
    return Evidence(facts, sources)


@cache
def _cached(data_dir: str) -> Evidence:
    return load(Path(data_dir))


def fact_ids(data_dir: Path | None = None) -> set[str]:
    """The ids of all facts (loaded once per process)."""
    return set(_cached(str(Path(data_dir or settings.data_dir()).resolve())).facts)


def cached(data_dir: Path | None = None) -> Evidence:
    """The evidence, loaded once per process."""
    return _cached(str(Path(data_dir or settings.data_dir()).resolve()))
