build-repro/bench/wintun-bench --rate 20000 --scenario rx --runs 3 --duration 2 
