WINTUN_DISABLE_FEATURES=rx-wait-read build-repro/bench/wintun-bench --rate 80000 --scenario rx --runs 3 --duration 2
