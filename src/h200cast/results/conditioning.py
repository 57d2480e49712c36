"""Conditioning a forecast on the months already observed (issue 11, point 3).

A forecast at vintage D treats the months before its origin as data. Two kinds of
observation enter:

* **inputs the vintage fixes**: Beijing's stance (the vintage's history path, checked
  against ``states.csv``) and the stop of production for China (a vintage parameter);
* **outcomes the draws must reproduce**: H200 shipments and revenue by month
  (``observations.csv``), the month the first US licences came (``states.csv``), a chain's
  stance at each observed month's end, no production after a reported halt.

Draws that contradict an outcome are removed (rejection sampling: a weight of 0 or 1,
so the effective sample size is the number kept). The run is repeated with derived
seeds until as many draws are kept as were asked for, up to :data:`MAX_ROUNDS`; what
was simulated and kept is reported, so that a forecast conditioned on unlikely months
says so. The state at the origin (inventory, approvals, backlog, the licence process)
is then each kept draw's own: it follows from months that match what happened.

The engine knows nothing of observations; this module reads them and filters its output.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h200cast.engine.model import Paths, licences_by, simulate_chunks
from h200cast.errors import InputError
from h200cast.scenario import calendar
from h200cast.scenario.schema import Scenario
from h200cast.scenario.vintage import Vintage

MAX_ROUNDS = 40
"""Most runs made to collect ``draws`` consistent draws."""

ROUND_MARGIN = 1.2
"""A later round simulates this many times the draws that the acceptance so far says it needs."""

ROUND_CAP = 8
"""A later round simulates at most this many times ``draws``..."""

ROUND_CAP_DRAWS = 50_000
"""...and at most this many draws, or ``draws`` if more: a large run's memory stays one run's."""

MIN_KEPT_SHARE = 0.01
"""Below this share of draws kept, the run stops: the scenario contradicts what was observed."""

MIN_EVIDENCE = 2000
"""Simulated draws needed before a low acceptance stops the run (a few draws say little)."""

CONDITIONED = ("shipments", "revenue_usd", "sent_to_china", "us_fee_usd")
"""Observed variables that condition a forecast (values of zero only: see :func:`constraints`)."""


@dataclass(frozen=True)
class Constraint:
    """One observed fact every kept draw reproduces."""

    subject: str  # a model variable, "us_licences", "beijing_stance" or "china_production"
    months: str  # "2026-02" or "2026-01..2026-04"
    expect: str  # in words: "= 0", "none by the month's end", "selective_approval"
    source: str  # file and line
    evidence: tuple[str, ...]
    holds: Callable[[Paths], np.ndarray] = field(compare=False, repr=False)
    by_construction: bool = False  # fixed by the scenario's inputs: checked, never binding

    def as_dict(self, kept: np.ndarray | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "subject": self.subject,
            "months": self.months,
            "expect": self.expect,
            "source": self.source,
            "evidence": list(self.evidence),
            "how": "fixed by the vintage's inputs" if self.by_construction else "draws kept",
        }
        if kept is not None:
            out["share_of_draws_reproducing"] = float(kept.mean())
        return out


@dataclass(frozen=True)
class Conditioning:
    """What a conditioned run observed and kept."""

    vintage: str
    origin: str
    constraints: tuple[Constraint, ...]
    simulated: int
    consistent: int  # simulated draws reproducing every observation (kept: the first of them)
    kept: int
    rounds: int
    reproduced: dict[str, float]  # constraint label -> share of simulated draws reproducing it

    @property
    def ess(self) -> int:
        """Effective sample size: with weights of 0 or 1, the number of draws kept."""
        return self.kept

    @property
    def acceptance(self) -> float:
        """Share of simulated draws consistent with every observation."""
        return self.consistent / self.simulated if self.simulated else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "vintage": self.vintage,
            "origin": self.origin,
            "simulated_draws": self.simulated,
            "consistent_draws": self.consistent,
            "kept_draws": self.kept,
            "effective_sample_size": self.ess,
            "acceptance": round(self.acceptance, 6),
            "rounds": self.rounds,
            "observations": [
                {**c.as_dict(), "share_of_draws_reproducing": self.reproduced.get(label(c))}
                for c in self.constraints
            ],
        }

    def line(self) -> str:
        """One line for a terminal or a page."""
        if not self.constraints:
            return f"vintage {self.vintage}: forecast from {self.origin}, no observed month"
        return (
            f"vintage {self.vintage}: months before {self.origin} observed ({len(self.constraints)} "
            f"observations); {self.consistent:,} of {self.simulated:,} draws reproduce them "
            f"({self.acceptance:.1%}); {self.kept:,} kept, effective sample size {self.ess:,}"
        )


def label(c: Constraint) -> str:
    return f"{c.subject} {c.months}"


def _index(months: Sequence[str], month: str) -> int:
    return calendar.months_between(months[0], month)


def constraints(
    vintage: Vintage,
    scenario: Scenario,
    months: Sequence[str],
    observations: Sequence[Any] | None = None,
    states: Sequence[Any] | None = None,
) -> list[Constraint]:
    """The observations a forecast at ``vintage`` must reproduce, for the months before its origin.

    Only what was observed by the vintage's date counts, and only months of the run
    before the origin (rows about 2025 are context, not conditioning). An observed
    amount must be zero (nothing shipped, sold or collected): a non-zero amount cannot
    be matched exactly by a continuous model and would need a likelihood, which no
    observation yet calls for, so it is refused with the row named.
    """
    from h200cast.results.scoring import load_observations, load_states

    obs = load_observations() if observations is None else observations
    sts = load_states() if states is None else states
    day, origin = vintage.date, vintage.origin
    first = months[0]
    out: list[Constraint] = []

    def inside(a: str, b: str) -> bool:
        return first <= a and b < origin

    for o in obs:
        if o.observed_on > day or not inside(o.period_start, o.period_end):
            continue
        if o.variable not in CONDITIONED:
            raise o.error(
                f"a forecast can be conditioned on {', '.join(CONDITIONED)} only; this row is "
                f"inside the observed months of vintage {vintage.name}",
                "variable",
                o.variable,
            )
        if o.value != 0:
            raise o.error(
                "a forecast is conditioned on observed amounts of zero only (a non-zero amount "
                "needs a likelihood the model does not have)",
                "value",
                o.value,
            )
        a, b = _index(months, o.period_start), _index(months, o.period_end) + 1

        def zero(p: Paths, var: str = o.variable, a: int = a, b: int = b) -> np.ndarray:
            return np.asarray(p[var][:, a:b].sum(axis=1) == 0)

        span = (
            o.period_start
            if o.period_start == o.period_end
            else f"{o.period_start}..{o.period_end}"
        )
        out.append(
            Constraint(o.variable, span, "= 0", f"{_short(o.file)} line {o.line}", o.evidence, zero)
        )
    for s in sts:
        if s.observed_on > day or not inside(s.month, s.month):
            continue
        t = _index(months, s.month)
        where = f"states.csv line {s.line}"
        if s.subject == "us_licences":
            if s.state == "none":
                c = _licences(t, False)
                expect = "no US licence by the month's end"
            else:
                c = _licences(t, True)
                expect = f"US licences issued by the month's end ({s.state})"
            out.append(Constraint("us_licences", s.month, expect, where, s.evidence, c))
        elif s.subject == "beijing_stance":
            out.append(_stance(scenario, months, t, s, where))
        elif s.subject == "china_production" and s.state == "halted":

            def none_made(p: Paths, t: int = t) -> np.ndarray:
                return np.asarray(p["production"][:, t] == 0)

            out.append(
                Constraint(
                    "china_production",
                    s.month,
                    "no H200 made for China",
                    where,
                    s.evidence,
                    none_made,
                    by_construction=scenario.supply.production_stop_month is not None
                    and scenario.supply.production_stop_month <= t,
                )
            )
        # "running": the model's production counts output beyond the stock, after a lead
        # time; a line running with no reported volume constrains nothing in it
    return out


def _short(file: str) -> str:
    return file.rsplit("/", 1)[-1] if file else "observations.csv"


def _licences(t: int, issued: bool) -> Callable[[Paths], np.ndarray]:
    def holds(p: Paths) -> np.ndarray:
        # the volume licensed by the end of month t is positive exactly when any month up
        # to t licensed some (the lot and the rounds are never negative)
        total = licences_by(p.draws.vec, float(t))
        return np.asarray(total > 0) if issued else np.asarray(total == 0)

    return holds


def _stance(scenario: Scenario, months: Sequence[str], t: int, s: Any, where: str) -> Constraint:
    """Beijing's stance at the end of month ``t``: fixed by a path, sampled by a chain."""
    names = calendar.ordered(list(scenario.stances))
    sw = scenario.switching
    sampled = sw is not None and months[t] >= sw.start.isoformat()[:7]
    if not sampled:
        end = dt.date.fromisoformat(calendar.add_months(months[t], 1) + "-01") - dt.timedelta(
            days=1
        )
        held = [st.stance for st in scenario.path.steps if st.start <= end]
        at_end = held[-1] if held else scenario.path.steps[0].stance
        if at_end != s.state:
            raise InputError(
                f"contradicts the observed stance at the end of {s.month}: {s.state} "
                f"({where}, evidence {' '.join(s.evidence)}), while the path "
                f"{scenario.path.name} has {at_end}; a vintage's history path must agree "
                "with what was observed",
                key="history_path",
                value=scenario.path.name,
            )
    col = names.index(s.state) if s.state in names else -1

    def holds(p: Paths) -> np.ndarray:
        if col < 0:
            return np.zeros(p.n_draws, dtype=bool)
        w = p.stance_weights[:, t, :]
        return np.broadcast_to(w.argmax(axis=1) == col, (p.n_draws,)).copy()

    if not sampled:
        return Constraint(
            "beijing_stance",
            s.month,
            s.state,
            where,
            s.evidence,
            lambda p: np.ones(p.n_draws, dtype=bool),
            by_construction=True,
        )
    return Constraint("beijing_stance", s.month, s.state, where, s.evidence, holds)


def _round_seed(seed: int, r: int) -> int:
    """The seed of round ``r`` (round 0 is the seed itself)."""
    if r == 0:
        return seed
    return int(np.random.SeedSequence([seed, r]).generate_state(1, dtype=np.uint32)[0])


def round_size(draws: int, kept: int, simulated: int, consistent: int) -> int:
    """The number of draws the next round simulates.

    The first round simulates ``draws`` (so that it is the unconditioned run with the same
    seed). A later one simulates what the acceptance so far says the missing draws need,
    with a margin (:data:`ROUND_MARGIN`): a forecast that keeps one draw in four then
    takes two rounds instead of five, and a small run (the explorer's 1,000 draws) pays
    the engine's fixed cost per call twice, not five times. It is capped
    (:data:`ROUND_CAP`, :data:`ROUND_CAP_DRAWS`) so that memory stays bounded.
    """
    if simulated == 0:
        return draws
    missing = draws - kept
    acceptance = max(consistent / simulated, MIN_KEPT_SHARE)
    cap = max(draws, min(ROUND_CAP * draws, ROUND_CAP_DRAWS))
    return max(missing, min(math.ceil(missing * ROUND_MARGIN / acceptance), cap))


def simulate_conditioned(
    scenario: Scenario,
    vintage: Vintage,
    found: Sequence[Constraint],
    draws: int,
    seed: int,
    chunk: int | None = None,
    sink: Callable[[Paths], None] | None = None,
) -> tuple[Paths | None, Conditioning]:
    """Simulate until ``draws`` draws reproduce every constraint (at most :data:`MAX_ROUNDS` runs).

    Round 0 simulates ``draws`` draws with ``seed``, so that an unconditioned forecast and
    a conditioned one start from the same draws; later rounds use seeds derived from it
    and sizes from :func:`round_size`. Draws are kept in the order simulated.

    With ``chunk``, each round runs in blocks of at most that many draws
    (:func:`~h200cast.engine.model.simulate_chunks`) and the kept draws of each block go
    to ``sink`` as they come, instead of being returned (the Paths returned is then None):
    memory is set by the chunk, and the draws kept are the same as without it.
    """
    parts: list[Paths] = []
    kept = simulated = rounds = consistent = 0
    reproduced = {label(c): 0 for c in found}
    while kept < draws and rounds < MAX_ROUNDS:
        n = round_size(draws, kept, simulated, consistent)
        for _, paths in simulate_chunks(scenario, n, _round_seed(seed, rounds), chunk or n):
            ok = np.ones(paths.n_draws, dtype=bool)
            for c in found:
                h = c.holds(paths)
                reproduced[label(c)] += int(h.sum())
                ok &= h
            consistent += int(ok.sum())
            idx = np.flatnonzero(ok)[: draws - kept]
            kept += len(idx)
            if len(idx):
                (sink or parts.append)(paths.take(idx))
        rounds += 1
        simulated += n
        if simulated >= MIN_EVIDENCE and consistent / simulated < MIN_KEPT_SHARE:
            break  # enough draws to say the scenario (nearly) never reproduces the months
    if kept == 0 or (simulated >= MIN_EVIDENCE and consistent / simulated < MIN_KEPT_SHARE):
        worst = min(reproduced, key=lambda k: reproduced[k]) if reproduced else "?"
        raise InputError(
            f"only {kept} of {simulated} draws reproduce the months observed by vintage "
            f"{vintage.name} (fewest: {worst}, {reproduced.get(worst, 0)} draws); the scenario "
            "contradicts what happened",
            key="--vintage",
            value=vintage.name,
        )
    return Paths.concat(parts) if sink is None else None, Conditioning(
        vintage.name,
        vintage.origin,
        tuple(found),
        simulated,
        consistent,
        kept,
        rounds,
        {k: v / simulated for k, v in reproduced.items()},
    )
