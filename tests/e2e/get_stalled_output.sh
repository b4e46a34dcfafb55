#!/usr/bin/env bash
# --get to a stdout nobody reads: SIGINT still ends the run at once (exit 130) and leaves the
# server to its next client; a reader that leaves after 1000 bytes (| head) makes it exit 13
# (output closed), not 0. The server is quicc --listen --serve --keep-open.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/www"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$TMP/www/big"
start_listener "$TMP/l.out" --serve "$TMP/www" --keep-open
TO=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")

# A stalled stdout: a FIFO whose reader never reads.
mkfifo "$TMP/stall"
sleep 120 <"$TMP/stall" &
bg_track $!
"$QUICC" "--$QUICC_DRIVER" --get /big "${TO[@]}" >"$TMP/stall" 2>"$TMP/stall.err" &
CLIENT=$!
bg_track "$CLIENT"
diag_add "$TMP/stall.err"
sleep "$(scaled_f 1)"
kill -0 "$CLIENT" 2>/dev/null || fail "stalled stdout: the client ended before SIGINT: $(cat "$TMP/stall.err")"
t0=$(now_ms)
kill -INT "$CLIENT"
wait_pid "$CLIENT" 5
ELAPSED=$(( $(now_ms) - t0 ))
[ "$WAIT_RC" = 130 ] || fail "stalled stdout, SIGINT: exit $WAIT_RC, expected 130 (124: still running)"
grep -q '^quicc: error: interrupted (SIGINT)' "$TMP/stall.err" ||
  fail "stalled stdout, SIGINT: $(cat "$TMP/stall.err")"

# A reader that leaves: exit 13, never 0.
rc=0
set +o pipefail
qt 30 --get /big "${TO[@]}" 2>"$TMP/head.err" | head -c 1000 >/dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
diag_add "$TMP/head.err"
[ "$rc" = 13 ] || fail "| head -c 1000: exit $rc, expected 13 (output closed)"

# The server goes on serving.
rc=0
qt 30 --get /big -o "$TMP/big" "${TO[@]}" 2>"$TMP/after.err" || rc=$?
diag_add "$TMP/after.err"
[ "$rc" = 0 ] && cmp -s "$TMP/big" "$TMP/www/big" || fail "the next client: exit $rc or a wrong file"
pass "SIGINT with a stalled stdout: 130 in $ELAPSED ms; | head: 13"
