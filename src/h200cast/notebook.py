"""What the notebooks share: how to run from their parameters cell, render and save charts.

Charts render as SVG (static, offline and byte-stable, so committed notebooks stay
small and diffable) except in a notebook opened in a Jupyter server such as JupyterLab,
where Altair's default renderer keeps them interactive. A Jupyter server names each
kernel's session in ``JPY_SESSION_NAME``; papermill and nbval do not, so a plain
``papermill`` run is static too. ``H200CAST_STATIC_CHARTS=1`` or ``=0`` overrides the
choice (``make lab`` sets 0; ``make notebooks``, the tests and the report set 1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from h200cast.results import Result, run

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

STATIC_ENV = "H200CAST_STATIC_CHARTS"
DEFAULT_STANCE = "selective_approval"
"""The stance a notebook runs when its parameters name no stance, path or chain."""


def static() -> bool:
    """Whether charts should render as static SVG: unless set, everywhere but a Jupyter server."""
    chosen = os.environ.get(STATIC_ENV, "")
    if chosen:
        return chosen != "0"
    return not os.environ.get("JPY_SESSION_NAME")


def setup() -> None:
    """Choose the chart renderer (SVG when static, Altair's default otherwise)."""
    import altair as alt

    alt.renderers.enable("svg" if static() else "default")


def run_from_parameters(
    stance: str = "",
    path: str = "",
    switching: str = "",
    overrides: dict | None = None,
    draws: int = 1000,
    seed: int = 20260131,
) -> Result:
    """Run the model from a notebook's parameters cell: ``path``, then ``switching``, then ``stance``."""
    sets = [f"{k}={v}" for k, v in (overrides or {}).items()]
    if path:
        return run(path=path, overrides=sets, draws=draws, seed=seed)
    if switching:
        return run(switching=switching, overrides=sets, draws=draws, seed=seed)
    return run(stance=stance or DEFAULT_STANCE, overrides=sets, draws=draws, seed=seed)


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
    from h200cast.params import load_scenario

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
    """With an ``output_dir``, write a chart as PNG and SVG, or a table as CSV; else write nothing."""
    if not output_dir:
        return []
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if chart is not None:
        import vl_convert as vlc

        spec: Any = chart.to_json()
        (out / f"{name}.svg").write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
        (out / f"{name}.png").write_bytes(vlc.vegalite_to_png(spec, scale=2))
        written += [out / f"{name}.svg", out / f"{name}.png"]
    if table is not None:
        table.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
        written.append(out / f"{name}.csv")
    return written


def describe(result: Result, metric: str) -> str:
    """A metric's median and 5-95% range in words, e.g. '2.31 million units (P5-P95 1.20-3.90)'."""
    from h200cast.metrics import BY_NAME

    s, unit = result.summary[metric], BY_NAME[metric].unit
    if unit == "units":
        f, what = (lambda x: f"{x / 1e6:.2f}"), " million units"
    elif unit == "USD":
        f, what = (lambda x: f"${x / 1e9:.1f}"), " billion"
    elif unit == "share":
        f, what = (lambda x: f"{100 * x:.0f}"), "%"
    else:
        f, what = (lambda x: f"{x:.0f}"), f" {unit}"
    return f"{f(s['p50'])}{what} (P5-P95 {f(s['p5'])}-{f(s['p95'])}{what.strip() if unit == 'share' else ''})"


def say(markdown: str) -> None:
    """Show computed prose as Markdown in the notebook (nothing when it is empty)."""
    from IPython.display import Markdown, display

    if markdown:
        display(Markdown(markdown))


def shortfall_answer(result: Result) -> str:
    """What ships, what does not, and the main reason why, in words."""
    s = result.summary
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
    fee = {r.label: r.summary["us_fee_revenue_total_usd"]["mean"] for r in results}
    best, worst = max(fee, key=fee.get), min(fee, key=fee.get)
    return (
        f"The US duty collected over the horizon ranges from **${fee[worst] / 1e9:.2f} billion under "
        f"{worst}** to **${fee[best] / 1e9:.2f} billion under {best}** (means over draws; the "
        "median is zero under every stance, because in most draws nothing ships or nothing is collected)."
    )
