"""The report's what-if page: the levers as controls over a precomputed grid, no kernel.

The grid (:func:`h200cast.explore.whatif.grid`) holds every combination of the levers for
each run; the page filters it in the browser. Each output is drawn on a fixed axis (its
largest value over the whole grid), so moving a lever moves the bar, with the baseline
(the run at the levers' central values) marked beside it. The chosen values are kept in
the address (``whatif.html#run=open_market&fee=0.15``): a what-if can be linked to, and
the tests set the controls that way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from h200cast.explore.whatif import FIELDS, OUTPUTS, Lever
from h200cast.views.figures import MODEL_CAPTION
from h200cast.views.units import display

WIDTH = 560


def chart(
    rows: Sequence[dict[str, Any]],
    levers: Sequence[Lever],
    runs: Sequence[str],
    caption: Sequence[str],
) -> Any:
    """One panel per output: the chosen point's mean with its P5-P95, the baseline as a tick."""
    import altair as alt
    import pandas as pd

    df = pd.DataFrame(list(rows))
    run = alt.param(
        name="run", value=runs[0], bind=alt.binding_select(options=list(runs), name="Beijing: ")
    )
    params = [run]
    chosen = ["datum.run == run"]
    base_sel = ["datum.run == run"]
    for lv in levers:
        name = FIELDS[lv.key]
        p = alt.param(
            name=name,
            value=lv.default,
            bind=alt.binding_radio(
                options=list(lv.values),
                labels=[lv.text(x) for x in lv.values],
                name=f"{lv.label}: ",
            ),
        )
        params.append(p)
        chosen.append(f"datum.{name} == {name}")
        base_sel.append(f"datum.{name} == {lv.default!r}")
    panels = []
    for metric, label, unit in OUTPUTS:
        d = display(unit, "chart")
        top = (
            max((float(x) for x in df[f"{metric}_p95"].dropna()), default=1.0) or 1.0
        )  # the whole grid's largest value: fixed, so a move shows
        scale = alt.Scale(domain=[0, top / d.divisor], nice=False, clamp=True)
        calc = {
            "v": f"datum.{metric}_mean / {d.divisor}",
            "lo": f"datum.{metric}_p5 / {d.divisor}",
            "hi": f"datum.{metric}_p95 / {d.divisor}",
        }
        base = alt.Chart(df).transform_calculate(**calc)
        x_title = f"{label} ({d.label})"
        point = base.transform_filter(" && ".join(chosen))
        bar = point.mark_bar(color="#4c78a8", height=18).encode(
            x=alt.X("v:Q", title=x_title, scale=scale), y=alt.value(22)
        )
        band = point.mark_rule(color="#1f3b5a", strokeWidth=2).encode(
            x="lo:Q", x2="hi:Q", y=alt.value(22)
        )
        text = (
            point.mark_text(align="left", dx=4, dy=-14, fontSize=11)
            .transform_calculate(
                say=f"isValid(datum.v) ? format(datum.v, ',.3~r') + ' {d.label} (mean), '"
                f" + datum.kept + ' draws' : 'no draw reproduces the observed months'"
            )
            .encode(x=alt.value(0), y=alt.value(22), text="say:N")
        )
        baseline = (
            base.transform_filter(" && ".join(base_sel))
            .mark_tick(color="#b00020", thickness=3, size=34)
            .encode(x="v:Q", y=alt.value(22))
        )
        panels.append(
            alt.layer(bar, band, baseline, text).properties(width=WIDTH, height=44, title=label)
        )
    return (
        alt.vconcat(*panels, spacing=18)
        .add_params(*params)
        .properties(title=alt.TitleParams("What if", subtitle=list(caption), anchor="start"))
    )


_PERMALINK = """
<script type="text/javascript">
// The controls live in the address: #run=open_market&fee=0.15 (numbers as the grid holds them).
window.addEventListener("load", () => {
  const names = %(names)s;
  const wait = setInterval(() => {
    const view = window.h200View;
    if (!view) return;
    clearInterval(wait);
    const want = new URLSearchParams(location.hash.slice(1));
    for (const n of names) {
      if (!want.has(n)) continue;
      const raw = want.get(n);
      view.signal(n, n === "run" ? raw : Number(raw));
    }
    view.runAsync().then(() => { document.body.dataset.ready = "1"; });
    // framed in the front page (#h2c-framed: its navigation bar hidden), the address stays
    if (location.hash === "#h2c-framed") return;
    for (const n of names) {
      view.addSignalListener(n, () => {
        const now = new URLSearchParams();
        for (const m of names) now.set(m, String(view.signal(m)));
        history.replaceState(null, "", "#" + now.toString());
      });
    }
  }, 20);
});
</script>
"""


def page(figure: Any, title: str, intro: str) -> str:
    """A self-contained page: Vega bundled in (offline), the figure, its controls and the permalink."""
    import html

    from h200cast.views import bundle

    doc = bundle.page(figure.to_dict())
    embed = "vegaEmbed('#vega-chart', spec, opts).catch(console.error);"
    if embed not in doc:  # the layout of vl-convert's page changed: fail loudly, not silently
        raise RuntimeError("vl-convert's HTML no longer embeds the chart as expected")
    doc = doc.replace(
        embed,
        "vegaEmbed('#vega-chart', spec, opts).then(r => { window.h200View = r.view; })"
        ".catch(console.error);",
    )
    names = ["run", *FIELDS.values()]
    head = (
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:1200px}"
        ".vega-bind{margin:0.2rem 0}.vega-bind-name{display:inline-block;min-width:22rem}</style>"
    )
    at = doc.rfind("</head>")  # the bundled script itself contains "<head>"; the real end is last
    doc = doc[:at] + head + doc[at:]
    doc = doc.replace(
        '<div id="vega-chart"></div>',
        f'<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p><div id="vega-chart"></div>',
        1,
    )
    at = doc.rfind("</body>")
    return doc[:at] + _PERMALINK % {"names": json.dumps(names)} + doc[at:]


def caption_lines(draws: int, vintage: str | None, conditioned: bool) -> list[str]:
    """What the page shows, in words."""
    lines = [
        f"Each bar: the mean over {draws} draws at the chosen levers (the line: P5-P95); the red tick: "
        "the baseline, the same run at the levers' central values. Axes are fixed over the whole grid.",
        "Every uncertainty not on a control is sampled, with the same draws at every point.",
    ]
    if conditioned:
        lines.append(
            f"Vintage {vintage}: only the draws that reproduce the observed months are kept "
            "(their number is shown); a production stop already observed is not a control."
        )
    lines.append(MODEL_CAPTION)
    return lines
