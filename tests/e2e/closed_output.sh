#!/usr/bin/env bash
# stdout closed by its reader: `yes | quicc ... | head -c 1000000` against the echo listener.
# head gets its 1000000 bytes; quicc exits 13 within 5 s; on the wire it resets the stream with
# code 2 and closes the connection with code 2, reason "output closed": the listener logs the
# reset (reset_received code=2, or a "peer stopped reading" error for the STOP_SENDING) and
# `close by=peer kind=application code=2 ... reason="output closed"`.
. "$(dirname "$0")/lib.sh"

N=1000000
start_listener "$TMP/echo.out" --echo --keep-open -v
ECHO_LOG=$TMP/echo.out.err

# run_once I: one `yes | quicc | head` run; the listener's lines for it go to $TMP/listener.I.log.
run_once() {
  local i=$1 mark t0 t1 rc
  mark=$(log_mark "$ECHO_LOG")
  t0=$(now_ms)
  yes | { r=0; qt 10 -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" 2>"$TMP/client.$i.err" || r=$?
          echo "$r" >"$TMP/client.$i.rc"; } | head -c "$N" >"$TMP/head.$i.out" || true
  t1=$(now_ms)
  diag_add "$TMP/client.$i.err"
  rc=$(cat "$TMP/client.$i.rc")
  [ "$rc" = 13 ] || fail "run $i: quicc exited $rc, expected 13 (output closed; 124 = killed after $(scaled 10) s)"
  [ $((t1 - t0)) -le "$(scaled 5000)" ] ||
    fail "run $i: the pipeline took $((t1 - t0)) ms, expected <= $(scaled 5000) ms"
  [ "$(stat -c %s "$TMP/head.$i.out")" = "$N" ] ||
    fail "run $i: head got $(stat -c %s "$TMP/head.$i.out") bytes, expected $N"
  [ "$(tr -d '\n' <"$TMP/head.$i.out" | tr -d y | wc -c)" = 0 ] ||
    fail "run $i: head's bytes are not the echo of yes's output"
  grep -q '^quicc: error: .*output closed' "$TMP/client.$i.err" ||
    fail "run $i: no 'quicc: error: ... output closed ...' line from quicc"
  grep -Eq 'stream id=0 change=reset_sent code=2( |$)' "$TMP/client.$i.err" ||
    fail "run $i: quicc did not log 'reset_sent code=2'"
  grep -Eq 'close by=local kind=application code=2 .*reason="output closed"' "$TMP/client.$i.err" ||
    fail "run $i: quicc did not log 'close by=local kind=application code=2 ... reason=\"output closed\"'"
  wait_log "$ECHO_LOG" "$mark" 'close by=peer kind=application code=2 .*reason="output closed"' 3 ||
    fail "run $i: the listener logged no 'close by=peer kind=application code=2 ... reason=\"output closed\"'"
  log_since "$ECHO_LOG" "$mark" >"$TMP/listener.$i.log"
  diag_add "$TMP/listener.$i.log"
  note "run $i: exit $rc in $((t1 - t0)) ms; listener saw: $(grep -Eo 'reset_received code=[0-9]+|quicc: error: .*' "$TMP/listener.$i.log" | tr '\n' '|')"
}

# The close is deterministic; whether the listener reports the reset/STOP_SENDING before it
# processes the close is not (both can arrive in one datagram), so it must show in one of 3 runs.
seen=0
for i in 1 2 3; do
  run_once "$i"
  if grep -Eq 'stream id=0 change=reset_received code=2( |$)|peer stopped reading the stream \(code 0x2\)' \
       "$TMP/listener.$i.log"; then
    seen=1
    break
  fi
done
[ "$seen" = 1 ] ||
  fail "in 3 runs the listener never logged 'reset_received code=2' nor 'peer stopped reading (code 0x2)'"
kill -0 "$LISTENER_PID" 2>/dev/null || fail "the echo listener exited"

pass "| head -c $N: exit 13, stream reset with code 2, connection closed with code 2 \"output closed\""
