#!/usr/bin/env bash
# tools/udp-tunnel compared, in one run, with the same tunnel on plain TUN
# read/write (--plain, one packet per system call, as OpenVPN) and with no
# tunnel at all (the veth bound).  Four throw-away namespaces:
#
#   ep-a 10.10.1.2 --veth-- th-a [udp-tunnel] 192.168.50.1 --veth-- 192.168.50.2
#        [udp-tunnel] th-b --veth-- 10.10.2.2 ep-b
#
# iperf3 between the endpoints ep-a -> ep-b: one TCP stream, and a flood of
# 64-byte UDP payloads; modes interleaved in each round, medians printed.
# veth: th-a and th-b route to each other's endpoint network over their veth
# (the same path, the tunnel left out).  CPU per GB: user + system time of
# the two udp-tunnel processes (engine threads included) per GB received;
# the veth bound's work is all in the kernel's softirqs, not shown.
#   bench/udp-tunnel.sh [RUNS] [SECONDS] [JSON-OUT]
# BUILD (environment, default build): the build directory.
# MODES (environment): the modes to run, default "batch offload plain veth".
# ENGINE_CPUS (environment): the CPUs of th-a's and th-b's engine threads,
# default "0 1"; empty: the library's choice (the same CPU for both).
# TUNNEL_ARGS (environment): more udp-tunnel options for every tunnel mode.
set -euo pipefail
cd "$(dirname "$0")/.."
me='udp-tunnel.sh'
# shellcheck source=bench/lib.sh
. bench/lib.sh
runs=${1:-3}
secs=${2:-5}
json_out=${3:-}
tunnel=${BUILD:-build}/tools/udp-tunnel
read -r -a modes <<<"${MODES:-batch offload plain veth}"
ncpu=$(nproc)
engine_cpus=${ENGINE_CPUS-"$((0 % ncpu)) $((1 % ncpu))"}
need_tools "" iperf3 jq ip
need_build "$tunnel"
[ "$(id -u)" = 0 ] || fail "needs root (namespaces)"

# Names carry our PID: two instances (or a leftover) never collide.
ep_a=wtut-epa-$$ th_a=wtut-tha-$$ th_b=wtut-thb-$$ ep_b=wtut-epb-$$
inner_mtu=1452 # the tunnel's: 1500 less IPv6 + UDP headers; endpoints use it too
tun_a='' tun_b=''
bench_children=(srv_pid tun_a tun_b) bench_netns=("$ep_a" "$th_a" "$th_b" "$ep_b")

topology() {
  netns_add "$ep_a" "$th_a" "$th_b" "$ep_b"
  veth_pair "$ep_a" wtut-e "10.10.1.2/24" "$th_a" wtut-a "10.10.1.1/24" "$inner_mtu"
  veth_pair "$th_a" wtut-u "192.168.50.1/24" "$th_b" wtut-u "192.168.50.2/24" 1500
  veth_pair "$th_b" wtut-b "10.10.2.1/24" "$ep_b" wtut-e "10.10.2.2/24" "$inner_mtu"
  ip -n "$ep_a" route add default via 10.10.1.1
  ip -n "$ep_b" route add default via 10.10.2.1
  for ns in "$th_a" "$th_b"; do ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1; done
}

ready() { # both tunnels' udp-tunnel/in threads run (after their sessions are up)
  has_thread "$tun_a" udp-tunnel/in && has_thread "$tun_b" udp-tunnel/in
}

start_tunnels() { # MODE-ARGS...
  local common=(--quiet --mtu "$inner_mtu" --duration $((secs * 4 + 120))) pin_a=() pin_b=() extra=()
  read -r -a extra <<<"${TUNNEL_ARGS:-}"
  # Each process would pin its engine to the same (last) CPU: two tunnel
  # hosts on one machine get one CPU each instead.
  if [ -n "$engine_cpus" ] && [[ " $* " != *" --plain "* ]]; then
    pin_a=(--engine-cpu "${engine_cpus%% *}"); pin_b=(--engine-cpu "${engine_cpus##* }")
  fi
  ip netns exec "$th_a" "$tunnel" "${common[@]}" "${pin_a[@]}" --local 192.168.50.1:5555 --peer 192.168.50.2:5555 \
    --addr 10.99.0.1/30 --route 10.10.2.0/24 "$@" "${extra[@]}" 2>>"$tmp/tunnel.err" &
  tun_a=$!
  ip netns exec "$th_b" "$tunnel" "${common[@]}" "${pin_b[@]}" --local 192.168.50.2:5555 --peer 192.168.50.1:5555 \
    --addr 10.99.0.2/30 --route 10.10.1.0/24 "$@" "${extra[@]}" 2>>"$tmp/tunnel.err" &
  tun_b=$!
  retry 600 ready && return 0
  cat "$tmp/tunnel.err" >&2
  fail "udp-tunnel $* did not start"
}

veth_routes() { # add|del
  ip -n "$th_a" route "$1" 10.10.2.0/24 via 192.168.50.2
  ip -n "$th_b" route "$1" 10.10.1.0/24 via 192.168.50.1
}

# One iperf3 test from ep-a to ep-b; sets $bytes (received), $secs_run and
# $pkts (UDP: datagrams received) from its JSON.  No subshell, so the
# child PIDs stay visible to the cleanup.
iperf() { # IPERF-CLIENT-ARGS...
  iperf_server "$ep_b" 10.10.2.2
  iperf_client "$ep_a" 10.10.2.2 "$@"
  stop srv_pid
  jq -e '.error == null' <<<"$iperf_json" >/dev/null 2>&1 || { echo "$iperf_json" | tail -3 >&2; return 1; }
  if [ "${1:-}" = -u ]; then
    read -r bytes secs_run pkts < <(jq -r '.end.sum_received | "\(.bytes) \(.seconds) \(.packets - .lost_packets)"' <<<"$iperf_json")
  else
    read -r bytes secs_run < <(jq -r '.end.sum_received | "\(.bytes) \(.seconds)"' <<<"$iperf_json")
    pkts=0
  fi
}

# Run one test, append "gbps pps cpu_s_per_gb" to res[MODE-TEST].
measure() { # MODE TEST IPERF-ARGS...
  local mode=$1 test=$2 t0=0 t1=0; shift 2
  [ -n "$tun_a" ] && t0=$(cpu_ticks "$tun_a" "$tun_b")
  iperf "$@" || fail "$mode $test: iperf3 gave no result"
  if [ -n "$tun_a" ]; then
    if ! kill -0 "$tun_a" 2>/dev/null || ! kill -0 "$tun_b" 2>/dev/null; then
      cat "$tmp/tunnel.err" >&2
      fail "$mode $test: udp-tunnel exited during the test"
    fi
    t1=$(cpu_ticks "$tun_a" "$tun_b")
  fi
  res[$mode-$test]+=$(awk -v b="$bytes" -v s="$secs_run" -v p="$pkts" -v dt=$((t1 - t0)) \
    -v hz="$(getconf CLK_TCK)" -v tun="${tun_a:+1}" \
    'BEGIN { printf "%.3f/%.0f/%s/%s ", b * 8 / s / 1e9, p / s,
             tun && b ? sprintf("%.2f", dt / hz / (b / 1e9)) : "-",
             tun && p ? sprintf("%.2f", dt / hz / p * 1e6) : "-" }')
}

run_mode() { # MODE
  case $1 in
  batch) start_tunnels ;;
  offload) start_tunnels --offload ;;
  plain) start_tunnels --plain ;;
  veth) veth_routes add ;;
  esac
  measure "$1" tcp
  measure "$1" udp64 -u -l 64 -b 0
  if [ "$1" = veth ]; then veth_routes del; else stop tun_a; stop tun_b; fi
}

col() { # RESULTS FIELD: median of one field over the runs
  tr ' ' '\n' <<<"$1" | grep . | cut -d/ -f"$2" | median
}

bench_begin
declare -A res
topology
for r in $(seq "$runs"); do
  for m in "${modes[@]}"; do run_mode "$m"; done
  echo "round $r/$runs done" >&2
done

echo "udp-tunnel.sh: $runs rounds of ${secs} s, medians; CPU = s of the two udp-tunnel processes per GB received"
printf '%-8s %11s %13s %13s %13s %14s\n' mode "TCP Gbit/s" "TCP CPU s/GB" "UDP-64 pkt/s" \
  "UDP CPU s/GB" "UDP CPU us/pkt"
for m in "${modes[@]}"; do
  printf '%-8s %11s %13s %13s %13s %14s\n' "$m" "$(col "${res[$m-tcp]}" 1)" "$(col "${res[$m-tcp]}" 3)" \
    "$(col "${res[$m-udp64]}" 2)" "$(col "${res[$m-udp64]}" 3)" "$(col "${res[$m-udp64]}" 4)"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2fx", a / b; else print "-" }'; }
if [[ -n "${res[batch-udp64]:-}" && -n "${res[plain-udp64]:-}" ]]; then
  echo "UDP-64 pkt/s, batch / plain: $(ratio "$(col "${res[batch-udp64]}" 2)" "$(col "${res[plain-udp64]}" 2)") (target >= 1.5x)"
fi
if [[ -n "${res[offload-tcp]:-}" && -n "${res[veth-tcp]:-}" ]]; then
  echo "TCP Gbit/s, offload / veth: $(ratio "$(col "${res[offload-tcp]}" 1)" "$(col "${res[veth-tcp]}" 1)") (target >= 0.5x)"
fi
echo "every run (Gbit/s / pkt/s / CPU s/GB / CPU us/pkt; TCP: pkt/s not measured):"
for k in $(printf '%s\n' "${!res[@]}" | sort); do echo "  $k: ${res[$k]}"; done
if [ -n "$json_out" ]; then
  for k in "${!res[@]}"; do
    tr ' ' '\n' <<<"${res[$k]}" | grep . | jq -R 'split("/") | {gbps: (.[0] | tonumber),
      pps: (.[1] | tonumber), cpu_s_per_gb: (.[2] | tonumber? // null),
      cpu_us_per_pkt: (.[3] | tonumber? // null)}' |
      jq -s --arg k "$k" '{($k): .}'
  done | jq -s --argjson runs "$runs" --argjson secs "$secs" \
    '{tool: "udp-tunnel.sh", runs: $runs, seconds: $secs, results: add}' >"$json_out"
fi
