build-repro/bench/wintun-bench --scenario rx --scenario fwd --scenario tcp --scenario tso --scenario pingpong --runs 3 --duration 2
