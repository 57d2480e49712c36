"""The one error type that user input can raise, and how it is worded.

Every problem a user can fix (a bad YAML file, an unknown stance, a share above 1)
becomes an :class:`InputError` that names the file, the key, the bad value and what
was expected. The CLI prints its message and exits with code 2, without a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class InputError(Exception):
    """A problem with the user's input, worded so that the user can fix it.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file
        The file the bad input came from, if any.
    key
        The dotted key path inside that file, if any.
    value
        The offending value, if there is one to show.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        key: str | None = None,
        value: Any = ...,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.key = key
        self.value = value
        super().__init__(self.render())

    def render(self) -> str:
        """The whole message on one line: ``file: key: got VALUE: message``."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.key:
            parts.append(self.key)
        if self.value is not ...:
            parts.append(f"got {self.value!r}")
        parts.append(self.message)
        return ": ".join(parts)
