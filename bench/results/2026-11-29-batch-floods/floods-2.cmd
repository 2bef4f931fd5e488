build-repro/bench/wintun-bench --scenario rx --scenario rx-batch --scenario tx --scenario tx-batch --runs 3 --duration 2
