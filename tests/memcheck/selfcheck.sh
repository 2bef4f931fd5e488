#!/usr/bin/env bash
# Prove that a memory checking step can fail: through the same wrapper as
# the real step, a test that leaks and a test that reads past a block must
# each fail, and a clean test must pass.
#   tests/memcheck/selfcheck.sh valgrind|asan BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:?usage: selfcheck.sh valgrind|asan BUILD_DIR}
build=${2:?usage: selfcheck.sh valgrind|asan BUILD_DIR}
prog=$build/tests/memcheck/memcheck-selfcheck
ninja -C "$build" tests/memcheck/memcheck-selfcheck >/dev/null

bad=0
for t in clean definite_leak invalid_read; do
	want=failed
	[ "$t" = clean ] && want=passed
	if tests/memcheck/wrap.sh "$mode" "$prog" --jobs=1 --filter "selfcheck/$t" \
		>"$build/memcheck-selfcheck-$mode-$t.log" 2>&1; then
		got=passed
	else
		got=failed
	fi
	if [ "$got" = "$want" ]; then
		echo "memcheck self-check ($mode): $t: ${got}, as it must"
	else
		echo "memcheck self-check ($mode): $t: ${got}, expected: ${want} (log below)"
		cat "$build/memcheck-selfcheck-$mode-$t.log"
		bad=1
	fi
done
exit "$bad"
