#!/usr/bin/env bash
# End-to-end benchmark at national scale: generates the benchmark estate
# (default 10,000 series x 3,650 days, about 42.7 M rows, Parquet and CSV;
# not committed), then times scan (Parquet with charts, Parquet without,
# CSV), two shards and their merge, and replay of the last year, printing
# wall time and peak RSS from /usr/bin/time -v. RUNS=3 repeats the Parquet
# scan (report the median).
# Usage: benches/e2e.sh [SERIES] [DAYS]     (needs ~4 GB of disk in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
series=${1:-10000}
days=${2:-3650}
runs=${RUNS:-3}
cargo build --release --quiet
bin=target/release/shrinkwatch
work=${WORK:-$(mktemp -d)}
measure() { # label, command... (exit 0, or 1 = losses found; anything else stops the benchmark)
  local label=$1; shift
  local rc=0
  /usr/bin/time -v "$@" >"$work/out.txt" 2>"$work/time.txt" || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "FAILED (exit $rc): $label" >&2
    cat "$work/out.txt" "$work/time.txt" >&2
    exit 1
  fi
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
  printf '%-44s wall %8s   peak RSS %6d MB\n' "$label" "$wall" $((rss / 1024))
}
if [ ! -f "$work/data/observations.csv" ]; then
  measure "generate ${series}x${days}" $bin generate --seed 42 --series "$series" --days "$days" --format both --out "$work/data"
fi
ls -l "$work/data" | awk 'NR>1 {printf "  %-22s %10.1f MB\n", $NF, $5/1e6}'
d=$work/data
for i in $(seq "$runs"); do
  rm -rf "$work/r1" "$work/s1.json"
  measure "scan (Parquet, charts, run $i)" $bin -v scan --input "$d/observations.parquet" --planned "$d/planned.csv" --out "$work/r1" --state "$work/s1.json"
  grep -E "^debug: (read|detection|[0-9]+ charts)" "$work/time.txt" | sed 's/^/    /'
done
tail -1 "$work/out.txt"
python3 -c "import json;print('    manifest timings:', json.load(open('$work/r1/manifest.json'))['timings'])"
rm -rf "$work/r2" "$work/s2.json"
measure "scan (Parquet, no charts)" $bin scan --no-charts --input "$d/observations.parquet" --planned "$d/planned.csv" --out "$work/r2" --state "$work/s2.json"
rm -rf "$work/r3" "$work/s3.json"
measure "scan (CSV, no charts)" $bin scan --no-charts --input "$d/observations.csv" --planned "$d/planned.csv" --out "$work/r3" --state "$work/s3.json"
rm -rf "$work/sh" "$work/m"
for i in 1 2; do
  measure "scan --shard $i/2 (Parquet, charts)" $bin scan --shard "$i/2" --input "$d/observations.parquet" --planned "$d/planned.csv" --out "$work/sh/$i" --state "$work/m/state.json"
done
measure "merge of the 2 shards" $bin merge "$work/sh/1" "$work/sh/2" --out "$work/m/r"
if cmp <(cut -d, -f1-5,7- "$work/m/r/findings.csv") <(cut -d, -f1-5,7- "$work/r1/findings.csv"); then
  echo "  merged shards: same findings as one scan"
else
  echo "MISMATCH: the merged shards' findings differ from one scan's ($work/m/r, $work/r1)" >&2
  exit 1
fi
measure "replay (last year)" $bin replay --input "$d/observations.parquet" --planned "$d/planned.csv" --labels "$d/labels.csv" --from "$(date -d "2021-01-01 + $((days - 365)) days" +%F)" --to "$(date -d "2021-01-01 + $((days - 1)) days" +%F)" --out "$work/rp"
echo "data kept in $work (WORK=$work benches/e2e.sh reuses it)"
