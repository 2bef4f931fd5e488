build-repro/bench/wintun-bench --scenario tso --runs 1 --duration 10  # perf record -a -g -- sleep 4, 1 s into each part
