#!/usr/bin/env bash
# The sanitizer builds' report directory (see tests/CMakeLists.txt).
#   sanitizer_reports.sh clear DIR   empties DIR (before the first test)
#   sanitizer_reports.sh check DIR   prints every report in DIR and fails if there is one
set -euo pipefail
mode=$1 dir=$2
case "$mode" in
  clear)
    rm -rf "$dir"
    mkdir -p "$dir"
    ;;
  check)
    shopt -s nullglob
    reports=("$dir"/*)
    [ ${#reports[@]} = 0 ] && { echo "no sanitizer reports"; exit 0; }
    for f in "${reports[@]}"; do
      printf -- '=== %s\n' "$f"
      cat "$f"
    done
    echo "FAIL: ${#reports[@]} sanitizer report(s) in $dir"
    exit 1
    ;;
  *)
    echo "usage: $0 clear|check DIR" >&2
    exit 2
    ;;
esac
