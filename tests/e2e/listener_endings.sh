#!/usr/bin/env bash
# How a listener's run ends:
#   `quicc --listen --echo --timeout 2s`, with no client at all, exits 14 within 3 s (and not
#   before the 2 s are up);
#   a pipe listener (stdin /dev/null) serving a handshake-only client, README's own check
#   `quicc --on-eof close ... </dev/null`, exits 0 with nothing written, as does the client.
. "$(dirname "$0")/lib.sh"

# --- --timeout on an echo listener without clients ------------------------------------------------
t0=$(now_ms)
rc=0
qt 10 --listen 127.0.0.1:0 --echo --timeout 2s </dev/null >"$TMP/echo.out" 2>"$TMP/echo.err" || rc=$?
elapsed=$(( $(now_ms) - t0 ))
diag_add "$TMP/echo.err"
[ "$rc" = 14 ] || fail "echo listener --timeout 2s: exit $rc, expected 14"
grep -q '^quicc: error: --timeout 2s reached$' "$TMP/echo.err" ||
  fail "echo listener --timeout 2s: no '--timeout 2s reached' error line"
[ "$elapsed" -ge 1900 ] && [ "$elapsed" -le "$(scaled_over 2000 3000)" ] ||
  fail "echo listener --timeout 2s: exited after $elapsed ms, expected 1900 .. $(scaled_over 2000 3000) ms"

# --- a handshake-only client of a pipe listener ---------------------------------------------------
start_listener "$TMP/pipe.out" -v
rc=0
qt 20 -v --on-eof close --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" </dev/null \
  >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
diag_add "$TMP/client.err"
[ "$rc" = 0 ] || fail "handshake-only client (--on-eof close </dev/null): exit $rc, expected 0"
grep -q 'handshake_done' "$TMP/client.err" || fail "handshake-only client: no handshake_done"
wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" = 0 ] ||
  fail "pipe listener (stdin /dev/null) after a handshake-only client: exit $WAIT_RC, expected 0 (124: still running after $(scaled 10) s)"
grep -q 'handshake_done' "$TMP/pipe.out.err" || fail "the pipe listener logged no handshake_done"
[ ! -s "$TMP/pipe.out" ] || fail "the pipe listener wrote '$(head -c 100 "$TMP/pipe.out")', expected nothing"
[ ! -s "$TMP/client.out" ] || fail "the client wrote '$(head -c 100 "$TMP/client.out")', expected nothing"

pass "echo listener --timeout 2s: exit 14 after $elapsed ms; handshake-only client: both exit 0"
