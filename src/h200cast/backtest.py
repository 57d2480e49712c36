"""Backtests: refit each estimate on history up to a cutoff and score it on what came after.

For each cutoff the estimate is refitted on the rows describing periods up to the cutoff,
and each later observation is scored: does it fall inside the fit's 50%, 80% and 90%
prediction intervals, and how far is it from the median? The cutoff is on the period a
figure describes, not on the day it was published: most domestic-share figures were
published in 2025-26 about earlier years, so a publication cutoff before 2025 leaves
almost nothing to fit. These backtests are therefore pseudo-out-of-sample (the figures
may carry hindsight), and the table says so.

``score_observations`` scores outcomes recorded after a forecast (``data/observations/``)
against a saved run's monthly paths.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from h200cast import estimate, history
from h200cast.errors import InputError

LEVELS = (0.5, 0.8, 0.9)
SHARE_CUTOFFS = (2023.5, 2024.5, 2025.25)
REVENUE_CUTOFFS = (dt.date(2023, 7, 31), dt.date(2024, 7, 31), dt.date(2025, 1, 31))
HORIZON_QUARTERS = 4


@dataclass
class Backtest:
    """Scores, and the cutoffs that had too little history before them to fit."""

    scores: list[Score]
    skipped: list[str]


@dataclass(frozen=True)
class Score:
    """One observation scored against a forecast made before it."""

    estimate: str
    cutoff: str
    target: str
    observed: float
    p50: float
    lo50: float
    hi50: float
    lo80: float
    hi80: float
    lo90: float
    hi90: float
    in50: bool
    in80: bool
    in90: bool
    error: float  # observed - p50
    note: str = ""


def _score(
    est: str,
    cutoff: str,
    target: str,
    observed: float,
    bands: dict[float, tuple[float, float]],
    p50: float,
    note: str = "",
) -> Score:
    inside = {lv: bands[lv][0] <= observed <= bands[lv][1] for lv in LEVELS}
    return Score(
        est,
        cutoff,
        target,
        observed,
        p50,
        *bands[0.5],
        *bands[0.8],
        *bands[0.9],
        inside[0.5],
        inside[0.8],
        inside[0.9],
        observed - p50,
        note,
    )


def _intervals(res, X: np.ndarray) -> tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]:
    pred = res.get_prediction(X)
    mid = np.asarray(pred.predicted_mean)
    bands = {}
    for lv in LEVELS:
        f = pred.summary_frame(alpha=1 - lv)
        bands[lv] = (np.asarray(f["obs_ci_lower"]), np.asarray(f["obs_ci_upper"]))
    return mid, bands


def backtest_substitution(
    cutoffs: Sequence[float] = SHARE_CUTOFFS, rows: Sequence[history.ShareRow] | None = None
) -> Backtest:
    """Fit the S-curve on share data up to each cutoff year; score the later data rows."""
    rows = [r for r in (history.load_shares() if rows is None else rows) if r.kind == "data"]
    out, skipped = [], []
    for cut in cutoffs:
        train = [r for r in rows if r.year <= cut]
        test = [r for r in rows if r.year > cut]
        try:
            fit = estimate.fit_substitution_speed(rows=train)
        except InputError as exc:
            skipped.append(f"substitution_speed, year<={cut}: {exc.message}")
            continue
        levels = sorted({r.basis for r in train} - {estimate.REFERENCE_BASIS})
        for r in test:
            seen = r.basis in levels or r.basis == estimate.REFERENCE_BASIS
            basis = r.basis if seen else estimate.REFERENCE_BASIS
            X = estimate.share_design(np.array([r.year]), [basis], levels)
            mid, bands = _intervals(fit.model, X)
            expit = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
            b = {lv: (float(expit(lo[0])), float(expit(hi[0]))) for lv, (lo, hi) in bands.items()}
            note = (
                ""
                if seen
                else f"basis {r.basis} not in the fit: scored on {estimate.REFERENCE_BASIS}"
            )
            out.append(
                _score(
                    "substitution_speed",
                    f"year<={cut}",
                    f"share {r.period} {r.source}/{r.basis}",
                    r.share,
                    b,
                    float(expit(mid[0])),
                    note,
                )
            )
    return Backtest(out, skipped)


def backtest_demand_growth(
    cutoffs: Sequence[dt.date] = REVENUE_CUTOFFS, rows: Sequence[history.RevenueRow] | None = None
) -> Backtest:
    """Fit the revenue model on quarters up to each cutoff; score the next quarters (in USD).

    The forecast knows only the export-control events before the cutoff, as a forecaster
    then would: a later control shows up as a miss.
    """
    rows = list(history.load_revenue() if rows is None else rows)
    # score only quarters reported by the history files' vintage (as the fit uses)
    everything = estimate.revenue_series(rows, history.VINTAGE)
    out, skipped = [], []
    for cut in cutoffs:
        train = [r for r in rows if r.period_end <= cut]
        try:
            fit = estimate.fit_demand_growth(rows=train, as_of=None)
        except InputError as exc:
            skipped.append(f"demand_growth, {cut}: {exc.message}")
            continue
        first = dt.date.fromisoformat(fit.data[0]["period_end"])
        events = [ev for ev in estimate.EVENTS if ev.name in {c["event"] for c in fit.comparisons}]
        later = [r for r in everything if r.period_end > cut][:HORIZON_QUARTERS]
        if not later:
            continue
        t = np.array([round((r.period_end - first).days / 91.3125) for r in later], float)
        X = estimate.revenue_design([r.period_end for r in later], t, events)
        mid, bands = _intervals(fit.model, X)
        for i, r in enumerate(later):
            b = {lv: (math.exp(lo[i]), math.exp(hi[i])) for lv, (lo, hi) in bands.items()}
            missed = [ev.name for ev in estimate.EVENTS if cut < ev.date < r.period_end]
            note = f"event after the cutoff: {', '.join(missed)}" if missed else ""
            out.append(
                _score(
                    "demand_growth",
                    cut.isoformat(),
                    f"revenue {r.fiscal_quarter} ({r.version})",
                    r.revenue_usd,
                    b,
                    math.exp(mid[i]),
                    note,
                )
            )
    return Backtest(out, skipped)


def run_all() -> Backtest:
    """Every backtest with its default cutoffs."""
    a, b = backtest_substitution(), backtest_demand_growth()
    return Backtest(a.scores + b.scores, a.skipped + b.skipped)


def coverage(scores: Sequence[Score]) -> dict[str, dict[str, float]]:
    """Share of observations inside each interval, by estimate (nominal: 0.5, 0.8, 0.9)."""
    out = {}
    for est in sorted({s.estimate for s in scores}):
        ss = [s for s in scores if s.estimate == est]
        out[est] = {
            "n": len(ss),
            **{
                f"in{int(lv * 100)}": float(np.mean([getattr(s, f"in{int(lv * 100)}") for s in ss]))
                for lv in LEVELS
            },
        }
    return out


def to_csv(scores: Sequence[Score]) -> str:
    """The scores as CSV, one row per observation."""
    buf = io.StringIO()
    fields = list(Score.__dataclass_fields__)
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for s in scores:
        w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in asdict(s).items()})
    return buf.getvalue()


# --- observed outcomes after a forecast -------------------------------------------------------------

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
    holds, and an ``observed_on`` date no earlier than the last day of ``period_end`` (a
    period still under way cannot be observed whole) nor than the publication of the
    earliest fact it cites (an outcome is known once it is reported). Two rows for the
    same variable and the same months must give the same value; rows whose months merely
    overlap are not compared (a sum over two months differs from one month's).
    """
    from h200cast.evidence import default_data_dir
    from h200cast.history import Reader
    from h200cast.model import VARIABLES

    data_dir = default_data_dir()
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


def _known_by(
    r: history.Reader, row: dict[str, str], observed_on: dt.date, ids: tuple[str, ...]
) -> None:
    """Refuse an ``observed_on`` earlier than the publication of every cited fact."""
    from h200cast.evidence import cached

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
    from h200cast.params import STANCES

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
    from h200cast.evidence import default_data_dir
    from h200cast.history import Reader

    data_dir = default_data_dir()
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
    import yaml

    from h200cast.evidence import cached
    from h200cast.params import cited

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
    from h200cast.model import STOCKS, VARIABLES

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
        per_draw = np.bincount(draws[sel], weights=np.asarray(table.column(ob.variable))[sel])
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
