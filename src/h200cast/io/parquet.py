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
    try:
        pq.write_table(table, tmp, compression=COMPRESSION)
        os.replace(tmp, file)
    except BaseException:  # a full disk, an interrupt: no half-written file is left
        tmp.unlink(missing_ok=True)
        raise
    return file


def writer(file: Path, schema: Any) -> Any:
    """A pyarrow ``ParquetWriter`` to ``file`` with the settings of :func:`write`."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(file, schema, compression=COMPRESSION)


def read(file: Path, *, what: str = "a parquet file written by h200cast") -> Any:
    """Read the pyarrow table in ``file``; a missing, damaged or foreign file is an InputError."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from h200cast.errors import InputError

    try:
        return pq.read_table(file)
    except FileNotFoundError:
        raise InputError(f"file not found; expected {what}", file=file) from None
    except (pa.ArrowException, OSError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise InputError(
            f"is damaged or not parquet ({reason}); expected {what}", file=file
        ) from None


class Appender:
    """A parquet file written table by table, in order, that exists only once complete.

    The tables go to ``FILE.tmp`` (the first one's schema; later ones are cast to it, as
    categories that differ by table are the same type) and the file replaces ``file`` on a
    clean exit; on an exception (a full disk, an interrupt) the temporary file is removed.
    """

    def __init__(self, file: Path) -> None:
        self.file = Path(file)
        self.tmp = self.file.with_name(self.file.name + ".tmp")
        self.writer: Any = None
        self.rows = 0

    def __enter__(self) -> Appender:
        return self

    def __call__(self, table: Any) -> None:
        if self.writer is None:
            self.writer = writer(self.tmp, table.schema)
        elif table.schema != self.writer.schema:
            table = table.cast(self.writer.schema)
        self.writer.write_table(table)
        self.rows += table.num_rows

    def __exit__(self, kind: Any, *exc: object) -> None:
        try:
            if self.writer is not None:
                self.writer.close()
            if kind is None:
                os.replace(self.tmp, self.file)
        finally:
            self.tmp.unlink(missing_ok=True)
