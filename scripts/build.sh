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
cmake -S . -B "$dir" -DQUICC_OPENSSL_PREFIX="$prefix" -DQUICC_PEERS_PREFIX="$peers" \
      -DQUICC_SANITIZE="$sanitize" >/dev/null
cmake --build "$dir" -j"$(nproc)"
