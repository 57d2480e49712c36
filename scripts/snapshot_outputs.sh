#!/usr/bin/env bash
# Write the outputs that a refactoring must leave unchanged into DIR, for `compare_outputs.py`:
# a saved run (run --out), a sweep (sweep ci --out) and a small report (report --out).
# Usage: scripts/snapshot_outputs.sh DIR   (run from the checkout, after `make env`)
set -euo pipefail
out=${1:?usage: $0 DIR}
bin=.venv/bin
mkdir -p "$out"
"$bin/h200cast" run --path as_reported_2026_01 --draws 2000 --seed 7 --out "$out/run" >/dev/null
"$bin/h200cast" run --switching from_2026_01_31 --json --draws 500 >"$out/run_switching.json"
"$bin/h200cast" sweep ci --out "$out/sweep" --jobs 1 --quiet >"$out/sweep.txt"
"$bin/h200cast" check >"$out/check.txt" || true
"$bin/h200cast" report --stances customs_ban open_market --paths as_reported_2026_01 \
    --analyses 05_stance_comparison --draws 300 --jobs 2 --quiet --force --out "$out/report" >"$out/report.txt"
echo "wrote $out"
