#!/usr/bin/env bash
# Builds the Debian packages from a copy of the tree, runs lintian on them,
# installs them with apt, builds and runs a program against the installed
# libwintun-dev (shared and static), runs the installed tools, looks up the
# installed manual pages, then purges the packages and checks that their
# files are gone.  As root (apt); the build itself needs no root.
# Usage: tools/check-packages.sh [OUT_DIR]   (OUT_DIR keeps the .debs;
# default: a temporary directory, removed at the end)
# DEB_BUILD_OPTIONS is passed on (nocheck skips the unit suite of the build).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/lib.sh
. "$top/tools/lib.sh"
packages=(libwintun0 libwintun-dev wintun-tools)

die() { echo "check-packages: $*" >&2; exit 1; }
step() { echo "check-packages: $*"; }

[ "$(id -u)" -eq 0 ] || die "needs root (apt-get install, purge)"
for p in "${packages[@]}"; do
	! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed$' ||
		die "$p is already installed: purge it first (apt-get purge ${packages[*]})"
done

work=$(mktemp -d)
installed=false
cleanup() {
	if $installed; then
		apt-get purge -y -qq "${packages[@]}" >/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
out=${1:-$work}
mkdir -p "$out"

# The version is the project's: the packages must not say another.
version=$(sed -n "s/^  version : '\([^']*\)',$/\1/p" "$top/meson.build" | head -n 1)
deb_version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
[ "${deb_version%%-*}" = "$version" ] ||
	die "debian/changelog says $deb_version, meson.build $version: they must agree (a bump adds a changelog entry: dch -v X.Y.Z)"

# A copy, so that the build's files (obj-*, debian/tmp, the .debs written
# next to the source) stay out of the tree.
step "building the packages ($deb_version)"
src=$work/wintun-$version
mkdir "$src"
copy_tree "$top" "$src"
case " ${DEB_BUILD_OPTIONS:-} " in
*" parallel="*) ;;
*) DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$(nproc)"; export DEB_BUILD_OPTIONS ;;
esac
(cd "$src" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log" >&2
	die "dpkg-buildpackage failed (log above)"
}
debs=()
for p in "${packages[@]}"; do
	f=$(ls "$work/${p}_${deb_version}_"*.deb)
	[ "$out" = "$work" ] || cp "$f" "$out/"
	debs+=("$out/$(basename "$f")")
done
changes=$(ls "$work"/wintun_"${deb_version}"_*.changes)

step "lintian (errors fail; warnings listed)"
lintian --fail-on error --tag-display-limit 0 "$changes" | tee "$work/lintian.txt" || {
	die "lintian reported errors"
}
grep -q '^W: ' "$work/lintian.txt" || step "lintian: no warnings"

step "installing ${debs[*]##*/}"
installed=true
apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${debs[@]}" >/dev/null
for p in "${packages[@]}"; do
	dpkg-query -L "$p" >> "$work/files"
done

step "a program built with pkg-config against the installed package"
cat > "$work/consumer.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wintun.h>

/* Checks the library's version against the one the package was built as. */
int main(int argc, char **argv)
{
	unsigned major, minor;
	uint32_t v = WintunGetRunningDriverVersion();

	if (argc != 2 || sscanf(argv[1], "%u.%u", &major, &minor) != 2)
		return 2;
	printf("libwintun %u.%u, ring header %zu bytes\n", v >> 16, v & 0xFFFF, sizeof(WINTUN_RING));
	if (v != (major << 16 | minor))
		return 1;
	return WintunStartSession(NULL, 0) == NULL && errno == EINVAL ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$work/consumer.c" -o "$work/consumer" $(pkg-config --cflags --libs wintun)
"$work/consumer" "$version"
lib=$(ldd "$work/consumer" | awk '/libwintun\.so/ { print $3 }')
# readlink: /lib is /usr/lib on a merged-/usr system.
packaged=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libwintun.so.${version%%.*}
if [ -z "$lib" ] || [ "$(readlink -f "$lib")" != "$(readlink -f "$packaged")" ]; then
	die "the program loads '$lib', not the packaged $packaged"
fi

step "the same program linked with the static library"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$work/consumer.c" -o "$work/consumer-static" $(pkg-config --cflags wintun) \
	-Wl,-Bstatic -lwintun -Wl,-Bdynamic $(pkg-config --static --libs wintun | sed 's/-lwintun\b//')
"$work/consumer-static" "$version"
! ldd "$work/consumer-static" | grep -q libwintun || die "the static program loads libwintun.so"

step "the installed tools"
/usr/bin/tun-pump --help > /dev/null
/usr/bin/wintun-bench --help > /dev/null

# Each installed page must be found by name (man <name> would show it).
pages=$(grep '^/usr/share/man/man[0-9]/' "$work/files" || true)
if [ -n "$pages" ]; then
	step "the installed manual pages ($(echo "$pages" | wc -l))"
	while read -r page; do
		name=$(basename "$page")
		name=${name%.gz}
		section=${name##*.}
		man -w "$section" "${name%.*}" > /dev/null || die "man ${name%.*}: page not found"
	done <<< "$pages"
else
	step "no manual pages in the packages yet"
fi

step "purging"
apt-get purge -y -qq -o DPkg::Lock::Timeout=600 "${packages[@]}" >/dev/null
installed=false
for p in "${packages[@]}"; do
	! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed$' ||
		die "$p is still installed after the purge"
done
left=$(while read -r f; do [ -d "$f" ] || [ ! -e "$f" ] || echo "$f"; done < "$work/files")
[ -z "$left" ] || die "files left after the purge: $left"
step "OK"
