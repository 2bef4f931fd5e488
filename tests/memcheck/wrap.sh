#!/usr/bin/env bash
# Run a test program under a memory checker and fail when any of its
# processes reported an error or a definite leak.
#   tests/memcheck/wrap.sh valgrind|asan PROGRAM [ARGS...]
# (as `meson test --wrap="$PWD/tests/memcheck/wrap.sh valgrind"`; the asan
# mode expects a -Db_sanitize=address[,undefined] build).
#
# Why the reports are collected in files rather than taken from exit codes:
# Criterion runs each test in a worker process and ignores how a worker
# exits once its test has ended.  Leaks are found at the worker's exit, after
# that end, so valgrind's --error-exitcode and LeakSanitizer's exit code are
# lost and the test passes.  Each process writes its report to a file of its
# own here instead, and any report fails the run.
set -uo pipefail
mode=${1:?usage: wrap.sh valgrind|asan PROGRAM [ARGS...]}
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/wt-memcheck.XXXXXX")
trap 'rm -rf "$dir"' EXIT

case $mode in
valgrind)
	# System tools started by a test (sh, ip) are not ours to check.
	valgrind --error-exitcode=1 --leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --trace-children=yes \
		--trace-children-skip='/bin/*,/sbin/*,/usr/bin/*,/usr/sbin/*' \
		--log-file="$dir/valgrind.%p" "$@"
	rc=$?
	# Every valgrind process ends its log with a count of errors (leaks
	# included, by --errors-for-leak-kinds).
	reports=$(grep -lE 'ERROR SUMMARY: [1-9]' "$dir"/valgrind.* 2>/dev/null)
	;;
asan)
	# detect_leaks: LeakSanitizer runs at each process's exit; log_path:
	# every report goes to a file named after its process.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:log_path=$dir/asan" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$dir/ubsan" "$@"
	rc=$?
	# A sanitizer writes its file only when it has something to report.
	reports=$(ls "$dir"/asan.* "$dir"/ubsan.* 2>/dev/null)
	;;
*)
	echo "wrap.sh: unknown mode '$mode' (valgrind or asan)" >&2
	exit 2
	;;
esac

if [ -n "$reports" ]; then
	for f in $reports; do
		echo "== memcheck ($mode): report of process ${f##*.}" >&2
		cat "$f" >&2
	done
	echo "memcheck ($mode): $(echo "$reports" | wc -l) process(es) reported errors or leaks" >&2
	[ "$rc" = 0 ] && rc=1
fi
exit "$rc"
