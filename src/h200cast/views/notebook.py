"""What the notebooks share: how to run from their parameters cell, render and save charts.

Charts render as SVG (static, offline and byte-stable, so committed notebooks stay
small and diffable) except in a notebook opened in a Jupyter server such as JupyterLab,
where they are interactive. A Jupyter server names each kernel's session in
``JPY_SESSION_NAME``; papermill and nbval do not, so a plain ``papermill`` run is static
too. ``H200CAST_STATIC_CHARTS=1`` or ``=0`` overrides the choice (``make lab`` sets 0;
``make notebooks``, the tests and the report set 1).

Interactive charts use Altair's ``jupyter`` renderer offline: an anywidget widget whose
JavaScript (Vega, Vega-Lite, vega-embed) vl-convert bundles from its own copy, so a chart
loads nothing from the network. Altair's other interactive renderers do not work offline
in JupyterLab: the default HTML one loads Vega from a CDN, and Lab's built-in renderer
does not take the Vega-Lite v6 that Altair 6 writes. Without anywidget (the ``lab``
extra), charts stay static SVG and a warning says why.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from h200cast import settings
from h200cast.errors import InputError
from h200cast.results.result import Result, run
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.vintage import Vintage
from h200cast.views.units import display

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

DEFAULT_STANCE = "selective_approval"
"""The stance a notebook runs when its parameters name no stance, path or chain."""


static = settings.static_charts


def setup() -> None:
    """Choose the chart renderer: SVG when static, else the offline ``jupyter`` widget."""
    import importlib.util

    import altair as alt

    if static():
        _static_renderer()
    elif importlib.util.find_spec("anywidget") is None:
        import warnings

        warnings.warn(
            "charts are static SVG: interactive charts need anywidget (the `lab` extra; "
            "`make lab` installs it)",
            stacklevel=2,
        )
        _static_renderer()
    else:
        alt.renderers.enable("jupyter", offline=True)
    _short_input_errors()


def _static_renderer() -> None:
    """SVG charts drawn once each (shown and saved alike), vl-convert started in the background
    (under the notebook runner, charts are left to its worker: see ``settings.deferred_charts``)."""
    import threading

    import altair as alt

    from h200cast.views import charts

    if "h200cast_svg" not in alt.renderers.names():
        alt.renderers.register("h200cast_svg", charts.svg_renderer)
    alt.renderers.enable("h200cast_svg")
    if settings.deferred_charts() is None:  # under the runner, its worker draws
        threading.Thread(target=charts.warm, name="h200cast-warm-vl-convert", daemon=True).start()


def _short_input_errors() -> None:
    """In a kernel, show an :class:`InputError` as the CLI does: its class and one line.

    A bad papermill parameter (``-p stance nope``) then stops the notebook in the cell
    that uses it with ``InputError: stance: got 'nope': unknown stance; ...`` instead of
    a traceback through h200cast's internals. The cell still fails, so papermill and
    nbval report it as an error.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return
    shell = get_ipython()
    if shell is None:
        return

    def one_line(
        shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
    ) -> list[str]:
        stb = [f"{etype.__name__}: {value}"]
        shell._showtraceback(etype, value, stb)  # the kernel sends it as the cell's error
        return stb

    shell.set_custom_exc((InputError,), one_line)


def _checked(name: str, value: Any, kind: type | tuple[type, ...], what: str) -> None:
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise InputError(f"expected {what}", key=name, value=value)


def _writable_folder(out: Path) -> None:
    """Refuse an ``output_dir`` that is not a folder, lies under a file, or cannot be written."""
    if out.exists() and not out.is_dir():
        raise InputError(
            "is not a folder; expected a folder to write into", key="output_dir", value=str(out)
        )
    base = out
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise InputError(
            f"lies under {base}, which is not a folder; expected a folder that can be made",
            key="output_dir",
            value=str(out),
        )
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot write in {base}; expected a folder that can be written",
            key="output_dir",
            value=str(out),
        )


def run_from_parameters(
    stance: str = "",
    path: str = "",
    switching: str = "",
    overrides: dict | None = None,
    draws: int = 1000,
    seed: int = 20260131,
    vintage: str = "",
    output_dir: str = "",
) -> Result:
    """Run the model from a notebook's parameters cell: ``path``, then ``switching``, then ``stance``.

    ``vintage`` is a date in ``params/vintages/``; empty means the latest. ``output_dir``
    is only checked here (a folder that can be written, or made), so that a bad one stops
    the notebook in its first cell rather than in the cell that first saves a chart.
    """
    for name, value in (("stance", stance), ("path", path), ("switching", switching)):
        _checked(name, value, str, 'a name (text), or "" for none')
    _checked(
        "overrides",
        overrides if overrides is not None else {},
        dict,
        'a mapping of dotted keys to values, e.g. {"us.fee_rate": 0.15}',
    )
    _checked("draws", draws, int, "a whole number >= 1")
    _checked("seed", seed, int, "a whole number >= 0")
    _checked("vintage", vintage, str, 'a date YYYY-MM-DD in params/vintages/, or "" for the latest')
    _checked("output_dir", output_dir, (str, os.PathLike), 'a folder, or "" to write nothing')
    if output_dir:
        _writable_folder(Path(output_dir))
    if vintage:
        from h200cast.scenario.vintage import vintage_file

        vintage_file(settings.params_dir(), vintage, key="vintage")
    from h200cast.scenario.layers import set_text

    sets = [f"{k}={set_text(v)}" for k, v in (overrides or {}).items()]
    return run(
        scenario_ref(stance, path, switching),
        overrides=sets,
        draws=draws,
        seed=seed,
        vintage=vintage or None,
    )


def scenario_ref(stance: str = "", path: str = "", switching: str = "") -> ScenarioRef:
    """What a notebook's parameters select: ``path`` if given, then ``switching``, then ``stance``.

    A notebook's parameters cell always names a stance (its default), so a path or a
    chain given beside it wins instead of being an error.
    """
    if path:
        return ScenarioRef("path", path)
    if switching:
        return ScenarioRef("switching", switching)
    return ScenarioRef("stance", stance or DEFAULT_STANCE)


@dataclass(frozen=True)
class Fixed:
    """The stance or path that fixed-stance analyses use, and what to tell the reader."""

    stance: str | None
    path: str | None
    note: str = ""


def fixed_stance(stance: str = "", path: str = "", switching: str = "") -> Fixed:
    """Where one-at-a-time changes, Sobol indices and what-if grids run.

    They need one stance (or path) per run. A switching chain has none, so they use the
    path the chain continues from (or its most likely first stance) and say so.
    """
    if path:
        return Fixed(None, path)
    if not switching:
        return Fixed(stance or DEFAULT_STANCE, None)
    from h200cast.results.scenarios import load_scenario

    chain = load_scenario(switching=switching).switching
    assert chain is not None
    if chain.history_path:
        fixed, what = Fixed(None, chain.history_path), "the stance path it continues"
    else:
        fixed, what = (
            Fixed(max(chain.initial, key=chain.initial.__getitem__), None),
            "its likeliest first stance",
        )
    note = (
        f"*The analysis below needs one stance per run, so it holds Beijing's stance fixed "
        f"instead of following the switching chain **{switching}**: it uses "
        f"{fixed.path or fixed.stance}, {what}.*"
    )
    return Fixed(fixed.stance, fixed.path, note)


def save(
    output_dir: str | os.PathLike | None,
    name: str,
    *,
    chart: alt.TopLevelMixin | None = None,
    table: pd.DataFrame | None = None,
) -> list[Path]:
    """With an ``output_dir``, write a chart as SVG (and PNG where
    ``H200CAST_PNG_CHARTS=1``), or a table as CSV; else write nothing.

    Under the notebook runner a chart's files are written once the notebook has run, by
    the runner's worker (``settings.deferred_charts``).
    """
    if not output_dir:
        return []
    return _save(Path(output_dir), name, chart, table)[0]


def _save(
    out: Path, name: str, chart: alt.TopLevelMixin | None, table: pd.DataFrame | None
) -> tuple[list[Path], dict[str, Any] | None]:
    """:func:`save` into ``out``: the files written, and the chart's output to show (its
    SVG; under the notebook runner, what the runner draws and writes); None without one."""
    from h200cast.io.atomic import writing

    written: list[Path] = []
    shown = None
    # under a regular file, read-only, a full disk: one line naming output_dir, not a traceback
    with writing(out, "output_dir", kept="what was written before stays"):
        out.mkdir(parents=True, exist_ok=True)
        if chart is not None:
            from h200cast.views import charts

            spool = settings.deferred_charts()
            if spool is not None:
                shown = charts.defer(chart, out, name, spool)
            else:
                shown = {"image/svg+xml": charts.save(chart, out, name)}
            written.append(out / f"{name}.svg")
            if settings.png_charts():
                written.append(out / f"{name}.png")
        if table is not None:
            table.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
            written.append(out / f"{name}.csv")
    return written, shown


class Linked:
    """A chart shown with the name of the CSV that holds its data, for the report's link.

    It displays exactly as the chart does; its output's metadata carries
    ``{"h200cast": {"data": "NAME.csv"}}``, which the report's page template turns into a
    link under the chart. ``shown`` is the static output already made when it was saved
    (its SVG, or what the runner draws): static charts show it instead of converting the
    chart to a spec again (about 0.06 s a chart).
    """

    def __init__(
        self, chart: alt.TopLevelMixin, data: str, shown: dict[str, Any] | None = None
    ) -> None:
        self.chart, self.data, self.shown = chart, data, shown

    def __repr__(self) -> str:  # the output's text/plain, as the chart's: alt.Chart(...)
        return repr(self.chart)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        import altair as alt

        if self.shown is not None and alt.renderers.active == "h200cast_svg":
            return dict(self.shown), {"h200cast": {"data": self.data}}
        bundle = self.chart._repr_mimebundle_(include=include, exclude=exclude)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle or {}, {})
        return data, {**meta, "h200cast": {"data": self.data}}


def figure(
    output_dir: str | os.PathLike | None,
    name: str,
    shown: tuple[alt.TopLevelMixin, pd.DataFrame],
) -> alt.TopLevelMixin | Linked:
    """Save a figure's chart and table (with an ``output_dir``) and return the chart to show.

    ``shown`` is what a :mod:`h200cast.views.figures` function returns. With an
    ``output_dir``, the chart comes back :class:`Linked` to its ``NAME.csv``.
    """
    chart, table = shown
    if not output_dir:
        return chart
    _, output = _save(Path(output_dir), name, chart, table)
    return Linked(chart, f"{name}.csv", output)


def describe(result: Result, metric: str) -> str:
    """A metric's median and 5-95% range in words, e.g. '2.31 million units (P5-P95 1.20-3.90)'."""
    return f"{amount(result, metric)} (P5-P95 {band(result, metric)})"


def amount(result: Result, metric: str, stat: str = "p50", extra_digit: bool = False) -> str:
    """A statistic of a metric in words with its unit, e.g. '2.31 million units' or '49%';
    ``extra_digit`` shows one more decimal."""
    from h200cast.engine.metrics import BY_NAME

    d = display(BY_NAME[metric].unit, "prose")
    if extra_digit:
        d = dataclasses.replace(d, fmt=f".{int(d.fmt[1:-1]) + 1}f")
    value = d.text(result.stats[metric][stat])
    return value if d.suffix else f"{value} {d.label}"  # 49%, but 2.31 million units


def band(result: Result, metric: str) -> str:
    """A metric's 5-95% range in words, e.g. '1.20-3.90' or '20-67%'."""
    from h200cast.engine.metrics import BY_NAME

    s, d = result.stats[metric], display(BY_NAME[metric].unit, "prose")
    low = d.number(s["p5"]) if d.suffix else d.text(s["p5"])
    return f"{low}-{d.text(s['p95'])}"


def say(markdown: str) -> None:
    """Show computed prose as Markdown in the notebook (nothing when it is empty).

    Money must not read as maths. Each ``$`` is escaped, which nbconvert (the report)
    and JupyterLab's Markdown parser take as a plain ``$``; Lab then runs MathJax over the
    rendered page, which would pair the dollars again, so the prose sits in a block that
    MathJax skips (``mathjax_ignore``; ``tex2jax_ignore`` for MathJax 2).
    """
    from IPython.display import Markdown, display

    if markdown:
        display(Markdown(prose(markdown)))


def prose(markdown: str) -> str:
    """Markdown as ``say`` shows it: ``$`` escaped, in a block that MathJax leaves alone."""
    escaped = re.sub(r"(?<!\\)\$", r"\\$", markdown)
    return f'<div class="mathjax_ignore tex2jax_ignore">\n\n{escaped}\n\n</div>'


def shortfall_answer(result: Result) -> str:
    """What ships, what does not, and the main reason why, in words."""
    s = result.stats
    labels = {
        "beijing": "blocked by Beijing",
        "buyers": "permitted but never firmly ordered",
        "us_rule": "held by the US rule",
        "supply": "short of supply",
    }
    main = max(labels, key=lambda k: s[f"shortfall_{k}_units"]["p50"])
    return (
        f"Under **{result.label}**, **{describe(result, 'shipments_total_units')}** ship against demand of "
        f"{describe(result, 'demand_total_units')}. The shortfall is {describe(result, 'shortfall_total_units')}; "
        f"at the median most of it is **{labels[main]}**."
    )


def fee_answer(result: Result) -> str:
    """The US fee and Nvidia's revenue, in words."""
    return (
        f"Under **{result.label}**, the Section 232 duty collected at US entry is "
        f"**{describe(result, 'us_fee_revenue_total_usd')}** over the horizon, "
        f"{describe(result, 'us_fee_revenue_2026_usd')} of it in 2026 (upper bound, 25% of the "
        f"China sale value: {describe(result, 'us_fee_upper_total_usd')}), on Nvidia revenue of "
        f"{describe(result, 'nvidia_revenue_total_usd')}."
    )


def comparison_answer(results: list[Result]) -> str:
    """Which stance yields the most and the least US duty collected, in words (means: in most
    draws nothing is collected, so the medians are all zero)."""
    fee = {r.label: r.stats["us_fee_revenue_total_usd"]["mean"] for r in results}
    best, worst = max(fee, key=fee.__getitem__), min(fee, key=fee.__getitem__)
    return (
        f"The US duty collected over the horizon ranges from **${fee[worst] / 1e9:.2f} billion under "
        f"{worst}** to **${fee[best] / 1e9:.2f} billion under {best}** (means over draws; the "
        "median is zero under every stance, because in most draws nothing ships or nothing is collected)."
    )


KIND_WORDS = {"stance": "stance", "path": "stance path", "switching": "switching chain"}
"""What each kind of run is called in words (and in the report's page titles)."""


def comparison_runs(
    selected: Result,
    overrides: dict | None = None,
    draws: int = 1000,
    seed: int = 20260131,
    vintage_name: str = "",
) -> list[Result]:
    """The six stances and the vintage's reported path, and ``selected`` (the run a notebook's
    parameters select) in its place among them or, when it is neither, after them."""
    from h200cast.scenario.schema import STANCES

    refs = [ScenarioRef("stance", s) for s in STANCES]
    history = vintage(vintage_name).history_path
    refs += [ScenarioRef("path", history)] if history else []
    runs = [
        selected
        if ref == selected.ref
        else run_from_parameters(
            ref.stance or "", ref.path or "", "", overrides, draws, seed, vintage_name
        )
        for ref in refs
    ]
    return runs if selected.ref in refs else [*runs, selected]


def selected_answer(selected: Result, runs: list[Result]) -> str:
    """Where the run the parameters select stands among ``runs``, in words."""
    fee = "us_fee_revenue_total_usd"
    rank = 1 + sum(r.stats[fee]["mean"] > selected.stats[fee]["mean"] for r in runs)
    return (
        f"The parameters select **{selected.label}** (a {KIND_WORDS[selected.ref.kind]}): a "
        f"shortfall of {describe(selected, 'shortfall_total_units')} and a US duty collected of "
        f"{describe(selected, fee)}, a mean of {amount(selected, fee, 'mean', True)}, "
        f"number {rank} of the {len(runs)} runs from the highest."
    )


def vintage(name: str = "") -> Vintage:
    """The vintage a notebook runs at (``""``: the latest): its date, origin, history path and chain."""
    from h200cast.scenario.load import load_vintage

    _checked("vintage", name, str, 'a date YYYY-MM-DD in params/vintages/, or "" for the latest')
    return load_vintage(settings.params_dir(), name or None)[0]
