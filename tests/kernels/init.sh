#!/bin/busybox sh
# The guest's PID 1 (the initramfs's /init): loads the modules, mounts the
# host's root read-only (virtiofs) under a tmpfs overlay so that nothing the
# command writes reaches the host, runs /command.sh there as root, prints
# the exit marker run.sh looks for, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin

# Prints the marker with status $1 and stops the machine; never returns.
finish() {
  echo "@@wintun-kernels-exit $1@@"
  sync
  poweroff -f
  sleep 5
  # -no-reboot turns a reboot into qemu's exit as well.
  reboot -f
}

fail() {
  echo "kernels: guest setup failed: $*"
  finish 125
}

mount -t proc proc /proc || fail "proc"
mount -t sysfs sys /sys || fail "sysfs"
mount -t devtmpfs dev /dev || fail "devtmpfs"
while read -r m; do
  insmod "/modules/$m.ko" || fail "insmod $m"
done </modules/order

mount -t virtiofs -o ro wintun-host /host || fail "virtiofs"
mount -t tmpfs -o mode=755 rw /rw || fail "tmpfs"
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work root /newroot ||
  fail "overlay"
cd /newroot || fail "cd /newroot"
mount -t proc proc proc && mount -t sysfs sys sys && mount -t devtmpfs dev dev || fail "root /proc /sys /dev"
mkdir -p dev/pts dev/shm
mount -t devpts -o newinstance,ptmxmode=666 devpts dev/pts || fail "devpts"
# No tmpfs over /tmp: the command may run in a directory under the host's
# /tmp (CI clones there), and the overlay already keeps every write in
# guest memory.
mount -t tmpfs -o mode=1777 shm dev/shm && mount -t tmpfs -o mode=755 run run ||
  fail "tmpfs mounts"
mkdir -p run/netns
# cgroup2 is optional: nothing under test needs it, but tools may look.
mount -t cgroup2 cgroup2 sys/fs/cgroup 2>/dev/null
cp /command.sh run/wintun-kernels-command.sh

# Through a pipe, not the console: runners like meson's draw progress
# animations on a terminal, which flood a serial log.
# shellcheck disable=SC3040 # busybox ash has pipefail
set -o pipefail
# run.sh boots again a guest that stops before this marker.
echo "@@wintun-kernels-start@@"
chroot /newroot /bin/sh /run/wintun-kernels-command.sh </dev/null 2>&1 | cat
finish $?
