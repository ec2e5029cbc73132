#!/usr/bin/env bash
# Benchmark of `inventory diff` at scale (issue 19): two plain listings of
# N objects each (default 10 million; case-folder keys of ~45 bytes, sizes,
# last-modified; not committed), the later one missing 1 % of the objects
# and with 0.1 % shrunk, plus 0.5 % new. Prints wall time and peak RSS from
# /usr/bin/time -v for the diff (target: <= 15 s and <= 3 GB on 2 cores),
# and checks the counts it found.
# Usage: benches/inventory_diff.sh [N]      (needs ~2 GB of disk in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
cargo build --release --quiet
bin=target/release/shrinkwatch
work=${WORK:-$(mktemp -d)}
before=$work/listing-2023-07-25.csv
after=$work/listing-2023-07-26.csv
if [ ! -f "$before" ]; then
  awk -v n="$n" 'BEGIN {
    print "key,size,last_modified" > ARGV[1]; print "key,size,last_modified" > ARGV[2]
    for (i = 1; i <= n; i++) {
      key = sprintf("case-%d-%05d/bwv/cam-%02d/clip-%04d.mp4", 2019 + i % 5, int(i / 40), i % 60, i % 40)
      size = (i * 7919) % 300000000 + 1000000
      line = sprintf("%s,%d,2023-01-%02dT10:00:00Z", key, size, i % 28 + 1)
      print line > ARGV[1]
      if (i % 100 == 7) continue                       # lost
      if (i % 1000 == 3) line = sprintf("%s,%d,2023-07-25T10:00:00Z", key, size / 2)  # shrunk
      print line > ARGV[2]
      if (i % 200 == 1) printf("new/%d.mp4,1000,2023-07-25T12:00:00Z\n", i) > ARGV[2]
    }
    ARGV[1] = ""; ARGV[2] = ""
  }' "$before" "$after"
fi
ls -l "$before" "$after" | awk '{printf "  %-40s %8.1f MB\n", $NF, $5/1e6}'
rm -rf "$work/out"
set +e
/usr/bin/time -v $bin inventory diff "$before" "$after" --out "$work/out" >"$work/stdout.txt" 2>"$work/time.txt"
code=$?
set -e
cat "$work/stdout.txt"
wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
printf 'inventory diff of %d objects: exit %d, wall %s, peak RSS %d MB\n' "$n" "$code" "$wall" $((rss / 1024))
lost=$(($(wc -l <"$work/out/lost-objects.csv") - 1))
shrunk=$(($(wc -l <"$work/out/shrunk-objects.csv") - 1))
want_lost=$(awk -v n="$n" 'BEGIN { c = 0; for (i = 1; i <= n; i++) if (i % 100 == 7) c++; print c }')
echo "lost rows $lost (expected $want_lost), shrunk rows $shrunk"
[ "$code" -eq 1 ] && [ "$lost" -eq "$want_lost" ]
