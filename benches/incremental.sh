#!/usr/bin/env bash
# Incremental nightly scans (issue 17) at national scale: the first scan of
# the estate --as-of its second-last day, then the next night (--as-of the
# last day) with the state the first left, for Parquet (one file) and for a
# CSV folder of one file per night; wall time and peak RSS of each from
# /usr/bin/time -v, and the next night's findings compared with a --full scan
# of the same night (they must be identical).
# Usage: benches/incremental.sh [SERIES] [DAYS]   (default 10000 3650; needs
# ~5 GB of disk in $WORK or a temporary folder; WORK=DIR reuses the data;
# KINDS=parquet or KINDS=csv runs one input kind)
set -euo pipefail
cd "$(dirname "$0")/.."
series=${1:-10000}
days=${2:-3650}
cargo build --release --quiet
bin=$PWD/target/release/shrinkwatch
work=${WORK:-$(mktemp -d)}
d=$work/data
measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" >"$work/out.txt" 2>"$work/time.txt" || true
  local wall rss cpu
  wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
  # CPU seconds (user + system): steadier than wall time on a shared machine
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/time.txt")
  printf '%-52s wall %8s   cpu %7s s   peak RSS %6d MB\n' "$label" "$wall" "$cpu" $((rss / 1024))
}
if [ ! -f "$d/observations.parquet" ] || [ ! -f "$d/observations.csv" ]; then
  $bin generate --seed 42 --series "$series" --days "$days" --format both --out "$d" >/dev/null
fi
if [ ! -d "$d/nights" ]; then
  # One CSV file per night (by the date of each row; late rows stay where
  # the collector appended them, in the last night's file).
  mkdir -p "$d/nights"
  awk -F, -v dir="$d/nights" 'NR == 1 { h = $0; next }
    { day = substr($1, 1, 10); if (day < last) day = last; last = day
      f = dir "/" day ".csv"; if (!(f in seen)) { print h > f; seen[f] = 1; if (prev) close(prev); prev = f }
      print >> f }' "$d/observations.csv"
fi
ls -l "$d" | awk 'NR>1 && $1 !~ /^d/ {printf "  %-22s %10.1f MB\n", $NF, $5/1e6}'
echo "  nights/ $(ls "$d/nights" | wc -l) files, $(du -sm "$d/nights" | cut -f1) MB"
second_last=$(date -u -d "2021-01-01 + $((days - 2)) days" +%F)
last=$(date -u -d "2021-01-01 + $((days - 1)) days" +%F)
for kind in ${KINDS:-parquet csv}; do
  if [ $kind = parquet ]; then input=$d/observations.parquet; else input=$d/nights; fi
  r=$work/$kind; rm -rf "$r"; mkdir -p "$r"
  args=(--input "$input" --planned "$d/planned.csv" --no-charts)
  measure "$kind: first scan --as-of $second_last" $bin -v scan "${args[@]}" --state "$r/state.json" --breach-log "$r/breach-log.csv" --as-of "$second_last" --out "$r/first"
  cp "$r/state.json" "$r/full-state.json"; cp "$r/breach-log.csv" "$r/full-breach-log.csv"
  measure "$kind: next night --as-of $last" $bin -v scan "${args[@]}" --state "$r/state.json" --breach-log "$r/breach-log.csv" --as-of "$last" --out "$r/next"
  grep -E "^debug: (read|detection)" "$work/time.txt" | sed 's/^/    /'
  grep -h "^Incremental run\|^Full scan" "$r/next/summary.txt" | sed 's/^/    /'
  python3 -c "import json;m=json.load(open('$r/next/manifest.json'));print('    timings:', m['timings']);print('    first inputs:', [i.get('read','all') for i in m['inputs']][:2])"
  # The same night as a full scan from the same state: the same findings?
  measure "$kind: same night --full (for comparison)" $bin -v scan "${args[@]}" --state "$r/full-state.json" --breach-log "$r/full-breach-log.csv" --as-of "$last" --out "$r/full" --full
  cmp "$r/next/findings.csv" "$r/full/findings.csv" && cmp "$r/breach-log.csv" "$r/full-breach-log.csv" \
    && echo "    next night: same findings and breach log as --full" \
    || echo "    NEXT NIGHT DIFFERS FROM --full"
done
echo "data kept in $work (WORK=$work benches/incremental.sh reuses it)"
