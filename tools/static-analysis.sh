#!/usr/bin/env bash
# Static analysis, zero findings allowed: clang-tidy (checks in .clang-tidy)
# on the library, cppcheck on the library, tools and benchmark.
# Usage: tools/static-analysis.sh [BUILD_DIR]  (needs compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
echo "clang-tidy: src/"
clang-tidy -p "$build" --quiet src/*.c
echo "cppcheck: src/ tools/ bench/"
cppcheck --enable=warning,performance,portability --inline-suppr --error-exitcode=1 --quiet \
  -I include -I . --suppress=missingIncludeSystem src/ tools/ bench/
echo "static analysis: clean"
