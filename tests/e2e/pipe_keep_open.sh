#!/usr/bin/env bash
# The pipe listener with --keep-open (ncat -l -k), one listener through four phases:
#   gather:    3 concurrent clients each send 300000 bytes of a letter of their own, then
#              close (--on-eof close); each exits 0, and the listener's stdout holds exactly 300000 of each letter
#              (their chunks interleave, none is lost);
#   broadcast: once 3 more clients are connected (their input open and silent), 2 MiB of
#              random bytes on the listener's stdin reach every one of them byte for byte; the
#              stdin's EOF is their FIN, and each exits 0 once its own input ends;
#   late:      a client that comes after the stdin's EOF gets FIN at once: it exits 0 with
#              nothing received, and what it sent still reaches the listener's stdout;
#   end:       the listener is still there, and SIGTERM ends it with 143.
# Then a listener whose stdout reader goes away (| head -c 100) while one client sends 1 MiB
# and another is connected but silent: it exits 13 (output closed), and both clients end. And
# one whose stdout's reader never reads: SIGINT ends it with 130.
. "$(dirname "$0")/lib.sh"

N=300000
for letter in a b c; do head -c "$N" /dev/zero | tr '\0' "$letter" >"$TMP/$letter"; done
head -c $((2 * 1024 * 1024)) /dev/urandom >"$TMP/blob"
printf late >"$TMP/late"

# The listener's stdin: a FIFO held open by HOLD_PID; the blob is written into it later.
hold_fifo "$TMP/in" 120
LISTENER_HOLD=$HOLD_PID
LISTENER_STDIN=$TMP/in start_listener "$TMP/l" --keep-open -v
TO=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")

# client NAME INPUT [ARGS...]: a client in the background; its exit status goes to NAME.rc.
pids=()
client() {
  local name=$1 input=$2
  shift 2
  diag_add "$TMP/$name.err"
  ( rc=0
    qt 60 "$@" "${TO[@]}" <"$input" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
    echo "$rc" >"$TMP/$name.rc" ) &
  pids+=($!)
}
want_exit() { [ "$(cat "$TMP/$1.rc")" = 0 ] || fail "$2: client $1 exited $(cat "$TMP/$1.rc")"; }

# --- gather
# (--on-eof close: the listener's input stays open, so no FIN would come to end them.)
for letter in a b c; do client "$letter" "$TMP/$letter" --on-eof close; done
wait "${pids[@]}"
for letter in a b c; do
  want_exit "$letter" gather
  got=$(tr -cd "$letter" <"$TMP/l" | wc -c)
  [ "$got" = "$N" ] || fail "gather: the listener's stdout has $got bytes of client $letter's $N"
done
[ "$(wc -c <"$TMP/l")" = $((3 * N)) ] || fail "gather: the listener's stdout has $(wc -c <"$TMP/l") bytes, expected $((3 * N))"

# --- broadcast
hold_fifo "$TMP/silent" 120
CLIENTS_HOLD=$HOLD_PID
mark=$(log_mark "$TMP/l.err")
pids=()
for i in 1 2 3; do client "r$i" "$TMP/silent"; done
for i in 4 5 6; do
  wait_log "$TMP/l.err" "$mark" "connection_accepted index=$i " 20 ||
    fail "broadcast: the listener did not accept connection $i"
done
cat "$TMP/blob" >"$TMP/in"
kill_now "$LISTENER_HOLD"  # the listener's stdin ends: FIN to every client
for i in 1 2 3; do
  deadline=$(( $(now_ms) + $(scaled 30) * 1000 ))
  until [ "$(wc -c <"$TMP/r$i.out")" -ge $((2 * 1024 * 1024)) ] || [ "$(now_ms)" -ge "$deadline" ]; do
    sleep 0.05
  done
done
kill_now "$CLIENTS_HOLD"   # the clients' own input ends: they FIN and exit
wait "${pids[@]}"
for i in 1 2 3; do
  want_exit "r$i" broadcast
  [ "$(sha "$TMP/r$i.out")" = "$(sha "$TMP/blob")" ] ||
    fail "broadcast: client r$i received $(wc -c <"$TMP/r$i.out") bytes that differ from the listener's 2 MiB input"
done

# --- late
pids=()
client late "$TMP/late"
wait "${pids[@]}"
want_exit late "late client"
[ ! -s "$TMP/late.out" ] || fail "late client: received $(wc -c <"$TMP/late.out") bytes after the listener's input ended"
wait_log "$TMP/l.err" 0 "connection_accepted index=7 " 10 || fail "late client: not accepted"
deadline=$(( $(now_ms) + $(scaled 10) * 1000 ))
until [ "$(tail -c 4 "$TMP/l")" = late ] || [ "$(now_ms)" -ge "$deadline" ]; do sleep 0.05; done
[ "$(tail -c 4 "$TMP/l")" = late ] || fail "late client: its bytes did not reach the listener's stdout"

# --- end
kill -0 "$LISTENER_PID" 2>/dev/null || fail "the listener with --keep-open exited"
kill -TERM "$LISTENER_PID"
wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" = 143 ] || fail "the listener exited $WAIT_RC after SIGTERM, expected 143"

# --- output closed
head -c 1048576 /dev/urandom >"$TMP/1m"
mkfifo "$TMP/cut"
head -c 100 "$TMP/cut" >/dev/null &
bg_track $!
start_listener "$TMP/cut" --keep-open -v
TO=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")
hold_fifo "$TMP/quiet" 120
pids=()
client quiet "$TMP/quiet"
wait_log "$TMP/cut.err" 0 "connection_accepted index=1 " 20 || fail "output closed: the silent client was not accepted"
client big "$TMP/1m" --on-eof close
wait_pid "$LISTENER_PID" 30
[ "$WAIT_RC" = 13 ] || fail "output closed: the listener exited $WAIT_RC, expected 13 (output closed)"
kill_now "$HOLD_PID"
wait "${pids[@]}"
for name in quiet big; do
  [ "$(cat "$TMP/$name.rc")" != 124 ] || fail "output closed: client $name was still running after 60 s"
done

# --- stalled output
# stdout's reader holds it open and never reads: once a client's 1 MiB filled the pipe, the
# listener waits on its stdout; SIGINT still ends it (130), and the client ends too.
mkfifo "$TMP/stall"
sleep 120 <"$TMP/stall" &
bg_track $!
start_listener "$TMP/stall" --keep-open -v
TO=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")
pids=()
client stalled "$TMP/1m" --on-eof close
wait_log "$TMP/stall.err" 0 "stream id=0 change=accepted" 20 || fail "stalled output: no client stream"
sleep 1
kill -0 "$LISTENER_PID" 2>/dev/null || fail "stalled output: the listener exited before the signal"
t0=$(now_ms)
kill -INT "$LISTENER_PID"
wait_pid "$LISTENER_PID" 5
[ "$WAIT_RC" = 130 ] || fail "stalled output: the listener exited $WAIT_RC after SIGINT, expected 130"
elapsed=$(( $(now_ms) - t0 ))
wait "${pids[@]}"
[ "$(cat "$TMP/stalled.rc")" != 124 ] || fail "stalled output: the client was still running after 60 s"
pass "stalled output: SIGINT ended the listener in $elapsed ms"
