"""Compare two snapshots from ``snapshot_outputs.sh``: the same files, the same bytes.

Only what records when or where a build ran is masked (build times, durations, the git
commit, the checkout's folder, the temporary folder a page was built in, papermill's
random cell ids) and the content hashes of the package's own source (cache keys, which
change with any edit to it); every number, table, chart and page must be byte-identical. Exit 1 and list the differences
otherwise.  Usage: python scripts/compare_outputs.py BEFORE AFTER
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MASKS = [
    (re.compile(rb'"(created_utc|git_commit|seconds)": [^,\n]+'), rb'"\1": X'),
    (re.compile(rb"in [0-9.]+ s\b"), rb"in X s"),
    (re.compile(rb"commit [0-9a-f]{40}(-dirty)?"), rb"commit X"),
    (re.compile(rb"built [0-9T:+\-]+ in"), rb"built X in"),
    (re.compile(rb"\.report[^/\"\\]*\.tmp-[A-Za-z0-9_]+"), rb"TMP"),
    (re.compile(rb"\.[a-z_]+\.tmp-[A-Za-z0-9_]+"), rb"TMP"),
    (re.compile(rb'"id": "[0-9a-f-]{8,}"'), rb'"id": X'),
    (re.compile(rb"cell-id=[0-9a-f-]{8,}"), rb"cell-id=X"),
    (re.compile(rb'"duration": [^,\n]+'), rb'"duration": X'),
    # content hashes that cover the package's own source: they change with any edit to it
    (re.compile(rb'"(key|digest)": "[0-9a-f]{16,64}"'), rb'"\1": X'),
    (re.compile(rb"/work/[A-Za-z0-9_.-]+/"), rb"CHECKOUT/"),
    (re.compile(rb'"(start_time|end_time)": [^,\n]+'), rb'"\1": X'),
    (re.compile(rb'"(iopub\.[a-z_.]+|shell\.execute_reply)": "[^"]+"'), rb'"\1": X'),
]


def masked(data: bytes, root: Path) -> bytes:
    data = data.replace(str(root.resolve()).encode(), b"ROOT")
    for pattern, repl in MASKS:
        data = pattern.sub(repl, data)
    return data


def main(a: Path, b: Path) -> int:
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    bad = [f"only in {a}: {p}" for p in sorted(fa - fb)] + [
        f"only in {b}: {p}" for p in sorted(fb - fa)
    ]
    for p in sorted(fa & fb):
        if masked((a / p).read_bytes(), a) != masked((b / p).read_bytes(), b):
            bad.append(f"differs: {p}")
    for line in bad:
        print(line)
    print(f"{len(fa & fb)} files compared, {len(bad)} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
