"""Time every notebook at its defaults, one at a time, as the runner executes them.

Each notebook runs ``--repeat`` times in a row (kernel start-up, papermill, the model,
static charts and the kernel's shutdown all count); the table gives the fastest and the
slowest run, and marks a notebook whose slowest run exceeds the 5 s target.

Usage: ``python benchmarks/bench_notebooks.py [--repeat N] [NAME ...]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from h200cast.report.runner import Job, execute, notebook_paths

TARGET_S = 5.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per notebook (default 3)")
    ap.add_argument("names", nargs="*", help="notebooks to time (default: all)")
    args = ap.parse_args()
    print(f"| notebook | fastest / slowest of {args.repeat} runs |\n|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for path in notebook_paths(args.names):
            seconds = []
            for i in range(args.repeat):
                outcome = execute(Job(path, Path(tmp) / f"{path.stem}-{i}.ipynb", {}))
                if not outcome.ok:
                    raise SystemExit(f"{path.name} failed: {outcome.error}")
                seconds.append(outcome.seconds)
            flag = "" if max(seconds) <= TARGET_S else f" (over the {TARGET_S:.0f} s target)"
            print(f"| {path.stem} | {min(seconds):.1f} / {max(seconds):.1f} s{flag} |")


if __name__ == "__main__":
    main()
