#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for a
# bounded time, starting from the seed corpus in corpus/<target>/.  Fails on
# the first crash, sanitizer report, leak, timeout or failed check.
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   subset to run (default: all)
#   FUZZ_BUILD     build directory (default build-fuzz at the top)
# A crash leaves its input in $FUZZ_BUILD/<target>/crash-*; replay it with
#   $FUZZ_BUILD/fuzz_<target> $FUZZ_BUILD/<target>/crash-...
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
seconds=${FUZZ_SECONDS:-60}
out=${FUZZ_BUILD:-build-fuzz}
targets=${FUZZ_TARGETS:-gso send_ring engine_tx netlink bundle}
cc=${FUZZ_CC:-clang}

cflags=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -std=gnu11 -Werror -Wall -Wextra -Wshadow
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-missing-field-initializers
	-Iinclude -Isrc -I.)

declare -A sources=(
	[gso]="tests/fuzz/fuzz_gso.c src/gso.c src/ip_header.c src/checksum.c src/log.c"
	[send_ring]="tests/fuzz/fuzz_send_ring.c src/session.c src/session_client.c
		src/ring_sync.c src/memory.c src/log.c"
	[engine_tx]="tests/fuzz/fuzz_engine_tx.c tests/tx_harness.c src/engine_tx.c
		src/engine_tx_gro.c src/ip_header.c src/checksum.c src/session.c src/ring_sync.c src/memory.c src/log.c"
	[netlink]="tests/fuzz/fuzz_netlink.c src/netns.c src/log.c"
	[bundle]="tests/fuzz/fuzz_bundle.c src/bundle.c src/ip_header.c src/log.c"
)

mkdir -p "$out"
for t in $targets; do
	[ -n "${sources[$t]:-}" ] || { echo "fuzz: unknown target $t" >&2; exit 2; }
	echo "fuzz: building fuzz_$t"
	# shellcheck disable=SC2086
	"$cc" "${cflags[@]}" -o "$out/fuzz_$t" ${sources[$t]} -lnuma -lmnl -lpthread
done

status=0
for t in $targets; do
	work="$out/$t"
	rm -rf "$work"
	mkdir -p "$work/corpus"
	echo "fuzz: running fuzz_$t for ${seconds}s"
	# New inputs go to $work/corpus; the checked-in seeds stay untouched.
	if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$out/fuzz_$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
		"$work/corpus" "tests/fuzz/corpus/$t" >"$work/log" 2>&1; then
		echo "fuzz: fuzz_$t FAILED; the report (tail of $work/log):" >&2
		grep -E "ERROR|SUMMARY|^    #[0-9]+ |Test unit written|deadly signal" "$work/log" |
			head -40 >&2 || tail -40 "$work/log" >&2
		status=1
		continue
	fi
	grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$work/log" | tail -2 |
		sed "s/^/fuzz: fuzz_$t: /"
done
[ "$status" -eq 0 ] && echo "fuzz: all targets ran clean"
exit "$status"
