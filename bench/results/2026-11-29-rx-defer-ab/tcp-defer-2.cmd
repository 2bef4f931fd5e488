build-repro/bench/wintun-bench --scenario tcp --runs 3 --duration 2
