"""Parquet files: one writer, so that every table h200cast writes uses the same settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

COMPRESSION = "zstd"

_PLAIN = ("float64", "float32", "int64", "int32", "int16", "int8", "uint64", "uint32")


def column(values: Any) -> Any:
    """A pyarrow array of a one-dimensional numpy array, without importing pandas.

    ``pa.array`` imports pandas to ask whether its input is a pandas column, which costs a
    sweep worker about 0.25 s; numbers and booleans are wrapped from their buffers instead
    (numbers without a copy). Other types go through ``pa.array``.
    """
    import numpy as np
    import pyarrow as pa

    v = np.asarray(values)
    if v.ndim != 1 or (v.dtype.name not in _PLAIN and v.dtype != np.bool_):
        return pa.array(v)
    if v.dtype == np.bool_:
        data = pa.py_buffer(np.packbits(v, bitorder="little"))
        return pa.Array.from_buffers(pa.bool_(), len(v), [None, data])
    v = np.ascontiguousarray(v)
    return pa.Array.from_buffers(pa.from_numpy_dtype(v.dtype), len(v), [None, pa.py_buffer(v)])


def category(value: str, n: int) -> Any:
    """A dictionary-encoded column of ``n`` copies of ``value`` (int32 indices), without pandas."""
    import numpy as np
    import pyarrow as pa

    text = value.encode()
    offsets = pa.py_buffer(np.array([0, len(text)], dtype=np.int32))
    words = pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(text)])
    return pa.DictionaryArray.from_arrays(column(np.zeros(n, dtype=np.int32)), words)


def dictionary_columns(schema: Any) -> list[str]:
    """The columns written with a dictionary: text and categories.

    Numbers are written plain: a draw's values rarely repeat, and trying a dictionary on
    each float column was three quarters of a write's time (13 ms against 3 ms for a
    sweep chunk of 12,500 rows), for a file a fifth larger.
    """
    import pyarrow as pa

    return [
        f.name
        for f in schema
        if pa.types.is_dictionary(f.type)
        or pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
    ]


def write(table: Any, file: Path, *, atomic: bool = False) -> Path:
    """Write a pyarrow ``table`` to ``file`` (zstd, dictionaries for text only); with
    ``atomic``, via a temporary file renamed into place, so that the file exists only once
    it is complete."""
    import pyarrow.parquet as pq

    file = Path(file)
    settings = {"compression": COMPRESSION, "use_dictionary": dictionary_columns(table.schema)}
    if not atomic:
        pq.write_table(table, file, **settings)
        return file
    tmp = file.with_name(file.name + ".tmp")
    try:
        pq.write_table(table, tmp, **settings)
        os.replace(tmp, file)
    except BaseException:  # a full disk, an interrupt: no half-written file is left
        tmp.unlink(missing_ok=True)
        raise
    return file


def writer(file: Path, schema: Any) -> Any:
    """A pyarrow ``ParquetWriter`` to ``file`` with the settings of :func:`write`."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(
        file, schema, compression=COMPRESSION, use_dictionary=dictionary_columns(schema)
    )


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
