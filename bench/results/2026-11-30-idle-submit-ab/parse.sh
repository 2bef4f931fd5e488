#!/bin/bash
cd /tmp/ab3
for r in 1 2 3; do for v in base adapt merge; do
  f=$v-flood-$r.txt; [ -f $f ] || continue
  printf "%-6s r%s " $v $r
  awk '/^== rx:/{s="rx"} /^== fwd:/{s="fwd"} /^== tcp:/{s="tcp"} /^== pingpong/{s="pp"}
    s=="rx" && /^packets\/s delivered/{printf "rx pps %s ", $NF}
    s=="rx" && /^I\/O thread cycles/{printf "cyc %s ", $NF}
    s=="fwd" && /^packets\/s delivered/{printf "| fwd pps %s ", $NF}
    s=="fwd" && /^I\/O thread cycles/{printf "cyc %s ", $NF}
    s=="tcp" && /^Gbit\/s delivered/{printf "| tcp %s ", $NF}
    s=="pp" && /round trips\/s/{printf "| pp rt %s ", $NF}
    s=="pp" && /p50/{printf "p50 %s ", $NF}' $f
  for p in paced paced0; do g=$v-$p-$r.txt; [ -f $g ] || continue
    awk -v p=$p '/^== rx:/{s="rx"} /^== fwd:/{s="fwd"} s!="" && /^I\/O thread cycles/{printf "| %s %s cyc %s ", p, s, $NF}' $g; done
  echo
done; done
