#!/usr/bin/env bash
# One TCP stream (iperf3) through tun-pump in each of its modes, and through
# a veth pair (the kernel's own bound), in throw-away namespaces; N runs each,
# interleaved, medians printed.
#   bench/pump-tcp.sh [RUNS] [SECONDS] [JSON-OUT]
# JSON-OUT (optional): every run's Gbit/s and the medians, for bench/tables.sh.
# BUILD (environment, default build): the build directory holding tools/tun-pump.
# Any failed measurement stops the script with a message naming the mode.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
secs=${2:-4}
json_out=${3:-}
pump=${BUILD:-build}/tools/tun-pump
for tool in iperf3 jq; do
  command -v "$tool" >/dev/null || { echo "pump-tcp.sh: needs $tool (tools/setup-deps.sh)" >&2; exit 1; }
done
[ -x "$pump" ] || { echo "pump-tcp.sh: $pump is missing (build first, or set BUILD)" >&2; exit 1; }

# Namespace names carry our PID: two instances (or a leftover) never collide.
ns_a=wtbench-a-$$ ns_b=wtbench-b-$$ veth_a=wtveth-a-$$ veth_b=wtveth-b-$$
# The children running now (emptied once reaped, so a recycled PID is never hit).
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
  # tun-pump removes its namespaces itself, unless it was killed.
  for ns in "$veth_a" "$veth_b" "$ns_a" "$ns_b"; do
    [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null || true
  done
}
trap 'exit 130' INT TERM

fail() { echo "pump-tcp.sh: $*" >&2; exit 1; }

# The measuring functions set $gbps rather than print it: no subshell, so
# the child PIDs stay visible to the cleanup.
iperf() { # NS_CLIENT NS_SERVER ADDR -> $gbps
  # The server is our child (not iperf3 -D), so a failed client cannot leave
  # it running in a namespace nobody deletes.
  ip netns exec "$2" iperf3 -s -1 -B "$3" >/dev/null 2>&1 &
  # shellcheck disable=SC2034 # read by stop() through ${!1}
  srv_pid=$!
  sleep 0.3
  local out
  # Hang guards only: a stream whose device vanished can spin forever.
  out=$(timeout -k 5 $((secs + 30)) ip netns exec "$1" \
    iperf3 -c "$3" -t "$secs" -J --connect-timeout 5000 2>/dev/null) || true
  stop srv_pid
  gbps=$(jq -e -r 'select(.error == null) | .end.sum_received.bits_per_second / 1e9 * 100 | round / 100' \
    <<<"$out" 2>/dev/null) || gbps=
  [ -n "$gbps" ]
}

through_pump() { # MODE-NAME MODE-ARGS...
  local mode=$1; shift
  "$pump" --create-netns --netns-a "$ns_a" --netns-b "$ns_b" --quiet \
    --addr-a 10.1.0.1/24 --route-a 10.2.0.0/24 --addr-b 10.2.0.1/24 --route-b 10.1.0.0/24 \
    --duration $((secs + 60)) "$@" >/dev/null 2>"$tmp/pump.err" &
  # shellcheck disable=SC2034 # read by stop() through ${!1}
  pump_pid=$!
  # Ready once its forwarder thread runs (after both sessions are up); on a
  # slow machine (a kernel under emulation) that takes seconds.  The
  # duration above only guards against a hang: it is stopped below.
  for _ in $(seq 600); do
    grep -qs '^tun-pump/fwd' /proc/"$pump_pid"/task/*/comm && break
    sleep 0.1
  done
  iperf "$ns_a" "$ns_b" 10.2.0.1 || { cat "$tmp/pump.err" >&2; fail "$mode: iperf3 through tun-pump gave no result"; }
  # A pump that died during the stream makes the number meaningless.
  kill -0 "$pump_pid" 2>/dev/null || { cat "$tmp/pump.err" >&2; fail "$mode: tun-pump exited during the stream"; }
  stop pump_pid
}

through_veth() {
  ip netns add "$veth_a"; ip netns add "$veth_b"
  ip link add wtv-a netns "$veth_a" type veth peer name wtv-b netns "$veth_b"
  ip -n "$veth_a" addr add 10.3.0.1/24 dev wtv-a; ip -n "$veth_a" link set wtv-a up
  ip -n "$veth_b" addr add 10.3.0.2/24 dev wtv-b; ip -n "$veth_b" link set wtv-b up
  iperf "$veth_a" "$veth_b" 10.3.0.2 || fail "veth: iperf3 gave no result"
  ip netns del "$veth_a"; ip netns del "$veth_b"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
declare -A res
modes=("offload" "split" "no-offload" "veth")
for r in $(seq "$runs"); do
  through_pump offload; res[offload]+="$gbps "
  through_pump split --split; res[split]+="$gbps "
  through_pump no-offload --no-offload; res[no-offload]+="$gbps "
  through_veth; res[veth]+="$gbps "
  echo "run $r/$runs done" >&2
done
printf '%-12s %-10s %s\n' mode "Gbit/s" "runs"
for m in "${modes[@]}"; do
  printf '%-12s %-10s %s\n' "$m" "$(echo "${res[$m]}" | tr ' ' '\n' | grep . | median)" "${res[$m]}"
done
if [ -n "$json_out" ]; then
  for m in "${modes[@]}"; do
    echo "${res[$m]}" | tr ' ' '\n' | grep . | jq -s --arg m "$m" \
      '{($m): {median: (sort | .[(length - 1) / 2 | floor]), runs: .}}'
  done | jq -s --argjson runs "$runs" --argjson secs "$secs" \
    '{tool: "pump-tcp.sh", runs: $runs, seconds: $secs, unit: "Gbit/s", modes: add}' >"$json_out"
fi
