#!/usr/bin/env bash
# A quicc whose stdin is still open must notice when the peer closes the connection after having
# finished its side of the stream (FIN): it cannot send anything any more, so it logs the
# close (close by=peer) and exits within 3 s instead of waiting for stdin forever.
#   listener side: pipe listener, stdin held open; `printf hello | quicc --on-eof close`.
#   client side:   `printf bye | quicc --listen --on-eof close`; the client's stdin held open
#                  after one byte "x" (which opens the stream).
. "$(dirname "$0")/lib.sh"

# --- listener side -------------------------------------------------------------------------------
hold_fifo "$TMP/listener.fifo"
LISTENER_STDIN=$TMP/listener.fifo start_listener "$TMP/listener.out" -v
rc=0
printf hello | qt 10 -v --on-eof close --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  >/dev/null 2>"$TMP/client1.err" || rc=$?
diag_add "$TMP/client1.err"
[ "$rc" = 0 ] || fail "listener side: client (--on-eof close) exited $rc, expected 0"
[ "$(cat "$TMP/listener.out")" = hello ] || fail "listener side: listener printed '$(head -c 100 "$TMP/listener.out")'"
wait_pid "$LISTENER_PID" 3
[ "$WAIT_RC" != 124 ] ||
  fail "listener side: the pipe listener (stdin still open) is still running $(scaled 3) s after the client" \
       "closed the connection; its log has $(grep -c 'close by=' "$TMP/listener.out.err" || true) close line(s)"
grep -q 'close by=peer ' "$TMP/listener.out.err" || fail "listener side: the listener logged no 'close by=peer'"
note "listener side: the listener exited $WAIT_RC"

# --- client side ---------------------------------------------------------------------------------
printf bye >"$TMP/bye"
LISTENER_STDIN=$TMP/bye start_listener "$TMP/listener2.out" -v --on-eof close
hold_fifo "$TMP/client.fifo"
"$QUICC" "--$QUICC_DRIVER" -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  <"$TMP/client.fifo" >"$TMP/client2.out" 2>"$TMP/client2.err" &
cpid=$!
bg_track "$cpid"
diag_add "$TMP/client2.err"
printf x >"$TMP/client.fifo"   # opens the stream; the FIFO stays open (hold_fifo)
wait_pid "$LISTENER_PID" 5
[ "$WAIT_RC" != 124 ] || fail "client side: the listener (--on-eof close) did not finish within $(scaled 5) s"
[ "$WAIT_RC" = 0 ] || fail "client side: the listener exited $WAIT_RC, expected 0"
[ "$(cat "$TMP/client2.out")" = bye ] || fail "client side: client printed '$(head -c 100 "$TMP/client2.out")'"
wait_pid "$cpid" 3
if [ "$WAIT_RC" = 124 ]; then
  kill -9 "$cpid" 2>/dev/null || true
  fail "client side: the client (stdin still open) is still running $(scaled 3) s after the listener closed the" \
       "connection; its log has $(grep -c 'close by=' "$TMP/client2.err" || true) close line(s)"
fi
grep -q 'close by=peer ' "$TMP/client2.err" || fail "client side: the client logged no 'close by=peer'"
note "client side: the client exited $WAIT_RC"

pass "a peer's close after its FIN ends quicc even with stdin still open"
