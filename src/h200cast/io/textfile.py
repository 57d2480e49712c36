"""Reading a text file the user gave or the project carries, with one-line errors.

A missing file, a folder where a file was expected, bytes that are not UTF-8 or a file
that cannot be read each become an :class:`~h200cast.errors.InputError` naming the file.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from h200cast.errors import InputError


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The text of ``path`` (``encoding`` ``utf-8-sig`` also drops a byte-order mark)."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError("is a folder; expected a file", file=path)
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise InputError(
            f"line {line}: byte {exc.object[exc.start]:#04x} is not UTF-8; expected UTF-8 text",
            file=path,
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None


@contextlib.contextmanager
def csv_errors(path: Path, reader: Any) -> Iterator[None]:
    """Within the block, an error of Python's ``csv`` module (a NUL byte, a cell over its
    field limit) becomes an :class:`InputError` naming ``path`` and the reader's line."""
    try:
        yield
    except csv.Error as exc:
        raise InputError(
            f"not readable as CSV ({exc}); expected comma-separated cells of at most "
            f"{csv.field_size_limit():,} characters each",
            file=path,
            key=f"line {reader.line_num}",
        ) from None
