#!/usr/bin/env bash
# CI stage: runs, under each of Debian's kernels booted by run.sh, the tests
# of an existing build (default: build) that pass on that kernel today, and
# says which it ran.  Extend the lists as the library learns older kernels.
set -euo pipefail
# One block, parsed whole before it runs: bash reads scripts as it goes,
# so editing this file during a (long) run would otherwise derail that run.
{
cd "$(dirname "$0")/../.."
build=${1:-build}

# Per kernel, what to run: "suite:NAME" for a meson suite, "-NAME" to leave
# a test of those suites out, or a test name.  Left out:
# - pump: its 100 MB transfers take minutes under TCG (it passes there, in
#   about 150 s on 6.1); tests/kernels/smoke.sh runs tun-pump with iperf3
#   and the example client instead (WINTUN_KERNELS_SMOKE);
# - engine-plainread on 6.1: the engine suite itself runs the read(2)
#   fallback there (no RWF_NOWAIT on TUN reads before 6.4).
# WINTUN_TIMING_UNRELIABLE: the microsecond spin-timing tests skip (TCG
# emulates the CPU many times slower than the 10 us they rely on).
# Measured: about 4 minutes per kernel.
declare -A KERNEL_TESTS=(
  [6.1]="suite:unit suite:stress suite:netns -pump -engine-plainread"
  [6.12]="suite:unit suite:stress suite:netns -pump"
)
declare -A KERNEL_SMOKE=([6.1]=1 [6.12]=0)
KERNELS=(6.1 6.12)

status=0
for k in "${KERNELS[@]}"; do
  # meson runs the intersection of --suite and test names: expand the
  # suites into names here.
  names=()
  for t in ${KERNEL_TESTS[$k]}; do
    case "$t" in
      suite:*)
        n=${#names[@]}
        mapfile -t -O "$n" names < <(meson test -C "$build" --list \
          --suite "${t#suite:}" 2>/dev/null | sed -n 's/^.* \/ //p')
        # An empty expansion would leave meson to run every test.
        [ "${#names[@]}" -gt "$n" ] || { echo "kernels: no $t tests in $build" >&2; exit 1; } ;;
      -*) ;;
      *) names+=("$t") ;;
    esac
  done
  for t in ${KERNEL_TESTS[$k]}; do
    [ "${t#-}" != "$t" ] || continue
    for i in "${!names[@]}"; do
      [ "${names[$i]}" != "${t#-}" ] || unset "names[$i]"
    done
  done
  names=("${names[@]}")
  echo "== kernel $k: ${KERNEL_TESTS[$k]} (${names[*]})"
  start=$SECONDS
  # One boot: the tests, then (where asked) what a user does first.  One
  # line: run.sh quotes it with printf %q, and a newline would come out as
  # $'...', which the guest's /bin/sh (dash) does not read.
  # shellcheck disable=SC2016 # expanded by the guest's shell
  WINTUN_REQUIRE_NETNS=1 WINTUN_TIMING_UNRELIABLE=1 WINTUN_KERNELS_SMOKE=${KERNEL_SMOKE[$k]} tests/kernels/run.sh "$k" -- \
    sh -c 'meson test -C "$0" --no-rebuild --print-errorlogs "$@" && { [ "$WINTUN_KERNELS_SMOKE" != 1 ] || tests/kernels/smoke.sh "$0"; }' \
    "$build" "${names[@]}" || status=1
  echo "== kernel $k: $((SECONDS - start)) s"
done
exit "$status"
}
