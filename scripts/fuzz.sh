#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang, ASan and UBSan into
# build-fuzz/, then runs each for SECONDS (default 30) on a copy of its seed corpus
# (tests/fuzz/corpus/<target>/), one after the other.
#
#   scripts/fuzz.sh [SECONDS]
#
# Fails if any target found something: a crash, a sanitizer report, a broken property, a leak
# or an input slower than 10 s. Its reproducer is kept in build-fuzz/fuzz-runs/<target>/ and
# printed with the command that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
dir=build-fuzz

# The packages (clang among them) and the OpenSSL the parsers' files link against, as build.sh.
prefix=$(scripts/bootstrap.sh | tail -n 1)
launcher=
if command -v ccache >/dev/null; then
  cache=${QUICC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quicc}/ccache
  launcher="env;CCACHE_DIR=$cache;CCACHE_BASEDIR=$PWD;CCACHE_NOHASHDIR=1;CCACHE_MAXSIZE=2G;ccache"
fi
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DQUICC_FUZZ=ON \
      -DBUILD_TESTING=OFF -DQUICC_SANITIZE=address,undefined -DQUICC_OPENSSL_PREFIX="$prefix" \
      -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" -DCMAKE_C_COMPILER_LAUNCHER="$launcher" >/dev/null

targets=()
for source in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
# Only the fuzz targets: quicc itself is not needed here.
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"

failed=()
for target in "${targets[@]}"; do
  # Fresh each run: the corpus grows in a copy, never in tests/fuzz/corpus/.
  work=$PWD/$dir/fuzz-runs/$target
  rm -rf "$work"
  mkdir -p "$work/tmp"
  cp -r "tests/fuzz/corpus/$target" "$work/corpus"
  printf '== fuzz.sh: %s for %s s\n' "$target" "$seconds"
  # TMPDIR: fuzz_http09_request's served directory, kept out of /tmp and gone with the run.
  if TMPDIR=$work/tmp ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$dir/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1; then
    # The last status line: executions, coverage, corpus and speed.
    grep -E '^#[0-9]+' "$work/log" | tail -n 1
  else
    tail -n 40 "$work/log"
    for artifact in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$artifact" ] || continue
      printf '== fuzz.sh: %s: reproducer %s (replay: %s/tests/fuzz/%s %s)\n' \
             "$target" "$artifact" "$dir" "$target" "$artifact"
    done
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  printf '== fuzz.sh: FAILED: %s (logs in %s/fuzz-runs/)\n' "${failed[*]}" "$dir"
  exit 1
fi
printf '== fuzz.sh: %d targets, %s s each: nothing found\n' "${#targets[@]}" "$seconds"
