#!/usr/bin/env bash
# The library's ABI against the baseline checked in under abi/ (libabigail).
#   tools/check-abi.sh [BUILD_DIR]           compare BUILD_DIR's libwintun.so
#   tools/check-abi.sh --update [BUILD_DIR]  rewrite the baseline and
#                                            debian/libwintunN.symbols from it
#   tools/check-abi.sh --selftest            show that the check fails on
#                                            incompatible changes
# BUILD_DIR defaults to build; it must be built with debug info (meson's
# default debugoptimized is).  Fails when a symbol is removed, a function's
# type changes, or a public type's layout changes; new functions pass.
# It also fails when src/wintun.map, the library's exports and the symbols
# file disagree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/lib.sh
. "$top/tools/lib.sh"
abidir=$top/abi
symbols= # debian/libwintunN.symbols, set with the library's soname

die() { echo "check-abi: $*" >&2; exit 1; }

# The shared library of a build directory (the real file, not a link).
library() { # BUILD_DIR
	local lib=$1/src/libwintun.so
	[ -e "$lib" ] || die "no $lib: build first (meson setup $1 && ninja -C $1)"
	readlink -f "$lib"
}

soname() { # LIBRARY
	readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'
}

# The baseline of a soname: abi/libwintunN.abi, named as the package.
baseline() { # LIBRARY
	echo "$abidir/libwintun$(soname "$1" | sed 's/.*\.so\.//').abi"
}

symbols_file() { # LIBRARY
	echo "$top/debian/$(basename "$(baseline "$1")" .abi).symbols"
}

# abidw output of the exported functions and the types they reach, with only
# what the public headers define: the handles' structs stay opaque.  Paths are left out so that
# the dump does not depend on where the tree or the build directory is.
dump() { # LIBRARY SOURCE_TOP
	[[ $(readelf -S "$1") == *.debug_info* ]] ||
		die "$1 has no debug info: configure with -Dbuildtype=debugoptimized (or -g)"
	abidw --exported-interfaces-only --headers-dir "$2/include" --drop-private-types \
		--no-corpus-path --no-comp-dir-path "$1"
}

# Exit status 0 when NEW is compatible with OLD.  --no-added-syms: an added
# function is compatible, so it must not set abidiff's "ABI changed" bit;
# the full report (additions included) is printed for the log.
compare() { # OLD.abi NEW.abi
	local rc=0
	abidiff --no-added-syms "$1" "$2" >/dev/null || rc=$?
	abidiff "$1" "$2" || true
	if [ $((rc & 3)) -ne 0 ]; then
		die "abidiff could not compare (status $rc)"
	fi
	return "$rc"
}

# NAME@VERSION of every function and version node the library exports,
# spelled as dpkg-gensymbols does (a node is NODE@NODE).
exports() { # LIBRARY
	nm -D --defined-only --with-symbol-versions "$1" |
		awk '{ if (!sub(/@@/, "@", $3)) $3 = $3 "@" $3; print $3 }' | LC_ALL=C sort
}

map_names() {
	sed -n 's/^[[:space:]]*\(Wintun[A-Za-z0-9_]*\);.*/\1/p' "$top/src/wintun.map" | LC_ALL=C sort
}

symbols_names() {
	sed -n 's/^ \([^ @]*\)@.*/\1/p' "$symbols" | grep -v '^WINTUN_' | LC_ALL=C sort || true
}

check_symbol_lists() { # LIBRARY
	local lib_names
	lib_names=$(exports "$1" | sed 's/@.*//' | grep -v '^WINTUN_')
	diff -u <(map_names) <(echo "$lib_names") >&2 ||
		die "src/wintun.map (-) and the library's exports (+) differ"
	diff -u <(symbols_names) <(echo "$lib_names") >&2 ||
		die "$symbols (-) and the library (+) differ: run tools/check-abi.sh --update"
}

# The Debian symbols file: symbols already listed keep the version that
# first had them, new ones get the current project version.
write_symbols() { # LIBRARY VERSION
	local name old
	{
		echo "$(soname "$1") libwintun$(soname "$1" | sed 's/.*\.so\.//') #MINVER#"
		echo "* Build-Depends-Package: libwintun-dev"
		while read -r name; do
			old=
			[ ! -e "$symbols" ] ||
				old=$(sed -n "s/^ ${name//./\\.} \(.*\)/\1/p" "$symbols" | head -n 1)
			echo " $name ${old:-$2}"
		done < <(exports "$1")
	} > "$symbols.new"
	mv "$symbols.new" "$symbols"
}

check() { # BUILD_DIR
	local lib base new rc=0
	lib=$(library "$1")
	symbols=$(symbols_file "$lib")
	base=$(baseline "$lib")
	[ -e "$base" ] || die "no baseline $base for this soname: run tools/check-abi.sh --update"
	new=$(mktemp)
	dump "$lib" "$top" > "$new"
	compare "$base" "$new" || rc=$?
	rm -f "$new"
	if [ "$rc" -ne 0 ]; then
		echo "check-abi: INCOMPATIBLE with $base (abidiff status $rc)." >&2
		echo "check-abi: if deliberate: a field appended to a Size-prefixed struct needs a MINOR bump, anything else a MAJOR one (soname);" \
			"then run tools/check-abi.sh --update (README 'Packages and ABI')" >&2
		return 1
	fi
	echo "check-abi: $(basename "$lib") is compatible with $(basename "$base")"
	check_symbol_lists "$lib"
	echo "check-abi: src/wintun.map, the exports and $(basename "$symbols") agree"
}

update() { # BUILD_DIR
	local lib version
	lib=$(library "$1")
	symbols=$(symbols_file "$lib")
	version=$(meson introspect --projectinfo "$1" | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p')
	[ -n "$version" ] || die "cannot read the project version from $1"
	mkdir -p "$abidir"
	dump "$lib" "$top" > "$(baseline "$lib")"
	write_symbols "$lib" "$version"
	check_symbol_lists "$lib"
	echo "check-abi: wrote abi/$(basename "$(baseline "$lib")") and debian/$(basename "$symbols") (new symbols: $version)"
}

# A file edit of the self-test; fails if the pattern did not match, so that
# a stale pattern cannot make a variant pass by changing nothing.
edit() { # FILE PERL_EXPRESSION
	cp "$1" "$1.orig"
	perl -0pi -e "$2" "$1"
	! cmp -s "$1" "$1.orig" || die "selftest: '$2' changed nothing in $1"
}

# One variant of the self-test: the edits applied to the self-test's copy,
# the library rebuilt and compared with the reference, the files restored.
variant() { # NAME EXPECT FILE PERL_EXPRESSION [FILE PERL_EXPRESSION]...
	local name=$1 expect=$2 rc=0 files=() f
	shift 2
	while [ $# -gt 0 ]; do
		edit "$work/$1" "$2"
		files+=("$work/$1")
		shift 2
	done
	meson compile -C "$work/build" wintun:shared_library >/dev/null ||
		die "selftest: variant '$name' does not build"
	dump "$(library "$work/build")" "$work" > "$work/variant.abi"
	compare "$ref" "$work/variant.abi" > "$work/variant.txt" 2>&1 || rc=$?
	# touch: the restored files must look newer than the variant's objects,
	# or ninja would not rebuild them and the variant would leak into the next.
	for f in "${files[@]}"; do mv "$f.orig" "$f" && touch "$f"; done
	if { [ "$expect" = pass ] && [ "$rc" -eq 0 ]; } ||
	   { [ "$expect" = fail ] && [ "$rc" -ne 0 ]; }; then
		echo "check-abi selftest: $name: ${expect}ed as expected (abidiff status $rc)"
	else
		echo "check-abi selftest: $name: expected to $expect, abidiff status $rc:" >&2
		cat "$work/variant.txt" >&2
		failures=$((failures + 1))
	fi
}

# Builds a copy of the tree as it is, dumps its ABI as the reference, then
# builds one variant at a time: the compatible ones must pass, the
# incompatible ones fail.  The edits are perl expressions ($1 is perl's).
# shellcheck disable=SC2016
selftest() {
	local ref failures=0
	work=$(mktemp -d) # global: the EXIT trap and variant() use it
	trap 'rm -rf "$work"' EXIT
	copy_tree "$top" "$work"
	# -O0: the layout of types does not depend on it, the build is faster.
	meson setup "$work/build" "$work" -Dtests=false -Dbuildtype=debug >/dev/null
	meson compile -C "$work/build" wintun:shared_library >/dev/null
	ref=$work/ref.abi
	dump "$(library "$work/build")" "$work" > "$ref"

	variant "unchanged, rebuilt" pass src/version.c 's/\z/\n/'
	variant "function added" pass \
		include/wintun.h 's/(WINTUN_API uint32_t WintunGetRunningDriverVersion\(void\);)/$1\nWINTUN_API uint32_t WintunSelftestAdded(void);/' \
		src/wintun.map 's/(\tWintunWaitForPacket;\n)/$1\tWintunSelftestAdded;\n/' \
		src/version.c 's/\z/\nWINTUN_API uint32_t WintunSelftestAdded(void)\n{\n\treturn 1;\n}\n/'
	# Compatible by design (Size says which fields the caller knows), yet
	# reported: a person confirms it and updates the baseline (README).
	# libabigail's suppression for fields appended at the end would let it
	# pass, but it also hid the nested-struct variant below (tried).
	variant "field appended to a Size-prefixed struct (reported)" fail include/wintun.h \
		's/(\tWINTUN_SESSION_HANDLE ShareEngineWith;.*?\n)(\} WINTUN_SESSION_OPTIONS;)/$1\tuint32_t SelftestAppended;\n$2/s'
	variant "symbol removed" fail src/wintun.map 's/\tWintunGetAdapterMtu;\n//'
	variant "parameter type changed" fail include/wintun.h \
		's/(WintunSetAdapterMtu\(WINTUN_ADAPTER_HANDLE Adapter, )uint32_t/${1}uint64_t/' \
		src/adapter_config.c 's/(WintunSetAdapterMtu\(WINTUN_ADAPTER_HANDLE Adapter, )uint32_t/${1}uint64_t/'
	variant "return type changed" fail include/wintun.h \
		's/WINTUN_API uint32_t WintunGetAdapterMtu/WINTUN_API uint64_t WintunGetAdapterMtu/' \
		src/adapter_config.c 's/WINTUN_API uint32_t WintunGetAdapterMtu/WINTUN_API uint64_t WintunGetAdapterMtu/'
	variant "field inserted in a public struct" fail include/wintun.h \
		's/(\tuint32_t IfIndex; [^\n]*\n)/$1\tuint32_t SelftestInserted;\n/'
	variant "field appended to a nested struct" fail include/wintun.h \
		's/(\tuint64_t Wakeups; [^\n]*\n)/$1\tuint64_t SelftestAppended;\n/'
	variant "ring registration layout changed" fail include/wintun/ring.h \
		's/\tuint32_t RingSize; /\tuint64_t RingSize; /'
	variant "enumerator value changed" fail include/wintun.h \
		's/\tWINTUN_LOG_INFO, /\tWINTUN_LOG_INFO = 1, /'

	[ "$failures" -eq 0 ] || die "selftest: $failures variant(s) not classified as expected"
	echo "check-abi selftest: OK"
}

case ${1:-} in
--update) update "${2:-build}" ;;
--selftest) selftest ;;
-h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
-*) die "unknown option $1 (see --help)" ;;
*) check "${1:-build}" ;;
esac
