#!/usr/bin/env bash
# Model-check the Alertable wake-up handshake (alertable.pml) with spin.
#   - the handshake as implemented (both fences) must verify: no lost wake-up
#     (LTL no_lost_wakeup, with weak fairness) and no invalid end state (the
#     consumer asleep for ever);
#   - each variant with one fence removed must be REJECTED: spin must find
#     the counterexample, else this script fails (the model would be too weak
#     to catch the bug it exists for).
# Exits non-zero on any unexpected result.  Needs spin and a C compiler.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

# run_pan NAME DEFINES MODE: builds and runs pan; prints its error count.
# MODE ltl: acceptance cycles of the LTL claim alone (weak fairness, -A:
# assertions ignored, so the LTL property has to find the bug by itself);
# MODE end: safety run without the claim (invalid end states, assertions).
run_pan() {
	local name=$1 defs=$2 mode=$3 dir="$work/$1-$3" out
	mkdir -p "$dir"
	cp "$here/alertable.pml" "$dir/"
	(cd "$dir" && spin $defs -a alertable.pml >spin.log 2>&1) || {
		echo "check: spin -a failed for $name" >&2; cat "$dir/spin.log" >&2; return 2; }
	if [ "$mode" = ltl ]; then
		(cd "$dir" && cc -O2 -DNOREDUCE -o pan pan.c)
		out=$(cd "$dir" && ./pan -a -f -A -m100000 2>&1) || true
	else
		(cd "$dir" && cc -O2 -DNOREDUCE -DNOCLAIM -o pan pan.c)
		out=$(cd "$dir" && ./pan -m100000 2>&1) || true
	fi
	echo "$out" >"$dir/pan.out"
	if grep -q "max search depth too small" <<<"$out"; then
		echo "check: $name/$mode: search depth too small, result incomplete" >&2
		return 2
	fi
	local errs
	errs=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
	[ -n "$errs" ] || { echo "check: $name/$mode: no pan summary" >&2; echo "$out" >&2; return 2; }
	local first
	first=$(grep -m1 -E '^pan:1:' <<<"$out" || true)
	echo "$name/$mode: errors: $errs${first:+  ($first)}" >&2
	# Show the counterexample trail briefly for the record.
	if [ "$errs" -gt 0 ] && [ -n "${MODEL_TRAIL:-}" ]; then
		(cd "$dir" && spin $defs -t -p -g alertable.pml | tail -40) >&2 || true
	fi
	echo "$errs"
}

expect() { # expect NAME DEFINES pass|reject
	local name=$1 defs=$2 want=$3 mode errs
	for mode in ltl end; do
		errs=$(run_pan "$name" "$defs" "$mode") || { fail=1; continue; }
		if [ "$want" = pass ] && [ "$errs" -ne 0 ]; then
			echo "FAIL: $name/$mode: spin found a lost wake-up in the real handshake" >&2
			fail=1
		elif [ "$want" = reject ] && [ "$errs" -eq 0 ]; then
			echo "FAIL: $name/$mode: spin did NOT reject the fence-less variant" >&2
			fail=1
		fi
	done
}

for n in 1 2 3; do
	expect "handshake-n$n" "-DNPKT=$n" pass
done
expect "no-producer-fence" "-DNO_PRODUCER_FENCE" reject
expect "no-consumer-fence" "-DNO_CONSUMER_FENCE" reject
expect "no-submit-before-sleep" "-DNO_SUBMIT_BEFORE_SLEEP" reject

if [ "$fail" -ne 0 ]; then
	echo "model check: FAILED" >&2
	exit 1
fi
echo "model check: handshake verified, the fence-less and the unsubmitted-signal variants rejected"
