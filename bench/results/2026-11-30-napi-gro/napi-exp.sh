#!/bin/bash
# usage: napi-exp.sh LABEL NAPI(0/1) TIMEOUT_NS [SECS] [perf]
# perf: also perf record -g the engine thread for 3 s, 2 s into the stream
# (report: perf report --children --sort sym -g none -> perf-engine-*.txt)
set -u
label=$1 napi=$2 to=$3 secs=${4:-5} perf=${5:-}
ns_a=nx-a-$$ ns_b=nx-b-$$
[ "$napi" = 1 ] && export WT_NAPI=1 || unset WT_NAPI
/tmp/wt-napi/build-repro/tools/tun-pump --create-netns --netns-a $ns_a --netns-b $ns_b --quiet \
  --addr-a 10.1.0.1/24 --route-a 10.2.0.0/24 --addr-b 10.2.0.1/24 --route-b 10.1.0.0/24 \
  --duration 40 --no-offload >/dev/null 2>/tmp/napi-pump.err &
pp=$!
for i in $(seq 100); do ls /proc/$pp/task | wc -l | grep -qv '^1$' && ip -n $ns_b link 2>/dev/null | grep -q UP && break; sleep 0.1; done
sleep 1
for ns in $ns_a $ns_b; do
  for d in $(ip -n $ns -o link | awk -F': ' '{print $2}' | grep -v '^lo'); do
    ip netns exec $ns sh -c "echo $to > /sys/class/net/$d/gro_flush_timeout"
  done
done
ip netns exec $ns_b iperf3 -s -1 -B 10.2.0.1 >/dev/null 2>&1 &
sp=$!
sleep 0.5
cpu() { for t in /proc/$1/task/*; do awk '{printf "%s:%d ", $2, $14+$15}' $t/stat; done; }
before=$(cpu $pp)
if [ -n "$perf" ]; then
  (sleep 2; tid=$(ps -L -o tid=,comm= -p $pp | awk '$2 ~ /^wintun/ {print $1}')
   perf record -q -o /tmp/perf-$label.data -g -t $tid -- sleep 3 2>/dev/null) &
  perf_pid=$!
fi
g=$(ip netns exec $ns_a iperf3 -c 10.2.0.1 -t $secs -J 2>/tmp/napi-iperf.err | tee /tmp/napi-iperf.json | jq '.end.sum_received.bits_per_second/1e9*100|round/100')
[ -z "$perf" ] || wait $perf_pid
after=$(cpu $pp)
scpu=$(jq '.end.cpu_utilization_percent | "snd \(.host_total|round)% rcv \(.remote_total|round)%"' /tmp/napi-iperf.json)
kill $pp; wait $pp 2>/dev/null; wait $sp 2>/dev/null
echo "$label napi=$napi to=$to gbps=$g before: $before after: $after iperf: $scpu"
