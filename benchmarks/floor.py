"""The papermill floor: what running a notebook costs before it does any work.

A notebook whose one cell imports what every h200cast notebook imports
(``h200cast.notebook``, which brings numpy, pandas and altair) and sets up its charts,
run by the same runner as the report's pages: kernel start-up, papermill, the imports
and the kernel's shutdown. A report of N pages on W workers cannot take less than about
N x this / W.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import nbformat

from h200cast.report.runner import Job, execute

CELL = "from h200cast import notebook\nnotebook.setup()\n"


def cpu_children() -> float:
    """CPU seconds (user + system) of this process's finished children and their children."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_self() -> float:
    """CPU seconds (user + system) of this process."""
    t = os.times()
    return t.user + t.system


def import_only_notebook(folder: Path) -> Path:
    """Write the import-only notebook into ``folder``; its path."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL, metadata={"tags": ["parameters"]})]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "floor.ipynb"
    nbformat.write(nb, str(path))
    return path


def run_once(notebook: Path, out: Path) -> tuple[float, float]:
    """Run ``notebook`` once: (wall seconds, CPU seconds of this process and the kernel)."""
    cpu = cpu_self() + cpu_children()
    o = execute(Job(notebook, out, {}))
    if not o.ok:
        raise SystemExit(f"{notebook.name} failed: {o.error}")
    return o.seconds, cpu_self() + cpu_children() - cpu
