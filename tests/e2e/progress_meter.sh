#!/usr/bin/env bash
# The progress meter on a 100 MB transfer (progress_meter.py): drawn, redrawn and erased when
# stderr is a pty, also for a --get download; absent when stderr is a file, with --no-progress,
# and with -v.
. "$(dirname "$0")/lib.sh"

head -c 100000000 /dev/urandom >"$TMP/data"
export QUICC QUICC_DRIVER TMP DATA=$TMP/data
python3 "$(dirname "$0")/progress_meter.py" >"$TMP/pty.log" 2>&1 || {
  for f in "$TMP"/*.pty "$TMP"/*.err; do [ -e "$f" ] && diag_add "$f"; done
  cat "$TMP/pty.log" >&2
  fail "$(grep -m1 '^FAIL' "$TMP/pty.log" || tail -1 "$TMP/pty.log")"
}
pass "meter drawn, redrawn and erased on a pty (a pipe, a --get); none in a file, with --no-progress or -v"
