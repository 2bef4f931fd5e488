#!/usr/bin/env bash
# Several TCP streams (iperf3 -P) through tun-pump --queues 1 and --queues N
# (offload mode), and through a veth pair (the kernel's bound with the same
# streams), in throw-away namespaces; runs interleaved, medians printed, with
# how the streams fell on the queues (tun-pump's per-queue counts).
#   bench/pump-mq.sh [RUNS] [SECONDS] [STREAMS] [QUEUES]
# BUILD (environment, default build): the build directory holding tools/tun-pump.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
secs=${2:-4}
streams=${3:-2}
queues=${4:-2}
pump=${BUILD:-build}/tools/tun-pump
for tool in iperf3 jq; do
  command -v "$tool" >/dev/null || { echo "pump-mq.sh: needs $tool" >&2; exit 1; }
done
[ -x "$pump" ] || { echo "pump-mq.sh: $pump is missing (build first, or set BUILD)" >&2; exit 1; }

ns_a=wtmq-a-$$ ns_b=wtmq-b-$$ veth_a=wtmqv-a-$$ veth_b=wtmqv-b-$$
srv_pid='' pump_pid='' gbps=''
stop() { # VARNAME: kill and reap the child whose PID it holds
  local p=${!1}
  [ -n "$p" ] || return 0
  kill "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  printf -v "$1" ''
}
cleanup() {
  stop srv_pid
  stop pump_pid
  for ns in "$veth_a" "$veth_b" "$ns_a" "$ns_b"; do
    [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null || true
  done
}
trap 'exit 130' INT TERM
fail() { echo "pump-mq.sh: $*" >&2; exit 1; }

iperf() { # NS_CLIENT NS_SERVER ADDR -> $gbps
  ip netns exec "$2" iperf3 -s -1 -B "$3" >/dev/null 2>&1 &
  # shellcheck disable=SC2034 # read by stop() through ${!1}
  srv_pid=$!
  sleep 0.3
  local out
  out=$(timeout -k 5 $((secs + 30)) ip netns exec "$1" \
    iperf3 -c "$3" -t "$secs" -P "$streams" -J --connect-timeout 5000 2>/dev/null) || true
  stop srv_pid
  gbps=$(jq -e -r 'select(.error == null) | .end.sum_received.bits_per_second / 1e9 * 100 | round / 100' \
    <<<"$out" 2>/dev/null) || gbps=
  [ -n "$gbps" ]
}

spread=''
through_pump() { # QUEUES
  "$pump" --create-netns --netns-a "$ns_a" --netns-b "$ns_b" --quiet --json --queues "$1" \
    --addr-a 10.1.0.1/24 --route-a 10.2.0.0/24 --addr-b 10.2.0.1/24 --route-b 10.1.0.0/24 \
    --duration $((secs + 60)) >"$tmp/pump.json" 2>"$tmp/pump.err" &
  # shellcheck disable=SC2034
  pump_pid=$!
  for _ in $(seq 600); do
    grep -qs '^tun-pump/fwd' /proc/"$pump_pid"/task/*/comm && break
    sleep 0.1
  done
  iperf "$ns_a" "$ns_b" 10.2.0.1 || { cat "$tmp/pump.err" >&2; fail "--queues $1: no iperf3 result"; }
  kill -0 "$pump_pid" 2>/dev/null || { cat "$tmp/pump.err" >&2; fail "--queues $1: tun-pump exited"; }
  stop pump_pid
  # A->B bytes per queue, in percent of the total.
  spread=$(jq -r '[.per_queue[].a_to_b_bytes] as $b | ($b | add) as $t
    | [$b[] | (. * 100 / ($t + 1e-9) | round | tostring)] | join("/")' "$tmp/pump.json" 2>/dev/null) || spread='?'
}

through_veth() {
  ip netns add "$veth_a"; ip netns add "$veth_b"
  ip link add wtmv-a netns "$veth_a" type veth peer name wtmv-b netns "$veth_b"
  ip -n "$veth_a" addr add 10.3.0.1/24 dev wtmv-a; ip -n "$veth_a" link set wtmv-a up
  ip -n "$veth_b" addr add 10.3.0.2/24 dev wtmv-b; ip -n "$veth_b" link set wtmv-b up
  iperf "$veth_a" "$veth_b" 10.3.0.2 || fail "veth: no iperf3 result"
  ip netns del "$veth_a"; ip netns del "$veth_b"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
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
