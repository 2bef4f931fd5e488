#!/usr/bin/env bash
# The README's two commands.
#   tools/run.sh test      install what is missing, build, run every test suite
#   tools/run.sh main      install what is missing, build, run the main job
# Environment: BUILD_DIR (default build), WERROR=1 (warnings are errors),
# SUITES (meson test suites, default all), WINTUN_REQUIRE_NETNS=1 (a skipped
# namespace test fails).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

build() {
  tools/setup-deps.sh
  local werror=false
  [ "${WERROR:-0}" = 1 ] && werror=true
  if [ -d "$BUILD_DIR" ]; then
    meson configure "$BUILD_DIR" -Dwerror=$werror >/dev/null
  else
    meson setup "$BUILD_DIR" -Dwerror=$werror >/dev/null
  fi
  ninja -C "$BUILD_DIR"
}

case "${1:-}" in
  test)
    build
    args=()
    for s in ${SUITES:-}; do args+=(--suite "$s"); done
    meson test -C "$BUILD_DIR" --print-errorlogs "${args[@]}"
    ;;
  main)
    build
    # The benchmark, a few seconds: engine vs baseline on every scenario, in
    # private network namespaces that vanish with the process (needs root).
    "$BUILD_DIR/bench/wintun-bench" --quick
    ;;
  *)
    echo "usage: $0 test|main" >&2
    exit 2
    ;;
esac
