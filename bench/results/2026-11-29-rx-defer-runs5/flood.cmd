build-repro/bench/wintun-bench --scenario rx --scenario tx --scenario fwd --scenario pingpong --runs 5 --duration 3
