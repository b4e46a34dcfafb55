#!/usr/bin/env bash
# Signals to a client in the middle of a transfer (`yes` | quicc, stdout /dev/null):
#   SIGINT   exit 130 within 1 s; the echo listener logs
#            close by=peer kind=application code=1 ... reason=interrupted.
#   SIGTERM  the same.
#   SIGINT with a peer that stopped answering (SIGSTOP): if the graceful close is still waiting
#            2 s later, a second SIGINT closes rapidly: exit 130 within 1 s of it.
# quicc runs without timeout(1) here, so that the signal goes to quicc itself; `yes` feeds it
# through a FIFO so that quicc is this shell's child.
. "$(dirname "$0")/lib.sh"

# start_client NAME PORT FP: quicc -v reading `yes` from a FIFO; sets CPID. Waits for the
# handshake and then 0.5 s of transfer.
start_client() {
  local name=$1 port=$2 fp=$3
  mkfifo "$TMP/$name.fifo"
  yes >"$TMP/$name.fifo" 2>/dev/null &
  bg_track $!
  "$QUICC" "--$QUICC_DRIVER" -v --pin-sha256 "$fp" "127.0.0.1:$port" \
    <"$TMP/$name.fifo" >/dev/null 2>"$TMP/$name.err" &
  CPID=$!
  bg_track "$CPID"
  diag_add "$TMP/$name.err"
  wait_log "$TMP/$name.err" 0 'stream id=0 change=opened' 5 ||
    fail "$name: the client opened no stream within 5 s"
  sleep 0.5
  kill -0 "$CPID" 2>/dev/null || fail "$name: the client exited during the transfer"
}

# signal_case SIGNAL: one client against the echo listener, SIGNAL after 0.5 s of transfer.
signal_case() {
  local sig=$1 mark t0 t1
  mark=$(log_mark "$ECHO_LOG")
  start_client "$sig" "$ECHO_PORT" "$ECHO_FP"
  t0=$(now_ms)
  kill "-$sig" "$CPID"
  wait_pid "$CPID" 5
  t1=$(now_ms)
  [ "$WAIT_RC" != 124 ] || fail "$sig: the client is still running 5 s after the signal"
  local want=130
  [ "$sig" = TERM ] && want=143
  [ "$WAIT_RC" = "$want" ] || fail "$sig: the client exited $WAIT_RC, expected $want"
  [ $((t1 - t0)) -le 1000 ] || fail "$sig: the client took $((t1 - t0)) ms to exit, expected <= 1000 ms"
  grep -q '^quicc: error: interrupted' "$TMP/$sig.err" || fail "$sig: no 'quicc: error: interrupted' line"
  grep -Eq 'close by=local kind=application code=1 .*reason=interrupted( |$)' "$TMP/$sig.err" ||
    fail "$sig: the client did not log 'close by=local kind=application code=1 ... reason=interrupted'"
  wait_log "$ECHO_LOG" "$mark" 'close by=peer kind=application code=1 .*reason=interrupted( |$)' 3 ||
    fail "$sig: the listener logged no 'close by=peer kind=application code=1 ... reason=interrupted':" \
         "$(log_since "$ECHO_LOG" "$mark" | grep -E 'close|error' | tr '\n' '|')"
  note "$sig: exit 130 after $((t1 - t0)) ms"
}

start_listener "$TMP/echo.out" --echo -v
ECHO_LOG=$TMP/echo.out.err ECHO_PORT=$LISTENER_PORT ECHO_FP=$LISTENER_FP
signal_case INT
signal_case TERM
kill -0 "$LISTENER_PID" 2>/dev/null || fail "the echo listener exited"

# --- a peer that stopped answering --------------------------------------------------------------
hold_fifo "$TMP/stopped.listener.fifo"
LISTENER_STDIN=$TMP/stopped.listener.fifo start_listener "$TMP/stopped.listener.out" -v
start_client stopped "$LISTENER_PORT" "$LISTENER_FP"
kill -STOP "$LISTENER_PID"
sleep 0.2
kill -INT "$CPID"
wait_pid "$CPID" 2
if [ "$WAIT_RC" = 124 ]; then
  note "stopped peer: still running 2 s after SIGINT; a second SIGINT"
  t0=$(now_ms)
  kill -INT "$CPID"
  wait_pid "$CPID" 3
  t1=$(now_ms)
  if [ "$WAIT_RC" = 124 ]; then
    kill -9 "$CPID" 2>/dev/null || true
    fail "stopped peer: the client is still running 3 s after a second SIGINT (5 s after the first)"
  fi
  [ $((t1 - t0)) -le 1000 ] ||
    fail "stopped peer: the client took $((t1 - t0)) ms to exit after the second SIGINT, expected <= 1000 ms"
else
  note "stopped peer: the first SIGINT was enough"
fi
[ "$WAIT_RC" = 130 ] || fail "stopped peer: the client exited $WAIT_RC, expected 130"
kill_now "$LISTENER_PID"   # SIGKILL works on a stopped process

pass "SIGINT and SIGTERM: exit 130, application close 1 \"interrupted\"; a second SIGINT ends a stuck close"
