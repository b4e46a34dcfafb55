#!/usr/bin/env bash
# Bootstraps the machine (packages, OpenSSL 3.5 cache) and builds quicc.
#
#   scripts/build.sh         the normal build, into build/
#   scripts/build.sh asan    AddressSanitizer + UndefinedBehaviorSanitizer, into build-asan/
#   scripts/build.sh tsan    ThreadSanitizer, into build-tsan/, against an OpenSSL instrumented
#                            with it (see scripts/bootstrap.sh --tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  '')   dir=build      sanitize= ;;
  asan) dir=build-asan sanitize=address,undefined ;;
  tsan) dir=build-tsan sanitize=thread ;;
  *)    echo "usage: $0 [asan|tsan]" >&2; exit 2 ;;
esac
prefix=$(scripts/bootstrap.sh | tail -n 1)
# The tests' peers (OpenSSL's demo servers, bin/openssl) always come from the normal OpenSSL.
peers=$prefix
[ "$sanitize" != thread ] || prefix=$(scripts/bootstrap.sh --tsan | tail -n 1)
# Compilations are cached (ccache, beside the OpenSSL cache): a fresh clone on a machine that
# built quicc before compiles only what changed. Paths are taken relative to the clone, so the
# cache serves any clone's directory.
launcher=
if command -v ccache >/dev/null; then
  cache=${QUICC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quicc}/ccache
  launcher="env;CCACHE_DIR=$cache;CCACHE_BASEDIR=$PWD;CCACHE_NOHASHDIR=1;CCACHE_MAXSIZE=2G;ccache"
fi
cmake -S . -B "$dir" -DQUICC_OPENSSL_PREFIX="$prefix" -DQUICC_PEERS_PREFIX="$peers" \
      -DQUICC_SANITIZE="$sanitize" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" \
      -DCMAKE_C_COMPILER_LAUNCHER="$launcher" >/dev/null
cmake --build "$dir" -j"$(nproc)"
