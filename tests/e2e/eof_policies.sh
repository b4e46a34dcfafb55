#!/usr/bin/env bash
# What stdin EOF does (--on-eof), checked on the wire through the peer's -v log:
#   fin (default)  FIN is sent, the echo comes back, exit 0; the listener logs fin_received.
#   close          FIN is sent and the connection closed once it is acknowledged, without waiting
#                  for the peer's FIN: against a pipe listener whose stdin never ends, exit 0
#                  within 3 s (while the default policy is still waiting when killed after 3 s).
#   ignore         no FIN: the echo still arrives, the run ends at --timeout 1s (exit 14) and the
#                  listener never logs fin_received for that connection.
# Upper bounds and timeout(1)'s limits are scaled by QUICC_TIME_SCALE (lib.sh).
#   reset:7        RESET_STREAM with code 7, then close: exit 0; listener logs reset_received code=7.
. "$(dirname "$0")/lib.sh"

# exactly_hello FILE WHAT: FILE holds exactly the five bytes "hello".
exactly_hello() {
  [ "$(od -An -tx1 "$1" | tr -d ' \n')" = 68656c6c6f ] ||
    fail "$2: stdout is '$(head -c 100 "$1")' ($(stat -c %s "$1") bytes), expected exactly 'hello'"
}

start_listener "$TMP/echo.out" --echo --keep-open -v
ECHO_LOG=$TMP/echo.out.err
ECHO_PORT=$LISTENER_PORT
ECHO_FP=$LISTENER_FP
ECHO_PID=$LISTENER_PID

# --- fin (the default) ------------------------------------------------------------------------
mark=$(log_mark "$ECHO_LOG")
rc=0
printf hello | qt 10 -v --pin-sha256 "$ECHO_FP" "127.0.0.1:$ECHO_PORT" \
  >"$TMP/fin.out" 2>"$TMP/fin.err" || rc=$?
diag_add "$TMP/fin.err"
[ "$rc" = 0 ] || fail "fin (default): client exited $rc, expected 0"
exactly_hello "$TMP/fin.out" "fin (default)"
grep -q 'stream id=0 change=fin_sent' "$TMP/fin.err" || fail "fin (default): client log has no fin_sent"
grep -q 'stream id=0 change=fin_received' "$TMP/fin.err" ||
  fail "fin (default): client exited 0 without logging the echo's fin_received"
wait_log "$ECHO_LOG" "$mark" 'stream id=0 change=fin_received' 3 ||
  fail "fin (default): the echo listener logged no fin_received for the connection"

# --- ignore ----------------------------------------------------------------------------------
mark=$(log_mark "$ECHO_LOG")
rc=0
t0=$(now_ms)
# --timeout scales: the echo must arrive within it, after a handshake that a loaded machine slows.
ignore_timeout=$(scaled 1)
printf hello | qt $((10 + ignore_timeout)) -v --on-eof ignore --timeout "${ignore_timeout}s" \
  --pin-sha256 "$ECHO_FP" "127.0.0.1:$ECHO_PORT" >"$TMP/ignore.out" 2>"$TMP/ignore.err" || rc=$?
t1=$(now_ms)
diag_add "$TMP/ignore.err"
[ "$rc" = 14 ] || fail "--on-eof ignore --timeout ${ignore_timeout}s: client exited $rc, expected 14 (--timeout reached)"
exactly_hello "$TMP/ignore.out" "--on-eof ignore"
[ $((t1 - t0)) -ge $((ignore_timeout * 1000 - 100)) ] ||
  fail "--on-eof ignore: client ended after $((t1 - t0)) ms, before --timeout ${ignore_timeout}s"
[ $((t1 - t0)) -le $((ignore_timeout * 1000 + $(scaled 3000))) ] ||
  fail "--on-eof ignore: client took $((t1 - t0)) ms, expected <= $((ignore_timeout * 1000 + $(scaled 3000))) ms"
! grep -q 'change=fin_sent' "$TMP/ignore.err" || fail "--on-eof ignore: client log shows fin_sent"
# The connection is over once the listener has logged its close; only then is "no FIN" final.
wait_log "$ECHO_LOG" "$mark" '^\[.*\] close ' 3 ||
  fail "--on-eof ignore: the echo listener logged no close for the connection"
log_since "$ECHO_LOG" "$mark" >"$TMP/ignore.listener.log"
grep -q 'stream id=0 change=accepted' "$TMP/ignore.listener.log" ||
  fail "--on-eof ignore: the echo listener did not log the stream (is this the right connection?)"
! grep -q 'change=fin_received' "$TMP/ignore.listener.log" ||
  fail "--on-eof ignore: the echo listener received a FIN: $(grep fin_received "$TMP/ignore.listener.log")"

# --- reset:7 ---------------------------------------------------------------------------------
mark=$(log_mark "$ECHO_LOG")
rc=0
printf hello | qt 10 -v --on-eof reset:7 --pin-sha256 "$ECHO_FP" "127.0.0.1:$ECHO_PORT" \
  >"$TMP/reset.out" 2>"$TMP/reset.err" || rc=$?
diag_add "$TMP/reset.err"
[ "$rc" = 0 ] || fail "--on-eof reset:7: client exited $rc, expected 0"
grep -q 'stream id=0 change=reset_sent code=7' "$TMP/reset.err" ||
  fail "--on-eof reset:7: client log has no 'reset_sent code=7'"
! grep -q 'change=fin_sent' "$TMP/reset.err" || fail "--on-eof reset:7: client sent a FIN too"
wait_log "$ECHO_LOG" "$mark" 'stream id=0 change=reset_received code=7( |$)' 3 ||
  fail "--on-eof reset:7: the echo listener logged no 'reset_received code=7'"
kill -0 "$ECHO_PID" 2>/dev/null || fail "the echo listener exited"

# --- close, against a pipe listener that never sends its FIN -----------------------------------
# First the default policy: it sends its FIN but then waits for the listener's, which never comes.
hold_fifo "$TMP/fin.fifo"
LISTENER_STDIN=$TMP/fin.fifo start_listener "$TMP/pipe1.out" -v
rc=0
printf hello | qt 3 -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  >"$TMP/pipe1.client.out" 2>"$TMP/pipe1.client.err" || rc=$?
diag_add "$TMP/pipe1.client.err"
[ "$rc" = 124 ] ||
  fail "default --on-eof fin against a listener that never sends FIN: client exited $rc, expected" \
       "it to be still waiting when timeout(1) killed it after $(scaled 3) s (124)"
grep -q 'stream id=0 change=fin_received' "$TMP/pipe1.out.err" ||
  fail "default --on-eof fin: the pipe listener logged no fin_received (so why did the client wait?)"
kill_now "$LISTENER_PID"

hold_fifo "$TMP/close.fifo"
LISTENER_STDIN=$TMP/close.fifo start_listener "$TMP/pipe2.out" -v
rc=0
t0=$(now_ms)
printf hello | qt 10 -v --on-eof close --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  >"$TMP/close.out" 2>"$TMP/close.err" || rc=$?
t1=$(now_ms)
diag_add "$TMP/close.err"
[ "$rc" = 0 ] || fail "--on-eof close: client exited $rc, expected 0 (124 = still running after $(scaled 10) s)"
[ $((t1 - t0)) -le "$(scaled 3000)" ] ||
  fail "--on-eof close: client took $((t1 - t0)) ms, expected <= $(scaled 3000) ms"
[ ! -s "$TMP/close.out" ] || fail "--on-eof close: client printed '$(head -c 100 "$TMP/close.out")'"
grep -q 'stream id=0 change=fin_sent' "$TMP/close.err" || fail "--on-eof close: client log has no fin_sent"
! grep -q 'change=fin_received' "$TMP/close.err" ||
  fail "--on-eof close: client logged fin_received, but the listener never sent a FIN"
grep -q 'close by=local kind=application code=0 ' "$TMP/close.err" ||
  fail "--on-eof close: client log has no 'close by=local kind=application code=0'"
exactly_hello "$TMP/pipe2.out" "--on-eof close: the pipe listener"
grep -q 'stream id=0 change=fin_received' "$TMP/pipe2.out.err" ||
  fail "--on-eof close: the pipe listener logged no fin_received"
! grep -q 'change=fin_sent' "$TMP/pipe2.out.err" ||
  fail "--on-eof close: the pipe listener sent a FIN though its stdin never ended"
if kill -0 "$LISTENER_PID" 2>/dev/null; then
  note "--on-eof close: the pipe listener is still running after the client exited (its stdin is open)"
else
  note "--on-eof close: the pipe listener exited after the client closed"
fi

pass "fin, close, ignore and reset:7 behave on the wire"
