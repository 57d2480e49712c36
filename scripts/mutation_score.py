"""The mutation score of the last `make mutants` run: killed / (all - equivalent).

Reads mutmut's results (mutants/**/*.meta) and the equivalent mutants listed, one a line
with a reason, in tests/mutants_equivalent.txt. A mutant counts as killed when a test
failed or timed out on it. "No tests" mutants (code no test of tests/engine or
tests/scenario runs) count as not killed. Prints the survivors that are not listed as
equivalent, and exits 1 below the threshold (90%) or when a listed mutant no longer
exists or was killed (the list must not go stale).

    python scripts/mutation_score.py [--threshold 0.9]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {1, 3, 36, 24, -24, 152, 255}  # a test failed, pytest errored, or a timeout
STATUS = {0: "survived", 5: "no tests", 33: "no tests", None: "not checked"}


def equivalent(path: Path) -> dict[str, str]:
    """Mutant name -> reason, from lines ``name  # reason`` (blank and # lines skipped)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, reason = line.partition("#")
        if name.strip():
            out[name.strip()] = reason.strip()
    return out


def results(root: Path) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in sorted((root / "mutants").rglob("*.meta")):
        out.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=0.9)
    args = ap.parse_args()
    codes = results(ROOT)
    if not codes:
        print("no mutmut results under mutants/: run `make mutants` first", file=sys.stderr)
        return 2
    equiv = equivalent(ROOT / "tests" / "mutants_equivalent.txt")
    stale = [m for m in equiv if codes.get(m, 1) in KILLED]
    killed = sum(c in KILLED for c in codes.values())
    counted = len(codes) - len(equiv.keys() & codes.keys())
    left = {m: c for m, c in codes.items() if c not in KILLED and m not in equiv}
    by_module = Counter(m.split(".x")[0] for m in left)
    for m, c in sorted(left.items()):
        print(f"{STATUS.get(c, f'exit {c}')}: {m}")
    score = killed / counted if counted else 1.0
    print(
        f"\n{len(codes)} mutants, {len(equiv)} listed as equivalent, {killed} killed, "
        f"{len(left)} not killed ({', '.join(f'{k}: {n}' for k, n in by_module.most_common())})"
    )
    print(
        f"mutation score: {killed} / {counted} = {100 * score:.1f}% (threshold {100 * args.threshold:.0f}%)"
    )
    if stale:
        print(f"listed as equivalent but killed or gone: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0 if score >= args.threshold else 1


if __name__ == "__main__":
    sys.exit(main())
