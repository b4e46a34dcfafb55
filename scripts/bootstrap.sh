#!/usr/bin/env bash
# Prepares a Debian 12 machine to build and test quicc, then prints the OpenSSL prefix to use
# on its last line of stdout.
#
#   scripts/bootstrap.sh          the OpenSSL for the normal and the ASan+UBSan builds
#   scripts/bootstrap.sh --tsan   an OpenSSL instrumented with ThreadSanitizer, for build-tsan/
#   scripts/bootstrap.sh --source the OpenSSL source tree, unpacked once into
#                                 ~/.cache/quicc/src-openssl-<version> (bench/ builds patched
#                                 demo clients from it); prints its directory
#
#  1. Installs the Debian packages the build and the tests need (skipped when all are present);
#     clang and libclang-rt-dev (libFuzzer's runtime) are for scripts/fuzz.sh.
#  2. Builds OpenSSL 3.5 from Debian 13's source package, with the fixes in
#     scripts/openssl-patches/ applied, once, into ~/.cache/quicc/openssl-<version>-<options hash>, together with
#     the third-party peers the tests use (OpenSSL's demo QUIC echo server and its HTTP/0.9
#     interop server and client). The system OpenSSL (>= 3.5) only with QUICC_SYSTEM_OPENSSL=1:
#     OpenSSL 3.5 releases lack those fixes (a connection ended by "internal error (txp
#     generate)", a download stalled for good by one lost MAX_STREAM_DATA), and quicc's tests
#     find both.
#  3. With --tsan, builds the same source with the same options plus -fsanitize=thread, once,
#     into ~/.cache/quicc/openssl-<version>-tsan-<options hash>, without peers (the tests take
#     those from the normal build). TSan only sees memory accesses made by instrumented code; an
#     uninstrumented OpenSSL hides every access its QUIC stack makes from quicc's threads and its
#     own, which is where the blocking driver's shared state lives. This build is paid once
#     per machine: 384 s on 2 lightly shared cores, 769 s on heavily shared ones (612 CPU s).
#
# The Debian mirror is never named here: the deb-src entry reuses the URIs: line of the deb822
# file apt already uses.
set -euo pipefail

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# zsh, fish, man-db, groff-base and bsdextrautils (col): tests/docs.sh loads the completions
# in each shell and renders and lints the man page.
PACKAGES=(g++ cmake make patch pkg-config perl python3 xz-utils dpkg-dev ccache time strace gnuplot-nox
          libcli11-dev libspdlog-dev libfmt-dev doctest-dev ngtcp2-server ngtcp2-client
          clang libclang-rt-dev zsh fish man-db groff-base bsdextrautils)

CACHE_ROOT=${QUICC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quicc}
# Changing these options changes the cache key, so a stale build is never reused.
OPENSSL_OPTIONS=(no-shared no-tests no-docs enable-demos enable-sslkeylog
                 --openssldir=/usr/lib/ssl --libdir=lib)
# Peers are part of the cache; bump this when the way they are built changes.
PEERS_REV=1

# The flavour of the build: "" (normal) or "tsan". It adds its compiler flags to the options (so
# to the cache key) and a tag to the cache directory's name.
FLAVOR=
SOURCE_ONLY=
case "${1:-}" in
  '') ;;
  --source) SOURCE_ONLY=1 ;;
  --tsan)
    FLAVOR=tsan
    # -g: reports that end inside OpenSSL name their file and line.
    OPENSSL_OPTIONS+=(-fsanitize=thread -g)
    ;;
  *) die "usage: $0 [--tsan|--source]" ;;
esac

apt_updated=0
apt_update() {
  [ "$apt_updated" = 1 ] && return 0
  log "apt-get update"
  $SUDO apt-get update -qq >&2
  apt_updated=1
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  apt_update
  log "installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

system_openssl_ok() {
  local v
  v=$(pkg-config --modversion openssl 2>/dev/null) || return 1
  dpkg --compare-versions "$v" ge 3.5
}

# The deb822 sources file apt already uses; its first URIs: entry is the mirror.
mirror_uri() {
  local f
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^URIs:/ { print $2; exit }' "$f" | grep . && return 0
  done
  return 1
}

add_trixie_deb_src() {
  local list=/etc/apt/sources.list.d/quicc-trixie-src.sources uri
  if [ ! -f "$list" ]; then
    uri=$(mirror_uri) || die "no URIs: line found in apt's deb822 sources; cannot locate the Debian mirror"
    log "adding a deb-src entry for trixie (same mirror as apt's debian.sources)"
    $SUDO tee "$list" >/dev/null <<SRC
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_updated=0
  fi
  apt_update
}

# Newest 3.5.x first; the mirror may no longer serve every version apt-cache lists.
openssl_versions() {
  apt-cache showsrc openssl 2>/dev/null | awk '/^Version:/ { print $2 }' |
    grep -E '^([0-9]+:)?3\.5\.' | sort -u -r -V
}

fetch_openssl_source() {
  local dir=$1 v
  for v in $(openssl_versions); do
    log "fetching openssl source package $v"
    if (cd "$dir" && apt-get source --download-only -qq "openssl=$v" >"$dir/apt.log" 2>&1); then
      ls "$dir"/openssl_*.orig.tar.* >/dev/null 2>&1 && return 0
    fi
    log "version $v is listed but not served by the mirror; trying the next one"
    rm -f "$dir"/openssl_*
  done
  [ -f "$dir/apt.log" ] && tail -n 5 "$dir/apt.log" >&2
  die "no OpenSSL 3.5.x source package could be fetched (apt-cache showsrc openssl lists: $(openssl_versions | tr '\n' ' '))"
}

build_peers() {
  local src=$1 prefix=$2 hq=test/quic-openssl-docker/hq-interop
  mkdir -p "$prefix/peers"
  # enable-demos builds the demo echo server in the build tree; install_sw does not install it.
  cp "$src/demos/guide/quic-server-block" "$prefix/peers/"
  # enable-hqinterop only builds these with tests enabled; compiling the two files directly
  # against the static libraries is quicker.
  local f
  for f in quic-hq-interop-server quic-hq-interop; do
    cc -O2 -I"$prefix/include" -o "$prefix/peers/$f" "$src/$hq/$f.c" \
       "$prefix/lib/libssl.a" "$prefix/lib/libcrypto.a" -lpthread -ldl
  done
}

# Fixes for OpenSSL bugs quicc's tests found, applied to the source before it is built (each
# patch says what it fixes). They are part of the cache key: a new patch means a new build.
PATCHES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/openssl-patches

cache_key() {
  { printf '%s\n' "${OPENSSL_OPTIONS[@]}" "peers=$PEERS_REV"; cat "$PATCHES_DIR"/*.patch; } |
    sha256sum | cut -c1-12
}

WORK=
cleanup() { [ -z "$WORK" ] || rm -rf "$WORK"; }
trap cleanup EXIT

build_openssl() {
  local work prefix key tarball src v
  WORK=$(mktemp -d)
  work=$WORK
  add_trixie_deb_src
  fetch_openssl_source "$work"
  tarball=$(ls "$work"/openssl_*.orig.tar.* | head -n1)
  v=$(basename "$tarball" | sed -E 's/^openssl_([^.]+\.[^.]+\.[^.]+)\.orig.*/\1/')
  key=$(cache_key)
  prefix="$CACHE_ROOT/openssl-$v-${FLAVOR:+$FLAVOR-}$key"
  if [ -f "$prefix/.complete" ]; then
    echo "$prefix"
    return 0
  fi
  log "building OpenSSL $v${FLAVOR:+ ($FLAVOR)} into $prefix (takes a few minutes once)"
  mkdir -p "$work/src"
  tar -xf "$tarball" -C "$work/src" --strip-components=1
  src="$work/src"
  local p
  for p in "$PATCHES_DIR"/*.patch; do
    log "applying $(basename "$p")"
    patch -d "$src" -p1 --quiet <"$p" || die "patch $(basename "$p") does not apply to OpenSSL $v"
  done
  rm -rf "$prefix"
  local log="$prefix.build.log"
  mkdir -p "$CACHE_ROOT"
  if ! (cd "$src" && ./Configure --prefix="$prefix" "${OPENSSL_OPTIONS[@]}" &&
          make -j"$(nproc)" && make install_sw) >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "OpenSSL build failed (full log: $log)"
  fi
  [ -n "$FLAVOR" ] || build_peers "$src" "$prefix"
  echo "$v" > "$prefix/.complete"
  echo "$prefix"
}

# A complete cached build with our options is reused without touching the network.
cached_prefix() {
  local key d
  key=$(cache_key)
  for d in $(ls -d "$CACHE_ROOT"/openssl-3.5.*-"${FLAVOR:+$FLAVOR-}$key" 2>/dev/null | sort -r -V); do
    [ -f "$d/.complete" ] && { echo "$d"; return 0; }
  done
  return 1
}

# The source tree alone (--source), unpacked once (under a lock: the benchmark's smoke tests
# under both drivers may ask at the same time).
source_tree() {
  local d tarball v
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/src.lock"
  flock 9
  for d in $(ls -d "$CACHE_ROOT"/src-openssl-3.5.* 2>/dev/null | sort -r -V); do
    [ -f "$d/.complete" ] && { echo "$d"; return 0; }
  done
  WORK=$(mktemp -d)
  add_trixie_deb_src
  fetch_openssl_source "$WORK"
  tarball=$(ls "$WORK"/openssl_*.orig.tar.* | head -n1)
  v=$(basename "$tarball" | sed -E 's/^openssl_([^.]+\.[^.]+\.[^.]+)\.orig.*/\1/')
  d="$CACHE_ROOT/src-openssl-$v"
  rm -rf "$d"
  mkdir -p "$d"
  tar -xf "$tarball" -C "$d" --strip-components=1
  touch "$d/.complete"
  echo "$d"
}

main() {
  install_packages
  if [ -n "$SOURCE_ONLY" ]; then
    source_tree
    return 0
  fi
  if [ -z "$FLAVOR" ] && [ -n "${QUICC_SYSTEM_OPENSSL:-}" ] && system_openssl_ok; then
    # Asked for, and new enough; only the peers would be missing, and the tests that need them
    # say so. The fixes of scripts/openssl-patches/ are missing too.
    log "using the system OpenSSL, without the fixes in scripts/openssl-patches/"
    echo "system"
    return 0
  fi
  cached_prefix || build_openssl
}

main
