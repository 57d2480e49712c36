"""Saved results as files: the summary table (CSV) and every monthly path (parquet)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from h200cast.engine.metrics import BY_NAME, STATS
from h200cast.engine.model import VARIABLES, Paths
from h200cast.io import parquet


class Summarised(Protocol):
    """What :func:`summary_csv` reads of a run: its label and the stats of each metric."""

    @property
    def label(self) -> str: ...

    @property
    def stats(self) -> dict[str, dict[str, float]]: ...


def summary_csv(results: Iterable[Summarised]) -> str:
    """``summary.csv``: one row per run and metric, floats written exactly (``repr``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "metric", "unit", *STATS, "description"])
    for res in results:
        for name, stats in res.stats.items():
            m = BY_NAME[name]
            w.writerow([res.label, name, m.unit, *(repr(stats[s]) for s in STATS), m.description])
    return buf.getvalue()


def write_paths_parquet(paths: Paths, file: Path) -> None:
    """Monthly paths as a wide table: one row per draw and month, one column per variable."""
    import pyarrow as pa

    D, T = paths.n_draws, paths.n_months
    cols: dict[str, Any] = {
        "draw": pa.array(np.repeat(np.arange(D, dtype=np.int32), T)),
        "month": pa.array(np.tile(np.array(paths.months), D)).dictionary_encode(),
        "stance": pa.array(paths.stance_of_draw().reshape(-1)).dictionary_encode(),
    }
    for name in VARIABLES:
        cols[name] = pa.array(np.ascontiguousarray(paths[name]).reshape(-1))
    table = pa.table(cols)
    meta = {f"unit.{k}": u for k, (u, _) in VARIABLES.items()}
    table = table.replace_schema_metadata({**{k.encode(): v.encode() for k, v in meta.items()}})
    parquet.write(table, file)
