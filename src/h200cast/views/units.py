"""Units for people: how each model unit is scaled and written in tables, charts and prose.

The model computes in plain units (H200s, US dollars, shares in [0, 1], months). What a
reader sees depends on the place: a table of totals in million units and $ billion, a
monthly chart in thousand units, a sentence in "2.31 million units". This table is the
one place that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Place = Literal["table", "chart", "prose"]


@dataclass(frozen=True)
class Display:
    """How one unit is shown in one place: value x ``factor`` / ``divisor``, written with ``fmt``.

    Scaling multiplies or divides exactly as written here (``100 * share`` is not always
    the same float as ``share / 0.01``), so that each place keeps its digits.
    """

    divisor: float
    label: str
    fmt: str
    prefix: str = ""
    suffix: str = ""
    factor: float = 1.0

    def scaled(self, value: float) -> float:
        """``value`` in this display's unit."""
        return value * self.factor / self.divisor if self.factor != 1.0 else value / self.divisor

    def number(self, value: float) -> str:
        """``value`` scaled and formatted, without prefix or suffix."""
        return format(self.scaled(value), self.fmt)

    def text(self, value: float) -> str:
        """``value`` scaled and formatted, with its prefix and suffix (e.g. ``$6.4``, ``49%``)."""
        return f"{self.prefix}{self.number(value)}{self.suffix}"


UNITS: dict[str, dict[Place, Display]] = {
    "units": {
        "table": Display(1e6, "M units", ",.3f"),
        "chart": Display(1e3, "thousand units", ",.1f"),
        "prose": Display(1e6, "million units", ".2f"),
    },
    "USD": {
        "table": Display(1e9, "$B", ",.2f"),
        "chart": Display(1e9, "$ billion", ",.2f"),
        "prose": Display(1e9, "billion", ".1f", prefix="$"),
    },
    "share": {
        "table": Display(1.0, "%", ",.1f", factor=100.0),
        "chart": Display(0.01, "%", ",.1f"),
        "prose": Display(1.0, "%", ".0f", suffix="%", factor=100.0),
    },
    "months": {
        "table": Display(1.0, "months", ",.1f"),
        "chart": Display(1.0, "months", ",.1f"),
        "prose": Display(1.0, "months", ".0f"),
    },
}
"""Model unit -> place -> how it is shown."""


def display(unit: str, place: Place) -> Display:
    """How ``unit`` is shown in ``place``; an unknown unit is shown as it is."""
    if unit in UNITS:
        return UNITS[unit][place]
    return Display(1.0, unit, ",.4g" if place == "table" else ".0f")
