"""The evidence behind every parameter: facts with their sources.

``data/evidence/facts.csv`` holds one figure per row (a reported number, an analyst's
estimate or someone's forecast) and ``data/evidence/sources.csv`` the page each came
from. Both are loaded with the standard ``csv`` module and checked: unique ids, ISO
dates, numbers where numbers belong, every source defined, every URL well formed.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

from h200cast import settings
from h200cast.errors import InputError

FACT_COLUMNS = (
    "id",
    "date",
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


@dataclass(frozen=True)
class Fact:
    """One figure from one source."""

    id: str
    date: dt.date
    topic: str
    quantity: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    kind: str
    source_id: str
    note: str


@dataclass(frozen=True)
class Source:
    """Where facts come from."""

    source_id: str
    url: str
    title: str
    publisher: str
    date: dt.date


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = tuple(reader.fieldnames or ())
            if header != columns:
                raise InputError(
                    f"expected the header {','.join(columns)}",
                    file=path,
                    key="header",
                    value=",".join(header),
                )
            return [(i, row) for i, row in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None


def _date(text: str, path: Path, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            "expected an ISO date YYYY-MM-DD", file=path, key=where, value=text
        ) from None


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
        out[fid] = Fact(
            id=fid,
            date=_date(row["date"], path, f"{where}.date"),
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
