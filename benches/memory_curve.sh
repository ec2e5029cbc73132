#!/usr/bin/env bash
# Peak memory and wall time of `scan --no-charts` against input size:
# generates estates of about 1 M, 10 M and 36.5 M rows (Parquet, 3,650 days,
# 235 / 2,350 / 8,550 series; not committed) and scans each.
# Usage: benches/memory_curve.sh [SERIES...]   (needs ~0.5 GB of disk in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/shrinkwatch
work=${WORK:-$(mktemp -d)}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(235 2350 8550)
printf '| series | rows | Parquet MB | scan wall | peak RSS MB | bytes per row |\n|---:|---:|---:|---:|---:|---:|\n'
for s in "${sizes[@]}"; do
  d=$work/m$s
  [ -f "$d/observations.parquet" ] || $bin generate --seed 42 --series "$s" --days 3650 --format parquet --out "$d" >/dev/null
  rc=0
  /usr/bin/time -v $bin scan --no-charts --input "$d/observations.parquet" --out "$d/r" --state "$d/s.json" >"$d/out.txt" 2>"$d/time.txt" || rc=$?
  # exit 1 means losses were found; anything else is a failed scan
  if [ "$rc" -gt 1 ]; then echo "FAILED (exit $rc): scan of $d" >&2; cat "$d/out.txt" "$d/time.txt" >&2; exit 1; fi
  rows=$(python3 -c "import json;print(json.load(open('$d/r/manifest.json'))['counts']['rows_read'])")
  rss=$(grep "Maximum resident set size" "$d/time.txt" | awk '{print $NF}')
  wall=$(grep "Elapsed (wall clock)" "$d/time.txt" | awk '{print $NF}')
  mb=$(du -m "$d/observations.parquet" | cut -f1)
  printf '| %s | %s | %s | %s | %d | %.0f |\n' "$s" "$rows" "$mb" "$wall" $((rss / 1024)) "$(python3 -c "print($rss*1024/$rows)")"
  rm -rf "$d/r" "$d/s.json"
done
echo "data kept in $work (WORK=$work benches/memory_curve.sh reuses it)"
