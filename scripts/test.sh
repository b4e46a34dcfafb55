#!/usr/bin/env bash
# Builds everything and runs the whole test suite: unit tests and end-to-end tests of the real
# binary against quicc's own listener and OpenSSL's demo servers over loopback UDP, each
# end-to-end test under both drivers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
