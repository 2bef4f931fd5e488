#!/usr/bin/env bash
# Checks the manual pages and bash completions as a user gets them: installs
# BUILD_DIR into a temporary root, then fails if
#   - an exported symbol (src/wintun.map, and the built library's dynamic
#     symbols) has no section 3 page that man finds, or its page's NAME line
#     does not list it (whatis/apropos would not know it);
#   - a page draws a warning from man (groff -ww) or lexgrog cannot parse it;
#   - an option of "tun-pump --help" or "wintun-bench --help", or a scenario
#     of wintun-bench, is missing from the tool's page or bash completion, or
#     the completion offers an option --help does not list;
#   - --version does not print the project's version.
# It says every problem it finds, then exits 1.  Usage: BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" >/dev/null

fails=0
fail() {
	echo "check-man: $*" >&2
	fails=$((fails + 1))
}

man7=$(find "$root" -path '*/man7/wintun.7' | head -n 1)
if [ -z "$man7" ]; then
	echo "check-man: no wintun.7 installed: was $build configured with -Dman=disabled, or is scdoc missing?" >&2
	exit 1
fi
mandir=$(dirname "$(dirname "$man7")")
comp_dir=$(dirname "$(find "$root" -path '*/completions/tun-pump' | head -n 1)")
[ -d "$comp_dir" ] || { echo "check-man: no bash completions installed" >&2; exit 1; }

# ---- every exported symbol has a page ----------------------------------
# Exported: the names in the version map (every version node), plus what
# the built library really exports, so a symbol added to one but not the
# other is caught either way.
symbols() {
	sed 's/#.*//' src/wintun.map | grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*;' |
		tr -d ' \t;'
	lib=$(find "$build/src" -name 'libwintun.so.*' -type f | head -n 1)
	if [ -n "$lib" ]; then
		nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ && $3 ~ /^Wintun/ { sub(/@.*/, "", $3); print $3 }'
	fi
}
nsym=0
for sym in $(symbols | sort -u); do
	nsym=$((nsym + 1))
	page=$(man -M "$mandir" -w 3 "$sym" 2>/dev/null) || {
		fail "$sym: exported, but no page: add it to the pages of man/meson.build"
		continue
	}
	lexgrog "$page" | grep -qE "[\":, ]${sym}[ ,]" ||
		fail "$sym: $(basename "$(readlink -f "$page")") does not name it in its NAME section"
done

# ---- every page formats without warnings and has a parsable NAME --------
npages=0
while IFS= read -r page; do
	npages=$((npages + 1))
	warn=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings=w -E UTF-8 -l "$page" 2>&1 >/dev/null) ||
		fail "$page: man failed"
	[ -z "$warn" ] || fail "$(basename "$page"): man warns: $warn"
	lexgrog "$page" >/dev/null || fail "$(basename "$page"): lexgrog cannot parse its NAME section"
done < <(find "$mandir" -type f -name '*.[0-9]')

# ---- tools: options and scenarios in the page and the completion --------
# COMPREPLY of the tool's completion for the command line "TOOL ARGS...".
complete_words() {
	local tool=$1
	shift
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1/$2"
		fn=$(complete -p "$2" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp_dir" "$tool" "$tool" "$@"
}

# Whether WORD appears in the formatted page TEXT as a whole word.
in_page() {
	grep -qE -- "(^|[^a-z-])$1([^a-z-]|$)" <<<"$2"
}

check_tool() {
	local tool=$1 exe=$2 help text comp opt
	help=$("$exe" --help)
	text=$(MANWIDTH=200 man -l "$mandir/man8/$tool.8" 2>/dev/null | col -b)
	comp=$(complete_words "$tool" --)
	for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u); do
		in_page "$opt" "$text" || fail "$tool: $opt is in --help but not in $tool(8)"
		grep -qx -- "$opt" <<<"$comp" || fail "$tool: $opt is in --help but not in its bash completion"
	done
	for opt in $comp; do
		grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" <<<"$help" ||
			fail "$tool: the bash completion offers $opt, which --help does not list"
	done
	"$exe" --version | head -n 1 | grep -qF " $version" ||
		fail "$tool: --version does not print the version $version"
}

version=$(meson introspect --projectinfo "$build" | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
check_tool tun-pump "$build/tools/tun-pump"
check_tool wintun-bench "$build/bench/wintun-bench"

# The scenarios: the words of wintun-bench --help's "--scenario S  a | b" line.
bench_text=$(MANWIDTH=200 man -l "$mandir/man8/wintun-bench.8" 2>/dev/null | col -b)
scn_comp=$(complete_words wintun-bench --scenario '')
# The list may wrap: its continuation lines are those that end with "|" or
# start with "|" or a name followed by "|".
scn_list=$("$build/bench/wintun-bench" --help | awk '
	/^ *--scenario [A-Z]+ / { sub(/^ *--scenario [A-Z]+ +/, ""); line = $0; prev = $0; on = 1; next }
	on && !/^ *--scenario/ { if ($0 ~ /^ *[a-z-]+ *\|/ || prev ~ /\| *$/) line = line " " $0; else on = 0 }
	on { prev = $0 }
	END { print line }' | sed 's/(.*//' | tr '|' ' ')
for scn in $scn_list; do
	grep -qE "^ {4,}$scn\$" <<<"$bench_text" ||
		fail "wintun-bench: scenario $scn has no entry in wintun-bench(8)"
	grep -qx -- "$scn" <<<"$scn_comp" ||
		fail "wintun-bench: scenario $scn is not in the bash completion"
done

if [ "$fails" -ne 0 ]; then
	echo "check-man: $fails problem(s)" >&2
	exit 1
fi
echo "check-man: OK ($nsym exported symbols, $npages pages, tool options and completions)"
