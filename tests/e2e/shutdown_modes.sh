#!/usr/bin/env bash
# How quicc closes the connection:
#   --close-code 0x42 --close-reason "bye now"  the peer logs code=66 reason="bye now".
#   graceful / --shutdown rapid / --no-stream-flush against a peer that stops answering (SIGSTOP)
#     after the handshake: graceful waits for acknowledgements that never come, until
#     --timeout 4s (exit 14; under TSan x6 still before the 30 s idle timeout); rapid and no-stream-flush exit within 2.5 s
#     (typically 50 ms; the margin is for a loaded machine, 1159 ms was seen) after stdin ended, with exit 15 naming the 2 bytes the stopped peer never acknowledged.
#   --wait-peer  the peer closes first: the client logs close by=peer, the listener by=local.
#   without it   exactly one side closes: one logs by=local, the other by=peer.
#   the closing period: by default a client that closes leaves once its CONNECTION_CLOSE is
#     out (its close line says closing_period=skipped); --shutdown full stays for it
#     (closing_period=waited), at least 3 PTOs (each over OpenSSL's 25 ms max_ack_delay), so
#     its close line comes >= 75 ms after it sent its FIN.
. "$(dirname "$0")/lib.sh"

# --- --close-code / --close-reason -------------------------------------------------------------
start_listener "$TMP/echo.out" --echo --keep-open -v
ECHO_LOG=$TMP/echo.out.err
mark=$(log_mark "$ECHO_LOG")
rc=0
printf hello | qt 10 -v --close-code 0x42 --close-reason "bye now" \
  --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" >"$TMP/code.out" 2>"$TMP/code.err" || rc=$?
diag_add "$TMP/code.err"
[ "$rc" = 0 ] || fail "--close-code 0x42: client exited $rc, expected 0"
[ "$(cat "$TMP/code.out")" = hello ] || fail "--close-code 0x42: client printed '$(head -c 100 "$TMP/code.out")'"
grep -Eq 'close by=local kind=application code=66 .*reason="bye now"' "$TMP/code.err" ||
  fail "--close-code 0x42: client log has no 'close by=local kind=application code=66 ... reason=\"bye now\"'"
wait_log "$ECHO_LOG" "$mark" 'close by=peer kind=application code=66 .*reason="bye now"( |$)' 3 ||
  fail "--close-code 0x42 --close-reason 'bye now': the listener logged no" \
       "'close by=peer kind=application code=66 ... reason=\"bye now\"': $(log_since "$ECHO_LOG" "$mark" | grep 'close by' || true)"

# Decimal form.
mark=$(log_mark "$ECHO_LOG")
rc=0
printf hello | qt 10 --close-code 1234 --close-reason "done" \
  --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" >/dev/null 2>"$TMP/code2.err" || rc=$?
diag_add "$TMP/code2.err"
[ "$rc" = 0 ] || fail "--close-code 1234: client exited $rc, expected 0"
wait_log "$ECHO_LOG" "$mark" 'close by=peer kind=application code=1234 .*reason=done( |$)' 3 ||
  fail "--close-code 1234 --close-reason done: the listener logged no 'close by=peer ... code=1234 ... reason=done'"
kill "$LISTENER_PID" 2>/dev/null || true
wait_pid "$LISTENER_PID" 5

# --- graceful / rapid / no-stream-flush against a stopped peer -----------------------------------
# stopped_peer_run NAME ARGS...: a pipe listener (stdin held open, so it never sends a FIN) is
# stopped with SIGSTOP 0.4 s after the client starts (after the handshake); the client's input
# ("hi") only ends at 0.8 s, then --on-eof close. Sets RC, and END_MS: how long after its input
# ended the client exited. The whole schedule (0.4, 0.7, 0.8 s and the client's --timeout 4s) is
# scaled by QUICC_TIME_SCALE, so that a slower build still stops the listener after the handshake
# and before the input ends.
stopped_peer_run() {
  local name=$1 lpid cpid t0 t_end stopped=0
  shift
  hold_fifo "$TMP/$name.fifo"
  LISTENER_STDIN=$TMP/$name.fifo start_listener "$TMP/$name.listener.out" -v
  lpid=$LISTENER_PID
  t0=$(now_ms)
  { sleep "$(scaled_f 0.8)"; printf hi; } |
    qt 10 -v --on-eof close --timeout "$(scaled 4)s" "$@" --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
      >"$TMP/$name.out" 2>"$TMP/$name.err" &
  cpid=$!
  bg_track "$cpid"
  diag_add "$TMP/$name.err"
  sleep "$(scaled_f 0.4)"
  grep -q handshake_done "$TMP/$name.listener.out.err" || {
    sleep "$(scaled_f 0.3)"
    grep -q handshake_done "$TMP/$name.listener.out.err" ||
      fail "$name: the listener logged no handshake_done $(scaled_f 0.7) s after the client started"
  }
  kill -STOP "$lpid" && stopped=1
  [ "$stopped" = 1 ] || fail "$name: could not SIGSTOP the listener"
  wait_pid "$cpid" 15
  RC=$WAIT_RC
  t_end=$(now_ms)
  END_MS=$((t_end - t0 - $(scaled 800)))
  kill_now "$lpid"   # SIGKILL works on a stopped process
  grep -q 'stream id=0 change=fin_sent' "$TMP/$name.err" ||
    fail "$name: the client never sent its FIN (did its input reach EOF?)"
}

stopped_peer_run graceful
[ "$RC" = 14 ] ||
  fail "graceful shutdown, stopped peer: client exited $RC, expected 14 (--timeout $(scaled 4)s: its data is" \
       "never acknowledged)"
[ "$END_MS" -ge 3000 ] ||
  fail "graceful shutdown, stopped peer: client exited ${END_MS} ms after its input ended, before" \
       "--timeout $(scaled 4)s"
note "graceful, stopped peer: exit $RC, ${END_MS} ms after input EOF"

stopped_peer_run rapid --shutdown rapid
[ "$RC" = 15 ] || fail "--shutdown rapid, stopped peer: client exited $RC, expected 15 (data unacknowledged)"
grep -q '^quicc: error: 2 bytes we sent were not acknowledged when the connection closed (--shutdown rapid)$' \
  "$TMP/rapid.err" || fail "--shutdown rapid, stopped peer: no error line naming the 2 unacknowledged bytes"
[ "$END_MS" -le "$(scaled 2500)" ] ||
  fail "--shutdown rapid, stopped peer: client exited ${END_MS} ms after its input ended, expected <= $(scaled 2500) ms"
note "rapid, stopped peer: exit $RC, ${END_MS} ms after input EOF"

stopped_peer_run noflush --no-stream-flush
[ "$RC" = 15 ] || fail "--no-stream-flush, stopped peer: client exited $RC, expected 15 (data unacknowledged)"
grep -q '^quicc: error: 2 bytes we sent were not acknowledged when the connection closed (--no-stream-flush)$' \
  "$TMP/noflush.err" || fail "--no-stream-flush, stopped peer: no error line naming the 2 unacknowledged bytes"
[ "$END_MS" -le "$(scaled 2500)" ] ||
  fail "--no-stream-flush, stopped peer: client exited ${END_MS} ms after its input ended, expected <= $(scaled 2500) ms"
note "no-stream-flush, stopped peer: exit $RC, ${END_MS} ms after input EOF"

# --- --wait-peer -------------------------------------------------------------------------------
# close_sides NAME ARGS...: `printf hi | quicc -v ARGS` against a pipe listener (stdin /dev/null);
# both exit 0; sets CLIENT_BY and LISTENER_BY to who closed according to each side's log.
close_sides() {
  local name=$1 rc=0
  shift
  start_listener "$TMP/$name.listener.out" -v
  printf hi | qt 10 -v "$@" --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
  diag_add "$TMP/$name.err"
  [ "$rc" = 0 ] || fail "$name: client exited $rc, expected 0"
  wait_pid "$LISTENER_PID" 5
  [ "$WAIT_RC" = 0 ] || fail "$name: listener exited $WAIT_RC, expected 0 (124: still running)"
  [ "$(cat "$TMP/$name.listener.out")" = hi ] || fail "$name: listener printed '$(head -c 100 "$TMP/$name.listener.out")'"
  CLIENT_BY=$(sed -n 's/.*\] close by=\([a-z]*\) .*/\1/p' "$TMP/$name.err")
  LISTENER_BY=$(sed -n 's/.*\] close by=\([a-z]*\) .*/\1/p' "$TMP/$name.listener.out.err")
}

close_sides wait_peer --wait-peer
[ "$CLIENT_BY" = peer ] ||
  fail "--wait-peer: client log says close by='$CLIENT_BY', expected exactly one 'close by=peer'"
[ "$LISTENER_BY" = local ] ||
  fail "--wait-peer: listener log says close by='$LISTENER_BY', expected exactly one 'close by=local'"

close_sides no_wait_peer
case "$CLIENT_BY/$LISTENER_BY" in
  local/peer|peer/local) ;;
  *) fail "without --wait-peer: client close by='$CLIENT_BY', listener close by='$LISTENER_BY';" \
          "expected exactly one side to close (one 'local', the other 'peer')" ;;
esac
note "without --wait-peer: client close by=$CLIENT_BY, listener close by=$LISTENER_BY"

# --- the closing period ------------------------------------------------------------------------
# period_run NAME ARGS...: `printf hi | quicc -v --on-eof close ARGS` (so that the client
# closes) against a pipe listener; both exit 0. Sets PERIOD (the client's closing_period=) and
# FIN_TO_CLOSE_MS (from its FIN to its close line, by its own log's clock).
period_run() {
  local name=$1 fin close
  shift
  close_sides "$name" --on-eof close "$@"
  [ "$CLIENT_BY" = local ] || fail "$name: the client did not close (--on-eof close): close by='$CLIENT_BY'"
  PERIOD=$(sed -n 's/.*\] close by=.* closing_period=\([a-z]*\).*/\1/p' "$TMP/$name.err")
  fin=$(sed -n 's/^\[ *\([0-9]*\)\.[0-9]*ms\] stream id=[0-9]* change=fin_sent.*/\1/p' "$TMP/$name.err" | head -1)
  close=$(sed -n 's/^\[ *\([0-9]*\)\.[0-9]*ms\] close by=.*/\1/p' "$TMP/$name.err")
  [ -n "$fin" ] && [ -n "$close" ] || fail "$name: no fin_sent or close line in the client's log"
  FIN_TO_CLOSE_MS=$((close - fin))
}

period_run period_default
[ "$PERIOD" = skipped ] ||
  fail "default --shutdown graceful: the client's close line says closing_period='$PERIOD', expected skipped"
note "graceful: closing period skipped, ${FIN_TO_CLOSE_MS} ms from FIN to close"
period_run period_full --shutdown full
[ "$PERIOD" = waited ] ||
  fail "--shutdown full: the client's close line says closing_period='$PERIOD', expected waited"
[ "$FIN_TO_CLOSE_MS" -ge 75 ] ||
  fail "--shutdown full: the close came ${FIN_TO_CLOSE_MS} ms after the FIN: shorter than 3 PTOs (>= 75 ms)"
note "full: closing period waited, ${FIN_TO_CLOSE_MS} ms from FIN to close"

pass "close code/reason, graceful vs rapid vs no-stream-flush, --wait-peer, the closing period"
