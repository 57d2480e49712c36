"""The scorecard: each vintage's forecast scored against what was observed after it.

For a vintage D, the forecast is its own chain of Beijing's future
(``switching: from_DATE``), conditioned on what D had observed. It is scored against
every observation published after D:

* quantities (``observations.csv``: shipments, revenue, ... over months): the sample
  CRPS, the randomized PIT and interval coverage at 50/80/90% with the point-mass rule
  (:func:`h200cast.results.scores.covered`);
* dated events (any H200 shipped by a month's end; US licences issued by then;
  Beijing's stance at a month's end): the Brier and log scores.

Beside the model, the baselines of ``data/observations/baselines.csv`` (Nvidia's own
guidance, a no-change forecast, each sourced and published by D) and the previous
vintage's forecast are scored by the same functions. An observation that cannot be
scored is listed with the reason, never dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from h200cast import settings
from h200cast.engine.model import STOCKS, VARIABLES, Paths, licences_by
from h200cast.errors import InputError
from h200cast.results import scores
from h200cast.results.result import Result, run
from h200cast.results.scoring import Observation, State, load_observations, load_states
from h200cast.scenario.load import load_vintage
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.vintage import Vintage

BASELINE_COLUMNS = ("vintage", "forecast", "variable", "value", "evidence", "note")
NOT_SCORED_EVENTS = (
    (
        "fee collected",
        "2026-04",
        "no fact reports the Section 232 duty on H200s: chips may enter the US for testing "
        "without a sale, so the absence of sales does not show that none was collected",
    ),
    (
        "production for China restarted",
        "2026-04",
        "no observation after the halt of March 2026 (L265) says whether it restarted; "
        "the January vintage has no halt to restart from",
    ),
)
"""Dated events the issue names that the evidence cannot settle yet, with the reason."""


@dataclass(frozen=True)
class Baseline:
    """A sourced point forecast for one variable (or state) at one vintage."""

    vintage: str
    forecast: str  # guidance | no-change
    variable: str
    value: str
    evidence: tuple[str, ...]
    note: str
    line: int


@dataclass(frozen=True)
class NotScored:
    """An observation or event that could not be scored, with the reason."""

    what: str
    period: str
    reason: str


@dataclass
class VintageScores:
    """The scorecard of one vintage."""

    vintage: Vintage
    draws: int
    rows: list[scores.ScoreRow] = field(default_factory=list)
    events: list[scores.EventRow] = field(default_factory=list)
    not_scored: list[NotScored] = field(default_factory=list)

    def coverage(self) -> list[scores.CoverageLine]:
        return scores.coverage_table(self.rows)

    def pit_histogram(self, bins: int = 10) -> np.ndarray:
        return scores.pit_histogram(
            [r.pit for r in self.rows if r.forecast == "model" and r.scored], bins
        )


def load_baselines(path: Path | None = None) -> list[Baseline]:
    """Read ``data/observations/baselines.csv``; every row cites facts published by its vintage."""
    from h200cast.estimation.evidence import cached
    from h200cast.estimation.history import Reader

    data_dir = settings.data_dir()
    path = Path(path or data_dir / "observations" / "baselines.csv")
    r = Reader(path, BASELINE_COLUMNS, data_dir)
    facts = cached(data_dir).facts
    out = []
    for row in r.rows():
        day = r.date(row, "vintage")
        if row["forecast"] not in ("guidance", "no-change"):
            raise r.error(
                "expected a forecast, one of: guidance, no-change", "forecast", row["forecast"]
            )
        if row["variable"] not in (*VARIABLES, "beijing_stance", "us_licences"):
            raise r.error("expected a model variable or a state", "variable", row["variable"])
        ids, _ = r.evidence(row)
        late = [i for i in ids if facts[i].date > day]
        if late:
            raise r.error(
                f"cites facts published after the vintage {day}: a baseline uses only what was "
                "public by then",
                "evidence",
                " ".join(late),
            )
        out.append(
            Baseline(
                day.isoformat(),
                row["forecast"],
                row["variable"],
                row["value"],
                ids,
                row["note"],
                r.line,
            )
        )
    return out


def _months_draws(p: Paths, variable: str, start: str, end: str) -> np.ndarray | None:
    """One value per draw for ``variable`` over months ``start..end``: summed, averaged for a
    share, the last month's for a level; None when the months are not the run's."""
    if start not in p.months or end not in p.months:
        return None
    a, b = p.months.index(start), p.months.index(end) + 1
    x = p[variable][:, a:b]
    if variable in STOCKS:
        return np.asarray(x[:, -1])
    if VARIABLES[variable][0] == "share":
        return np.asarray(x.mean(axis=1))
    return np.asarray(x.sum(axis=1))


def _period(start: str, end: str) -> str:
    return start if start == end else f"{start}..{end}"


def _stance_at_end(p: Paths, t: int) -> np.ndarray:
    """Each draw's stance at the end of month ``t`` (the last day's; a chain month is whole)."""
    names = np.array(p.stance_names)
    w = np.broadcast_to(p.stance_weights, (p.n_draws, *p.stance_weights.shape[1:]))[:, t, :]
    # in a path month the last step has weight on the last days: take the stance with the
    # weight that ends the month, which for a chain month is its only one
    return np.asarray(names[w.argmax(axis=1)])


def score_vintage(
    name: str | dt.date | None = None,
    *,
    draws: int = 2000,
    seed: int = 20260131,
    params_dir: Path | None = None,
    observations: Sequence[Observation] | None = None,
    states: Sequence[State] | None = None,
    baselines: Sequence[Baseline] | None = None,
    known_by: dt.date | None = None,
) -> VintageScores:
    """Score one vintage's forecast (its own chain) against the observations published after it.

    ``known_by`` keeps only observations published by that date (a report as of a later
    vintage scores the earlier ones with what was public by then).
    """
    params = Path(params_dir) if params_dir else settings.params_dir()
    v, _ = load_vintage(params, name)
    obs = load_observations() if observations is None else list(observations)
    sts = load_states() if states is None else list(states)
    bls = load_baselines() if baselines is None else list(baselines)
    model = run(
        ScenarioRef("switching", v.switching),
        draws=draws,
        seed=seed,
        vintage=v.name,
        params_dir=params,
    )
    previous: Result | None = None
    if v.previous is not None:
        pv, _ = load_vintage(params, v.previous)
        previous = run(
            ScenarioRef("switching", pv.switching),
            draws=draws,
            seed=seed,
            vintage=pv.name,
            params_dir=params,
        )
    out = VintageScores(v, model.paths.n_draws)
    rng = np.random.default_rng(seed)
    mine = {(b.forecast, b.variable): b for b in bls if b.vintage == v.name}
    until = known_by or dt.date.max
    later_obs = [o for o in obs if v.date < o.observed_on <= until]
    later_sts = [s for s in sts if v.date < s.observed_on <= until]
    if not later_obs and not later_sts:
        out.not_scored.append(
            NotScored(
                "every quantity and event",
                f"after {v.date}",
                f"no observation published after {v.date}"
                + (f" and by {known_by}" if known_by else " yet")
                + ": the vintage is scored once one is",
            )
        )
    p = model.paths
    for o in later_obs:
        period = _period(o.period_start, o.period_end)
        x = _months_draws(p, o.variable, o.period_start, o.period_end)
        if x is None:
            out.not_scored.append(
                NotScored(
                    o.variable,
                    period,
                    f"outside the forecast's months {p.months[0]}..{p.months[-1]}"
                    + (
                        " (context for the history, before the forecast starts)"
                        if o.period_end < p.months[0]
                        else ""
                    ),
                )
            )
            continue
        if o.period_start < v.origin:
            out.not_scored.append(
                NotScored(
                    o.variable,
                    period,
                    f"before the vintage's origin {v.origin}: observed, not forecast",
                )
            )
            continue
        out.rows.append(scores.score_quantity(o.variable, period, x, o.value, rng=rng))
        for fc in ("guidance", "no-change"):
            b = mine.get((fc, o.variable))
            if b is None:
                out.rows.append(
                    scores.unscored(
                        o.variable,
                        period,
                        o.value,
                        f"no {fc} baseline for {o.variable} at {v.name}",
                        forecast=fc,
                    )
                )
            else:
                out.rows.append(
                    scores.score_quantity(
                        o.variable,
                        period,
                        scores.point_mass(float(b.value)),
                        o.value,
                        rng=rng,
                        forecast=fc,
                    )
                )
        if previous is None:
            out.rows.append(
                scores.unscored(
                    o.variable, period, o.value, "no previous vintage", forecast="previous-vintage"
                )
            )
        else:
            px = _months_draws(previous.paths, o.variable, o.period_start, o.period_end)
            assert px is not None  # the vintages share the calendar
            out.rows.append(
                scores.score_quantity(
                    o.variable, period, px, o.value, rng=rng, forecast="previous-vintage"
                )
            )
    _events(out, v, p, previous.paths if previous else None, later_obs, later_sts, mine)
    for what, by, reason in NOT_SCORED_EVENTS:
        out.not_scored.append(NotScored(what, by, reason))
    return out


def _events(
    out: VintageScores,
    v: Vintage,
    p: Paths,
    prev: Paths | None,
    obs: Sequence[Observation],
    sts: Sequence[State],
    mine: dict[tuple[str, str], Baseline],
) -> None:
    """Dated events: any H200 shipped by each month's end; licences; Beijing's stance."""
    zero_months = sorted(
        o.period_start
        for o in obs
        if o.variable == "shipments" and o.period_start == o.period_end and o.value == 0
    )
    # "none shipped by the end of M" is observed when every month from the first to M is
    known = set(zero_months)
    for m in zero_months:
        if m < v.origin or not {x for x in p.months if x <= m} <= known:
            continue

        def happens(paths: Paths, m: str = m) -> np.ndarray:
            t = paths.months.index(m)
            return np.asarray(paths["shipments"][:, : t + 1].sum(axis=1) > 0)

        _event(
            out,
            f"any H200 shipped by the end of {m}",
            m,
            happens,
            False,
            p,
            prev,
            mine,
            "shipments",
            0.0,
        )
    for s in sts:
        if s.month < v.origin:
            continue
        t = p.months.index(s.month) if s.month in p.months else None
        if t is None:
            out.not_scored.append(NotScored(s.subject, s.month, "outside the forecast's months"))
            continue
        if s.subject == "us_licences":

            def lic(paths: Paths, t: int = t) -> np.ndarray:
                return np.asarray(licences_by(paths.draws.vec, float(t)) > 0)

            b = mine.get(("no-change", "us_licences"))
            _event(
                out,
                f"US licences issued by the end of {s.month}",
                s.month,
                lic,
                s.state != "none",
                p,
                prev,
                mine,
                "us_licences",
                None if b is None else float(b.value != "none"),
            )
        elif s.subject == "beijing_stance":

            def stance(paths: Paths, t: int = t, want: str = s.state) -> np.ndarray:
                return _stance_at_end(paths, t) == want

            b = mine.get(("no-change", "beijing_stance"))
            _event(
                out,
                f"Beijing's stance at the end of {s.month} is {s.state}",
                s.month,
                stance,
                True,
                p,
                prev,
                mine,
                "beijing_stance",
                None if b is None else float(b.value == s.state),
            )
        elif s.subject == "china_production":
            out.not_scored.append(
                NotScored(
                    f"china_production {s.state}",
                    s.month,
                    "the model's production is output for China beyond the 600-700k in stock, "
                    "after a 3-9 month lead; 'running' and 'halted' describe the line, with no "
                    "volume reported, so no draw can be compared with them",
                )
            )


def _event(
    out: VintageScores,
    event: str,
    by: str,
    happens: Any,
    outcome: bool,
    p: Paths,
    prev: Paths | None,
    mine: dict[tuple[str, str], Baseline],
    variable: str,
    no_change_p: float | None,
) -> None:
    out.events.append(scores.score_event(event, by, happens(p), outcome))
    g = mine.get(("guidance", variable))
    if g is not None and variable == "shipments":
        out.events.append(
            scores.score_event(event, by, [float(g.value) > 0], outcome, forecast="guidance")
        )
    if variable == "shipments":
        nc = mine.get(("no-change", "shipments"))
        no_change_p = None if nc is None else float(float(nc.value) > 0)
    if no_change_p is not None:
        out.events.append(
            scores.score_event(event, by, [no_change_p], outcome, forecast="no-change")
        )
    if prev is not None:
        out.events.append(
            scores.score_event(event, by, happens(prev), outcome, forecast="previous-vintage")
        )


# --- writing --------------------------------------------------------------------------------


def rows_csv(cards: Sequence[VintageScores]) -> str:
    """The quantity scores of every vintage, one row per vintage, forecast, quantity and period."""
    recs = [{"vintage": c.vintage.name, **r.as_record()} for c in cards for r in c.rows]
    return _csv(recs)


def events_csv(cards: Sequence[VintageScores]) -> str:
    recs = [
        {
            "vintage": c.vintage.name,
            "forecast": e.forecast,
            "event": e.event,
            "by": e.by,
            "p": e.p,
            "outcome": e.outcome,
            "n_draws": e.n_draws,
            "brier": e.brier,
            "log_score": e.log_score,
            "clipped": e.clipped,
            "note": e.note,
        }
        for c in cards
        for e in c.events
    ]
    return _csv(recs)


def not_scored_csv(cards: Sequence[VintageScores]) -> str:
    recs = [
        {"vintage": c.vintage.name, "what": n.what, "period": n.period, "reason": n.reason}
        for c in cards
        for n in c.not_scored
    ]
    recs += [
        {
            "vintage": c.vintage.name,
            "what": f"{r.quantity} ({r.forecast})",
            "period": r.period,
            "reason": r.note,
        }
        for c in cards
        for r in c.rows
        if not r.scored
    ]
    return _csv(recs, ("vintage", "what", "period", "reason"))


def coverage_csv(cards: Sequence[VintageScores]) -> str:
    recs = [
        {
            "vintage": c.vintage.name,
            "forecast": ln.forecast,
            "level": ln.level,
            "scored": ln.scored,
            "hits": ln.hits,
            "rate": ln.rate,
            "point_masses_excluded": ln.point_masses,
            "unscored": ln.unscored,
        }
        for c in cards
        for ln in c.coverage()
    ]
    return _csv(recs)


def _csv(recs: list[dict[str, Any]], header: Sequence[str] | None = None) -> str:
    import io

    buf = io.StringIO()
    cols = list(header or (recs[0].keys() if recs else ["vintage"]))
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in recs:
        w.writerow({k: _fmt(r.get(k)) for k in cols})
    return buf.getvalue()


def _fmt(x: Any) -> Any:
    if isinstance(x, float):
        return f"{x:.6g}"
    return "" if x is None else x


def check_request(names: Sequence[str], draws: int, params_dir: Path | None = None) -> list[str]:
    """The vintages to score, checked before any work: known, not repeated."""
    params = Path(params_dir) if params_dir else settings.params_dir()
    from h200cast.scenario.vintage import available, vintage_file

    chosen = [vintage_file(params, n).parent.name for n in names] if names else available(params)
    dup = sorted({n for n in chosen if chosen.count(n) > 1})
    if dup:
        raise InputError("expected each vintage once", key="--vintage", value=dup[0])
    if draws < 100:
        raise InputError(
            "expected at least 100 draws to score a forecast", key="--draws", value=draws
        )
    return chosen
