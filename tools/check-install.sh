#!/usr/bin/env bash
# Installs a build into a temporary root and builds a small program against
# it with pkg-config, as a user of the library would.  Usage: BUILD_DIR
set -euo pipefail
build=${1:-build}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" >/dev/null
pc=$(dirname "$(find "$root" -name wintun.pc)")
cat > "$root/hello.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <wintun.h>
int main(void)
{
	uint32_t v = WintunGetRunningDriverVersion();
	printf("libwintun %u.%u, ring header %zu bytes\n", v >> 16, v & 0xFFFF, sizeof(WINTUN_RING));
	return WintunStartSession(NULL, 0) == NULL && errno == EINVAL ? 0 : 1;
}
C
export PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$root
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$root/hello.c" -o "$root/hello" $(pkg-config --cflags --libs wintun)
LD_LIBRARY_PATH=$(dirname "$(find "$root" -name 'libwintun.so' | head -n 1)") "$root/hello"
echo "check-install: OK"
