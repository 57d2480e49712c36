"""Altair charts: titled, with units on the axes and the sources in a caption.

Fan charts show the median and nested bands (10-90 and 25-75 percentiles of the
draws); several runs (stances) are drawn as separate coloured lines, never folded into
one band. Inputs are the tidy tables of :mod:`h200cast.frames`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

    Layered = alt.LayerChart | alt.FacetChart
    """What ``alt.layer`` returns: a facet chart when every layer has the same facets."""

WIDTH, HEIGHT = 560, 260
LABEL_LIMIT = 420
"""Pixels for an axis label that names a parameter in words (``views/labels.py``)."""
BAND_NOTE = "Line: median of the draws; bands: 25-75 and 10-90 percentiles."


def _title(text: str, caption: str | Sequence[str] | None) -> alt.TitleParams:
    import altair as alt

    sub = [caption] if isinstance(caption, str) else list(caption or [])
    return alt.TitleParams(
        text=text, subtitle=sub, anchor="start", subtitleColor="#555", subtitleFontSize=10
    )


def frame(
    title: str, caption: str | Sequence[str] | None, height: int = HEIGHT, width: int = WIDTH
) -> dict[str, Any]:
    """The house title (the caption as subtitle) and size, for ``chart.properties(**frame(...))``.

    Every chart takes its title style and default size from here.
    """
    return {"title": _title(title, caption), "width": width, "height": height}


def fan(
    df: pd.DataFrame,
    title: str,
    y_title: str,
    caption: str | Sequence[str] | None = None,
    bands: bool = True,
) -> Layered:
    """Median line with 25-75 and 10-90 bands per run (from :func:`h200cast.frames.bands`)."""
    import altair as alt

    base = alt.Chart(df).encode(
        x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
        color=alt.Color("run:N", title=None, legend=alt.Legend(orient="top")),
    )
    layers = []
    if bands:
        layers.append(base.mark_area(opacity=0.15).encode(y=alt.Y("p10:Q"), y2="p90:Q"))
        layers.append(base.mark_area(opacity=0.25).encode(y=alt.Y("p25:Q"), y2="p75:Q"))
    shown = ("p10", "p50", "p90") if bands else ("p50",)
    tips = ["run:N", alt.Tooltip("month:T", format="%b %Y")]
    tips += [alt.Tooltip(f"{q}:Q", format=",.1f") for q in shown]
    layers.append(
        base.mark_line(strokeWidth=2).encode(y=alt.Y("p50:Q", title=y_title), tooltip=tips)
    )
    caps = [
        *([caption] if isinstance(caption, str) else list(caption or [])),
        *([BAND_NOTE] if bands else []),
    ]
    origin = df.attrs.get("origin")
    if origin:
        layers = [*history(df, origin), *layers]
        caps.append(
            f"Grey: the months observed by the vintage, which every draw reproduces; "
            f"the forecast starts in {origin}."
        )
    return alt.layer(*layers).properties(**frame(title, caps))


def history(df: pd.DataFrame, origin: str) -> list[alt.Chart]:
    """A grey band over the observed months (to ``origin``) labelled "observed", and a rule."""
    import altair as alt
    import pandas as pd

    span = pd.DataFrame(
        {"start": [df["month"].min()], "end": [pd.Timestamp(f"{origin}-01")], "label": ["observed"]}
    )
    band = alt.Chart(span).mark_rect(color="#d9d9d9", opacity=0.45).encode(x="start:T", x2="end:T")
    rule = alt.Chart(span).mark_rule(color="#777", strokeDash=[4, 3]).encode(x="end:T")
    text = (
        alt.Chart(span)
        .mark_text(align="left", baseline="top", dx=3, dy=3, color="#555", fontSize=11)
        .encode(x="start:T", y=alt.value(0), text="label:N")
    )
    return [band, rule, text]


def stacked(
    df: pd.DataFrame,
    title: str,
    y_title: str,
    color: str = "variable",
    caption: str | Sequence[str] | None = None,
    order: Sequence[str] | None = None,
) -> alt.Chart:
    """Stacked areas of a long table (month, value, and a colour column)."""
    import altair as alt

    return (
        alt.Chart(df)
        .mark_area(opacity=0.85)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y("value:Q", title=y_title, stack=True),
            color=alt.Color(
                f"{color}:N",
                title=None,
                sort=list(order) if order else None,
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                f"{color}:N",
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("value:Q", format=",.1f"),
            ],
        )
        .properties(**frame(title, caption))
    )


def lines(
    df: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    title: str,
    x_title: str,
    y_title: str,
    caption: str | Sequence[str] | None = None,
    points: bool = True,
) -> alt.Chart:
    """Lines (with points) of a long table."""
    import altair as alt

    return (
        alt.Chart(df)
        .mark_line(point=points)
        .encode(
            x=alt.X(f"{x}:Q", title=x_title),
            y=alt.Y(f"{y}:Q", title=y_title),
            color=alt.Color(f"{color}:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[
                f"{color}:N",
                alt.Tooltip(f"{x}:Q", format=",.4g"),
                alt.Tooltip(f"{y}:Q", format=",.2f"),
            ],
        )
        .properties(**frame(title, caption))
    )


def tornado(
    df: pd.DataFrame, title: str, x_title: str, caption: str | Sequence[str] | None = None
) -> alt.Chart:
    """Horizontal bars of the change in an output when each input moves to its low and high end.

    ``df`` has columns ``input``, ``end`` (low/high) and ``change``, sorted by swing.
    """
    import altair as alt

    order = list(dict.fromkeys(df["input"]))
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("input:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
            x=alt.X("change:Q", title=x_title),
            color=alt.Color(
                "end:N",
                title="input at its",
                scale=alt.Scale(domain=["low", "high"], range=["#4c78a8", "#f58518"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                "input:N",
                "end:N",
                alt.Tooltip("value:Q", format=",.4g"),
                alt.Tooltip("change:Q", format=",.2f"),
            ],
        )
        .properties(**frame(title, caption, max(HEIGHT, 18 * len(order))))
    )


def share_history(
    counts: pd.DataFrame, fit: pd.DataFrame, caption: str | Sequence[str] | None = None
) -> Layered:
    """Domestic-share counts by basis (filled), forecasts (open), and the fitted S-curve with its band."""
    import altair as alt

    x = alt.X(
        "year:Q", title="year", scale=alt.Scale(domain=[2021, 2029.5]), axis=alt.Axis(format="d")
    )
    y_title = "domestic share of China's AI accelerators (%)"
    band = (
        alt.Chart(fit)
        .mark_area(opacity=0.15, color="#888")
        .encode(x=x, y=alt.Y("p5:Q", title=y_title), y2="p95:Q")
    )
    line = alt.Chart(fit).mark_line(color="#444").encode(x=x, y="p50:Q")
    colour = alt.Color("basis:N", title="counting basis", legend=alt.Legend(orient="right"))
    tip = ["period:N", "source:N", "basis:N", alt.Tooltip("share:Q", format=".0f")]
    counts_ = (
        alt.Chart(counts[counts["kind"] == "count"])
        .mark_point(filled=True, size=60)
        .encode(x=x, y="share:Q", color=colour, tooltip=tip)
    )
    forecasts = (
        alt.Chart(counts[counts["kind"] == "forecast"])
        .mark_point(filled=False, size=60)
        .encode(x=x, y="share:Q", color=colour, tooltip=tip)
    )
    return alt.layer(band, line, counts_, forecasts).properties(
        **frame(
            "Domestic share: counts, analysts' forecasts (open) and the fitted S-curve", caption
        )
    )


def grid(panels: Sequence[alt.Chart | Layered], columns: int = 2) -> alt.ConcatChart:
    """Panels side by side, ``columns`` per row, each keeping its own scales."""
    import altair as alt

    return alt.concat(*panels, columns=columns).resolve_scale(color="independent")


def bars(
    df: pd.DataFrame,
    y: str,
    x: str,
    color: str,
    title: str,
    x_title: str,
    caption: str | Sequence[str] | None = None,
    order: Sequence[str] | None = None,
) -> alt.Chart:
    """Horizontal stacked bars, one per category of ``y``."""
    import altair as alt

    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y(f"{y}:N", title=None, sort=list(dict.fromkeys(df[y]))),
            x=alt.X(f"{x}:Q", title=x_title, stack=True),
            color=alt.Color(
                f"{color}:N",
                title=None,
                sort=list(order) if order else None,
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("order:Q"),
            tooltip=[f"{y}:N", f"{color}:N", alt.Tooltip(f"{x}:Q", format=",.3f")],
        )
        .transform_calculate(order=f"indexof({list(order or [])!r}, datum['{color}'])")
        .properties(**frame(title, caption, max(120, 28 * df[y].nunique())))
    )


def indices(df: pd.DataFrame, title: str, caption: str | Sequence[str] | None = None) -> Layered:
    """Sobol first-order and total indices per input, with their confidence intervals as whiskers.

    ``df`` has columns ``input``, ``index`` (first order / total), ``value``, ``low``, ``high``.
    """
    import altair as alt

    order = list(dict.fromkeys(df["input"]))
    base = alt.Chart(df).encode(
        y=alt.Y("input:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        yOffset=alt.YOffset("index:N", sort=["first order", "total"]),
        color=alt.Color(
            "index:N", title=None, sort=["first order", "total"], legend=alt.Legend(orient="top")
        ),
    )
    bars = base.mark_bar().encode(
        x=alt.X(
            "value:Q",
            title="share of the output's variance",
            scale=alt.Scale(domain=[0, 1], clamp=True),
        ),
        tooltip=[
            "input:N",
            "index:N",
            alt.Tooltip("value:Q", format=".3f"),
            alt.Tooltip("low:Q", format=".3f"),
            alt.Tooltip("high:Q", format=".3f"),
        ],
    )
    whiskers = base.mark_rule(color="#333").encode(x="low:Q", x2="high:Q")
    return alt.layer(bars, whiskers).properties(
        **frame(title, caption, max(HEIGHT, 30 * len(order)))
    )


def heatmap(df: pd.DataFrame, title: str, caption: str | Sequence[str] | None = None) -> Layered:
    """A value per input (rows) and output (columns), shaded 0-1 and printed in each cell.

    ``df`` has columns ``input``, ``output``, ``value`` (and optional ``low``, ``high``
    for the tooltip); rows and columns keep the order they first appear in.
    """
    import altair as alt

    rows, cols = list(dict.fromkeys(df["input"])), list(dict.fromkeys(df["output"]))
    base = alt.Chart(df).encode(
        y=alt.Y("input:N", sort=rows, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        x=alt.X("output:N", sort=cols, title=None, axis=alt.Axis(orient="top", labelAngle=0)),
    )
    tips = [c for c in ("input", "output", "value", "low", "high") if c in df.columns]
    cells = base.mark_rect().encode(
        color=alt.Color(
            "value:Q",
            legend=None,  # the values are printed in the cells
            scale=alt.Scale(
                domain=[0, 1], range=["#ffffff", "#08519c"], interpolate="rgb", clamp=True
            ),
        ),
        tooltip=[alt.Tooltip(f"{c}:{'N' if c in ('input', 'output') else 'Q'}") for c in tips],
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("value:Q", format=".2f"),
        color=alt.condition("datum.value > 0.5", alt.value("white"), alt.value("#222")),
    )
    return alt.layer(cells, text).properties(
        **frame(title, caption, max(HEIGHT, 26 * len(rows)), width=150 * len(cols))
    )


@functools.lru_cache(maxsize=32)
def _svg(spec_json: str) -> str:
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    svg: str = vlc.vegalite_to_svg(json.loads(spec_json), vl_version=vl_version_for_vl_convert())
    return stable_ids(svg, hashlib.sha256(spec_json.encode()).hexdigest()[:12])


_ID = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def stable_ids(svg: str, key: str) -> str:
    """``svg`` with the ids of its clip paths and gradients named from ``key``, not counted.

    vl-convert numbers them over every drawing its process makes, so a chart's bytes
    would depend on what that process drew before it. Named from the spec's hash, they
    are the same wherever the chart is drawn, and differ between charts shown on one page.
    """
    found = dict.fromkeys(re.findall(r'\bid="([^"]+)"', svg))
    if not found:
        return svg
    names = {old: f"h{key}-{i}" for i, old in enumerate(found)}
    return _ID.sub(lambda m: m.group(1) + names.get(m.group(2), m.group(2)), svg)


def svg(spec: Mapping[str, Any]) -> str:
    """A Vega-Lite spec drawn as SVG by vl-convert, as Altair's ``svg`` renderer draws it.

    Offline and byte-stable, whatever was drawn before in the process. A spec already
    drawn in this process is not drawn again: a notebook shows a chart and saves it, and
    both are the same drawing.
    """
    return _svg(json.dumps(spec, sort_keys=True))


def svg_renderer(spec: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Altair's ``svg`` renderer, drawing through :func:`svg` (registered as ``h200cast_svg``);
    under the notebook runner (:func:`h200cast.settings.deferred_charts`), left to it."""
    from h200cast import settings

    if settings.deferred_charts() is not None:
        return deferred(spec)
    return {"image/svg+xml": svg(spec)}


def warm() -> None:
    """Draw a one-mark chart, so that vl-convert's start (about 0.8 s) is paid before the
    first real chart; run in a thread while other work goes on."""
    svg({"mark": "point", "data": {"values": [{"x": 0}]}, "encoding": {"x": {"field": "x"}}})


def save(chart: alt.TopLevelMixin, folder: Path, name: str, png: bool | None = None) -> str:
    """Write ``chart`` as ``NAME.svg`` into ``folder`` (and ``NAME.png`` at scale 2 when
    ``png``, by default when :func:`h200cast.settings.png_charts`); return the SVG."""
    spec: Any = chart.to_dict()
    return _draw(spec, folder / f"{name}.svg", _png_file(folder, name, png))


def _png_file(folder: Path, name: str, png: bool | None) -> Path | None:
    from h200cast import settings

    return folder / f"{name}.png" if (settings.png_charts() if png is None else png) else None


def _draw(spec: Any, svg_file: Path | None, png_file: Path | None) -> str:
    """Draw ``spec`` as SVG, write it to ``svg_file`` and a PNG to ``png_file`` (each if given)."""
    drawn = svg(spec)
    if svg_file is not None:
        svg_file.write_text(drawn, encoding="utf-8")
    if png_file is not None:
        import vl_convert as vlc

        png_file.write_bytes(vlc.vegalite_to_png(spec, scale=2))
    return drawn


DEFERRED = "application/vnd.h200cast.chart+json"
"""The output of a chart left to the notebook runner to draw: its Vega-Lite spec."""


def deferred(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What a kernel shows for a chart the runner draws (:func:`draw_deferred`)."""
    return {DEFERRED: spec}


def defer(
    chart: alt.TopLevelMixin, folder: Path, name: str, spool: Path, png: bool | None = None
) -> dict[str, Any]:
    """:func:`save`, left to the runner: the files to write go into ``spool``, a folder the
    runner reads once the notebook has run; the output to show."""
    spec: Any = chart.to_dict()
    svg_file, png_file = folder / f"{name}.svg", _png_file(folder, name, png)
    job = {"spec": spec, "svg": str(svg_file), "png": str(png_file) if png_file else None}
    (spool / f"{len(list(spool.iterdir())):05d}.json").write_text(
        json.dumps(job, sort_keys=True), encoding="utf-8"
    )
    return deferred(spec)


def draw_deferred(nb: Any, spool: Path) -> None:
    """Draw what a kernel left to the runner: the files of every chart it saved into
    ``spool`` (:func:`defer`), in order, and the SVG of every chart it showed
    (:data:`DEFERRED`, replaced in the executed notebook ``nb``; None when the notebook
    failed: its files are still written, as a kernel drawing them would have).

    The notebook and its files end as if the kernel had drawn them: :func:`svg` is
    byte-stable whatever was drawn before.
    """
    for file in sorted(spool.glob("*.json")):
        job = json.loads(file.read_text(encoding="utf-8"))
        _draw(job["spec"], Path(job["svg"]), Path(job["png"]) if job["png"] else None)
    for cell in nb.cells if nb is not None else []:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and DEFERRED in data:
                data["image/svg+xml"] = svg(data.pop(DEFERRED))


def histogram(
    df: pd.DataFrame, title: str, caption: str | Sequence[str] | None = None, expected: float = 0.0
) -> Layered:
    """Counts per bin (``bin_start``, ``bin_end``, ``count``) with the count a calibrated
    forecast would give (``expected``) as a dashed rule."""
    import altair as alt
    import pandas as pd

    bars_ = (
        alt.Chart(df)
        .mark_bar(color="#4c78a8")
        .encode(
            x=alt.X(
                "bin_start:Q", bin="binned", title="PIT (share of the draws below the observation)"
            ),
            x2="bin_end:Q",
            y=alt.Y("count:Q", title="observations", axis=alt.Axis(tickMinStep=1)),
            tooltip=["bin_start:Q", "bin_end:Q", "count:Q"],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"expected": [expected]}))
        .mark_rule(color="#b00020", strokeDash=[4, 3])
        .encode(y="expected:Q")
    )
    return alt.layer(bars_, rule).properties(**frame(title, caption, height=220, width=520))


def grouped_bars(
    df: pd.DataFrame,
    title: str,
    x_title: str,
    caption: str | Sequence[str] | None = None,
) -> alt.Chart:
    """Horizontal bars of ``value`` per ``item``, one bar per ``forecast`` (colour)."""
    import altair as alt

    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("item:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
            yOffset="forecast:N",
            x=alt.X("value:Q", title=x_title),
            color=alt.Color("forecast:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=["item:N", "forecast:N", alt.Tooltip("value:Q", format=",.0f")],
        )
        .properties(**frame(title, caption, height=max(160, 28 * df["item"].nunique()), width=620))
    )


def ranges(df: pd.DataFrame, title: str, caption: str | Sequence[str] | None = None) -> Layered:
    """Each input's part kept (``start`` to ``end`` in [0, 1] of its range) over its whole range.

    ``df`` has columns ``input``, ``start``, ``end`` and ``kept`` (the values, in words).
    """
    import altair as alt

    order = list(df["input"])
    base = alt.Chart(df).encode(
        y=alt.Y("input:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT))
    )
    whole = base.mark_bar(color="#e3e3e3", size=16).encode(
        x=alt.X(
            "zero:Q",
            title="position in the sweep's range of the input (0: its low end, 1: its high end)",
            scale=alt.Scale(domain=[0, 1]),
        ),
        x2="one:Q",
    )
    kept = base.mark_bar(color="#4c78a8", size=16).encode(
        x="start:Q", x2="end:Q", tooltip=["input:N", "kept:N"]
    )
    width = WIDTH - 200
    text = base.mark_text(align="left", dx=6, fontSize=10, color="#333").encode(
        x=alt.value(width), text="kept:N"
    )
    return (
        alt.layer(whole, kept, text)
        .transform_calculate(zero="0", one="1")
        .properties(**frame(title, caption, max(90, 34 * len(order)), width=width))
    )


def tradeoff(df: pd.DataFrame, title: str, caption: str | Sequence[str] | None = None) -> Layered:
    """Points of ``coverage`` against ``density``, coloured by ``box`` (the one reported stands out)."""
    import altair as alt

    share = alt.Axis(format="%")
    base = alt.Chart(df).encode(
        x=alt.X("coverage:Q", title="coverage (share of the outcome's points inside)", axis=share),
        y=alt.Y("density:Q", title="density (share of the box with the outcome)", axis=share),
        tooltip=[
            "step:Q",
            alt.Tooltip("coverage:Q", format=".1%"),
            alt.Tooltip("density:Q", format=".1%"),
            alt.Tooltip("mass:Q", format=".1%"),
            "inputs restricted:Q",
        ],
    )
    line = base.mark_line(color="#bbb")
    points = base.mark_point(filled=True).encode(
        color=alt.Color(
            "box:N",
            title=None,
            scale=alt.Scale(domain=["peeling step", "reported box"], range=["#4c78a8", "#d62728"]),
            legend=alt.Legend(orient="top"),
        ),
        size=alt.condition("datum.box == 'reported box'", alt.value(140), alt.value(30)),
    )
    return alt.layer(line, points).properties(**frame(title, caption, width=WIDTH - 160))
