#!/usr/bin/env bash
# Builds the Go binding (bindings/go) and wireguard-go-wintun against a meson
# build of the library and Debian's Go packages (GOPATH mode, offline: Go
# 1.19, wireguard-go's 0.0.20220316 sources, golang.org/x/{crypto,net,sys}),
# checks gofmt and go vet, runs the binding's tests (root, private network
# namespaces; WINTUN_REQUIRE_NETNS=1 makes a skip a failure) and the interop
# ping between wireguard-go-wintun and the stock wireguard-go.
#   tools/check-go.sh [BUILD_DIR]   (default build; the program lands in
#                                    BUILD_DIR/bindings/go/wireguard-go-wintun)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
[ -f "$build/meson-uninstalled/wintun-uninstalled.pc" ] || {
  echo "check-go: $build is not a meson build of the library (meson setup $build)" >&2
  exit 1
}
ninja -C "$build" >/dev/null

# A GOPATH of our own holds the binding under its import path, beside
# Debian's /usr/share/gocode; the cache stays in the build directory.
gopath=$build/go
mkdir -p "$gopath/src"
ln -sfn "$PWD/bindings/go" "$gopath/src/wintunlinux"
export GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH=$gopath:/usr/share/gocode GOCACHE=$build/go-cache
# The uninstalled library: pkg-config finds it in the build directory, and
# the binaries find it there at run time.
export PKG_CONFIG_PATH=$build/meson-uninstalled CGO_LDFLAGS="-Wl,-rpath,$build/src"
pkgs=(wintunlinux/wintun wintunlinux/wgtun wintunlinux/cmd/wireguard-go-wintun)

echo "check-go: $(go version)"
unformatted=$(gofmt -l bindings/go)
[ -z "$unformatted" ] || { echo "check-go: not gofmt-formatted: $unformatted" >&2; exit 1; }
go vet "${pkgs[@]}"
go build -o "$build/bindings/go/wireguard-go-wintun" wintunlinux/cmd/wireguard-go-wintun
"$build/bindings/go/wireguard-go-wintun" --version | head -n 1
# -timeout is a hang guard only.
go test -count=1 -v -timeout 300s wintunlinux/wintun wintunlinux/wgtun
WG_WINTUN=$build/bindings/go/wireguard-go-wintun bench/wireguard-interop.sh --check
echo "check-go: OK"
