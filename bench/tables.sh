#!/usr/bin/env bash
# Fills the tables of README.md's "## Performance" section from the raw
# output of one bench/reproduce.sh run (jq on the JSON, awk on perf's text).
#   bench/tables.sh RESULTS-DIR > RESULTS-DIR/tables.md
# Every table is headed by the commit, the exact command and the machine it
# came from.  A value missing from the raw output prints as n/a and is
# counted on stderr; a missing file stops the script with its name.
set -euo pipefail
shopt -s inherit_errexit
dir=${1:?usage: $0 RESULTS-DIR}
command -v jq >/dev/null || { echo "tables.sh: jq is missing (tools/setup-deps.sh)" >&2; exit 1; }
[ -d "$dir" ] || { echo "tables.sh: $dir: no such directory" >&2; exit 1; }
dir=$(realpath "$dir")
cd "$(dirname "$0")/.."
# README.md links the plots relative to the repository root.
rel=$(realpath --relative-to=. "$dir")

need() { # FILE...: each must exist
  local f
  for f in "$@"; do
    [ -s "$dir/$f" ] || { echo "tables.sh: $dir/$f is missing or empty" >&2; exit 1; }
  done
}

m() { jq -r ".$1 // \"?\"" "$dir/machine.json"; }

# One scenario's median of a metric ("null" if absent), or its ratio.
get() { # FILE SCENARIO engine|baseline|ratio KEY
  local path=".$3.summary.$4.median"
  [ "$3" = ratio ] && path=".ratio.$4"
  jq -r --arg s "$2" "[.scenarios[] | select(.name == \$s) | $path][0] // \"null\"" "$dir/$1"
}

fmt() { # KIND VALUE: k (352.1k), int, f1, f2, f3, x (ratio)
  if [ "$2" = null ] || [ -z "$2" ]; then
    printf 'n/a'
    return
  fi
  awk -v k="$1" -v v="$2" 'BEGIN {
    if (k == "k") { if (v >= 1e6) printf "%.2fM", v / 1e6; else if (v >= 1e3) printf "%.1fk", v / 1e3; else printf "%.0f", v }
    else if (k == "int") printf "%.0f", v
    else if (k == "f1") printf "%.1f", v
    else if (k == "f2" || k == "x") printf "%.2f", v
    else if (k == "f3") printf "%.3f", v }'
}

# A cell from FILE: fmt KIND of get FILE SCENARIO IMPL KEY.
c() { fmt "$1" "$(get "$2" "$3" "$4" "$5")"; }

# engine | baseline | ratio cells of one metric.
ebr() { # KIND FILE SCENARIO KEY
  printf '%s | %s | %s' "$(c "$1" "$2" "$3" engine "$4")" "$(c "$1" "$2" "$3" baseline "$4")" \
    "$(c x "$2" "$3" ratio "$4")"
}

header() { # TITLE STEP... : the provenance of one table
  local title=$1 s; shift
  printf '\n### %s\n\n' "$title"
  printf 'Commit `%s`, %s.  Machine: %s CPUs (%s), %s, Linux %s, %s.  Cycles: %s.  Build: %s (more in `machine.json`).\n' \
    "$(m commit)" "$(m date)" "$(m cpus)" "$(m cpu_model)" "$(m memory)" "$(m kernel)" "$(m os)" \
    "$(m cycles_method)" "$(m build)"
  for s in "$@"; do
    need "$s.cmd"
    printf '`%s`  \n' "$(cat "$dir/$s.cmd")"
  done
  local raw=() path
  for s in "$@"; do
    for path in "$dir/$s".*; do
      [[ $path == *.cmd ]] || raw+=("${path##*/}")
    done
  done
  printf 'Raw output in `%s/`: %s\n\n' "$rel" "${raw[*]}"
}

main_table() {
  local f=flood.json
  need $f
  header "Flood: 64-byte UDP, engine against the baseline" flood
  echo '| scenario | metric | engine | baseline | engine/baseline |'
  echo '|---|---|---|---|---|'
  echo "| rx (kernel -> ring) | packets/s | $(ebr k $f rx pps) |"
  echo "| | I/O thread cycles/packet | $(ebr int $f rx io_cycles_per_pkt) |"
  echo "| | client cycles/packet | $(ebr int $f rx client_cycles_per_pkt) |"
  echo "| | \`io_uring_enter\` per packet | $(c f3 $f rx engine enter_per_pkt) | - | |"
  echo "| tx (ring -> kernel) | packets/s | $(ebr k $f tx pps) |"
  echo "| | I/O thread cycles/packet | $(ebr int $f tx io_cycles_per_pkt) |"
  echo "| | client cycles/packet | $(ebr int $f tx client_cycles_per_pkt) |"
  echo "| | \`io_uring_enter\` per packet | $(c f3 $f tx engine enter_per_pkt) | - | |"
  echo "| fwd (A -> ring -> ring -> B) | packets/s delivered | $(ebr k $f fwd pps) |"
  echo "| | I/O thread cycles/packet | $(ebr int $f fwd io_cycles_per_pkt) |"
  echo "| | lost % | $(c f1 $f fwd engine loss_pct) | $(c f1 $f fwd baseline loss_pct) | |"
  echo "| pingpong (ICMP echo) | round trips/s | $(ebr k $f pingpong pps) |"
  for p in p50 p99 p999; do
    echo "| | latency ${p/p999/p99.9} (us) | $(ebr f1 $f pingpong lat_${p}_us) |"
  done
  need plots.txt
  printf '\nPlots (`%s`): ' "$(cat "$dir/plots.cmd")"
  for p in wb-pps wb-cycles wb-latency; do
    [ -e "$dir/plots/$p.png" ] && printf '[%s](%s/plots/%s.png) ' "$p" "$rel" "$p"
  done
  printf '\n\n![cycles per packet](%s/plots/wb-cycles.png)\n' "$rel"
}

offload_table() {
  local f=offload.json veth
  need $f
  veth=$(c f2 $f tso engine veth_gbps)
  header "Offload mode: one TCP stream" offload
  echo '| scenario | metric | engine | baseline (plain read/write) | target |'
  echo '|---|---|---|---|---|'
  echo "| tso: super-packets through whole | Gbit/s | $(c f2 $f tso engine gbps) | $(c f2 $f tso baseline gbps) | |"
  echo "| | Gbit/s / veth ($veth) | $(c f2 $f tso engine of_veth) | $(c f2 $f tso baseline of_veth) | >= 0.8 |"
  echo "| | TUN reads per GB | $(c k $f tso engine tun_reads_per_gb) | $(c k $f tso baseline tun_reads_per_gb) | <= 30k |"
  echo "| | engine (I/O) + client CPU s per GB | $(c f3 $f tso engine cpu_s_per_gb) | $(c f3 $f tso baseline cpu_s_per_gb) | <= 0.35 |"
  echo "| tso-split: client splits, far engine coalesces | Gbit/s | $(c f2 $f tso-split engine gbps) | $(c f2 $f tso-split baseline gbps) | |"
  echo "| tcp: no offload, same client | Gbit/s | $(c f2 $f tcp engine gbps) | $(c f2 $f tcp baseline gbps) | |"
  echo "| | I/O thread cycles/packet | $(c int $f tcp engine io_cycles_per_pkt) | $(c int $f tcp baseline io_cycles_per_pkt) | |"
  echo "| | engine (I/O) + client CPU s per GB | $(c f3 $f tcp engine cpu_s_per_gb) | $(c f3 $f tcp baseline cpu_s_per_gb) | |"
  local split tcp
  split=$(get $f tso-split engine gbps) tcp=$(get $f tcp engine gbps)
  echo "| tso-split / tcp (engine) | | $(fmt f1 "$(awk -v a="$split" -v b="$tcp" 'BEGIN { if (a != "null" && b != "null" && b > 0) print a / b; else print "null" }')")x | | >= 3x |"
}

pump_table() {
  local f=pump-tcp.json
  need $f
  header "tun-pump and iperf3: one TCP stream" pump-tcp
  pm() { fmt f2 "$(jq -r ".modes[\"$1\"].median // \"null\"" "$dir/$f")"; }
  pr() { jq -r ".modes[\"$1\"].runs | map(tostring) | join(\" \")" "$dir/$f"; }
  echo '| path | Gbit/s (median) | each run |'
  echo '|---|---|---|'
  echo "| tun-pump, offload mode (default): 64 KiB super-packets pass through | $(pm offload) | $(pr offload) |"
  echo "| tun-pump \`--split\`: the forwarder splits every super-packet, B's engine coalesces them (GRO) | $(pm split) | $(pr split) |"
  echo "| tun-pump \`--no-offload\`: one MTU packet per record | $(pm no-offload) | $(pr no-offload) |"
  echo "| veth pair between the two namespaces (the kernel's own bound) | $(pm veth) | $(pr veth) |"
}

checksum_table() {
  local f=checksum.json
  need $f
  header "Checksum routine (GSO split and coalescing)" checksum
  echo '| bytes | wt_csum_add GB/s | B/cycle | textbook 16-bit loop GB/s | wt_csum_add / textbook |'
  echo '|---|---|---|---|---|'
  jq -r '.sizes[] | [.bytes, .wt_gbs, .wt_b_per_cycle, .textbook_gbs, .ratio] | @tsv' "$dir/$f" |
    awk -F'\t' '{ printf "| %s | %.2f | %.2f | %.2f | %.2f |\n", $1, $2, $3, $4, $5 }'
}

rx_variant_table() {
  need rx-drain.json rx-multishot.json
  header "RX variants: drain (default) and multishot read" rx-drain rx-multishot
  echo '| variant | rx packets/s, engine/baseline | rx I/O cycles/packet, engine/baseline | pingpong round trips/s, engine/baseline | engine `io_uring_enter` per round trip | pingpong p50 us, engine / baseline |'
  echo '|---|---|---|---|---|---|'
  for v in drain multishot; do
    local f=rx-$v.json
    echo "| $v | $(c x $f rx ratio pps) | $(c x $f rx ratio io_cycles_per_pkt) | $(c x $f pingpong ratio pps) | $(c f2 $f pingpong engine enter_per_pkt) | $(c f1 $f pingpong engine lat_p50_us) / $(c f1 $f pingpong baseline lat_p50_us) |"
  done
}

paced_table() {
  need paced.json paced-spin0.json
  header "Light load: paced at 80k packets/s, idle spins on and off" paced paced-spin0
  echo '| scenario | spin | packets/s delivered, engine / baseline | I/O thread cycles/packet, engine | baseline | engine/baseline |'
  echo '|---|---|---|---|---|---|'
  for s in rx tx fwd; do
    for v in paced paced-spin0; do
      local f=$v.json spin="default (engine 10 us, client 5 us)"
      [ $v = paced-spin0 ] && spin="\`--spin-us 0\`"
      echo "| $s | $spin | $(c k $f $s engine pps) / $(c k $f $s baseline pps) | $(ebr int $f $s io_cycles_per_pkt) |"
    done
  done
  echo
  echo '| pingpong (not paced) | spin | p50 us, engine / baseline | p99 us, engine / baseline | round trips/s, engine/baseline |'
  echo '|---|---|---|---|---|'
  for v in paced paced-spin0; do
    local f=$v.json spin="default (engine 10 us, client 5 us)"
    [ $v = paced-spin0 ] && spin="\`--spin-us 0\`"
    echo "| | $spin | $(c f1 $f pingpong engine lat_p50_us) / $(c f1 $f pingpong baseline lat_p50_us) | $(c f1 $f pingpong engine lat_p99_us) / $(c f1 $f pingpong baseline lat_p99_us) | $(c x $f pingpong ratio pps) |"
  done
}

# perf report --stdio lines: "  12.34%  name" or "  12.34%  1.23%  [k] name".
perf_rows() { # FILE N COLUMNS: the N largest rows as table rows
  # Unresolved addresses (code without symbols or frame pointers) name nothing.
  awk -v n="$2" -v cols="$3" '/^#/ || !/%/ || $NF ~ /^0x/ { next }
    { if (++i > n) exit
      if (cols == 1) { pct = $1; $1 = ""; printf "| %s | %s |\n", substr($0, 2), pct }
      else { ch = $1; self = $2; $1 = $2 = ""; printf "| `%s` | %s | %s |\n", substr($0, 3), ch, self } }' "$dir/$1"
}

perf_tables() {
  need perf-tso.comm.txt perf-tso.engine.txt perf-rx.engine.txt
  header "Where the CPU goes in offload mode (\`perf record -a -g\` during the engine's tso run)" perf-tso
  echo 'Shares of all samples on all CPUs, by thread (idle is `swapper`):'
  echo
  echo '| thread | share |'
  echo '|---|---|'
  perf_rows perf-tso.comm.txt 8 1
  echo
  echo "Engine thread ($(cat "$dir/perf-tso.engine-comm")): the largest inclusive shares (with callees), of all samples:"
  echo
  echo '| symbol | with callees | self |'
  echo '|---|---|---|'
  perf_rows perf-tso.engine.txt 15 2
  header "Where the engine thread's time goes under an rx flood (\`perf record -g -t <engine tid>\`)" perf-rx
  echo "Shares of the engine thread's samples ($(cat "$dir/perf-rx.engine-comm")):"
  echo
  echo '| symbol | with callees | self |'
  echo '|---|---|---|'
  perf_rows perf-rx.engine.txt 15 2
}

all_tables() {
echo "# wintun-bench results: $(m commit), $(m date)"
echo
echo "Generated by \`bench/tables.sh $rel\` from the raw output next to this file"
echo "(\`bench/reproduce.sh$( [ "$(m quick)" = true ] && echo ' --quick')\`).  Cells are medians over the runs;"
echo "each run's value and the min..max are in the .txt and .json files.$( [ "$(m quick)" = true ] &&
  printf '\n\n**Quick smoke run: durations far too short, the numbers mean nothing.**')"
main_table
offload_table
pump_table
checksum_table
rx_variant_table
paced_table
perf_tables
}

# Collected first: a missing file stops the script before any output.
tables=$(all_tables)
printf '%s\n' "$tables"
missing=$(grep -o 'n/a' <<<"$tables" | wc -l) || true
if [ "$missing" -gt 0 ]; then
  echo "tables.sh: $missing value(s) missing from the raw output (n/a in the tables)" >&2
fi
