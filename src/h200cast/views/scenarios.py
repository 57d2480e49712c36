"""Scenarios people can quote, as people read them: text tables, frames and a chart.

The numbers come from :mod:`h200cast.explore.scenarios` (``scenario_table`` and
``signpost_table``, re-exported here for notebooks as ``h200cast.scenarios``); this module
only shows them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from h200cast.explore.scenarios import OUTPUTS, scenario_table, signpost_table

__all__ = [
    "render",
    "scenario_chart",
    "scenario_frame",
    "scenario_table",
    "signpost_frame",
    "signpost_table",
]


def render(scen: list[dict[str, Any]], signs: list[dict[str, Any]]) -> str:
    """Both tables as plain text for the CLI."""
    from h200cast.views.tables import render as table

    def fmt(metric: str, q: dict[str, float]) -> str:
        if any(np.isnan(v) for v in q.values()):
            return "-"
        if metric.endswith("_usd"):
            return f"${q['p50'] / 1e9:.2f}B ({q['p5'] / 1e9:.2f}-{q['p95'] / 1e9:.2f})"
        if "share" in metric:
            return f"{q['p50']:.1%} ({q['p5']:.1%}-{q['p95']:.1%})"
        return f"{q['p50'] / 1e3:,.0f}k ({q['p5'] / 1e3:,.0f}-{q['p95'] / 1e3:,.0f})"

    head = ["scenario", "probability", *OUTPUTS]
    rows = [
        [r["scenario"], f"{r['probability']:.1%}", *(fmt(o, r[o]) for o in OUTPUTS)] for r in scen
    ]
    out = [
        "Scenarios by Beijing's stance at the end of 2026 (P50, P5-P95 in brackets):",
        table(rows, head),
        "",
    ]
    metric = signs[0]["metric"] if signs else ""
    head2 = ["signpost", "by", "probability", f"P50 {metric} if seen", "if not", "moves forecast"]
    rows2 = [
        [
            f"{r['signpost']} ({r['label']})",
            r["by"],
            f"{r['probability']:.1%}",
            f"{r['p50_if_seen'] / 1e3:,.0f}k" if r["p50_if_seen"] is not None else "-",
            f"{r['p50_if_not_seen'] / 1e3:,.0f}k" if r["p50_if_not_seen"] is not None else "-",
            r["moves_forecast"],
        ]
        for r in signs
    ]
    out += ["Signposts to watch:", table(rows2, head2)]
    return "\n".join(out)


def _cell(metric: str, q: dict[str, float]) -> str:
    """P50 [P5-P95] in the unit the column names."""
    if any(np.isnan(v) for v in q.values()):
        return "-"
    if metric.endswith("_usd"):
        return f"{q['p50'] / 1e9:.2f} [{q['p5'] / 1e9:.2f}-{q['p95'] / 1e9:.2f}]"
    if "share" in metric:
        return f"{100 * q['p50']:.1f} [{100 * q['p5']:.1f}-{100 * q['p95']:.1f}]"
    return f"{q['p50'] / 1e3:,.0f} [{q['p5'] / 1e3:,.0f}-{q['p95'] / 1e3:,.0f}]"


COLUMNS = {
    "shipments_2026_units": "shipments 2026 (k)",
    "us_fee_revenue_2026_usd": "duty collected 2026 ($B)",
    "domestic_share_2026": "domestic share 2026 (%)",
    "compute_gap_2026_units": "compute gap 2026 (k)",
}


def scenario_frame(scen: list[dict[str, Any]]) -> Any:
    """The scenario table as a DataFrame for notebooks and the report."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "scenario": r["scenario"],
                "probability (%)": round(100 * r["probability"], 1),
                **{label: _cell(m, r[m]) for m, label in COLUMNS.items()},
            }
            for r in scen
        ]
    )


def signpost_frame(signs: list[dict[str, Any]]) -> Any:
    """The signpost table as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "signpost": r["label"],
                "by": r["by"],
                "probability (%)": round(100 * r["probability"], 1),
                "P50 shipments if seen (k)": _thousands(r["p50_if_seen"]),
                "if not (k)": _thousands(r["p50_if_not_seen"]),
                "moves forecast": r["moves_forecast"],
            }
            for r in signs
        ]
    )


def scenario_chart(scen: list[dict[str, Any]]) -> tuple[Any, Any]:
    """Each scenario's probability as a bar, with its median 2026 shipments in the label."""
    import pandas as pd

    from h200cast.views import charts

    table = pd.DataFrame(
        [
            {
                "scenario": f"{r['scenario']} ({', '.join(r['stances'])})",
                "part": r["scenario"],
                "value": 100 * r["probability"],
            }
            for r in scen
        ]
    )
    chart = charts.bars(
        table,
        "scenario",
        "value",
        "part",
        "Beijing at the end of 2026: bear, base, bull",
        "probability (% of draws)",
        "Source: h200cast model, switching chain params/switching/from_2026_01_31.yaml.",
        order=[r["scenario"] for r in scen],
    )
    return chart, table


def _thousands(x: float | None) -> float | None:
    """``x`` in thousands, rounded; None (shown blank) where no draw saw the signpost."""
    return None if x is None else round(x / 1e3)
