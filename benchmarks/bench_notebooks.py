"""Time every notebook at its defaults against the papermill floor, interleaved.

Each round runs every notebook once and the import-only notebook once (the papermill
floor, :mod:`floor`), in turn, as the report's runner executes them; ``--repeat`` rounds.
Interleaving spreads any drift in the machine's load over every notebook alike, instead
of landing on whichever runs last. For each notebook the table gives the median and the
slowest wall time, the median CPU seconds (papermill's process and the kernel), and the
median wall time over the floor's, and marks one whose slowest run exceeds the 5 s target.

Usage: ``python benchmarks/bench_notebooks.py [--repeat N] [NAME ...]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from floor import import_only_notebook, run_once

from h200cast.report.runner import notebook_paths

TARGET_S = 5.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("names", nargs="*", help="notebooks to time (default: all)")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        floor = import_only_notebook(folder)
        paths = [floor, *notebook_paths(args.names)]
        wall: dict[str, list[float]] = {p.stem: [] for p in paths}
        cpu: dict[str, list[float]] = {p.stem: [] for p in paths}
        for i in range(args.repeat):
            for p in paths:
                w, c = run_once(p, folder / f"{p.stem}-{i}.ipynb")
                wall[p.stem].append(w)
                cpu[p.stem].append(c)
    base = statistics.median(wall["floor"])
    print(
        f"notebooks: {args.repeat} interleaved rounds; load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} cores"
    )
    print("| notebook | wall: median / slowest | CPU (median) | wall over the floor |")
    print("|---|---|---|---|")
    for p in paths:
        w, c = wall[p.stem], cpu[p.stem]
        flag = "" if max(w) <= TARGET_S else f" (over the {TARGET_S:.0f} s target)"
        name = "import-only notebook (the floor)" if p.stem == "floor" else p.stem
        print(
            f"| {name} | {statistics.median(w):.1f} / {max(w):.1f} s{flag} | "
            f"{statistics.median(c):.1f} s | {statistics.median(w) / base:.2f}x |"
        )


if __name__ == "__main__":
    main()
