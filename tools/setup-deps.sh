#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs to build, test and
# benchmark.  Idempotent and non-interactive: installs only what is missing.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build clang clang-tidy cppcheck
  liburing-dev libnuma-dev libmnl-dev libcriterion-dev
  iproute2 iputils-ping gnuplot-nox jq iperf3 valgrind linux-perf
  spin libclang-rt-14-dev python3
  # tests/kernels/: boot Debian's own kernels (unpacked, never installed) in
  # QEMU with a busybox initramfs and the host's root over virtiofs.
  qemu-system-x86 busybox-static cpio kmod xz-utils
  # bindings/go and tools/check-go.sh: Go 1.19 and wireguard-go's sources
  # (0.0.20220316) with their dependencies, to build the binding and
  # wireguard-go-wintun offline in GOPATH mode; bench/wireguard-interop.sh:
  # the stock wireguard-go to interoperate with, and wg to configure both.
  golang-go golang-golang.zx2c4-wireguard-dev golang-golang-x-crypto-dev
  golang-golang-x-net-dev golang-golang-x-sys-dev wireguard-go wireguard-tools
  # man/: scdoc turns the page sources into man pages at build time;
  # tools/check-man.sh formats them with man-db (man, lexgrog) and loads the
  # bash completions with bash-completion, whose pkg-config file also says
  # where completions are installed.
  # tools/check-packages.sh and tools/check-abi.sh: build the Debian packages
  # (dpkg-buildpackage, dh with meson), check them, look up their manual
  # pages; abidw/abidiff for the ABI baseline.
  scdoc man-db bash-completion dpkg-dev debhelper lintian abigail-tools
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
