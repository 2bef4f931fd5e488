WINTUN_DISABLE_FEATURES=rx-wait-read build-repro/bench/wintun-bench --scenario rx --scenario pingpong --runs 3 --duration 2
