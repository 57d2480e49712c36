"""Time the full default report against the papermill floor, measured in the same run.

``h200cast report`` runs as a user would, in a fresh process, into a temporary folder (so
``reports/`` is left alone): a first build that reuses nothing (``--force``) and a
rebuild that reuses every page. The floor is the import-only notebook (:mod:`floor`) in
a freshly started kernel, as papermill runs it, times the report's notebook pages over
its workers: what the pages would cost if they did nothing but start. Beside it, the same
notebook with its kernel forked from a warm template, as the report's workers start theirs
(:mod:`h200cast.report.kernels`). ``--repeat`` rounds interleave the floor, the first build and the
rebuild, so that drift in the machine's load falls on all three alike. Wall and CPU
seconds (the report's process, its workers and their kernels) are medians over rounds.
Issue 14's targets: a first build within 1.5x the floor, a rebuild within 0.05x a first.

Usage: ``python benchmarks/bench_report.py [--repeat N]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from floor import cpu_children, import_only_notebook, run_once


def _build(out: Path, *extra: str) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "h200cast", "report", "--quiet", "--out", str(out), *extra]
    cpu, start = cpu_children(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"report failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - start, cpu_children() - cpu


def _forked(notebook: Path, out: Path) -> float:
    """Wall seconds of the import-only notebook with its kernel forked from a warm template.

    The kernel is the template's child, not this process's, so its CPU is not counted here.
    """
    from h200cast.report import kernels

    with kernels.forking():
        run_once(notebook, out)  # waits for the template's warm-up
        return run_once(notebook, out)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="rounds (default 2)")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    rows: dict[str, list[tuple[float, float]]] = {
        "floor": [],
        "forked": [],
        "first": [],
        "again": [],
    }
    pages = 0
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        nb = import_only_notebook(folder)
        for i in range(args.repeat):
            rows["floor"].append(run_once(nb, folder / f"floor-{i}.ipynb"))
            rows["forked"].append((_forked(nb, folder / f"forked-{i}.ipynb"), float("nan")))
            out = folder / f"report-{i}"
            rows["first"].append(_build(out, "--force"))
            rows["again"].append(_build(out))
            pages = len(json.loads((out / "manifest.json").read_text())["pages"])
    med = {k: tuple(statistics.median(x[j] for x in v) for j in (0, 1)) for k, v in rows.items()}
    floor_wall = med["floor"][0] * pages / workers
    first, again = med["first"], med["again"]
    print(
        f"report: {args.repeat} interleaved rounds; load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end, on {workers} cores"
    )
    print("| what | wall | CPU | ratio |\n|---|---|---|---|")
    print(
        f"| papermill floor: {pages} pages x the import-only notebook "
        f"({med['floor'][0]:.2f} s) / {workers} workers | {floor_wall:.1f} s | "
        f"{med['floor'][1] * pages:.1f} s | 1 |"
    )
    print(
        f"| the same notebook, its kernel forked from a warm template (as the report's pages "
        f"start) | {med['forked'][0]:.2f} s a notebook | | "
        f"{med['forked'][0] / med['floor'][0]:.2f}x the papermill floor's |"
    )
    print(
        f"| `h200cast report`, full default report, first build | {first[0]:.1f} s | "
        f"{first[1]:.1f} s | {first[0] / floor_wall:.2f}x the floor |"
    )
    print(
        f"| `h200cast report` again, nothing changed (every page reused) | {again[0]:.1f} s | "
        f"{again[1]:.1f} s | {again[0] / first[0]:.3f}x the first build |"
    )


if __name__ == "__main__":
    main()
