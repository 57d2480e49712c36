"""Parquet files: one writer, so that every table h200cast writes uses the same settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

COMPRESSION = "zstd"


def write(table: Any, file: Path, *, atomic: bool = False) -> Path:
    """Write a pyarrow ``table`` to ``file`` (zstd); with ``atomic``, via a temporary file
    renamed into place, so that the file exists only once it is complete."""
    import pyarrow.parquet as pq

    file = Path(file)
    if not atomic:
        pq.write_table(table, file, compression=COMPRESSION)
        return file
    tmp = file.with_name(file.name + ".tmp")
    pq.write_table(table, tmp, compression=COMPRESSION)
    os.replace(tmp, file)
    return file
