#!/usr/bin/env bash
# Wall time and peak memory of `scan` on the shipped dataset (release build),
# median of 5 runs, plus the per-phase split recorded in manifest.json.
# Default: without charts; SCAN_FLAGS=" " benches/scan_shipped.sh includes them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e %M" target/release/shrinkwatch scan ${SCAN_FLAGS:---no-charts} --out "$out/r$i" >/dev/null 2>"$out/time$i" || [ $? -eq 1 ]
  tail -1 "$out/time$i"
done | sort -n | awk '{a[NR]=$0} END {split(a[3], m, " "); printf "scan (shipped dataset): median wall %.2f s, peak RSS %.0f MB\n", m[1], m[2]/1024}'
python3 - "$out" <<'PY'
import json, sys, statistics
ms = [json.load(open(f"{sys.argv[1]}/r{i}/manifest.json")) for i in range(1, 6)]
for phase in ("ingest", "detect", "charts", "write"):
    print(f"  {phase}: median {statistics.median(m['timings'][phase] for m in ms):.3f} s")
PY
