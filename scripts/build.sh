#!/usr/bin/env bash
# Bootstraps the machine (packages, OpenSSL 3.5 cache) and builds quicc into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(scripts/bootstrap.sh | tail -n 1)
cmake -S . -B build -DQUICC_OPENSSL_PREFIX="$prefix" >/dev/null
cmake --build build -j"$(nproc)"
