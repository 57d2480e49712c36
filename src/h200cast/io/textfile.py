"""Reading a text file the user gave or the project carries, with one-line errors.

A missing file, a folder where a file was expected, bytes that are not UTF-8 or a file
that cannot be read each become an :class:`~h200cast.errors.InputError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

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
