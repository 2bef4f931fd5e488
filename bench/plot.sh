#!/usr/bin/env bash
# Turns wintun-bench JSON into PNG charts with gnuplot.
#   bench/plot.sh RESULT.json [OUTDIR] [LABEL]
# RESULT.json: from `wintun-bench --json > R.json` or `--json-out R.json`.
# LABEL (optional) is added to each title, e.g. the commit measured.
# Writes OUTDIR (default: next to the JSON) /wb-pps.png, wb-cycles.png,
# wb-latency.png (if pingpong ran).  Bars are medians, whiskers min..max.
# Needs gnuplot (gnuplot-nox) and jq: tools/setup-deps.sh installs both.
set -euo pipefail

json=${1:?usage: $0 RESULT.json [OUTDIR]}
out=${2:-$(dirname "$json")}
label=${3:+, $3}
for tool in gnuplot jq; do
  command -v "$tool" >/dev/null || { echo "plot.sh: $tool is missing (tools/setup-deps.sh)" >&2; exit 1; }
done
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One row per scenario: name, then median min max of each (impl, metric).
rows() { # $1: jq filter selecting scenarios, $2...: metric keys
  local sel=$1; shift
  local cols=""
  for m in "$@"; do
    for impl in engine baseline; do
      cols+=", (.${impl}.summary.${m} | .median, .min, .max)"
    done
  done
  jq -r ".scenarios[] | select(${sel}) | [.name ${cols}] | map(if . == null then \"NaN\" else . end) | @tsv" "$json"
}

rows 'true' pps > "$tmp/pps.dat"
rows '.name != "pingpong"' io_cycles_per_pkt client_cycles_per_pkt > "$tmp/cycles.dat"
rows '.name == "pingpong"' lat_p50_us lat_p99_us lat_p999_us > "$tmp/lat.dat"
title=$(jq -r --arg extra "$label" '"UDP payload \(.options.size), \(.options.runs) run(s) x \(.options.duration) s, kernel \(.kernel), \(.cpus) CPUs\($extra)"' "$json")
method=$(jq -r '.cycles_method' "$json")

common="set terminal pngcairo size 1000,560 noenhanced font ',10'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top right
set yrange [0:*]
set datafile separator tab
set datafile missing 'NaN'"

gnuplot <<GP
$common
set output '$out/wb-pps.png'
set title "packets/s delivered (pingpong: round trips/s)\n$title"
set ylabel 'packets/s'
set format y '%.2s%c'
plot '$tmp/pps.dat' using 2:3:4:xtic(1) title 'engine', '' using 5:6:7 title 'baseline'
GP

gnuplot <<GP
$common
set output '$out/wb-cycles.png'
set title "cycles per packet, per thread\n$title\n$method"
set ylabel 'cycles/packet'
plot '$tmp/cycles.dat' using 2:3:4:xtic(1) title 'engine thread', \
     '' using 5:6:7 title 'baseline I/O thread', \
     '' using 8:9:10 title 'client (with engine)', \
     '' using 11:12:13 title 'client (with baseline)'
GP

if [ -s "$tmp/lat.dat" ]; then
  # Rows become: percentile, engine m/min/max, baseline m/min/max.
  awk -F'\t' '{ split("p50 p99 p99.9", n, " ");
    for (i = 0; i < 3; i++) printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n[i+1],
      $(2+6*i), $(3+6*i), $(4+6*i), $(5+6*i), $(6+6*i), $(7+6*i) }' "$tmp/lat.dat" > "$tmp/lat2.dat"
  gnuplot <<GP
$common
set output '$out/wb-latency.png'
set logscale y
set yrange [1:*]
set title "pingpong (ICMP echo through the rings) latency\n$title"
set ylabel 'microseconds'
plot '$tmp/lat2.dat' using 2:3:4:xtic(1) title 'engine', '' using 5:6:7 title 'baseline'
GP
fi
ls "$out"/wb-*.png
