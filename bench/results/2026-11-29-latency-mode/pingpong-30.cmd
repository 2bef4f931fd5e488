build-repro/bench/wintun-bench --scenario pingpong --runs 5 --duration 2 --spin-us 30
