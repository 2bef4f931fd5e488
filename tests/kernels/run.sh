#!/usr/bin/env bash
# Runs a command as root under one of Debian's own kernels, booted with QEMU
# in software emulation (TCG), in this machine's userspace and working
# directory:
#
#   tests/kernels/run.sh 6.1 -- meson test -C build --suite unit
#
# The host's root is shared read-only with virtiofs; the guest writes to a
# tmpfs overlay, so nothing it does reaches the host.  Prints the guest's
# console and exits with the command's status (125 if the guest could not
# run it, 124 on timeout).  Needs root (virtiofsd, the mount namespace).
#
# Environment: WINTUN_KERNELS_TIMEOUT (seconds, default 3600),
# WINTUN_KERNELS_MEM (default 3G), WINTUN_KERNELS_CPUS (default 2),
# WINTUN_KERNELS_CACHE (default /var/cache/wintun-kernels).  The command
# inherits PATH, LANG and every WINTUN_*, ASAN_/UBSAN_OPTIONS and
# CRITERION_* variable.
set -euo pipefail
# One block, parsed whole before it runs: bash reads scripts as it goes,
# so editing this file during a (long) run would otherwise derail that run.
{

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/fetch.sh"
. "$here/initramfs.sh"

usage() {
  echo "usage: $0 6.1|6.12 -- COMMAND [ARG...]" >&2
  exit 2
}

[ $# -ge 3 ] && [ "$2" = "--" ] || usage
series=$1
shift 2
meta=$(kernel_meta_package "$series") || usage
[ "$(id -u)" -eq 0 ] || { echo "kernels: need root" >&2; exit 2; }

timeout_s=${WINTUN_KERNELS_TIMEOUT:-3600}
mem=${WINTUN_KERNELS_MEM:-3G}
cpus=${WINTUN_KERNELS_CPUS:-2}
cache=${WINTUN_KERNELS_CACHE:-/var/cache/wintun-kernels}
virtiofsd=/usr/lib/qemu/virtiofsd

pkg=$(kernel_resolve_package "$meta")
tree=$(kernel_fetch "$series" "$pkg" "$cache")
release=$(kernel_release "$tree")

work=$(mktemp -d /tmp/wintun-kernels.XXXXXX)
qemu_pid=
fsd_pid=
tail_pid=
cleanup() {
  local pid
  for pid in $qemu_pid $fsd_pid $tail_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $qemu_pid $fsd_pid $tail_pid; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The command, quoted for the guest's shell, with the environment it keeps.
{
  echo "set -e"
  while IFS= read -r var; do
    printf 'export %s=%q\n' "$var" "${!var}"
  done < <(compgen -e | grep -E '^(PATH|LANG|WINTUN_.*|ASAN_OPTIONS|UBSAN_OPTIONS|CRITERION_.*)$')
  printf 'export HOME=/root\n'
  # Output goes through a pipe in the guest: keep Python (meson) from
  # holding it back until the end.
  printf 'export PYTHONUNBUFFERED=1\n'
  printf 'cd %q\n' "$PWD"
  printf 'set +e\n'
  printf '%q ' exec "$@"
  echo
} >"$work/command.sh"
initramfs_build "$tree" "$work/initramfs.cpio" "$work/command.sh"

# One boot of the guest (virtiofsd serves one guest: it comes anew each
# time).  Sets status, the command's exit status ('' if the guest reported
# none), and started, whether the command began.
boot() {
  rmdir "$work/root" 2>/dev/null || true
  rm -f "$work/fs.sock"
  # virtiofsd cannot serve read-only: give it a read-only bind of / in a mount
  # namespace of its own, which disappears with it.  The bind is not recursive
  # (the guest mounts its own /proc, /sys, /dev and /run), so the file system
  # holding the working directory, if it is another one, is bound there too.
  mkdir "$work/root"
  pwd_mount=$(findmnt -n -o TARGET -T "$PWD")
  unshare --mount --propagation private -- sh -c '
    mount --bind / "$1" && mount -o remount,bind,ro "$1" &&
    if [ "$4" != / ]; then
      mount --bind "$4" "$1$4" && mount -o remount,bind,ro "$1$4" || exit 1
    fi &&
    exec "$3" --socket-path="$2" -o source="$1" -o cache=always' \
    sh "$work/root" "$work/fs.sock" "$virtiofsd" "$pwd_mount" >"$work/virtiofsd.log" 2>&1 &
  fsd_pid=$!
  for _ in $(seq 100); do
    [ -S "$work/fs.sock" ] && break
    kill -0 "$fsd_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -S "$work/fs.sock" ] || { echo "kernels: virtiofsd did not start:" >&2; cat "$work/virtiofsd.log" >&2; exit 125; }

  echo "kernels: booting $release (TCG, $cpus CPUs, $mem): $*" >&2
  # TCG, not KVM: this machine's /dev/kvm cannot run stock kernels.  The
  # vhost-user device needs the guest's memory in a shared memfd.
  qemu-system-x86_64 -accel tcg -cpu max -smp "$cpus" -m "$mem" \
    -object memory-backend-memfd,id=mem,size="$mem",share=on -numa node,memdev=mem \
    -kernel "$tree/boot/vmlinuz-$release" -initrd "$work/initramfs.cpio" \
    -append "console=ttyS0 quiet panic=-1 rdinit=/init" \
    -chardev socket,id=fs,path="$work/fs.sock" \
    -device vhost-user-fs-pci,chardev=fs,tag=wintun-host \
    -nodefaults -display none -serial stdio -no-reboot \
    </dev/null >"$work/console.log" 2>&1 &
  qemu_pid=$!

  # Unbuffered, so the console shows up as it comes.
  tail -n +1 -F --pid="$qemu_pid" "$work/console.log" 2>/dev/null |
    sed -u -e 's/\r$//' -e '/^@@wintun-kernels-\(start\|exit\)/d' &
  tail_pid=$!

  start=$SECONDS
  while kill -0 "$qemu_pid" 2>/dev/null; do
    if [ $((SECONDS - start)) -ge "$timeout_s" ]; then
      echo "kernels: timed out after ${timeout_s}s; stopping the guest" >&2
      kill "$qemu_pid"
      wait "$qemu_pid" 2>/dev/null || true
      qemu_pid=
      wait "$tail_pid" 2>/dev/null || true
      tail_pid=
      exit 124
    fi
    sleep 1
  done
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=
  wait "$tail_pid" 2>/dev/null || true
  tail_pid=
  kill "$fsd_pid" 2>/dev/null || true
  wait "$fsd_pid" 2>/dev/null || true
  fsd_pid=
  status=$(tr -d '\r' <"$work/console.log" | sed -n 's/^@@wintun-kernels-exit \([0-9]*\)@@$/\1/p' | tail -n 1)
  started=false
  if grep -q '^@@wintun-kernels-start@@' "$work/console.log"; then
    started=true
  fi
}

# A guest that stops before the command starts (no marker) failed to boot:
# TCG has been seen to oops in early boot (an int3 while the kernel patches
# its own text, on 6.12 with 2 CPUs), which says nothing about the command.
# Such a boot is tried again, twice at most; a guest that stops while the
# command runs is a failure.
for attempt in 1 2 3; do
  boot "$@"
  if [ -n "$status" ] || $started || [ "$attempt" -eq 3 ]; then
    break
  fi
  echo "kernels: the guest stopped before the command started (console above); booting it again ($((attempt + 1)) of 3)" >&2
done
if [ -z "$status" ]; then
  echo "kernels: the guest stopped without reporting an exit status" >&2
  exit 125
fi
echo "kernels: $release: exit status $status" >&2
exit "$status"
}
