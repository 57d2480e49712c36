"""Readable text tables of metrics, with units scaled for people (M units, $B, %)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from h200cast.metrics import BY_NAME, STATS


def scale(unit: str, values: Sequence[float]) -> tuple[str, list[str]]:
    """A display unit and the values formatted in it."""
    if unit == "units":
        return "M units", [f"{v / 1e6:,.3f}" for v in values]
    if unit == "USD":
        return "$B", [f"{v / 1e9:,.2f}" for v in values]
    if unit == "share":
        return "%", [f"{100 * v:,.1f}" for v in values]
    if unit == "months":
        return "months", [f"{v:,.1f}" for v in values]
    return unit, [f"{v:,.4g}" for v in values]


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
    from h200cast.params import STANCES

    months = list(shares)
    shown = months[::every] + ([months[-1]] if (len(months) - 1) % every else [])
    names = [s for s in STANCES if any(s in shares[m] for m in months)]
    rows = [[m, "", *(f"{100 * shares[m].get(s, 0.0):.1f}" for s in names)] for m in shown]
    return render(rows, ["month", "", *(f"{s} %" for s in names)])
