#!/usr/bin/env bash
# A slow consumer (reads 64 KiB, sleeps 2 ms, repeats) at the end of 20 MB, while the sending
# side closes as early as it may:
#   1. listener `--on-eof close < 20MB`, client `</dev/null | slow`: the peer closes right after
#      its data is acknowledged, the client still has to write it out;
#   2. client `--on-eof close < 20MB`, listener `| slow`: the same the other way round;
#   3. the default FIN exchange, listener `< 20MB`, client `</dev/null | slow`.
# Three runs per case. For the receiving side: every byte arrives (sha256) and it exits 0, or it
# exits 15 and its error line names the loss as a byte count (what did arrive must then be a prefix
# of the input). The sending side: exit 0, or 15 naming the unacknowledged count. No run may take
# longer than 60 s (it takes about 3 s). Each run prints its exit codes, bytes delivered and
# duration.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"

SIZE=$((20 * 1000 * 1000))
random_file "$TMP/in" "$SIZE"
BOUND=60   # seconds a run may take before it counts as a hang (qt and wait_pid scale it)

# client_run NAME IN OUT ARGS...: runs the client (`quicc -v ARGS` to the listener, IN to OUT,
# stderr to NAME.err) in the background, then waits for it, the listener and the slow consumer;
# sets RC (client), LRC (listener) and MS (duration since the client started).
client_run() {
  local name=$1 in=$2 out=$3 cpid
  shift 3
  T0=$(now_ms)
  qt "$BOUND" -v "$@" --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
    <"$in" >"$out" 2>"$TMP/$name.err" &
  cpid=$!
  bg_track "$cpid"
  diag_add "$TMP/$name.err"
  wait_pid "$cpid" $((BOUND + 10))
  RC=$WAIT_RC
  [ "$RC" != 124 ] || fail "$name: the client still runs after $(scaled $((BOUND + 10))) s (hang)"
  wait_pid "$LISTENER_PID" "$BOUND"
  LRC=$WAIT_RC
  [ "$LRC" != 124 ] || fail "$name: the listener still runs $(scaled "$BOUND") s after the client exited $RC (hang)"
  wait_pid "$SLOW_PID" 30
  [ "$WAIT_RC" != 124 ] || fail "$name: the slow consumer still reads 30 s after both quicc exited"
  [ "$WAIT_RC" = 0 ] || fail "$name: the slow consumer failed ($WAIT_RC)"
  MS=$(( $(now_ms) - T0 ))
}

# report CASE RUN DELIVERED RECEIVER_LOG: one line per run, with who closed the connection
# according to the receiving side's log (by=peer: the sender closed first).
report() {
  local by
  by=$(sed -n 's/.*\] close by=\([a-z]*\) .*/\1/p' "$4" | head -n1)
  note "case $1 run $2: client exit $RC, listener exit $LRC, $(file_size "$3") of $SIZE bytes delivered" \
       "in $MS ms; receiver's log: close by=${by:-?}${LOSS:+; the error line names $LOSS bytes}"
}

for run in 1 2 3; do
  # --- 1. the listener closes right after sending; the client writes to the slow consumer -------
  name=c1.$run
  start_slow_fifo "$TMP/$name.fifo" "$TMP/$name.slow"
  LISTENER_STDIN=$TMP/in start_listener "$TMP/$name.listener.out" -v --on-eof close
  client_run "$name" /dev/null "$TMP/$name.fifo"
  check_side "case 1 run $run: listener (--on-eof close < 20MB, sender)" "$LRC" "$TMP/$name.listener.out.err"
  check_side "case 1 run $run: client (</dev/null | slow, receiver)" "$RC" "$TMP/$name.err" \
    "$TMP/$name.slow" "$TMP/in"
  report 1 "$run" "$TMP/$name.slow" "$TMP/$name.err"
  [ ! -s "$TMP/$name.listener.out" ] || fail "case 1 run $run: the listener printed bytes; the client sent none"
  rm -f "$TMP/$name.slow"

  # --- 2. the client closes right after sending; the listener writes to the slow consumer -------
  name=c2.$run
  start_slow_fifo "$TMP/$name.fifo" "$TMP/$name.slow"
  start_listener "$TMP/$name.fifo" -v
  client_run "$name" "$TMP/in" "$TMP/$name.out" --on-eof close
  check_side "case 2 run $run: client (--on-eof close < 20MB, sender)" "$RC" "$TMP/$name.err"
  check_side "case 2 run $run: listener (| slow, receiver)" "$LRC" "$TMP/$name.fifo.err" \
    "$TMP/$name.slow" "$TMP/in"
  report 2 "$run" "$TMP/$name.slow" "$TMP/$name.fifo.err"
  [ ! -s "$TMP/$name.out" ] || fail "case 2 run $run: the client printed bytes; the listener sent none"
  rm -f "$TMP/$name.slow"

  # --- 3. the default FIN exchange; the client writes to the slow consumer ----------------------
  name=c3.$run
  start_slow_fifo "$TMP/$name.fifo" "$TMP/$name.slow"
  LISTENER_STDIN=$TMP/in start_listener "$TMP/$name.listener.out" -v
  client_run "$name" /dev/null "$TMP/$name.fifo"
  check_side "case 3 run $run: listener (< 20MB, sender)" "$LRC" "$TMP/$name.listener.out.err"
  check_side "case 3 run $run: client (</dev/null | slow, receiver)" "$RC" "$TMP/$name.err" \
    "$TMP/$name.slow" "$TMP/in"
  report 3 "$run" "$TMP/$name.slow" "$TMP/$name.err"
  rm -f "$TMP/$name.slow"
done

pass "20 MB to a slow consumer: delivered with exit 0, or the loss named (3 cases x 3 runs)"
