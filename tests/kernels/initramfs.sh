# shellcheck shell=bash
# Sourced by run.sh: builds the guest's initramfs: static busybox, the
# modules the guest needs to reach the host's files, init.sh as /init, and
# the command to run.

# Modules to load, by name; whichever of them (and of their dependencies) the
# kernel has built in are skipped.  virtio_pci and virtiofs reach the host's
# root, overlay keeps the guest's writes in guest memory, tun is under test,
# veth carries the kernel's own bound in bench/pump-tcp.sh and wintun-bench.
INITRAMFS_MODULES=(virtio_pci virtiofs overlay tun veth)

# The path of module $2 in unpacked tree $1 (relative to its modules dir),
# empty if built in.  modules.order names every module the package ships.
module_path() {
  local moddir=$1 name=${2//-/_} path
  path=$(awk -v n="$name" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko.*/, "", b); gsub(/-/, "_", b)
      if (b == n) { print; exit } }' "$moddir/modules.order")
  if [ -z "$path" ]; then
    if grep -Eq "/${name//_/[-_]}\.ko\$" "$moddir/modules.builtin"; then
      return 0
    fi
    echo "kernels: module $name is neither shipped nor built in" >&2
    return 1
  fi
  path=${path#kernel/}
  # modules.order may name a .ko while the package ships it compressed.
  compgen -G "$moddir/kernel/$path*" | head -n 1
}

# Appends module $2 of tree $1 and, before it, its dependencies to the
# ordered list in the caller's "ordered" array (the package ships no
# modules.dep for insmod to follow, so the order is worked out here).
module_order() {
  local moddir=$1 name=${2//-/_} path dep m
  for m in "${ordered[@]}" "${builtin[@]}"; do
    [ "$m" = "$name" ] && return 0
  done
  path=$(module_path "$moddir" "$name") || return 1
  if [ -z "$path" ]; then
    builtin+=("$name")
    return 0
  fi
  for dep in $(modinfo -F depends "$path" | tr ',' ' '); do
    module_order "$moddir" "$dep" || return 1
  done
  ordered+=("$name")
  paths+=("$path")
}

# Copies the modules, uncompressed (busybox insmod need not know xz), into
# $2/modules with $2/modules/order listing them in load order.
initramfs_modules() {
  local moddir root=$2 i m
  local -a ordered=() builtin=() paths=()
  moddir=$1/lib/modules/$(kernel_release "$1") || return 1
  for m in "${INITRAMFS_MODULES[@]}"; do
    module_order "$moddir" "$m" || return 1
  done
  mkdir -p "$root/modules"
  : >"$root/modules/order"
  for i in "${!ordered[@]}"; do
    case "${paths[$i]}" in
      *.xz) xz -dc "${paths[$i]}" ;;
      *.zst) zstd -qdc "${paths[$i]}" ;;
      *.gz) gzip -dc "${paths[$i]}" ;;
      *) cat "${paths[$i]}" ;;
    esac >"$root/modules/${ordered[$i]}.ko"
    echo "${ordered[$i]}" >>"$root/modules/order"
  done
}

# Builds the initramfs from kernel tree $1 into file $2, running command
# script $3 in the guest.
initramfs_build() {
  local tree=$1 out=$2 script=$3 root
  root=$(mktemp -d "${out%/*}/initramfs.XXXXXX")
  mkdir -p "$root"/{bin,dev,proc,sys,host,rw,newroot}
  cp /bin/busybox "$root/bin/busybox"
  # The kernel opens /dev/console for init's output before init can mount
  # devtmpfs.
  mknod -m 600 "$root/dev/console" c 5 1
  cp "$(dirname "${BASH_SOURCE[0]}")/init.sh" "$root/init"
  chmod 755 "$root/init"
  cp "$script" "$root/command.sh"
  initramfs_modules "$tree" "$root" || { rm -rf "$root"; return 1; }
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$out"
  rm -rf "$root"
}
