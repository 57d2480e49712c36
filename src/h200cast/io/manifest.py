"""Manifests: the ``manifest.json`` that says what h200cast wrote into a folder, and how.

Every output folder (a saved run, a report, a sweep, a backtest) carries one. Its
``package`` field is what marks the folder as h200cast's to replace
(:func:`h200cast.io.atomic.is_output_dir`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from h200cast import __version__

NAME = "manifest.json"


def header(**fields: Any) -> dict[str, Any]:
    """A manifest: ``package`` and ``version`` first, then ``fields`` in their order."""
    return {"package": "h200cast", "version": __version__, **fields}


def text(manifest: dict[str, Any]) -> str:
    """The manifest as written: indented JSON with a final newline."""
    return json.dumps(manifest, indent=2) + "\n"


def write(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write ``folder/manifest.json`` (inside a folder that is itself written all or nothing)."""
    target = Path(folder) / NAME
    target.write_text(text(manifest), encoding="utf-8")
    return target
