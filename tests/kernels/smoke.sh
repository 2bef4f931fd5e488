#!/usr/bin/env bash
# What a user does first, run inside a booted kernel (tests/kernels/run.sh
# VERSION -- tests/kernels/smoke.sh [BUILD]): the Wintun example client
# (echo requests through the Receive ring, replies back through the Send
# ring), then iperf3 TCP through tun-pump in each of its modes.  Traffic
# stays in namespaces the tools create.  Fails if any step does.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}

echo "== smoke: kernel $(uname -r)"
echo "== smoke: wintun-example, 3 echo requests"
out=$("$build/tools/wintun-example" --count 3 2>&1) || { echo "$out"; exit 1; }
echo "$out"
replies=$(grep -c "echo reply" <<<"$out" || true)
[ "$replies" -ge 3 ] || { echo "smoke: $replies echo replies of 3" >&2; exit 1; }

echo "== smoke: iperf3 through tun-pump (offload, --split, --no-offload) and veth, 1 run of 3 s"
BUILD=$build bench/pump-tcp.sh 1 3
echo "== smoke: passed"
