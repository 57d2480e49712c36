"""Scoring a saved run against the outcomes observed after it (``backtest --forecast``).

Observations (``data/observations/observations.csv``) name a model variable, a period
and a value with its evidence; each is scored against the saved run's draws with the
same interval scores the estimates' backtests use.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from h200cast.errors import InputError
from h200cast.estimation.backtest import Score, _score
from h200cast.estimation.history import Reader

OBSERVATION_COLUMNS = (
    "observed_on",
    "variable",
    "period_start",
    "period_end",
    "value",
    "unit",
    "basis",
    "evidence",
    "note",
)


@dataclass(frozen=True)
class Observation:
    """An outcome observed after a forecast: a monthly variable over whole months.

    Flows (units, USD) are summed over the months; shares are averaged; levels (backlog,
    inventory, unused approvals) are read at the period's last month.
    """

    observed_on: dt.date
    variable: str
    period_start: str  # YYYY-MM
    period_end: str  # YYYY-MM
    value: float
    unit: str
    evidence: tuple[str, ...]
    note: str
    file: str = ""  # where the row came from, for messages
    line: int = 0
    basis: str = "reported"  # reported | carried (no change reported: absence of news)

    def error(self, message: str, column: str, value: object) -> InputError:
        """An InputError naming this row's file, line and ``column``."""
        return InputError(
            message, file=self.file or None, key=f"line {self.line}, column {column}", value=value
        )


def _month_end(month: str) -> dt.date:
    """The last day of month ``YYYY-MM``."""
    y, m = map(int, month.split("-"))
    return dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)


def load_observations(path: Path | None = None) -> list[Observation]:
    """Read ``data/observations/observations.csv``, checking every row.

    Each row names a model variable, whole months (``period_start`` <= ``period_end``), a
    finite value (a share within [0, 1]), evidence ids that ``data/evidence/facts.csv``
    holds, and an ``observed_on`` date no earlier than the last day of ``period_end`` (a
    period still under way cannot be observed whole) nor than the publication of the
    earliest fact it cites (an outcome is known once it is reported). Two rows for the
    same variable and the same months must give the same value; rows whose months merely
    overlap are not compared (a sum over two months differs from one month's).
    """
    from h200cast import settings
    from h200cast.engine.model import VARIABLES

    data_dir = settings.data_dir()
    path = Path(path or data_dir / "observations" / "observations.csv")
    r = Reader(path, OBSERVATION_COLUMNS, data_dir)
    out: list[Observation] = []
    seen: dict[tuple[str, str, str], Observation] = {}
    for row in r.rows():
        if row["variable"] not in VARIABLES:
            raise r.error(
                f"expected a model variable, one of: {', '.join(VARIABLES)}",
                "variable",
                row["variable"],
            )
        observed_on = r.date(row, "observed_on")
        start, end = r.month(row, "period_start"), r.month(row, "period_end")
        if end < start:
            raise r.error(f"expected a month on or after period_start {start}", "period_end", end)
        if observed_on < _month_end(end):
            raise r.error(
                f"expected a date on or after the end of the period it describes ({_month_end(end)}): "
                "a period still under way cannot be observed whole",
                "observed_on",
                row["observed_on"],
            )
        value = r.number(row, "value")
        if VARIABLES[row["variable"]][0] == "share" and not 0.0 <= value <= 1.0:
            raise r.error("expected a share in [0, 1]", "value", row["value"])
        if row["basis"] not in STATE_BASES:
            raise r.error(
                f"expected a basis, one of: {', '.join(STATE_BASES)}", "basis", row["basis"]
            )
        ids, _ = r.evidence(row)
        _known_by(r, row, observed_on, ids)
        ob = Observation(
            observed_on,
            row["variable"],
            start,
            end,
            value,
            row["unit"],
            ids,
            row["note"],
            str(path),
            r.line,
            row["basis"],
        )
        key = (ob.variable, start, end)
        if key in seen and not math.isclose(seen[key].value, value, rel_tol=1e-9, abs_tol=0.0):
            first = seen[key]
            raise r.error(
                f"contradicts line {first.line} ({first.variable} {start}..{end} = "
                f"{first.value:g}, evidence {' '.join(first.evidence)}): two observations of "
                "the same variable and months must give the same value",
                "value",
                row["value"],
            )
        seen.setdefault(key, ob)
        out.append(ob)
    return out


def _known_by(r: Reader, row: dict[str, str], observed_on: dt.date, ids: tuple[str, ...]) -> None:
    """Refuse an ``observed_on`` earlier than the publication of every cited fact."""
    from h200cast.estimation.evidence import cached

    facts = cached(r.data_dir).facts
    earliest = min(ids, key=lambda i: facts[i].published)
    if observed_on < facts[earliest].published:
        raise r.error(
            f"expected a date on or after the publication of the earliest fact it cites "
            f"({earliest}, {facts[earliest].published}): an outcome is known once reported",
            "observed_on",
            row["observed_on"],
        )


STATE_COLUMNS = ("observed_on", "subject", "month", "state", "basis", "evidence", "note")
US_LICENCES = ("none", "small_quantities", "volume")
PRODUCTION = ("running", "halted")
STATE_BASES = ("reported", "carried")


def state_labels() -> dict[str, tuple[str, ...]]:
    """The subjects of ``states.csv`` and the states each may take."""
    from h200cast.scenario.schema import STANCES

    return {"beijing_stance": STANCES, "us_licences": US_LICENCES, "china_production": PRODUCTION}


@dataclass(frozen=True)
class State:
    """What held at the end of a month: Beijing's stance, US licences, production for China."""

    observed_on: dt.date
    subject: str
    month: str  # YYYY-MM
    state: str
    basis: str  # reported (a fact published in or after the month says so) | carried
    evidence: tuple[str, ...]
    note: str
    line: int = 0


def load_states(path: Path | None = None) -> list[State]:
    """Read ``data/observations/states.csv``, checking every row.

    Each row names a subject and one of its states (``state_labels``), a month, a basis,
    evidence ids that ``data/evidence/facts.csv`` holds, and an ``observed_on`` date no
    earlier than the month's last day (the state is the one at the month's end) nor than
    the earliest cited fact. A ``reported`` row cites a fact published in or after its
    month; a ``carried`` row repeats the last reported state because no change was
    reported. Two rows for the same subject and month must give the same state.
    """
    from h200cast import settings

    data_dir = settings.data_dir()
    path = Path(path or data_dir / "observations" / "states.csv")
    r = Reader(path, STATE_COLUMNS, data_dir)
    labels = state_labels()
    out: list[State] = []
    seen: dict[tuple[str, str], State] = {}
    for row in r.rows():
        subject = row["subject"]
        if subject not in labels:
            raise r.error(f"expected a subject, one of: {', '.join(labels)}", "subject", subject)
        if row["state"] not in labels[subject]:
            raise r.error(
                f"expected a state of {subject}, one of: {', '.join(labels[subject])}",
                "state",
                row["state"],
            )
        if row["basis"] not in STATE_BASES:
            raise r.error(
                f"expected a basis, one of: {', '.join(STATE_BASES)}", "basis", row["basis"]
            )
        observed_on = r.date(row, "observed_on")
        month = r.month(row, "month")
        if observed_on < _month_end(month):
            raise r.error(
                f"expected a date on or after the end of the month it describes ({_month_end(month)}): "
                "the state is the one at the month's end",
                "observed_on",
                row["observed_on"],
            )
        ids, latest = r.evidence(row)
        _known_by(r, row, observed_on, ids)
        if row["basis"] == "reported" and latest < dt.date.fromisoformat(month + "-01"):
            raise r.error(
                f"expected a fact published in or after {month} for a reported state "
                "(a state known only from earlier facts is carried)",
                "basis",
                row["basis"],
            )
        st = State(
            observed_on, subject, month, row["state"], row["basis"], ids, row["note"], r.line
        )
        if (subject, month) in seen and seen[subject, month].state != st.state:
            first = seen[subject, month]
            raise r.error(
                f"contradicts line {first.line} ({subject} {month} = {first.state}, evidence "
                f"{' '.join(first.evidence)}): two observations of the same subject and month "
                "must give the same state",
                "state",
                st.state,
            )
        seen.setdefault((subject, month), st)
        out.append(st)
    return out


def forecast_date(forecast_dir: Path, manifest: dict) -> tuple[dt.date, str]:
    """When a saved run was made, at the earliest, and how that is known.

    Its ``as_of`` date when the manifest records one; otherwise the latest date of the
    evidence its parameters (``scenario.yaml``) cite: a forecast citing a fact cannot have
    been made before that fact was published.
    """
    from h200cast.estimation.evidence import cached
    from h200cast.scenario.load import cited

    if manifest.get("as_of"):
        return dt.date.fromisoformat(str(manifest["as_of"])), "its --as-of date"
    from h200cast.io.yamlfile import load_yaml

    tree = load_yaml(forecast_dir / "scenario.yaml")
    facts = cached().facts
    dates = [facts[i].date for _, ids in cited(tree) for i in ids if i in facts]
    if not dates:
        raise InputError(
            "expected the saved parameters to cite evidence, to date the forecast",
            file=forecast_dir / "scenario.yaml",
        )
    return max(dates), "the latest evidence its parameters cite"


def load_saved_run(forecast_dir: Path) -> tuple[Any, dict[str, Any]]:
    """The paths table and manifest of a saved run (``h200cast run --out DIR``), checked."""
    import json

    from h200cast.io import parquet
    from h200cast.io.textfile import read_text

    forecast_dir = Path(forecast_dir)
    saved_run = "a saved run's paths (h200cast run --out DIR)"
    table = parquet.read(forecast_dir / "paths.parquet", what=saved_run)
    try:
        manifest = json.loads(read_text(forecast_dir / "manifest.json"))
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("package") != "h200cast":
        raise InputError(
            "is not a manifest of h200cast; expected a saved run (h200cast run --out DIR)",
            file=forecast_dir / "manifest.json",
        )
    return table, manifest


def score_observations(forecast_dir: Path, observations: Sequence[Observation]) -> list[Score]:
    """Score observations against a saved run (``h200cast run --out DIR``)."""
    forecast_dir = Path(forecast_dir)
    table, manifest = load_saved_run(forecast_dir)
    months = np.asarray(table.column("month").to_pylist())
    draws = np.asarray(table.column("draw"))
    from h200cast.engine.model import STOCKS, VARIABLES

    label = manifest.get("stance") or manifest.get("path") or manifest.get("switching")
    made, how = forecast_date(forecast_dir, manifest)
    first, last = min(months.tolist()), max(months.tolist())
    out = []
    for ob in observations:
        if ob.period_end < first or ob.period_start > last:
            continue  # outside this forecast's months
        if ob.period_start < first or ob.period_end > last:
            raise ob.error(
                f"expected a period inside the forecast's months {first}..{last} ({forecast_dir}), "
                f"not partly outside it",
                "period_start/period_end",
                f"{ob.period_start}..{ob.period_end}",
            )
        if ob.observed_on <= made:
            raise ob.error(
                f"expected a date after the forecast in {forecast_dir} was made ({made}, {how}): "
                "an outcome known by then does not test it",
                "observed_on",
                ob.observed_on.isoformat(),
            )
        sel = (months >= ob.period_start) & (months <= ob.period_end)
        if ob.variable in STOCKS:  # a level: its value at the end of the period, not a sum
            sel &= months == max(months[sel])
        per_draw: np.ndarray = np.bincount(
            draws[sel], weights=np.asarray(table.column(ob.variable))[sel]
        )
        if VARIABLES[ob.variable][0] == "share":  # a share is averaged over the months, not summed
            per_draw = per_draw / np.bincount(draws[sel])
        q = {p: float(np.percentile(per_draw, p)) for p in (5, 10, 25, 50, 75, 90, 95)}
        bands = {0.5: (q[25], q[75]), 0.8: (q[10], q[90]), 0.9: (q[5], q[95])}
        out.append(
            _score(
                "observation",
                f"{label} (seed {manifest.get('seed')})",
                f"{ob.variable} {ob.period_start}..{ob.period_end}",
                ob.value,
                bands,
                q[50],
                ob.note,
            )
        )
    return out
