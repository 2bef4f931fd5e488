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
pump=${BUILD:-build}/tools/tun-pump
need_tools "" iperf3 jq
need_build "$pump"

ns_a=wtmq-a-$$ ns_b=wtmq-b-$$ veth_a=wtmqv-a-$$ veth_b=wtmqv-b-$$
pump_pid='' gbps=''
bench_children=(srv_pid pump_pid) bench_netns=("$veth_a" "$veth_b" "$ns_a" "$ns_b")
bench_begin

spread=''
through_pump() { # QUEUES
  "$pump" --create-netns --netns-a "$ns_a" --netns-b "$ns_b" --quiet --json --queues "$1" \
    --addr-a 10.1.0.1/24 --route-a 10.2.0.0/24 --addr-b 10.2.0.1/24 --route-b 10.1.0.0/24 \
    --duration $((secs + 60)) >"$tmp/pump.json" 2>"$tmp/pump.err" &
  # shellcheck disable=SC2034
  pump_pid=$!
  retry 600 has_thread "$pump_pid" tun-pump/fwd || true
  iperf_gbps "$ns_a" "$ns_b" 10.2.0.1 -P "$streams" || { cat "$tmp/pump.err" >&2; fail "--queues $1: no iperf3 result"; }
  kill -0 "$pump_pid" 2>/dev/null || { cat "$tmp/pump.err" >&2; fail "--queues $1: tun-pump exited"; }
  stop pump_pid
  # A->B bytes per queue, in percent of the total.
  spread=$(jq -r '[.per_queue[].a_to_b_bytes] as $b | ($b | add) as $t
    | [$b[] | (. * 100 / ($t + 1e-9) | round | tostring)] | join("/")' "$tmp/pump.json" 2>/dev/null) || spread='?'
}

through_veth() {
  ip netns add "$veth_a"; ip netns add "$veth_b"
  veth_pair "$veth_a" wtmv-a 10.3.0.1/24 "$veth_b" wtmv-b 10.3.0.2/24
  iperf_gbps "$veth_a" "$veth_b" 10.3.0.2 -P "$streams" || fail "veth: no iperf3 result"
  ip netns del "$veth_a"; ip netns del "$veth_b"
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
