#!/bin/bash
set -u
label=$1 napi=$2 to=$3
ns_a=np-a-$$ ns_b=np-b-$$
[ "$napi" = 1 ] && export WT_NAPI=1 || unset WT_NAPI
/tmp/wt-napi/build-repro/tools/tun-pump --create-netns --netns-a $ns_a --netns-b $ns_b --quiet \
  --addr-a 10.1.0.1/24 --route-a 10.2.0.0/24 --addr-b 10.2.0.1/24 --route-b 10.1.0.0/24 \
  --duration 40 --no-offload >/dev/null 2>/tmp/napi-pump.err &
pp=$!
sleep 2
for ns in $ns_a $ns_b; do
  for d in $(ip -n $ns -o link | awk -F': ' '{print $2}' | grep -v '^lo'); do
    ip netns exec $ns sh -c "echo $to > /sys/class/net/$d/gro_flush_timeout"
  done
done
ip netns exec $ns_b iperf3 -s -1 -B 10.2.0.1 >/dev/null 2>&1 &
sp=$!
sleep 0.5
ip netns exec $ns_a iperf3 -c 10.2.0.1 -t 7 -J >/tmp/np-iperf.json 2>&1 &
cp=$!
sleep 2
tid=$(ps -L -o tid=,comm= -p $pp | awk '$2 ~ /^wintun/ {print $1}')
perf record -q -o /tmp/perf-$label.data -g -t $tid -- sleep 3 2>/dev/null
wait $cp
kill $pp; wait $pp 2>/dev/null; wait $sp 2>/dev/null
jq '.end.sum_received.bits_per_second/1e9' /tmp/np-iperf.json
perf report -i /tmp/perf-$label.data --children --sort sym --stdio -g none 2>/dev/null | grep -v "^#" | grep -v "^$" | head -45 > /tmp/perf-$label.txt
