"""Scoring a saved run against the outcomes observed after it (``backtest --forecast``).

Observations (``data/observations/observations.csv``) name a model variable, a period
and a value with its evidence; each is scored against the saved run's draws with the
same interval scores the estimates' backtests use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from h200cast.errors import InputError
from h200cast.estimation.backtest import Score, _score

OBSERVATION_COLUMNS = (
    "observed_on",
    "variable",
    "period_start",
    "period_end",
    "value",
    "unit",
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
    holds, and an ``observed_on`` date no earlier than the last day of ``period_end``: a
    period still under way cannot be observed whole.
    """
    from h200cast import settings
    from h200cast.engine.model import VARIABLES
    from h200cast.estimation.history import Reader

    data_dir = settings.data_dir()
    path = Path(path or data_dir / "observations" / "observations.csv")
    r = Reader(path, OBSERVATION_COLUMNS, data_dir)
    out = []
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
        ids, _ = r.evidence(row)
        out.append(
            Observation(
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
            )
        )
    return out


def forecast_date(forecast_dir: Path, manifest: dict) -> tuple[dt.date, str]:
    """When a saved run was made, at the earliest, and how that is known.

    Its ``as_of`` date when the manifest records one; otherwise the latest date of the
    evidence its parameters (``scenario.yaml``) cite: a forecast citing a fact cannot have
    been made before that fact was published.
    """
    import yaml

    from h200cast.estimation.evidence import cached
    from h200cast.scenario.load import cited

    if manifest.get("as_of"):
        return dt.date.fromisoformat(str(manifest["as_of"])), "its --as-of date"
    try:
        tree = yaml.safe_load((forecast_dir / "scenario.yaml").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(
            "not a saved run: expected paths.parquet, scenario.yaml and manifest.json",
            file=exc.filename,
        ) from None
    facts = cached().facts
    dates = [facts[i].date for _, ids in cited(tree) for i in ids if i in facts]
    if not dates:
        raise InputError(
            "expected the saved parameters to cite evidence, to date the forecast",
            file=forecast_dir / "scenario.yaml",
        )
    return max(dates), "the latest evidence its parameters cite"


def score_observations(forecast_dir: Path, observations: Sequence[Observation]) -> list[Score]:
    """Score observations against a saved run (``h200cast run --out DIR``)."""
    import json

    import pyarrow.parquet as pq

    forecast_dir = Path(forecast_dir)
    try:
        table = pq.read_table(forecast_dir / "paths.parquet")
        manifest = json.loads((forecast_dir / "manifest.json").read_text())
    except FileNotFoundError as exc:
        raise InputError(
            "not a saved run: expected paths.parquet and manifest.json", file=exc.filename
        ) from None
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
