#!/usr/bin/env bash
# SIGUSR1 asks for a status line, as dd does, and kills nothing:
#   a client whose 100000 bytes were echoed, with its input still open, prints on each SIGUSR1
#   "quicc: status: 100000 bytes in (...), 100000 bytes out (...), T s, N streams open" on stderr, then ends
#   normally (exit 0, the echo intact) at its input's EOF;
#   a listener still waiting for its client ignores SIGUSR1 and then serves the client;
#   a --get client whose stdout is stalled prints one too ("10 bytes out": its request line;
#   1 stream open), then delivers the whole response once stdout is read (exit 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"

head -c 100000 /dev/urandom >"$TMP/data"

# --- a client in its transfer
start_listener "$TMP/echo" --echo
hold_fifo "$TMP/in" 60
"$QUICC" "--$QUICC_DRIVER" --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" <"$TMP/in" \
  >"$TMP/client.out" 2>"$TMP/client.err" &
cpid=$!
bg_track "$cpid"
diag_add "$TMP/client.err"
# The FIFO's writer is HOLD_PID (sleep); a second writer feeds the data and leaves.
cat "$TMP/data" >"$TMP/in" &
bg_track $!
deadline=$(( $(now_ms) + $(scaled 20) * 1000 ))
until [ "$(file_size "$TMP/client.out")" = 100000 ]; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "client: the echo did not come back ($(file_size "$TMP/client.out") bytes)"
  sleep 0.05
done
for i in 1 2; do
  kill -USR1 "$cpid"
  wait_log "$TMP/client.err" "$((i - 1))" '^quicc: status: ' 5 ||
    fail "client: no status line after SIGUSR1 number $i"
done
grep -Eq '^quicc: status: 100000 bytes in \([0-9.]+ MB/s\), 100000 bytes out \([0-9.]+ MB/s\), [0-9.]+ s, 1 stream open$' \
  "$TMP/client.err" || fail "client: status line is '$(grep status "$TMP/client.err" | head -1)'"
kill -0 "$cpid" 2>/dev/null || fail "client: SIGUSR1 ended it"
kill_now "$HOLD_PID"
wait_pid "$cpid" 20
[ "$WAIT_RC" = 0 ] || fail "client: exit $WAIT_RC after its input ended, expected 0"
cmp -s "$TMP/client.out" "$TMP/data" || fail "client: the echo differs"
wait_pid "$LISTENER_PID" 10

# --- a listener waiting for its client
start_listener "$TMP/pipe"
kill -USR1 "$LISTENER_PID"
sleep 0.3
kill -0 "$LISTENER_PID" 2>/dev/null || fail "listener: SIGUSR1 ended it"
rc=0
qt 20 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" <"$TMP/data" >/dev/null \
  2>"$TMP/pipe_client.err" || rc=$?
diag_add "$TMP/pipe_client.err"
[ "$rc" = 0 ] || fail "listener: its client exited $rc"
wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" = 0 ] || fail "listener: exit $WAIT_RC, expected 0"
cmp -s "$TMP/pipe" "$TMP/data" || fail "listener: its output differs from the client's input"
# --- a --get download, its stdout stalled
mkdir -p "$TMP/served"
head -c 20000000 /dev/urandom >"$TMP/served/big"
start_listener "$TMP/serve.out" --serve "$TMP/served"
mkfifo "$TMP/get.fifo"
exec 3<>"$TMP/get.fifo"  # a reader that reads nothing: the client's writes stall
"$QUICC" "--$QUICC_DRIVER" --pin-sha256 "$LISTENER_FP" --get /big "127.0.0.1:$LISTENER_PORT" \
  >"$TMP/get.fifo" 2>"$TMP/get.err" 3<&- &
gpid=$!
bg_track "$gpid"
diag_add "$TMP/get.err"
sleep 1  # at any time: before the handshake, the line comes once the download starts
kill -USR1 "$gpid"
wait_log "$TMP/get.err" 0 '^quicc: status: ' 5 || fail "--get: no status line after SIGUSR1"
grep -Eq '^quicc: status: [0-9]+ bytes in \([0-9.]+ MB/s\), 10 bytes out \([0-9.]+ MB/s\), [0-9.]+ s, 1 stream open$' \
  "$TMP/get.err" || fail "--get: status line is '$(grep status "$TMP/get.err" | head -1)'"
# A reader of its own first (the FIFO never lacks one: a write then would fail), then ours goes.
exec 4<"$TMP/get.fifo"
cat <&4 >"$TMP/get.out" 3<&- 4<&- &
cat_pid=$!
exec 3<&- 4<&-
wait_pid "$gpid" 60
[ "$WAIT_RC" = 0 ] || fail "--get: exit $WAIT_RC, expected 0"
wait "$cat_pid"
cmp -s "$TMP/get.out" "$TMP/served/big" || fail "--get: the response differs"
kill_now "$LISTENER_PID"
pass "two status lines from a client in its transfer; a waiting listener unharmed; one from a stalled --get"
