#!/usr/bin/env bash
# wireguard-go on libwintun against Debian's stock wireguard-go, through a
# WireGuard tunnel over a veth pair between two throw-away namespaces.
#
#   bench/wireguard-interop.sh --check            ping both ways, mixed pair only
#   bench/wireguard-interop.sh [--rounds N] [--seconds S] [--perf DIR]
#
# Namespace A runs one end, B the other; wg configures both with keys made
# on the fly.  Pairs (A-B): wintun-stock (interop), stock-stock, wintun-wintun.
# --check: the mixed pair only, ping A->B and B->A.  Otherwise every pair
# carries ping, an iperf3 TCP stream and an iperf3 UDP flood in both
# directions, the pairs interleaved N rounds (default 2) of S-second tests
# (default 5), and a table of medians: Gbit/s and packets/s (the receiving
# tunnel interface's counters) and CPU seconds per GB of each wireguard-go
# process (utime+stime of all its threads, the libwintun engine included).
# --perf DIR: also perf record -g each process during one TCP A->B test per
# pair, reports in DIR.  --pairs and --tests (quoted, space-separated) pick
# a subset, e.g. --pairs "wintun-wintun stock-stock" --tests tcp-ab.
# WG_WINTUN_CPU, WG_WINTUN_SPIN_US, WG_WINTUN_RING reach wireguard-go-wintun
# (see the README).
#
# WG_WINTUN (environment): the wireguard-go-wintun binary (default
# build/bindings/go/wireguard-go-wintun, made by tools/check-go.sh);
# WG_STOCK: the stock one (default /usr/bin/wireguard-go).
# Everything runs in namespaces this script creates and deletes; every
# process it starts is its own child, stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
me='wireguard-interop'
# shellcheck source=bench/lib.sh
. bench/lib.sh

check=false rounds=2 secs=5 perf_dir=''
pairs="wintun-stock stock-stock wintun-wintun" tests="tcp-ab tcp-ba udp-ab udp-ba"
while [ $# -gt 0 ]; do
  case $1 in
    --check) check=true ;;
    --rounds) rounds=$2; shift ;;
    --seconds) secs=$2; shift ;;
    --perf) perf_dir=$2; shift ;;
    --pairs) pairs=$2; shift ;;
    --tests) tests=$2; shift ;;
    *) echo "usage: $0 [--check] [--rounds N] [--seconds S] [--perf DIR] [--pairs LIST] [--tests LIST]" >&2; exit 2 ;;
  esac
  shift
done
wintun_bin=${WG_WINTUN:-build/bindings/go/wireguard-go-wintun}
stock_bin=${WG_STOCK:-/usr/bin/wireguard-go}
need_tools " (tools/setup-deps.sh)" wg iperf3 jq ping
[ -x "$wintun_bin" ] || fail "$wintun_bin is missing (tools/check-go.sh builds it, or set WG_WINTUN)"
[ -x "$stock_bin" ] || fail "$stock_bin is missing (apt-get install wireguard-go)"
[ -n "$perf_dir" ] && { command -v perf >/dev/null || fail "--perf needs perf (linux-perf)"; mkdir -p "$perf_dir"; }

# Names carry our PID so that two runs (or a leftover) never collide; the
# tunnel interfaces differ between A and B because both namespaces share
# /var/run/wireguard, where the UAPI sockets are named after them.
ns_a=wgi-a-$$ ns_b=wgi-b-$$ if_a=wgia$$ if_b=wgib$$
pid_a='' pid_b='' perf_a='' perf_b=''
bench_children=(perf_a perf_b srv_pid pid_a pid_b) bench_netns=("$ns_a" "$ns_b")
bench_begin

netns_add "$ns_a" "$ns_b"
veth_pair "$ns_a" veth-a 10.77.0.1/24 "$ns_b" veth-b 10.77.0.2/24
umask 077 # private keys
wg genkey >"$tmp/key-a"
wg genkey >"$tmp/key-b"
pub_a=$(wg pubkey <"$tmp/key-a")
pub_b=$(wg pubkey <"$tmp/key-b")

binary() { [ "$1" = wintun ] && echo "$wintun_bin" || echo "$stock_bin"; }

uapi_or_exited() { # PID IFNAME: its UAPI socket is there, or it is gone
  [ -S "/var/run/wireguard/$2.sock" ] || ! kill -0 "$1" 2>/dev/null
}

# up SIDE KIND: start one end in the foreground as our child, wait for its
# UAPI socket, configure it with wg and bring the tunnel up.
up() {
  local side=$1 kind=$2 ns ifname key peer addr peer_addr pid
  if [ "$side" = a ]; then
    ns=$ns_a ifname=$if_a key=$tmp/key-a peer=$pub_b addr=10.78.0.1 peer_addr=10.77.0.2
  else
    ns=$ns_b ifname=$if_b key=$tmp/key-b peer=$pub_a addr=10.78.0.2 peer_addr=10.77.0.1
  fi
  ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error \
    "$(binary "$kind")" -f "$ifname" 2>"$tmp/log-$side" &
  pid=$!
  printf -v "pid_$side" %s "$pid"
  retry 100 uapi_or_exited "$pid" "$ifname" || true
  if [ ! -S "/var/run/wireguard/$ifname.sock" ]; then
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/log-$side" >&2; fail "$kind end in $side exited"; }
    fail "$kind end in $side: no UAPI socket after 10 s"
  fi
  ip netns exec "$ns" wg set "$ifname" private-key "$key" listen-port 51820 \
    peer "$peer" allowed-ips 10.78.0.0/24 endpoint "$peer_addr:51820"
  ip -n "$ns" addr add "$addr/24" dev "$ifname"
  ip -n "$ns" link set "$ifname" up
}

down() {
  stop pid_a
  stop pid_b
}

# ping_both: the tunnel carries ICMP both ways (the first pings also make
# the handshake, hence the retries).
ping_both() {
  ip netns exec "$ns_a" ping -q -c 3 -i 0.2 -w 20 10.78.0.2 >/dev/null ||
    fail "$1: ping A->B through the tunnel failed"
  ip netns exec "$ns_b" ping -q -c 3 -i 0.2 -w 20 10.78.0.1 >/dev/null ||
    fail "$1: ping B->A through the tunnel failed"
}

# link_rx NS IF: bytes and packets the tunnel interface received.
link_rx() {
  ip -n "$1" -j -s link show "$2" | jq -r '.[0].stats64.rx | "\(.bytes) \(.packets)"'
}

# measure PAIR TEST: one iperf3 test from the sender to the receiver side;
# appends "PAIR TEST gbps pps cpu_a cpu_b" (CPU s/GB) to $tmp/results.
measure() {
  local pair=$1 test=$2 snd rcv_ns rcv_if dst args c0a c0b b0 p0 b1 p1 t0 t1
  case $test in
    tcp-ab | udp-ab) snd=$ns_a rcv_ns=$ns_b rcv_if=$if_b dst=10.78.0.2 ;;
    *) snd=$ns_b rcv_ns=$ns_a rcv_if=$if_a dst=10.78.0.1 ;;
  esac
  args=()
  # UDP: as fast as iperf3 can send, datagrams that fill the tunnel MTU.
  [ "${test%%-*}" = udp ] && args=(-u -b 0 -l 1372)
  iperf_server "$rcv_ns" "$dst"
  read -r b0 p0 < <(link_rx "$rcv_ns" "$rcv_if")
  c0a=$(cpu_ticks "$pid_a") c0b=$(cpu_ticks "$pid_b") t0=$(date +%s.%N)
  iperf_client "$snd" "$dst" "${args[@]}"
  t1=$(date +%s.%N)
  read -r b1 p1 < <(link_rx "$rcv_ns" "$rcv_if")
  local ca=$(($(cpu_ticks "$pid_a") - c0a)) cb=$(($(cpu_ticks "$pid_b") - c0b))
  stop srv_pid
  jq -e 'select(.error == null) | .end' <<<"$iperf_json" >/dev/null 2>&1 || fail "$pair $test: iperf3 gave no result"
  awk -v pair="$pair" -v test="$test" -v b=$((b1 - b0)) -v p=$((p1 - p0)) -v ca="$ca" -v cb="$cb" \
    -v hz="$(getconf CLK_TCK)" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    'BEGIN { gb = b / 1e9; if (gb <= 0) gb = 1e-9
      printf "%s %s %.3f %.0f %.2f %.2f\n", pair, test, b * 8 / t / 1e9, p / t, ca / hz / gb, cb / hz / gb }' \
    >>"$tmp/results"
}

perf_tcp() { # PAIR: a perf profile of each end during one TCP A->B test
  perf record -q -g -o "$perf_dir/$1-a.data" -p "$pid_a" -- sleep "$secs" >/dev/null 2>&1 &
  perf_a=$!
  perf record -q -g -o "$perf_dir/$1-b.data" -p "$pid_b" -- sleep "$secs" >/dev/null 2>&1 &
  perf_b=$!
  measure "$1-perf" tcp-ab
  wait "$perf_a" || true
  wait "$perf_b" || true
  perf_a='' perf_b=''
  # Per thread (the libwintun engine is "wintun/IFNAME") and object, then
  # per symbol.
  for s in a b; do
    { perf report -q --no-children -g none --percent-limit 0.5 --sort comm,dso -i "$perf_dir/$1-$s.data"
      perf report -q --no-children -g none --percent-limit 0.5 --sort dso,sym -i "$perf_dir/$1-$s.data" |
        head -40; } >"$perf_dir/$1-$s.txt" 2>/dev/null || true
  done
}

run_pair() { # KIND_A-KIND_B
  local pair=$1 kinds
  IFS=- read -r -a kinds <<<"$pair"
  set -- "${kinds[@]}"
  up a "$1"
  up b "$2"
  ping_both "$pair"
  echo "$pair: ping both ways OK"
  if ! $check; then
    for test in $tests; do measure "$pair" "$test"; done
    [ -n "$perf_dir" ] && [ ! -e "$perf_dir/$pair-a.txt" ] && perf_tcp "$pair"
  fi
  down
}

if $check; then
  run_pair wintun-stock
  run_pair stock-wintun
  echo "wireguard-interop: OK"
  exit 0
fi

: >"$tmp/results"
for r in $(seq "$rounds"); do
  echo "== round $r of $rounds"
  for pair in $pairs; do run_pair "$pair"; done
done
grep -v -- -perf "$tmp/results" >"$tmp/plain" || true
echo
echo "Medians over $rounds rounds of ${secs} s (A-B: A's end, then B's; CPU: seconds per GB through the tunnel)"
echo
echo "| pair (A-B) | test | Gbit/s | packets/s | CPU s/GB A | CPU s/GB B |"
echo "|---|---|---:|---:|---:|---:|"
for pair in $pairs; do
  for test in $tests; do
    awk -v pair="$pair" -v test="$test" '$1 == pair && $2 == test' "$tmp/plain" |
      awk -v pair="$pair" -v test="$test" '
        function median(col,   n, i, j, t, v) {
          n = 0; for (i = 1; i <= NR; i++) v[++n] = row[i, col]
          for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
          return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
        { for (c = 3; c <= 6; c++) row[NR, c] = $c }
        END { if (NR) printf "| %s | %s | %.2f | %.0f | %.2f | %.2f |\n", pair, test,
              median(3), median(4), median(5), median(6) }'
  done
done
echo
echo "raw:"
cat "$tmp/results"
