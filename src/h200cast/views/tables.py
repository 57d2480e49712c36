"""Readable text tables of metrics, with units scaled for people (M units, $B, %)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from h200cast import intervals
from h200cast.engine.metrics import BY_NAME, STATS
from h200cast.views.units import display

if TYPE_CHECKING:
    import pandas as pd

    from h200cast.estimation.backtest import Score
    from h200cast.estimation.estimate import Fit
    from h200cast.estimation.evidence import Evidence
    from h200cast.explore.checks import CheckResult
    from h200cast.explore.sweep import ExpectationResult
    from h200cast.results.scorecard import VintageScores
    from h200cast.scenario.schema import Scenario


def scale(unit: str, values: Sequence[float]) -> tuple[str, list[str]]:
    """A display unit and the values formatted in it (see :mod:`h200cast.views.units`)."""
    d = display(unit, "table")
    return d.label, [d.text(v) for v in values]


def render(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """Columns left-aligned for text, right-aligned for numbers."""
    table = [list(header), *map(list, rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]

    def fmt(r: list[str]) -> str:
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(table[0]), rule, *(fmt(r) for r in table[1:])])


def metrics_table(summary: Mapping[str, Mapping[str, float]]) -> str:
    """One row per metric: name, unit, P5, P50, P95, mean."""
    rows = []
    for name, stats in summary.items():
        unit, cells = scale(
            BY_NAME[name].unit if name in BY_NAME else "", [stats[s] for s in STATS]
        )
        rows.append([name, unit, *cells])
    return render(rows, ["metric", "unit", "P5", "P50", "P95", "mean"])


def comparison_table(
    summaries: Mapping[str, Mapping[str, Mapping[str, float]]], metrics: Sequence[str]
) -> str:
    """One row per run (stance or path), P50 [P5-P95] of each chosen metric."""
    header = ["run", ""]
    for m in metrics:
        unit, _ = scale(BY_NAME[m].unit, [0.0])
        header.append(f"{m} ({unit})")
    rows = []
    for run, summary in summaries.items():
        row = [run, ""]
        for m in metrics:
            _, (p5, p50, p95) = scale(
                BY_NAME[m].unit, [summary[m][s] for s in ("p5", "p50", "p95")]
            )
            row.append(f"{p50} [{p5}-{p95}]")
        rows.append(row)
    return render(rows, header)


def stance_table(shares: Mapping[str, Mapping[str, float]], every: int = 3) -> str:
    """Share of draws in each stance, every ``every`` months (and the last month)."""
    from h200cast.scenario.schema import STANCES

    months = list(shares)
    shown = months[::every] + ([months[-1]] if (len(months) - 1) % every else [])
    names = [s for s in STANCES if any(s in shares[m] for m in months)]
    rows = [[m, "", *(f"{100 * shares[m].get(s, 0.0):.1f}" for s in names)] for m in shown]
    return render(rows, ["month", "", *(f"{s} %" for s in names)])


def fit_text(f: Fit) -> str:
    """A fit as a reader can check it: data, coefficients, fit statistics, residual checks, result."""
    spec = f.spec
    lines = [
        f"== {f.name} -> {f.target}",
        f"method: {f.method}",
        f"data: {len(f.data)} rows" + (f", as of {f.as_of}" if f.as_of else ""),
        "",
    ]
    rows = [
        [
            str(c["term"]),
            "",
            *(f"{c[k]:.4g}" for k in ("coef", "se", "t", "p", *intervals.names(90))),
        ]
        for c in f.coefficients
    ]
    lines.append(render(rows, ["term", "", "coef", "se", "t", "p", "90% low", "90% high"]))
    lines.append("fit: " + ", ".join(f"{k}={v:.4g}" for k, v in f.stats.items()))
    lines.append("residuals: " + ", ".join(f"{k}={v:.4g}" for k, v in f.checks.items()))
    lines.append(
        f"result: truncated normal mean={spec['mean']:.4g} sd={spec['sd']:.4g} "
        f"on [{spec['low']:.4g}, {spec['high']:.4g}] {spec['unit']}"
    )
    if f.name == "substitution_speed" and f.comparisons:
        lines.append(
            "\nanalysts' forecasts (not fitted) against the fit's 90% prediction interval:"
        )
        rows = [
            [
                c["period"],
                "",
                c["source"],
                c["basis"],
                f"{100 * c['forecast']:.0f}%",
                f"{100 * c['fitted_p50']:.0f}% [{100 * c['fitted_p5']:.0f}-{100 * c['fitted_p95']:.0f}]",
                "inside" if c["fitted_p5"] <= c["forecast"] <= c["fitted_p95"] else "OUTSIDE",
            ]
            for c in f.comparisons
        ]
        lines.append(
            render(rows, ["period", "", "source", "basis", "forecast", "fit P50 [P5-P95]", ""])
        )
    if f.name == "demand_growth":
        lines.append(
            "\nintervention steps: "
            + "; ".join(
                f"{c['event']} ({c['date']}, "
                + (" ".join(c["evidence"]) or f"assumption: {c['assumption']}")
                + ")"
                for c in f.comparisons
            )
        )
    return "\n".join(lines)


def backtest_text(scores: Sequence[Score], coverage: Mapping[str, Mapping[str, float]]) -> str:
    """Each scored observation, then the share inside each interval."""

    def fmt(s: Score, x: float) -> str:
        return (
            f"{100 * x:.1f}%"
            if s.estimate == "substitution_speed"
            else f"{x / 1e9:.2f}B"
            if x > 1e6
            else f"{x:,.4g}"
        )

    rows = [
        [
            s.estimate,
            "",
            s.cutoff,
            s.target,
            fmt(s, s.observed),
            fmt(s, s.p50),
            f"[{fmt(s, s.lo90)}, {fmt(s, s.hi90)}]",
            "".join("x" if getattr(s, f"in{k}") else "." for k in (50, 80, 90)),
            s.note,
        ]
        for s in scores
    ]
    out = [
        render(
            rows,
            [
                "estimate",
                "",
                "cutoff",
                "observation",
                "observed",
                "P50",
                "90% interval",
                "in 50/80/90",
                "note",
            ],
        )
    ]
    out.append("")
    out.append(
        render(
            [
                [k, "", str(v["n"]), f"{v['in50']:.2f}", f"{v['in80']:.2f}", f"{v['in90']:.2f}"]
                for k, v in coverage.items()
            ],
            ["coverage", "", "n", "50%", "80%", "90%"],
        )
    )
    return "\n".join(out)


def checks_table(results: Sequence[CheckResult]) -> str:
    """One row per check: name, kind, PASS/FAIL and the observed numbers."""
    width = max((len(r.detail) for r in results), default=0)
    rows = [
        # render() right-aligns columns after the second; padding keeps the detail left-aligned
        [r.name, r.kind, "PASS" if r.passed else "FAIL", r.detail.ljust(width)]
        for r in results
    ]
    return render(rows, ["check", "kind", "result", "detail".ljust(width)])


def expectations_table(results: Sequence[ExpectationResult]) -> str:
    """One row per expectation of a sweep: where it is, what it asks, the observed value and
    PASS/FAIL."""
    rows = [[r.key, r.text(), f"{r.observed:.4g}", "PASS" if r.passed else "FAIL"] for r in results]
    return render(rows, ["", "expectation", "observed", "result"])


def params_text(sc: Scenario, ev: Evidence) -> str:
    """``params show``: every sampled input with its shape, central value, unit and grounds,
    then the sources of the evidence cited."""
    from h200cast.engine.model import specs
    from h200cast.scenario.distributions import Point

    rows, cited = [], set()
    for key, spec in specs(sc):
        dist = getattr(spec, "dist", None)
        if isinstance(spec, Point):  # the one spec without a `dist`
            shape = f"{spec.value:g}"
        else:
            fields = {
                k: v
                for k, v in spec.numbers().items()
                if k in ("low", "mode", "high", "mean", "sd")
            }
            shape = f"{dist}(" + ", ".join(f"{k}={v:g}" for k, v in fields.items()) + ")"
        why = " ".join(spec.evidence)
        if spec.assumption:
            why = (why + "; " if why else "") + f"assumption: {spec.assumption}"
        cited.update(spec.evidence)
        rows.append([key, shape, f"{spec.central():g}", spec.unit, why])
    steps = [
        f"{s.start} {s.stance} [{' '.join(s.evidence) or s.assumption}]" for s in sc.path.steps
    ]
    lines = [
        f"path {sc.path.name}: " + " -> ".join(steps),
        "",
        render(rows, ["key", "value or distribution", "central", "unit", "evidence / assumption"]),
        "",
        "sources of the cited evidence:",
    ]
    for sid in sorted({ev.facts[i].source_id for i in cited if i in ev.facts}):
        s = ev.sources[sid]
        lines.append(f"  {sid}  {s.publisher}, {s.date}: {s.title} <{s.url}>")
    return "\n".join(lines)


def sobol_table(df: pd.DataFrame) -> str:
    """Sobol first-order and total indices with their bootstrap intervals, one row per input."""

    def bound(kind: str, side: str) -> str:  # e.g. first_lo-90, whatever the level
        return next(c for c in df.columns if c.startswith(f"{kind}_{side}-"))

    f_lo, f_hi, t_lo, t_hi = (bound(k, s) for k in ("first", "total") for s in ("lo", "hi"))
    rows = [
        [
            r["output"],
            "",
            r["input"],
            f"{r['first']:.3f} [{r[f_lo]:.3f}, {r[f_hi]:.3f}]",
            f"{r['total']:.3f} [{r[t_lo]:.3f}, {r[t_hi]:.3f}]",
        ]
        for r in df.to_dict("records")
    ]
    return render(rows, ["output", "", "input", "first order", "total"])


def scorecard_text(cards: Sequence[VintageScores]) -> str:
    """The scorecard for a terminal: per vintage, the mean CRPS and coverage of each forecast,
    the dated events' Brier scores, and what could not be scored."""
    from h200cast.engine.model import VARIABLES

    out: list[str] = []
    for c in cards:
        v = c.vintage
        out.append(
            f"== vintage {v.name} (forecast from {v.origin}, chain {v.switching}, {c.draws:,} draws)"
        )
        scored = [r for r in c.rows if r.scored]
        if scored:
            rows = []
            for r in scored:
                unit = VARIABLES[r.quantity][0]
                obs, med, crps = (f"{x or 0.0:,.0f}" for x in (r.observed, r.median, r.crps))
                label = unit
                cover = "/".join(
                    {True: "in", False: "out", None: "pt"}[r.coverage.get(lv)]
                    for lv in (50, 80, 90)
                )
                rows.append(
                    [r.quantity, r.period, r.forecast, obs, med, crps, label, f"{r.pit:.2f}", cover]
                )
            out.append(
                render(
                    rows,
                    [
                        "quantity",
                        "period",
                        "forecast",
                        "observed",
                        "median",
                        "CRPS",
                        "unit",
                        "PIT",
                        "50/80/90",
                    ],
                )
            )
            cov = [
                [
                    ln.forecast,
                    f"{ln.level:g}%",
                    f"{ln.hits}/{ln.scored}",
                    "-" if ln.rate is None else f"{ln.rate:.0%}",
                    str(ln.point_masses),
                ]
                for ln in c.coverage()
                if ln.forecast == "model"
            ]
            out += [
                "",
                "coverage (model; 'pt' = a point at the observed value, not counted as a hit):",
            ]
            out.append(render(cov, ["forecast", "level", "hits", "rate", "point masses left out"]))
            hist = c.pit_histogram()
            out.append(f"PIT histogram (10 bins, model): {' '.join(str(int(x)) for x in hist)}")
        if c.events:
            ev = [
                [
                    e.event,
                    e.forecast,
                    f"{e.p:.3f}",
                    "yes" if e.outcome else "no",
                    f"{e.brier:.3f}",
                    f"{e.log_score:.2f}" + ("*" if e.clipped else ""),
                ]
                for e in c.events
            ]
            out += ["", "dated events (* log score with p clipped to [1e-6, 1 - 1e-6]):"]
            out.append(render(ev, ["event", "forecast", "p", "happened", "Brier", "log"]))
        if c.not_scored:
            out += ["", "not scored:"]
            out += [f"  {n.what} {n.period}: {n.reason}" for n in c.not_scored]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
