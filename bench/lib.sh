# shellcheck shell=bash
# Shared by the bench/*.sh scripts that measure through throw-away network
# namespaces (sourced from the top of the tree).  Before sourcing, a script
# sets $me (the name its messages start with); it then lists its children's
# PID variables in bench_children and its namespaces in bench_netns, and calls
# bench_begin.  Measuring functions set variables rather than print: no
# subshell, so the child PIDs stay visible to the cleanup.

# shellcheck disable=SC2154 # $me: set by the sourcing script
fail() { echo "$me: $*" >&2; exit 1; }

need_tools() { # HINT TOOL...: fail unless each TOOL is found; HINT ends the message
  local hint=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || fail "needs $tool$hint"
  done
}

need_build() { # FILE: fail unless the build made this program
  [ -x "$1" ] || fail "$1 is missing (build first, or set BUILD)"
}

# The children running now (emptied once reaped, so a recycled PID is never
# hit) and the namespaces to delete at exit.
srv_pid=''
bench_children=() bench_netns=()

stop() { # VARNAME: kill and reap the child whose PID it holds
  local p=${!1}
  [ -n "$p" ] || return 0
  kill "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  printf -v "$1" ''
}

netns_add() { # NS...: new namespaces, loopback up
  local ns
  for ns in "$@"; do
    ip netns add "$ns"; ip -n "$ns" link set lo up
  done
}

del_netns() { # NS...: delete those that exist
  local ns
  for ns in "$@"; do
    if [ -e "/run/netns/$ns" ]; then ip netns del "$ns" 2>/dev/null || true; fi
  done
}

bench_cleanup() {
  local v
  for v in "${bench_children[@]}"; do stop "$v"; done
  del_netns "${bench_netns[@]}"
  rm -rf "$tmp"
}

bench_begin() { # sets $tmp, a directory removed at exit with the rest
  tmp=$(mktemp -d)
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

retry() { # TENTHS COMMAND...: COMMAND until it succeeds, every 0.1 s
  local n=$1
  shift
  for _ in $(seq "$n"); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

has_thread() { # PID NAME: a thread of PID has a name starting with NAME
  grep -qs "^$2" /proc/"$1"/task/*/comm
}

veth_pair() { # NS1 DEV1 ADDR1 NS2 DEV2 ADDR2 [MTU]: a link between two namespaces, up
  local mtu=()
  [ -n "${7:-}" ] && mtu=(mtu "$7")
  ip link add "$2" netns "$1" "${mtu[@]}" type veth peer name "$5" netns "$4" "${mtu[@]}"
  ip -n "$1" addr add "$3" dev "$2"; ip -n "$1" link set "$2" up
  ip -n "$4" addr add "$6" dev "$5"; ip -n "$4" link set "$5" up
}

iperf_server() { # NS ADDR: a one-shot iperf3 server listening, as $srv_pid
  # Our child (not iperf3 -D), so a failed client cannot leave it running in
  # a namespace nobody deletes.
  ip netns exec "$1" iperf3 -s -1 -B "$2" >/dev/null 2>&1 &
  # shellcheck disable=SC2034 # read by stop() through ${!1}
  srv_pid=$!
  sleep 0.3
}

# shellcheck disable=SC2154 # $secs: set by the sourcing script
iperf_client() { # NS ADDR IPERF-ARGS...: a $secs-second test -> $iperf_json
  local ns=$1 addr=$2
  shift 2
  # A hang guard only: a stream whose device vanished can spin forever.
  iperf_json=$(timeout -k 5 $((secs + 30)) ip netns exec "$ns" \
    iperf3 -c "$addr" -t "$secs" -J --connect-timeout 5000 "$@" 2>/dev/null) || true
}

iperf_gbps() { # NS_CLIENT NS_SERVER ADDR IPERF-ARGS... -> $gbps, fails on no result
  local client=$1 server=$2 addr=$3
  shift 3
  iperf_server "$server" "$addr"
  iperf_client "$client" "$addr" "$@"
  stop srv_pid
  gbps=$(jq -e -r 'select(.error == null) | .end.sum_received.bits_per_second / 1e9 * 100 | round / 100' \
    <<<"$iperf_json" 2>/dev/null) || gbps=
  [ -n "$gbps" ]
}

veth_gbps() { # NS_A DEV_A NS_B DEV_B IPERF-ARGS...: A to B over a new veth pair -> $gbps
  ip netns add "$1"; ip netns add "$3"
  veth_pair "$1" "$2" 10.3.0.1/24 "$3" "$4" 10.3.0.2/24
  iperf_gbps "$1" "$3" 10.3.0.2 "${@:5}" || return 1
  ip netns del "$1"; ip netns del "$3"
}

# For the scripts measuring tools/tun-pump against a veth pair: the program
# ($BUILD, default build), the names of its namespaces and of the veth
# pair's, the cleanup.  tun-pump removes its namespaces itself, unless it
# was killed.
pump_setup() { # NS-PREFIX VETH-PREFIX
  pump=${BUILD:-build}/tools/tun-pump
  need_build "$pump"
  # Names carry our PID: two instances (or a leftover) never collide.
  ns_a=$1-a-$$ ns_b=$1-b-$$ veth_a=$2-a-$$ veth_b=$2-b-$$
  pump_pid='' gbps=''
  bench_children=(srv_pid pump_pid) bench_netns=("$veth_a" "$veth_b" "$ns_a" "$ns_b")
  bench_begin
}

# tools/tun-pump between the namespaces $ns_a (10.1.0.1) and $ns_b
# (10.2.0.1), which it creates, as $pump_pid; its standard error goes to
# $tmp/pump.err.  Ready once its forwarder thread runs (after both sessions
# are up); on a slow machine (a kernel under emulation) that takes seconds.
# The duration only guards against a hang: the caller stops it.
pump_start() { # STDOUT-FILE TUN-PUMP-ARGS...
  local out=$1
  shift
  "$pump" --create-netns --netns-a "$ns_a" --netns-b "$ns_b" --quiet \
    --addr-a 10.1.0.1/24 --route-a 10.2.0.0/24 --addr-b 10.2.0.1/24 --route-b 10.1.0.0/24 \
    --duration $((secs + 60)) "$@" >"$out" 2>"$tmp/pump.err" &
  pump_pid=$!
  retry 600 has_thread "$pump_pid" tun-pump/fwd || true
}

pump_failed() { # MESSAGE: tun-pump's errors, then fail
  cat "$tmp/pump.err" >&2
  fail "$*"
}

cpu_ticks() { # PID...: user + system clock ticks of these processes, all threads
  local t=0 p f
  for p in "$@"; do
    # Fields after the command name, which may hold spaces: utime is the 12th.
    f=$(sed 's/^.*) //' /proc/"$p"/stat)
    t=$((t + $(awk '{print $12 + $13}' <<<"$f")))
  done
  echo "$t"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }
