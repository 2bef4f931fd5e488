#!/usr/bin/env bash
# Several TCP streams (iperf3 -P) through tun-pump --queues 1 and --queues N
# (offload mode), and through a veth pair (the kernel's bound with the same
# streams), in throw-away namespaces; runs interleaved, medians printed, with
# how the streams fell on the queues (tun-pump's per-queue counts).
#   bench/pump-mq.sh [RUNS] [SECONDS] [STREAMS] [QUEUES]
# BUILD (environment, default build): the build directory holding tools/tun-pump.
set -euo pipefail
cd "$(dirname "$0")/.."
me='pump-mq.sh'
# shellcheck source=bench/lib.sh
. bench/lib.sh
runs=${1:-5}
secs=${2:-4}
streams=${3:-2}
queues=${4:-2}
need_tools "" iperf3 jq
pump_setup wtmq wtmqv

spread=''
through_pump() { # QUEUES
  pump_start "$tmp/pump.json" --json --queues "$1"
  iperf_gbps "$ns_a" "$ns_b" 10.2.0.1 -P "$streams" || pump_failed "--queues $1: no iperf3 result"
  kill -0 "$pump_pid" 2>/dev/null || pump_failed "--queues $1: tun-pump exited"
  stop pump_pid
  # A->B bytes per queue, in percent of the total.
  spread=$(jq -r '[.per_queue[].a_to_b_bytes] as $b | ($b | add) as $t
    | [$b[] | (. * 100 / ($t + 1e-9) | round | tostring)] | join("/")' "$tmp/pump.json" 2>/dev/null) || spread='?'
}

through_veth() {
  veth_gbps "$veth_a" wtmv-a "$veth_b" wtmv-b -P "$streams" || fail "veth: no iperf3 result"
}

declare -A res
modes=("q1" "q$queues" "veth")
for r in $(seq "$runs"); do
  through_pump 1; res[q1]+="$gbps "
  through_pump "$queues"; res[q$queues]+="$gbps "; res[spread]+="$spread "
  through_veth; res[veth]+="$gbps "
  echo "run $r/$runs done" >&2
done
echo "$streams TCP streams (iperf3 -P $streams), offload mode, $runs runs of $secs s"
printf '%-8s %-10s %s\n' mode "Gbit/s" "runs"
for m in "${modes[@]}"; do
  printf '%-8s %-10s %s\n' "$m" "$(echo "${res[$m]}" | tr ' ' '\n' | grep . | median)" "${res[$m]}"
done
echo "A->B bytes per queue with $queues queues (percent, per run): ${res[spread]}"
