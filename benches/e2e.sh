#!/usr/bin/env bash
# End-to-end benchmark at national scale: generates the benchmark estate
# (default 10,000 series x 3,650 days, Parquet and CSV; not committed), then
# times scan (Parquet and CSV), tune and replay, printing wall time and peak
# RSS from /usr/bin/time -v.
# Usage: benches/e2e.sh [SERIES] [DAYS]     (needs ~3 GB of disk in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
series=${1:-10000}
days=${2:-3650}
cargo build --release --quiet
bin=target/release/shrinkwatch
work=${WORK:-$(mktemp -d)}
measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" >"$work/out.txt" 2>"$work/time.txt" || true
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
  printf '%-40s wall %8s   peak RSS %6d MB\n' "$label" "$wall" $((rss / 1024))
}
if [ ! -f "$work/data/observations.parquet" ]; then
  measure "generate ${series}x${days}" $bin generate --seed 42 --series "$series" --days "$days" --format both --out "$work/data"
fi
ls -l "$work/data" | awk 'NR>1 {printf "  %-22s %10.1f MB\n", $NF, $5/1e6}'
measure "scan (Parquet, charts for findings)" $bin scan --input "$work/data/observations.parquet" --planned "$work/data/planned.csv" --out "$work/r1" --state "$work/s1.json"
tail -1 "$work/out.txt"
measure "scan (Parquet, no charts)" $bin scan --no-charts --input "$work/data/observations.parquet" --planned "$work/data/planned.csv" --out "$work/r2" --state "$work/s2.json"
measure "scan (CSV, no charts)" $bin scan --no-charts --input "$work/data/observations.csv" --planned "$work/data/planned.csv" --out "$work/r3" --state "$work/s3.json"
measure "replay (last year)" $bin replay --input "$work/data/observations.parquet" --planned "$work/data/planned.csv" --labels "$work/data/labels.csv" --from "$(date -d "2021-01-01 + $((days - 365)) days" +%F)" --to "$(date -d "2021-01-01 + $((days - 1)) days" +%F)" --out "$work/rp"
echo "data kept in $work (WORK=$work benches/e2e.sh reuses it)"
