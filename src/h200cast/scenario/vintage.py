"""Vintages: frozen parameter sets, each the view as of one date.

A forecast is made as of a date with what was public by then. A vintage
(``params/vintages/DATE/vintage.yaml``) fixes that view: the changes it makes to
``params/base.yaml`` (``parameters``), its stored estimates (``estimates/``, fitted on the
rows published by DATE), the stance path of the months already observed
(``history_path``), its own chain of Beijing's future (``switching``, named for the date)
and the forecast origin, the first month not yet observed. The latest vintage is the
default; an older one stays as it was recorded: its content hash is kept in ``record``
and a test fails when it moves (``h200cast params record`` records a deliberate change
with its reason).

This module holds the vintage schema and finds vintage files; the scenario loader reads
and applies them (:func:`h200cast.scenario.load.load_vintage`, ``build_layers``) and the results layer hashes, checks and
conditions them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from h200cast import settings
from h200cast.errors import InputError
from h200cast.scenario.schema import MonthStr, _Strict

FILE = "vintage.yaml"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Recorded(_Strict):
    """One recorded content hash of a vintage, with the reason it was recorded."""

    on: dt.date = Field(description="the day the hash was recorded")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    reason: str = Field(min_length=1)


class Vintage(_Strict):
    """A frozen view as of ``date`` (see the module docstring)."""

    date: dt.date = Field(description="the view uses only what was published by this day")
    description: str
    previous: dt.date | None = Field(default=None, description="the vintage before this one")
    origin: MonthStr = Field(description="first month forecast; the months before are observed")
    history_path: str = Field(description="a params/paths file: Beijing's stance up to the origin")
    switching: str = Field(description="a params/switching file: Beijing's future from the origin")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="entries of base.yaml this vintage replaces (nested)"
    )
    record: list[Recorded] = Field(
        default_factory=list, description="recorded hashes, last current"
    )

    @field_validator("record")
    @classmethod
    def _dated(cls, rec: list[Recorded]) -> list[Recorded]:
        days = [r.on for r in rec]
        if days != sorted(days):
            raise ValueError("expected records in date order, oldest first")
        return rec

    @property
    def name(self) -> str:
        """The vintage's name: its date, ``YYYY-MM-DD``."""
        return self.date.isoformat()

    @property
    def recorded(self) -> str | None:
        """The content hash recorded last, if any."""
        return self.record[-1].sha256 if self.record else None


def vintages_dir(params_dir: Path) -> Path:
    """``params/vintages/``."""
    return Path(params_dir) / "vintages"


def available(params_dir: Path) -> list[str]:
    """The vintages in ``params_dir``, oldest first (names are dates, so they sort by time)."""
    return settings.vintages(params_dir)


def latest(params_dir: Path) -> str:
    """The newest vintage (the default)."""
    names = available(params_dir)
    if not names:
        raise InputError(
            "no vintage found: expected params/vintages/YYYY-MM-DD/vintage.yaml",
            file=vintages_dir(params_dir),
            key="--vintage",
        )
    return names[-1]


def parse_date(text: object, key: str = "--vintage") -> dt.date:
    """A vintage date from text (``YYYY-MM-DD``), refusing a malformed date or one in the future."""
    if isinstance(text, dt.date):
        day = text
    else:
        s = str(text)
        try:
            if not DATE.match(s):
                raise ValueError
            day = dt.date.fromisoformat(s)
        except ValueError:
            raise InputError("expected a date YYYY-MM-DD", key=key, value=text) from None
    today = dt.date.today()
    if day > today:
        raise InputError(
            f"a vintage cannot be dated after today ({today}): nothing is published yet",
            key=key,
            value=day.isoformat(),
        )
    return day


def vintage_file(
    params_dir: Path, name: str | dt.date | None = None, key: str = "--vintage"
) -> Path:
    """The file of vintage ``name`` (the default when None or empty: ``$H200CAST_VINTAGE``,
    else the latest); unknown names are an error."""
    names = available(params_dir)
    if name is None or name == "":
        chosen = settings.default_vintage(params_dir)
        if chosen is None:
            latest(params_dir)  # raises: there is none
        name = chosen
        key = f"${settings.VINTAGE_ENV}" if os.environ.get(settings.VINTAGE_ENV) else key
        day = parse_date(name, key).isoformat()
    else:
        day = parse_date(name, key).isoformat()
    if day not in names:
        raise InputError(
            f"unknown vintage; expected one of: {', '.join(names) or '(none)'}",
            file=vintages_dir(params_dir),
            key=key,
            value=day,
        )
    return vintages_dir(params_dir) / day / FILE


def estimates_dir(params_dir: Path, vintage: Vintage) -> Path:
    """The vintage's stored estimates: ``params/vintages/DATE/estimates/``."""
    return settings.estimates_dir(vintage.name, params_dir)
