"""Time the full default report: a first build (nothing to reuse) and a rebuild (all reused).

Both run ``h200cast report`` as a user would, in a fresh process, into a temporary folder,
so ``reports/`` is left alone. The issue's target is 60 s for the first build on 2 cores.

Usage: ``python benchmarks/bench_report.py`` (``make bench``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _build(out: Path, *extra: str) -> float:
    cmd = [sys.executable, "-m", "h200cast", "report", "--quiet", "--out", str(out), *extra]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"report failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        first = _build(out, "--force")
        again = _build(out)
    print("| what | time |\n|---|---|")
    print(f"| `h200cast report`, full default report, first build | {first:.1f} s |")
    print(f"| `h200cast report` again, nothing changed (every page reused) | {again:.1f} s |")


if __name__ == "__main__":
    main()
