# shellcheck shell=bash
# Sourced by run.sh: finds, downloads and unpacks one of Debian's cloud
# kernels into a cache.  The package is only unpacked (dpkg-deb -x), never
# installed: the machine's own kernel and /boot stay untouched.

# The meta-package that names the current ABI of each series; resolving it
# each time follows Debian's security updates without editing this file.
kernel_meta_package() {
  case "$1" in
    6.1) echo linux-image-cloud-amd64 ;;
    6.12) echo linux-image-6.12-cloud-amd64 ;;
    *) return 1 ;;
  esac
}

# The versioned image package the meta-package depends on today.
kernel_resolve_package() {
  local meta=$1 pkg
  pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
  if [ -z "$pkg" ]; then
    # A fresh machine may have no package lists yet.
    apt-get update -qq >&2
    pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
  fi
  [ -n "$pkg" ] || { echo "kernels: apt knows no dependency of $meta" >&2; return 1; }
  echo "$pkg"
}

# Prints the unpacked tree of package $2 (series $1) under cache $3,
# downloading it first if needed.  Concurrent runs share the cache: the
# download and unpacking happen under a lock and land by rename.
kernel_fetch() {
  local series=$1 pkg=$2 cache=$3 tree=$3/$2 tmp
  mkdir -p "$cache"
  exec {lock}>"$cache/.lock"
  flock "$lock"
  if [ ! -d "$tree" ]; then
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    echo "kernels: downloading $pkg" >&2
    # Run as root: apt's _apt sandbox user cannot write the cache.
    if ! (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >&2) ||
       ! dpkg-deb -x "$tmp"/*.deb "$tmp/tree"; then
      rm -rf "$tmp"
      exec {lock}>&-
      return 1
    fi
    mv "$tmp/tree" "$tree"
    rm -rf "$tmp"
  fi
  exec {lock}>&-
  # The resolved ABI must belong to the series asked for (a meta-package
  # could move on to another series in a later Debian release).
  case "$(kernel_release "$tree")" in
    "$series".*) ;;
    *) echo "kernels: $pkg is not a $series kernel" >&2; return 1 ;;
  esac
  echo "$tree"
}

# The kernel release (uname -r) of an unpacked tree.
kernel_release() {
  local dir
  for dir in "$1"/lib/modules/*/; do
    basename "$dir"
    return 0
  done
  return 1
}
