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


def _paths_table(paths: Paths, first: int = 0) -> Any:
    """Monthly paths as a wide table: one row per draw and month, one column per variable."""
    import pyarrow as pa

    D, T = paths.n_draws, paths.n_months
    cols: dict[str, Any] = {
        "draw": pa.array(np.repeat(np.arange(first, first + D, dtype=np.int32), T)),
        "month": pa.array(np.tile(np.array(paths.months), D)).dictionary_encode(),
        "stance": pa.array(paths.stance_of_draw().reshape(-1)).dictionary_encode(),
    }
    for name in VARIABLES:
        cols[name] = pa.array(np.ascontiguousarray(paths[name]).reshape(-1))
    table = pa.table(cols)
    meta = {f"unit.{k}": u for k, (u, _) in VARIABLES.items()}
    return table.replace_schema_metadata({k.encode(): v.encode() for k, v in meta.items()})


def write_paths_parquet(paths: Paths, file: Path) -> None:
    """Monthly paths as a wide table: one row per draw and month, one column per variable."""
    parquet.write(_paths_table(paths), file)


class PathsWriter:
    """``paths.parquet`` written block by block of draws (a run made in chunks).

    Called with each block's paths in order; the table is the one
    :func:`write_paths_parquet` writes for all draws at once, in row groups per block.
    """

    def __init__(self, file: Path) -> None:
        self.file = file
        self.writer: Any = None
        self.first = 0

    def __enter__(self) -> PathsWriter:
        return self

    def __call__(self, paths: Paths) -> None:
        table = _paths_table(paths, self.first)
        if self.writer is None:
            self.writer = parquet.writer(self.file, table.schema)
        else:  # the categories of month and stance differ by block: same values, same type
            table = table.cast(self.writer.schema)
        self.writer.write_table(table)
        self.first += paths.n_draws

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()
