"""The live explorer: levers that re-run the model, and the four headline quantities
against a baseline that stays on screen (``notebooks/00_explorer.ipynb``, ``make explore``).

A *lever* is one input people argue about (the fee rate, the selling price, the US
licence process, ...). At its starting position a lever leaves the model as it is: the
input keeps the distribution the parameter files give it (or the notebook's own
``overrides``). Moved, it fixes that input at the lever's value in every draw, as
``--set KEY=VALUE`` does. :func:`overrides` maps lever values to those dotted keys.

Every change re-runs the model (:func:`h200cast.results.result.run`, what
``h200cast.run`` calls) at the explorer's draws and seed, then redraws: a table of the
numbers (:func:`numbers`, :func:`numbers_html`) and one Altair chart of four panels
(:func:`chart`), each with the baseline beside the current run. The chart is built once
as a template over named datasets (:func:`chart_template`); a redraw only swaps the
data, so that the time from a change to new numbers is the model's time.

No model logic lives here: the numbers are the run's own metrics and paths, and the
widgets (ipywidgets, imported only when they are shown) call :meth:`Explorer.set`,
which the tests and ``benchmarks/bench_explorer.py`` call directly.
"""

from __future__ import annotations

import html
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from h200cast import settings
from h200cast.errors import InputError
from h200cast.results.result import Result, run
from h200cast.results.scenarios import load_scenario
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.schema import STANCES, Scenario
from h200cast.views import notebook

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

Value = float | int | None
"""A lever's value: a number, or None (production that never stops)."""

BASELINE, NOW = "baseline", "now"
"""The two runs every panel shows: the notebook's starting values, and the levers' current ones."""
COLORS = {BASELINE: "#9a9a9a", NOW: "#1f5fa8"}


@dataclass(frozen=True)
class Lever:
    """One input the explorer lets people move.

    Parameters
    ----------
    name
        The lever's name, the keyword of :meth:`Explorer.set`.
    label, unit, help
        What the widget says: a short label, the unit of its values and one sentence.
    key
        The dotted key it sets (see :func:`overrides` for the conversion lever, which sets
        more than one).
    low, high, step
        The slider's range and step (for ``production_stop``: month indices).
    fmt
        How a value is written (a format spec).
    """

    name: str
    label: str
    unit: str
    key: str
    low: float
    high: float
    step: float
    fmt: str = ".2f"
    help: str = ""

    def text(self, value: Value) -> str:
        """``value`` as the widget and the status line write it."""
        if value is None:
            return "never"
        return format(value, self.fmt)


LEVERS: tuple[Lever, ...] = (
    Lever(
        "conversion",
        "Conversion into orders",
        "share per month",
        "buyers.conversion_per_month",
        0.0,
        1.0,
        0.05,
        help="share of permitted (under approvals: approved) intentions that buyers turn into "
        "firm orders each month once terms are final",
    ),
    Lever(
        "review_stall",
        "US review stalls",
        "probability",
        "us.review_stall_prob",
        0.0,
        1.0,
        0.05,
        help="chance that the State/Defense/Energy review of licences stalls",
    ),
    Lever(
        "licence_lag",
        "US licence lag",
        "months",
        "us.licence_lag_months",
        0.0,
        12.0,
        0.5,
        fmt=".1f",
        help="months until the licence review ends when it does not stall",
    ),
    Lever(
        "production_stop",
        "Nvidia stops production",
        "month",
        "supply.production_stop_month",
        0,
        35,
        1,
        fmt="d",
        help="the month from which Nvidia makes no more H200s for China (never: it goes on)",
    ),
    Lever(
        "fee_rate",
        "US fee rate",
        "share of the customs value",
        "us.fee_rate",
        0.0,
        0.5,
        0.01,
        help="Section 232 duty rate on the chips' customs value at US entry",
    ),
    Lever(
        "customs_value",
        "Fee base",
        "share of the China price",
        "us.customs_value_share",
        0.05,
        1.0,
        0.05,
        help="customs value declared at US entry, the base the fee is charged on",
    ),
    Lever(
        "price",
        "Selling price",
        "USD per chip",
        "money.price_usd",
        10_000.0,
        50_000.0,
        500.0,
        fmt=",.0f",
        help="average price of one H200 to Chinese buyers (demand answers it)",
    ),
    Lever(
        "capacity_growth",
        "Domestic capacity growth",
        "per year",
        "domestic.capacity_growth_per_year",
        0.0,
        1.5,
        0.05,
        help="yearly growth of domestic accelerator output",
    ),
)
"""The levers, in the order the explorer shows them."""

BY_NAME = {lv.name: lv for lv in LEVERS}


# --- levers to overrides -------------------------------------------------------------------


def lever_keys(lever: Lever, scenario: Scenario) -> list[str]:
    """The dotted keys ``lever`` sets on ``scenario``.

    The conversion lever sets ``buyers.conversion_per_month`` and, for each stance of the
    run that has approvals (``selective_approval``), its
    ``stances.<stance>.approvals.conversion_per_month``: under approvals the model takes
    the smaller of the two, so both are set for the lever's value to be the rate used.
    """
    if lever.name != "conversion":
        return [lever.key]
    keys = [lever.key]
    keys += [
        f"stances.{name}.approvals.conversion_per_month"
        for name in STANCES
        if name in scenario.stances and scenario.stances[name].approvals is not None
    ]
    return keys


def overrides(values: Mapping[str, Value], scenario: Scenario) -> dict[str, Value]:
    """The ``{dotted key: value}`` overrides that lever values set on ``scenario``.

    Parameters
    ----------
    values
        Lever name -> value, for the levers that are moved (a lever left out keeps the
        model's own distribution).
    scenario
        The run's resolved scenario (its stances decide the conversion lever's keys).

    Returns
    -------
    dict
        Dotted key -> value, as ``h200cast.run(overrides=...)`` takes them.
    """
    out: dict[str, Value] = {}
    for name, value in values.items():
        if name not in BY_NAME:
            raise InputError(f"expected one of: {', '.join(BY_NAME)}", key="lever", value=name)
        lever = BY_NAME[name]
        for key in lever_keys(lever, scenario):
            out[key] = _checked_value(lever, value)
    return out


def _checked_value(lever: Lever, value: Value) -> Value:
    if value is None:
        if lever.name != "production_stop":
            raise InputError("expected a number", key=lever.name, value=value)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError("expected a number", key=lever.name, value=value)
    if lever.name == "production_stop":
        if int(value) != value or value < 0:
            raise InputError("expected a month index >= 0, or None", key=lever.name, value=value)
        return int(value)
    return float(value)


def set_strings(over: Mapping[str, Value]) -> list[str]:
    """``{key: value}`` as ``--set`` strings, values written as YAML (None is ``null``)."""
    out = []
    for key, value in over.items():
        if value is None:
            text = "null"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = str(value)
        out.append(f"{key}={text}")
    return out


def spec_at(scenario: Scenario, key: str) -> Any:
    """The parameter (a spec, or a plain value) at a dotted key of a resolved scenario."""
    node: Any = scenario
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def central(scenario: Scenario, lever: Lever) -> Value:
    """Where ``lever`` starts on ``scenario``: its parameter's central value (``--point``'s)."""
    spec = spec_at(scenario, lever.key)
    if spec is None or isinstance(spec, int):
        return spec
    value = float(spec.central())
    if lever.name == "conversion":  # the rate used under approvals is the smaller one
        for key in lever_keys(lever, scenario)[1:]:
            value = min(value, float(spec_at(scenario, key).central()))
    return value


def spec_text(scenario: Scenario, lever: Lever) -> str:
    """The model's own value of ``lever`` in a few characters, e.g. ``tri(0.2, 0.5, 0.9)``."""
    parts = []
    for key in lever_keys(lever, scenario):
        spec = spec_at(scenario, key)
        parts.append(_one_spec(spec, lever))
    return " / approvals ".join(dict.fromkeys(parts))


def _one_spec(spec: Any, lever: Lever) -> str:
    if spec is None or isinstance(spec, int):
        return lever.text(spec)
    kind = getattr(spec, "dist", "point")
    if kind == "point":
        return lever.text(spec.value)
    fields = {
        "triangular": ("tri", ("low", "mode", "high")),
        "uniform": ("uniform", ("low", "high")),
        "lognormal": ("lognormal P5-P95", ("low", "high")),
        "truncnormal": ("normal", ("mean", "sd")),
    }
    name, keys = fields[kind]
    return f"{name}({', '.join(lever.text(getattr(spec, k)) for k in keys)})"


# --- the numbers ---------------------------------------------------------------------------

CAUSES = {
    "beijing": "blocked by Beijing",
    "buyers": "not ordered by buyers",
    "us_rule": "held by the US rule",
    "supply": "short of supply",
}
"""The shortfall's parts (``shortfall_<cause>_units``), as the charts name them."""


@dataclass(frozen=True)
class Row:
    """One line of the numbers table: a quantity of one run."""

    quantity: str
    unit: str
    headline: str  # which statistic leads: "mean" or "p50"
    value: float
    p5: float | None = None
    p95: float | None = None

    def text(self) -> str:
        """``1,234 (567-2,345)``: the headline statistic, then P5-P95 where the row has them."""
        fmt = _FORMATS[self.unit]
        main = format(self.value, fmt)
        if self.p5 is None or self.p95 is None:
            return main
        return f"{main} ({format(self.p5, fmt)}-{format(self.p95, fmt)})"


_FORMATS = {"thousand units": ",.0f", "$ billion": ",.2f", "%": ",.1f"}


def numbers(result: Result) -> list[Row]:
    """The four headline quantities of a run, as the explorer's table shows them.

    Demand, shipments and the fee are means over the draws with their P5-P95 (at a
    vintage where most draws ship nothing, the median is zero and does not move); the
    shortfall's parts are means (they add up to the total); the domestic share is the
    median at the horizon.
    """
    s, m = result.stats, result.metrics

    def units(metric: str, quantity: str, band: bool = True) -> Row:
        st = s[metric]
        lo, hi = (st["p5"] / 1e3, st["p95"] / 1e3) if band else (None, None)
        return Row(quantity, "thousand units", "mean", st["mean"] / 1e3, lo, hi)

    rows = [
        units("demand_total_units", "demand"),
        units("shipments_total_units", "shipments"),
        Row(
            "draws shipping any H200",
            "%",
            "share",
            100.0 * float(np.mean(m["shipments_total_units"] > 0.5)),
        ),
        units("shortfall_total_units", "shortfall", band=False),
        *(units(f"shortfall_{k}_units", f"  {label}", band=False) for k, label in CAUSES.items()),
    ]
    fee = s["us_fee_revenue_total_usd"]
    rows.append(
        Row(
            "US fee collected",
            "$ billion",
            "mean",
            fee["mean"] / 1e9,
            fee["p5"] / 1e9,
            fee["p95"] / 1e9,
        )
    )
    share = s["domestic_share_end"]
    rows.append(
        Row(
            f"domestic share of deployments, {result.paths.months[-1]}",
            "%",
            "p50",
            100.0 * share["p50"],
            100.0 * share["p5"],
            100.0 * share["p95"],
        )
    )
    return rows


def _change(now: Row, base: Row) -> str:
    d = now.value - base.value
    fmt = _FORMATS[now.unit]
    text = format(d, "+" + fmt)
    return "0" if text.lstrip("+-").strip("0.,") == "" else text


def numbers_table(baseline: Result, now: Result) -> pd.DataFrame:
    """The numbers of both runs side by side: quantity, unit, statistic, baseline, now, change."""
    import pandas as pd

    rows = []
    for b, n in zip(numbers(baseline), numbers(now), strict=True):
        rows.append(
            {
                "quantity": b.quantity.strip(),
                "unit": b.unit,
                "statistic": _stat_name(b),
                "baseline": b.text(),
                "now": n.text(),
                "change": _change(n, b),
            }
        )
    return pd.DataFrame(rows)


def _stat_name(row: Row) -> str:
    lead = {"mean": "mean", "p50": "median", "share": "share of draws"}[row.headline]
    return f"{lead} (P5-P95)" if row.p5 is not None else lead


def numbers_text(baseline: Result, now: Result | None = None) -> str:
    """The numbers as plain text (what the notebook's checked summary cell prints)."""
    table = numbers_table(baseline, now or baseline)
    if now is None:
        table = table.drop(columns=["now", "change"])
    return str(table.to_string(index=False))


def numbers_html(baseline: Result, now: Result) -> str:
    """The numbers table as HTML: one row per quantity, with the baseline, now and the change.

    Each value cell carries ``data-run`` and ``data-quantity`` attributes, so that a test
    in a browser can read the numbers it shows.
    """
    head = (
        "<tr><th style='text-align:left'>quantity</th><th>unit</th>"
        "<th>baseline</th><th>now</th><th>change</th></tr>"
    )
    body = []
    for i, (b, n) in enumerate(zip(numbers(baseline), numbers(now), strict=True)):
        sub = b.quantity.startswith("  ")
        name = html.escape(b.quantity.strip())
        style = "padding-left:1.5em;color:#444" if sub else "font-weight:600"
        changed = _change(n, b)
        mark = "color:#1f5fa8;font-weight:600" if changed != "0" else "color:#777"
        body.append(
            f"<tr data-row='{i}'><td style='text-align:left;{style}'>{name}</td>"
            f"<td>{html.escape(_stat_unit(b))}</td>"
            f"<td data-run='{BASELINE}' data-quantity='{name}'>{html.escape(b.text())}</td>"
            f"<td data-run='{NOW}' data-quantity='{name}'>{html.escape(n.text())}</td>"
            f"<td style='{mark}'>{html.escape(changed)}</td></tr>"
        )
    return (
        "<style>.h200cast-numbers td, .h200cast-numbers th {padding: 2px 10px}</style>"
        "<table class='h200cast-numbers' style='border-collapse:collapse;"
        "font-variant-numeric:tabular-nums;text-align:right'>"
        f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    )


def _stat_unit(row: Row) -> str:
    return f"{row.unit}, {_stat_name(row)}"


# --- the chart -----------------------------------------------------------------------------

WIDTH, HEIGHT = 330, 150
DATASETS = ("totals", "shortfall", "fee", "share")
"""The named datasets of the chart, one per panel."""


def chart_data(baseline: Result, now: Result) -> dict[str, list[dict[str, Any]]]:
    """The records each panel draws, by dataset name: both runs in each.

    ``totals``: demand and shipments over the horizon, thousand units (mean, P5, P95);
    ``shortfall``: the shortfall's mean by cause, thousand units; ``fee``: the US fee
    collected, cumulative mean by month, $ billion; ``share``: the domestic share of
    deployments by month, % (P5, P50, P95).
    """
    data: dict[str, list[dict[str, Any]]] = {k: [] for k in DATASETS}
    for run_name, r in ((BASELINE, baseline), (NOW, now)):
        s, p = r.stats, r.paths
        for metric, what in (
            ("demand_total_units", "demand"),
            ("shipments_total_units", "shipments"),
        ):
            st = s[metric]
            data["totals"].append(
                {
                    "run": run_name,
                    "quantity": what,
                    "mean": st["mean"] / 1e3,
                    "p5": st["p5"] / 1e3,
                    "p95": st["p95"] / 1e3,
                }
            )
        for i, (k, label) in enumerate(CAUSES.items()):
            data["shortfall"].append(
                {
                    "run": run_name,
                    "cause": label,
                    "order": i,
                    "mean": s[f"shortfall_{k}_units"]["mean"] / 1e3,
                }
            )
        fee = np.cumsum(p["us_fee_usd"], axis=1).mean(axis=0) / 1e9
        share = np.percentile(p["domestic_share"], [5, 50, 95], axis=0) * 100.0
        for t, month in enumerate(p.months):
            data["fee"].append({"run": run_name, "month": month, "fee": float(fee[t])})
            data["share"].append(
                {
                    "run": run_name,
                    "month": month,
                    "p5": float(share[0, t]),
                    "p50": float(share[1, t]),
                    "p95": float(share[2, t]),
                }
            )
    return data


def _panel_title(text: str, sub: str) -> alt.TitleParams:
    import altair as alt

    return alt.TitleParams(
        text=text,
        subtitle=[sub],
        anchor="start",
        fontSize=12,
        subtitleColor="#555",
        subtitleFontSize=10,
    )


def chart_template(horizon: str = "") -> alt.VConcatChart:
    """The four panels over named datasets (:data:`DATASETS`), without data.

    The data go in with :func:`spec` (a redraw) or :func:`chart` (a chart object). Each
    panel's axis spans both runs, so the baseline always stays in view.
    """
    import altair as alt

    runs = alt.Scale(domain=[BASELINE, NOW], range=[COLORS[BASELINE], COLORS[NOW]])
    color = alt.Color("run:N", title=None, scale=runs, legend=alt.Legend(orient="top"))
    quiet = alt.Color("run:N", title=None, scale=runs, legend=None)
    over = f" over {horizon}" if horizon else ""
    totals = alt.Chart(alt.NamedData("totals")).encode(
        y=alt.Y(
            "run:N", title=None, sort=[BASELINE, NOW], axis=alt.Axis(labels=False, ticks=False)
        ),
        color=color,
    )

    def total(what: str, title: str) -> alt.LayerChart | alt.FacetChart:
        base = totals.transform_filter(alt.datum.quantity == what)
        bar = base.mark_bar(height=16).encode(
            x=alt.X("mean:Q", title="thousand H200s (bar: mean; line: P5-P95)"),
            tooltip=[
                "run:N",
                alt.Tooltip("mean:Q", format=",.0f"),
                alt.Tooltip("p95:Q", format=",.0f"),
            ],
        )
        rule = base.mark_rule().encode(x="p5:Q", x2="p95:Q", color=quiet)
        return alt.layer(bar, rule).properties(
            width=WIDTH, height=55, title=_panel_title(title, f"thousand H200s{over}")
        )

    demand = alt.vconcat(
        total("demand", "Demand for H200s"), total("shipments", "Shipments to China")
    ).resolve_scale(x="independent")
    shortfall = (
        alt.Chart(alt.NamedData("shortfall"))
        .mark_bar(height=22)
        .encode(
            y=alt.Y("run:N", title=None, sort=[BASELINE, NOW]),
            x=alt.X("sum(mean):Q", title="thousand H200s, mean of the draws"),
            color=alt.Color(
                "cause:N",
                title=None,
                scale=alt.Scale(
                    domain=list(CAUSES.values()),
                    range=["#c0392b", "#e69f00", "#7b5ea7", "#2a9d8f"],
                ),
                legend=alt.Legend(orient="bottom", columns=2),
            ),
            order=alt.Order("order:Q"),
            tooltip=["run:N", "cause:N", alt.Tooltip("mean:Q", format=",.0f")],
        )
        .properties(
            width=WIDTH,
            height=70,
            title=_panel_title(
                "The shortfall by cause", f"demand not shipped{over}, thousand H200s"
            ),
        )
    )
    month = alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y"))
    dash = alt.StrokeDash(
        "run:N", scale=alt.Scale(domain=[BASELINE, NOW], range=[[4, 3], [1, 0]]), legend=None
    )
    fee = (
        alt.Chart(alt.NamedData("fee"))
        .mark_line(strokeWidth=2)
        .encode(
            x=month,
            y=alt.Y("fee:Q", title="$ billion, cumulative"),
            color=quiet,
            strokeDash=dash,
            tooltip=[
                "run:N",
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("fee:Q", format=",.2f"),
            ],
        )
        .properties(
            width=WIDTH,
            height=HEIGHT,
            title=_panel_title(
                "US fee collected", "Section 232 duty, mean of the draws, $ billion"
            ),
        )
    )
    share_base = alt.Chart(alt.NamedData("share")).encode(x=month, color=quiet)
    share = alt.layer(
        share_base.transform_filter(alt.datum.run == NOW)
        .mark_area(opacity=0.18)
        .encode(y=alt.Y("p5:Q", title="% of deployments", scale=alt.Scale(zero=False)), y2="p95:Q"),
        share_base.mark_line(strokeWidth=2).encode(
            y="p50:Q",
            strokeDash=dash,
            tooltip=[
                "run:N",
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("p50:Q", format=".1f"),
            ],
        ),
    ).properties(
        width=WIDTH,
        height=HEIGHT,
        title=_panel_title(
            "Domestic share of deployments", "median line; band: P5-P95 of the current run, %"
        ),
    )
    top = alt.hconcat(demand, shortfall, spacing=40).resolve_scale(color="independent")
    return (
        alt.vconcat(top, alt.hconcat(fee, share, spacing=40))
        .resolve_scale(color="independent")
        .configure_view(stroke=None)
    )


def _horizon(result: Result) -> str:
    m = result.paths.months
    return f"{m[0]} to {m[-1]}"


def spec(template: Mapping[str, Any], baseline: Result, now: Result) -> dict[str, Any]:
    """The Vega-Lite spec of a redraw: the template's dict with the two runs' data in it."""
    out = dict(template)
    out["datasets"] = chart_data(baseline, now)
    return out


def chart(baseline: Result, now: Result | None = None) -> alt.TopLevelMixin:
    """The four panels as an Altair chart with its data (the baseline twice when ``now`` is None)."""
    import altair as alt

    now = now or baseline
    template = chart_template(_horizon(baseline)).to_dict()
    return alt.VConcatChart.from_dict(spec(template, baseline, now), validate=False)


# --- the explorer --------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What the levers select: the run's stance, path or chain, its vintage and the moved levers."""

    ref: ScenarioRef
    vintage: str
    levers: tuple[tuple[str, Value], ...] = ()

    def values(self) -> dict[str, Value]:
        """The moved levers, name -> value."""
        return dict(self.levers)


@dataclass
class Redraw:
    """One change's outcome: the run, its numbers and chart spec, and how long each took."""

    result: Result
    html: str
    spec: dict[str, Any]
    model_seconds: float
    redraw_seconds: float
    error: str = ""
    cached: bool = False

    @property
    def seconds(self) -> float:
        """From the change to new numbers and chart spec."""
        return self.model_seconds + self.redraw_seconds


@dataclass
class Explorer:
    """The live explorer over a notebook's parameters.

    The run at the parameters is the baseline; :meth:`set` moves levers (or the stance,
    path, chain or vintage), re-runs the model and redraws. Runs are kept by their inputs,
    so going back to an earlier setting is immediate.

    Parameters
    ----------
    stance, path, switching, overrides, draws, seed, vintage
        As in every notebook's parameters cell (``path``, then ``switching``, then
        ``stance``; ``vintage`` empty: the latest).
    keep
        How many runs are kept for going back to them.
    """

    stance: str = ""
    path: str = ""
    switching: str = ""
    overrides: dict[str, Any] | None = None
    draws: int = 1000
    seed: int = 20260131
    vintage: str = ""
    keep: int = 64
    _runs: OrderedDict[tuple[Any, ...], Result] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    _scenarios: dict[tuple[ScenarioRef, str], Scenario] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.baseline = notebook.run_from_parameters(
            self.stance,
            self.path,
            self.switching,
            self.overrides,
            self.draws,
            self.seed,
            self.vintage,
        )
        self.start = Choice(
            notebook.scenario_ref(self.stance, self.path, self.switching),
            self.vintage or str(self.baseline.vintage or ""),
        )
        self.choice = self.start
        self.current = self.baseline
        self.template = chart_template(_horizon(self.baseline)).to_dict()
        self._runs[self._key(self.start)] = self.baseline
        self._widgets: Any = None

    # -- the model, through the run function that h200cast.run calls
    def scenario(self, ref: ScenarioRef, vintage: str) -> Scenario:
        """The resolved scenario of ``ref`` at ``vintage`` with the notebook's overrides only."""
        key = (ref, vintage)
        if key not in self._scenarios:
            self._scenarios[key] = load_scenario(
                ref, overrides=tuple(set_strings(self.overrides or {})), vintage=vintage or None
            )
        return self._scenarios[key]

    def starts(self, choice: Choice | None = None) -> dict[str, Value]:
        """Where each lever starts for a choice's run (default: the current one): the central
        value of its input there, where the lever leaves the model's own range."""
        c = choice or self.choice
        sc = self.scenario(c.ref, c.vintage)
        return {lv.name: central(sc, lv) for lv in LEVERS}

    def positions(self) -> dict[str, Value]:
        """Where each lever stands for the current run: its value if moved, else its start."""
        return {**self.starts(), **self.choice.values()}

    def fixed(self, choice: Choice) -> dict[str, Value]:
        """Every override a choice's run uses: the notebook's, then the moved levers'."""
        fixed = dict(self.overrides or {})
        fixed.update(overrides(choice.values(), self.scenario(choice.ref, choice.vintage)))
        return fixed

    def _key(self, choice: Choice) -> tuple[Any, ...]:
        return (choice.ref, choice.vintage, tuple(sorted(self.fixed(choice).items(), key=str)))

    def result(self, choice: Choice) -> tuple[Result, bool]:
        """The run of a choice (kept from before when its inputs were run already)."""
        key = self._key(choice)
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key], True
        r = run(
            choice.ref,
            overrides=set_strings(self.fixed(choice)),
            draws=self.draws,
            seed=self.seed,
            vintage=choice.vintage or None,
        )
        self._runs[key] = r
        while len(self._runs) > self.keep:
            self._runs.popitem(last=False)
        return r, False

    # -- changes
    def choose(
        self,
        ref: ScenarioRef | None = None,
        vintage: str | None = None,
        **levers: Value,
    ) -> Choice:
        """The choice after a change: a new run (``ref``), vintage, or lever values.

        A lever at its start for the new run (see :meth:`starts`) is not moved: the input
        keeps the model's own distribution there.
        """
        moved = self.choice.values()
        for name, value in levers.items():
            if name not in BY_NAME:
                raise InputError(f"expected one of: {', '.join(BY_NAME)}", key="lever", value=name)
            moved[name] = _checked_value(BY_NAME[name], value)
        where = Choice(ref or self.choice.ref, self.choice.vintage if vintage is None else vintage)
        start = self.starts(where)
        kept = tuple(
            (lv.name, moved[lv.name])
            for lv in LEVERS
            if lv.name in moved and not _same(moved[lv.name], start[lv.name])
        )
        return Choice(where.ref, where.vintage, kept)

    def set(
        self,
        ref: ScenarioRef | None = None,
        vintage: str | None = None,
        **levers: Value,
    ) -> Redraw:
        """Apply a change, re-run the model and redraw against the baseline.

        A run the model refuses (e.g. a scenario that contradicts the observed months)
        leaves the current run in place and returns its message in ``error``.
        """
        t0 = time.perf_counter()
        error, cached = "", False
        try:
            choice = self.choose(ref, vintage, **levers)
            result, cached = self.result(choice)
        except InputError as exc:
            result, error = self.current, str(exc)
        else:
            self.choice, self.current = choice, result
        t1 = time.perf_counter()
        text = numbers_html(self.baseline, result)
        vl = spec(self.template, self.baseline, result)
        t2 = time.perf_counter()
        return Redraw(result, text, vl, t1 - t0, t2 - t1, error, cached)

    def reset(self) -> Redraw:
        """Back to the starting values (the baseline)."""
        self.choice = self.start
        return self.set()

    def status(self, redraw: Redraw | None = None) -> str:
        """One line: what runs now, at which vintage and draws, the levers moved, and the time taken."""
        c, r = self.choice, self.current
        months = self.baseline.paths.months
        moved = ", ".join(
            f"{BY_NAME[k].label} {_lever_text(BY_NAME[k], v, months)}" for k, v in c.levers
        )
        parts = [
            f"{c.ref.kind} {c.ref.name}, vintage {c.vintage or 'latest'}, {r.draws:,} draws",
            f"moved: {moved}"
            if moved
            else "no lever moved" + (" (the baseline)" if c == self.start else ""),
        ]
        if r.conditioning and r.conditioning.simulated:
            parts.append(
                f"{r.conditioning.kept:,} of {r.conditioning.simulated:,} draws simulated "
                "reproduce the observed months"
            )
        if redraw is not None:
            took = (
                "kept from before"
                if redraw.cached
                else f"model {redraw.model_seconds * 1e3:.0f} ms"
            )
            parts.append(f"{took}, redraw {redraw.redraw_seconds * 1e3:.0f} ms")
        line = "; ".join(parts)
        if redraw is not None and redraw.error:
            line = f"cannot run that: {redraw.error} (the numbers are the last run's). {line}"
        return line

    # -- in a notebook
    def table(self) -> pd.DataFrame:
        """The numbers of the current run against the baseline (a CSV for ``output_dir``)."""
        return numbers_table(self.baseline, self.current)

    def chart(self) -> alt.TopLevelMixin:
        """The four panels of the current run against the baseline."""
        return chart(self.baseline, self.current)

    def show(self) -> None:
        """Display the explorer: live widgets in a Jupyter server or Voila, else a static chart.

        Static (papermill, nbval, the report: see :func:`h200cast.views.notebook.static`),
        or without ipywidgets (the ``lab`` extra), it shows the baseline's four panels as
        SVG and says how to move the levers.
        """
        from IPython.display import display

        if notebook.static() or not _have_widgets():
            notebook.say(
                "*A static copy: the levers need a live kernel. `make explore` serves this "
                "notebook as an app (Voila); in `make lab`, open it and run all cells.*"
            )
            display(self.chart())
            return
        display(self.widget())

    def widget(self) -> Any:
        """The explorer's widgets (ipywidgets): levers, the numbers, the chart and a status line."""
        if self._widgets is None:
            self._widgets = _build_widgets(self)
        return self._widgets


def _same(a: Value, b: Value) -> bool:
    if a is None or b is None:
        return a is b
    return bool(abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b))))


def _have_widgets() -> bool:
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None


def choices() -> list[tuple[str, ScenarioRef]]:
    """Every run the explorer offers: the six stances, the stance paths and the switching chains."""
    root = settings.params_dir()
    out = [(f"stance: {s}", ScenarioRef("stance", s)) for s in STANCES]
    out += [
        (f"path: {p.stem}", ScenarioRef("path", p.stem))
        for p in sorted((root / "paths").glob("*.yaml"))
    ]
    out += [
        (f"chain: {p.stem}", ScenarioRef("switching", p.stem))
        for p in sorted((root / "switching").glob("*.yaml"))
    ]
    return out


def vintages() -> list[str]:
    """The vintages in ``params/vintages/``, oldest first."""
    return settings.vintages()


# --- the widgets ---------------------------------------------------------------------------


def _build_widgets(ex: Explorer) -> Any:
    """ipywidgets for every lever, the run and the vintage, wired to :meth:`Explorer.set`."""
    import ipywidgets as w

    start = ex.starts()
    months = ex.baseline.paths.months
    label_layout = w.Layout(width="160px")
    style = {"description_width": "170px"}
    run_choice = w.Dropdown(
        options=choices(),
        value=ex.start.ref,
        description="Beijing's stance",
        style=style,
        layout=w.Layout(width="430px"),
    )
    vintage = w.Dropdown(
        options=vintages(),
        value=ex.start.vintage,
        description="vintage",
        style={"description_width": "60px"},
        layout=w.Layout(width="190px"),
    )
    reset = w.Button(
        description="Reset to the baseline", icon="undo", layout=w.Layout(width="auto")
    )
    controls: dict[str, Any] = {}
    notes: dict[str, Any] = {}
    rows = []
    for lv in LEVERS:
        if lv.name == "production_stop":
            options: list[tuple[str, Value]] = [("never", NEVER)]
            options += [(f"{m} (month {i})", i) for i, m in enumerate(months)]
            ctl: Any = w.Dropdown(
                options=options, value=_widget_value(lv, start[lv.name]), description=lv.label
            )
        else:
            ctl = w.FloatSlider(
                value=_widget_value(lv, start[lv.name]),
                min=lv.low,
                max=lv.high,
                step=lv.step,
                description=lv.label,
                continuous_update=False,
                readout_format=lv.fmt.replace(",", ""),
            )
        ctl.style = style
        ctl.layout = w.Layout(width="430px")
        ctl.tooltip = f"{lv.help} ({lv.unit}; sets {lv.key})"
        controls[lv.name] = ctl
        notes[lv.name] = w.HTML(layout=w.Layout(width="auto"))
        rows.append(
            w.HBox(
                [
                    ctl,
                    w.HTML(f"<small>{html.escape(lv.unit)}</small>", layout=label_layout),
                    notes[lv.name],
                ]
            )
        )
    numbers_box = w.HTML(numbers_html(ex.baseline, ex.current))
    status = w.HTML()
    chart_box = _chart_widget(ex.template, ex.baseline, ex.current)
    busy = [False]

    def notes_update() -> None:
        moved = ex.choice.values()
        sc = ex.scenario(ex.choice.ref, ex.choice.vintage)
        for lv in LEVERS:
            if lv.name in moved:
                text = f"<b>fixed at {html.escape(_lever_text(lv, moved[lv.name], months))}</b>"
            elif lv.name == "production_stop":
                value = spec_at(sc, lv.key)
                text = f"model: {html.escape(_lever_text(lv, value, months))}"
            else:
                text = f"model: {html.escape(spec_text(sc, lv))}"
            notes[lv.name].value = f"<small style='color:#555'>{text}</small>"

    def sync() -> None:
        """Put every widget where the current run has it (unmoved levers at its starts)."""
        busy[0] = True
        try:
            run_choice.value, vintage.value = ex.choice.ref, ex.choice.vintage
            for name, value in ex.positions().items():
                controls[name].value = _widget_value(BY_NAME[name], value)
        finally:
            busy[0] = False

    def show(redraw: Redraw) -> None:
        # in this order, so that once the numbers change on screen the rest says why
        sync()
        status.value = f"<small>{html.escape(ex.status(redraw))}</small>"
        notes_update()
        numbers_box.value = redraw.html
        _chart_update(chart_box, redraw.spec)

    def changed(_: Any = None) -> None:
        if busy[0]:
            return
        here = ex.positions()  # only what differs from the current run moves
        values = {
            name: _lever_value(BY_NAME[name], ctl.value)
            for name, ctl in controls.items()
            if not _same(ctl.value, _widget_value(BY_NAME[name], here[name]))
        }
        show(ex.set(ref=run_choice.value, vintage=vintage.value, **values))

    def back(_: Any = None) -> None:
        show(ex.reset())

    for ctl in (run_choice, vintage, *controls.values()):
        ctl.observe(changed, names="value")
    reset.on_click(back)
    status.value = f"<small>{html.escape(ex.status())}</small>"
    notes_update()
    intro = w.HTML(
        "<small>Each lever starts where the model's own input centres; there it keeps the "
        "model's range (right). Moved, it fixes that input in every draw. Grey: the baseline "
        "(the notebook's starting values), which stays on screen; blue: now. "
        f"{ex.draws:,} draws a run, seed {ex.seed}; a run at a vintage with observed months "
        "simulates about four times as many and keeps those that reproduce them.</small>"
    )
    return w.VBox(
        [
            w.HBox([run_choice, vintage, reset]),
            intro,
            *rows,
            status,
            numbers_box,
            chart_box,
        ],
        layout=w.Layout(width="100%"),
    )


NEVER = -1
"""The production-stop drop-down's value for never (None there would mean no selection)."""


def _widget_value(lever: Lever, value: Value) -> Value:
    """A lever's value as its widget holds it: within the slider's range, or a month (never: -1)."""
    if lever.name == "production_stop":
        return NEVER if value is None else value
    assert value is not None
    return min(max(float(value), lever.low), lever.high)


def _lever_value(lever: Lever, value: Value) -> Value:
    """A widget's value as the lever's (the inverse of :func:`_widget_value` for a month)."""
    return None if lever.name == "production_stop" and value == NEVER else value


def _lever_text(lever: Lever, value: Value, months: list[str]) -> str:
    if lever.name == "production_stop" and isinstance(value, int) and 0 <= value < len(months):
        return f"from {months[value]} (month {value})"
    return lever.text(value)


def _chart_widget(template: Mapping[str, Any], baseline: Result, now: Result) -> Any:
    """The chart: Altair's JupyterChart, offline (Vega bundled by vl-convert), else SVG in HTML."""
    import importlib.util

    import altair as alt

    vl = spec(template, baseline, now)
    if importlib.util.find_spec("anywidget") is not None:
        alt.JupyterChart.enable_offline()
        widget = alt.JupyterChart(alt.VConcatChart.from_dict(vl, validate=False))
        return widget
    import ipywidgets as w

    return w.HTML(_svg(vl))


def _chart_update(widget: Any, vl: dict[str, Any]) -> None:
    if hasattr(widget, "spec"):
        widget.spec = vl
    else:
        widget.value = _svg(vl)


def _svg(vl: Mapping[str, Any]) -> str:
    import vl_convert as vlc

    svg: str = vlc.vegalite_to_svg(dict(vl))
    return svg
