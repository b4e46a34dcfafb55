#!/usr/bin/env bash
# Builds everything and runs the whole test suite: unit tests and end-to-end tests of the real
# binary against quicc's own listener and OpenSSL's demo servers over loopback UDP, each
# end-to-end test under both drivers. Then again under the sanitizers:
#
#   normal  build/       the whole suite
#   asan    build-asan/  under AddressSanitizer (with LeakSanitizer) and UndefinedBehavior-
#                        Sanitizer: the unit tests, every end-to-end test under --nonblocking,
#                        and the --blocking twins of the tests of the blocking driver's own
#                        code paths (label asan; the list is in tests/CMakeLists.txt)
#   tsan    build-tsan/  under ThreadSanitizer with an instrumented OpenSSL: the unit tests and
#                        the --blocking driver's tests (the one that runs several threads), bar
#                        a few that check options and output formats (label tsan)
#   fuzz    build-fuzz/  the libFuzzer targets of the parsers of untrusted text (tests/fuzz/),
#                        10 s each (scripts/fuzz.sh); skipped when ctest arguments are given
#
# Every phase runs even when an earlier one failed; the script fails if any did. Arguments are
# passed to every phase's ctest. Sanitizer reports are collected by the suites themselves (see
# tests/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

summary=()
failed=0

# phase NAME BUILD_ARG BUILD_DIR CTEST_ARGS...: builds and tests one variant, and records one
# line with its timings and result.
phase() {
  local name=$1 build_arg=$2 dir=$3 t0 t1 t2 result=passed
  shift 3
  printf '== test.sh: %s: building %s/\n' "$name" "$dir"
  t0=$SECONDS
  if scripts/build.sh ${build_arg:+"$build_arg"}; then
    t1=$SECONDS
    printf '== test.sh: %s: testing %s/\n' "$name" "$dir"
    ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" "$@" || result=FAILED
  else
    t1=$SECONDS
    result="FAILED (build)"
  fi
  t2=$SECONDS
  [ "$result" = passed ] || failed=1
  summary+=("$(printf '%-6s build %4d s, tests %4d s: %s' "$name" $((t1 - t0)) $((t2 - t1)) "$result")")
  printf '== test.sh: %s\n' "${summary[-1]}"
}

# fuzz_phase SECONDS: the libFuzzer targets (scripts/fuzz.sh), SECONDS each.
fuzz_phase() {
  local t0=$SECONDS result=passed
  printf '== test.sh: fuzz: building build-fuzz/ and fuzzing, %s s per target\n' "$1"
  scripts/fuzz.sh "$1" || result=FAILED
  [ "$result" = passed ] || failed=1
  summary+=("$(printf '%-6s build and %2d s per target, %4d s in all: %s' fuzz "$1" $((SECONDS - t0)) "$result")")
  printf '== test.sh: %s\n' "${summary[-1]}"
}

phase normal "" build "$@"
phase asan asan build-asan -L '^asan$' "$@"
phase tsan tsan build-tsan -L '^tsan$' "$@"
# Its coverage levels off within 5 s (scripts/fuzz.sh 60 measured it); 10 s each is a short
# run that still finds what a change to a parser breaks. Longer: scripts/fuzz.sh 600.
[ $# -gt 0 ] || fuzz_phase 10

printf '== test.sh: %s\n' "${summary[@]}"
exit "$failed"
