"""A report page for a finished sweep: its Sobol indices, its PRIM box and its expectations.

``h200cast report --sweep DIR`` reads what ``h200cast sweep`` wrote in ``DIR``
(``spec.json``, ``sobol.csv``, ``discovery.json``, ``expectations.json``) and draws it on
``sweep-NAME.html``, with the charts and their tables under ``sweeps/NAME/`` beside copies
of those files. Nothing is computed again, so the page shows the sweep as it was run
(at its own vintage).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from h200cast.errors import InputError
from h200cast.explore.sweep import Analyses, Range, SweepSpec, load_analyses
from h200cast.report.pages import Chart, Group, render, save_chart

COPIED = ("spec.json", "sobol.csv", "discovery.json", "expectations.json")
"""The files of the sweep's folder that the report keeps beside its page."""


@dataclass(frozen=True)
class SweepPage:
    """A finished sweep as the report shows it."""

    folder: Path
    spec: SweepSpec
    analyses: Analyses

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def href(self) -> str:
        """The page, relative to the report's folder."""
        return f"sweep-{self.name}.html"

    @property
    def files(self) -> str:
        """The folder of its charts, tables and copied files, relative to the report's."""
        return f"sweeps/{self.name}"

    @property
    def text(self) -> str:
        """Its name in the navigation bar."""
        return f"Sweep {self.name}"

    @property
    def description(self) -> str:
        return self.spec.description


def load_sweeps(folders: Sequence[Path]) -> list[SweepPage]:
    """The sweeps in ``folders``, read and checked before any work (each at most once)."""
    pages = [SweepPage(Path(f), *load_analyses(Path(f))) for f in folders]
    seen: set[str] = set()
    for p in pages:
        if p.name in seen:
            raise InputError(
                "a second sweep of the same name; expected each sweep once",
                key="--sweep",
                value=str(p.folder),
            )
        seen.add(p.name)
    return pages


def write_sweep(page: SweepPage, tmp: Path, groups: Sequence[Group]) -> None:
    """``sweep-NAME.html`` and ``sweeps/NAME/`` (charts, their tables, the sweep's files)."""
    from h200cast.views import figures

    spec, a = page.spec, page.analyses
    (tmp / page.files).mkdir(parents=True)
    copied = [n for n in COPIED if (page.folder / n).is_file()]
    for name in copied:
        shutil.copyfile(page.folder / name, tmp / page.files / name)
    over = f"the sweep's input ranges, the other inputs {spec.others}"
    sobol: list[Chart] = []
    if a.sobol is not None:
        sobol.append(
            save_chart(tmp, page.files, "sobol_overview", figures.sobol_overview(a.sobol, over))
        )
        sobol += [
            save_chart(tmp, page.files, f"sobol_{out}", figures.sobol_indices(a.sobol, out, over))
            for out in a.sobol.outputs
        ]
    prim: list[Chart] = []
    rules: list[dict[str, Any]] = []
    outcome = ""
    if a.box is not None and spec.discovery is not None:
        d = spec.discovery
        outcome = figures.outcome_words(d.output, d.below, d.above)
        box = figures.prim_box(a.box, ranges(spec), outcome)
        rules = box[1].to_dict("records")
        prim.append(save_chart(tmp, page.files, "prim_box", box))
        prim.append(
            save_chart(
                tmp,
                page.files,
                "prim_trajectory",
                figures.prim_trajectory(a.trajectory, a.box, outcome),
            )
        )
    text = render(
        "sweep.html.j2",
        page.href,
        groups,
        sweep=page,
        inputs=inputs(spec),
        sobol=sobol,
        prim=prim,
        rules=rules,
        outcome=outcome,
        copied=copied,
    )
    (tmp / page.href).write_text(text, encoding="utf-8")


def ranges(spec: SweepSpec) -> dict[str, tuple[float, float]]:
    """Each input's range in the sweep (a list of values: its smallest and largest)."""
    return {
        k: (v.low, v.high) if isinstance(v, Range) else (min(v.values), max(v.values))
        for k, v in spec.inputs.items()
    }


def inputs(spec: SweepSpec) -> list[dict[str, str]]:
    """The sweep's inputs for the page: in words, the dotted key, and what they take."""
    from h200cast.views.labels import text

    return [
        {
            "label": text(k),
            "key": k,
            "takes": f"{v.low:g} to {v.high:g}"
            if isinstance(v, Range)
            else ", ".join(f"{x:g}" for x in v.values),
        }
        for k, v in spec.inputs.items()
    ]
