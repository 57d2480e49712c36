"""Content hashes that decide when saved work can be reused (report pages, sweep chunks).

As in OWID's etl, a step is run again only when something it depends on changed: the
package's source, the data in ``data/``, or the version of a library that shapes its
output. Each user names the libraries that matter to it: a sweep chunk depends on the
numerical libraries, a report page also on the ones that draw and convert it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from h200cast import settings

NUMERIC_LIBS = ("numpy", "scipy", "pandas", "pyarrow")
"""Libraries whose version can change a model result."""
PAGE_LIBS = ("altair", "vl-convert-python", "nbconvert", "papermill", "pandas", "numpy")
"""Libraries whose version can change a report page."""

PACKAGE = Path(__file__).resolve().parents[1]
"""The ``h200cast`` package folder."""


def source_digest(libs: Sequence[str] = PAGE_LIBS) -> str:
    """SHA-256 of the package's source and templates, ``data/``, and the versions of ``libs``."""
    h = hashlib.sha256()
    data = settings.data_dir()
    files = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("templates/*")]
    for f in sorted(files) + sorted(p for p in data.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(data if f.is_relative_to(data) else PACKAGE)).encode())
        h.update(f.read_bytes())
    for lib in libs:
        h.update(f"{lib}={version(lib)}".encode())
    return h.hexdigest()
