"""docs/api.md: every Python block runs, in order, as a user would paste them."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from support import ROOT

DOC = ROOT / "docs" / "api.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_api_page_has_examples() -> None:
    assert len(_blocks()) >= 8


def test_every_example_on_the_api_page_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    out = io.StringIO()
    for i, block in enumerate(_blocks()):
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the failure message is the point
                pytest.fail(f"block {i + 1} of docs/api.md fails: {type(exc).__name__}: {exc}")
    printed = out.getvalue()
    assert "customs_ban" in printed  # STANCES printed
    assert "unknown stance" in printed  # the InputError example
    assert (tmp_path / "out" / "ban" / "manifest.json").is_file()
    assert (tmp_path / "out" / "sweep-ci" / "sobol.csv").is_file()
    assert (tmp_path / "out" / "sweep-ci" / "discovery.json").is_file()
