#!/usr/bin/env bash
# The listener may speak first (pipe mode: the side with data first opens the stream, the other
# adopts it):
#   a. `quicc --listen < 1 MB` to `quicc --on-eof ignore </dev/null`: the client's stdout is the
#      file byte for byte, both exit 0; the listener logs change=opened, the client
#      change=accepted (and sends no FIN).
#   b. Text typed at the listener's terminal (a pseudo-terminal as its stdin and stdout) reaches a
#      silent client (`--on-eof ignore </dev/null`); Ctrl-D on the terminal then ends both runs
#      with exit 0.
#   c. Both sides have 256 KB at once (client < A, listener < B), 5 times: the client prints B,
#      the listener A, both exit 0. When both opened a stream ("crossed streams") each must have
#      reset its sending half of the peer's stream with code 4; otherwise one side opened, the
#      other accepted, and no reset happened. A sixth run forces the plain order (the listener's
#      input only starts after it accepted the client's stream).
#   d. Both sides have a few bytes at once, 20 times: both exit 0 with the other's bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"

# --- a. the listener's file reaches a silent client --------------------------------------------
random_file "$TMP/in1m" $((1024 * 1024))
LISTENER_STDIN=$TMP/in1m start_listener "$TMP/a.listener.out" -v
rc=0
qt 30 -v --on-eof ignore --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  </dev/null >"$TMP/a.out" 2>"$TMP/a.err" || rc=$?
diag_add "$TMP/a.err"
wait_pid "$LISTENER_PID" 10
lrc=$WAIT_RC
note "a. listener < 1 MB, client --on-eof ignore </dev/null: client exit $rc, listener exit $lrc"
[ "$rc" = 0 ] || fail "a. client exited $rc, expected 0 (124: killed after $(scaled 30) s)"
[ "$lrc" != 124 ] || fail "a. listener still running $(scaled 10) s after the client exited"
[ "$lrc" = 0 ] || fail "a. listener exited $lrc, expected 0"
[ "$(file_size "$TMP/a.out")" = $((1024 * 1024)) ] ||
  fail "a. client printed $(file_size "$TMP/a.out") bytes, expected 1048576"
cmp -s "$TMP/a.out" "$TMP/in1m" || fail "a. client's stdout differs from the listener's input"
[ ! -s "$TMP/a.listener.out" ] ||
  fail "a. listener printed $(file_size "$TMP/a.listener.out") bytes; the client sent nothing"
grep -Eq 'stream id=[0-9]+ change=opened' "$TMP/a.listener.out.err" ||
  fail "a. listener log has no 'change=opened' (it had data first, so it should open the stream)"
grep -Eq 'stream id=[0-9]+ change=accepted' "$TMP/a.err" ||
  fail "a. client log has no 'change=accepted' (it should adopt the listener's stream)"
! grep -q 'change=opened' "$TMP/a.err" || fail "a. client opened a stream of its own though its input was empty"
! grep -q 'change=fin_sent' "$TMP/a.err" || fail "a. client (--on-eof ignore) sent a FIN"

# --- b. typed text at the listener's terminal --------------------------------------------------
TYPED="hello from the terminal"
mkfifo "$TMP/b.ctl"
python3 "$TMP/pty_run.py" "$TMP/b.screen" "$TMP/b.listener.rc" \
  "$QUICC" "--$QUICC_DRIVER" --listen 127.0.0.1:0 -v \
  <"$TMP/b.ctl" 2>"$TMP/b.listener.err" &
PTY_PID=$!
bg_track "$PTY_PID"
diag_add "$TMP/b.listener.err"
exec 3>"$TMP/b.ctl"
await_listening "$TMP/b.listener.err" "$PTY_PID"
qt 40 -v --on-eof ignore --timeout "$(scaled 30)s" --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  </dev/null >"$TMP/b.out" 2>"$TMP/b.err" &
CPID=$!
bg_track "$CPID"
diag_add "$TMP/b.err"
wait_log "$TMP/b.listener.err" 0 'handshake_done' 10 ||
  fail "b. the listener on a terminal logged no handshake_done within $(scaled 10) s of the client's start"
echo "type $TYPED" >&3
deadline=$(( $(now_ms) + $(scaled 10000) ))
until grep -qx "$TYPED" "$TMP/b.out" 2>/dev/null; do
  [ "$(now_ms)" -lt "$deadline" ] ||
    fail "b. the line typed at the listener's terminal did not reach the client's stdout within $(scaled 10) s" \
         "(client stdout: '$(head -c 200 "$TMP/b.out" | tr '\n' '|')'; terminal showed:" \
         "'$(head -c 200 "$TMP/b.screen" 2>/dev/null | tr '\r\n' '||')')"
  kill -0 "$CPID" 2>/dev/null || fail "b. the client exited before the typed line arrived"
  sleep 0.05
done
echo eof >&3   # Ctrl-D: the listener's input ends, it sends its FIN
wait_pid "$CPID" 10
rc=$WAIT_RC
exec 3>&-      # the driver now waits for the listener and records its exit
wait_pid "$PTY_PID" 15
[ "$WAIT_RC" = 0 ] || fail "b. the pseudo-terminal driver did not finish (status $WAIT_RC)"
lrc=$(cat "$TMP/b.listener.rc")
note "b. typed line then Ctrl-D on the listener's terminal: client exit $rc, listener exit $lrc"
[ "$rc" = 0 ] ||
  fail "b. client exited $rc after the listener's Ctrl-D, expected 0 (its peer's FIN arrived;" \
       "14: --timeout $(scaled 30)s, 124: killed)"
[ "$lrc" = 0 ] || fail "b. listener on a terminal exited $lrc after Ctrl-D, expected 0"
[ "$(cat "$TMP/b.out")" = "$TYPED" ] && [ "$(file_size "$TMP/b.out")" = $(( ${#TYPED} + 1 )) ] ||
  fail "b. client stdout is '$(head -c 200 "$TMP/b.out" | tr '\n' '|')', expected exactly the typed line"
grep -Eq 'stream id=[0-9]+ change=opened' "$TMP/b.listener.err" ||
  fail "b. the listener log has no 'change=opened'"
grep -Eq 'stream id=[0-9]+ change=fin_sent' "$TMP/b.listener.err" ||
  fail "b. the listener sent no FIN after Ctrl-D"
grep -Eq 'stream id=[0-9]+ change=fin_received' "$TMP/b.err" || fail "b. the client logged no fin_received"

# --- c. crossed streams ------------------------------------------------------------------------
random_file "$TMP/A" $((256 * 1024))
random_file "$TMP/B" $((256 * 1024))

# count_in ERE FILE: how many lines of FILE match.
count_in() { grep -Ec -- "$1" "$2" || true; }

# both_ways NAME: after a run, checks the two directions and both exits; classifies the run as
# crossed (both sides opened a stream) or plain and sets CROSSED=1/0.
both_ways() {
  local name=$1 rc=$2 lrc=$3 cerr=$TMP/$1.err lerr=$TMP/$1.listener.out.err
  [ "$rc" = 0 ] || fail "c. $name: client exited $rc, expected 0"
  [ "$lrc" != 124 ] || fail "c. $name: listener still running 10 s after the client exited"
  [ "$lrc" = 0 ] || fail "c. $name: listener exited $lrc, expected 0"
  cmp -s "$TMP/$name.out" "$TMP/B" ||
    fail "c. $name: client's stdout ($(file_size "$TMP/$name.out") bytes) is not the listener's input B"
  cmp -s "$TMP/$name.listener.out" "$TMP/A" ||
    fail "c. $name: listener's stdout ($(file_size "$TMP/$name.listener.out") bytes) is not the client's input A"
  local c_open l_open
  c_open=$(grep -c 'change=opened' "$cerr" || true)
  l_open=$(grep -c 'change=opened' "$lerr" || true)
  if [ "$c_open" = 1 ] && [ "$l_open" = 1 ]; then
    CROSSED=1
    grep -q 'change=reset_sent code=4$' "$cerr" ||
      fail "c. $name: crossed streams, but the client did not reset its half of the listener's stream with code 4"
    grep -q 'change=reset_sent code=4$' "$lerr" ||
      fail "c. $name: crossed streams, but the listener did not reset its half of the client's stream with code 4"
  elif [ "$c_open$l_open" = 10 ] || [ "$c_open$l_open" = 01 ]; then
    CROSSED=0
    grep -q 'change=accepted' "$([ "$c_open" = 1 ] && echo "$lerr" || echo "$cerr")" ||
      fail "c. $name: one side opened the stream, the other did not log accepting it"
    ! grep -q 'code=4' "$cerr" "$lerr" ||
      fail "c. $name: no crossed streams, yet a reset with code 4: $(grep -h 'code=4' "$cerr" "$lerr" | tr '\n' '|')"
  else
    fail "c. $name: the client logged $c_open 'opened', the listener $l_open; expected one stream each" \
         "(crossed) or one in all"
  fi
  RESETS="sent $(count_in 'reset_sent code=4' "$cerr")/$(count_in 'reset_sent code=4' "$lerr"),"
  RESETS+=" received $(count_in 'reset_received code=4' "$cerr")/$(count_in 'reset_received code=4' "$lerr")"
}

crossed=0
runs=5
for i in $(seq 1 "$runs"); do
  name=c$i
  LISTENER_STDIN=$TMP/B start_listener "$TMP/$name.listener.out" -v
  rc=0
  qt 30 -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
    <"$TMP/A" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
  diag_add "$TMP/$name.err"
  wait_pid "$LISTENER_PID" 10
  both_ways "$name" "$rc" "$WAIT_RC"
  crossed=$((crossed + CROSSED))
  note "c. run $i: client exit $rc, listener exit $WAIT_RC, $([ "$CROSSED" = 1 ] && echo crossed || echo plain);" \
       "code 4 resets (client/listener): $RESETS"
done

# The plain order, forced: the listener's input B only starts once it adopted the client's stream.
name=c_plain
mkfifo "$TMP/c_plain.in"
( python3 -c '
import os, sys, time
deadline = time.monotonic() + 30 * int(os.environ.get("QUICC_TIME_SCALE", "1"))
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.02)' "$TMP/c_plain.go"; cat "$TMP/B" ) >"$TMP/c_plain.in" &
bg_track $!
LISTENER_STDIN=$TMP/c_plain.in start_listener "$TMP/$name.listener.out" -v
qt 30 -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  <"$TMP/A" >"$TMP/$name.out" 2>"$TMP/$name.err" &
CPID=$!
bg_track "$CPID"
diag_add "$TMP/$name.err"
wait_log "$TMP/$name.listener.out.err" 0 'change=accepted' 15 ||
  fail "c. plain order: the listener (no input yet) did not accept the client's stream within $(scaled 15) s"
touch "$TMP/c_plain.go"
wait_pid "$CPID" 35
rc=$WAIT_RC
wait_pid "$LISTENER_PID" 10
both_ways "$name" "$rc" "$WAIT_RC"
[ "$CROSSED" = 0 ] || fail "c. plain order: both sides opened a stream though the listener's input started late"
note "c. forced plain order: client exit $rc, listener exit $WAIT_RC, no code 4 reset"

note "c. crossed streams in $crossed of $runs runs"
# --- d. crossed streams, a few bytes each, 20 times ---------------------------------------------
# The client has everything and closes before the listener saw the reset of its stream's
# receiving half: that reset (code 4) then shows only with the connection's close, which once
# made the listener call it a reset of its data (exit 10, about 1 run in 30 under the blocking
# driver).
printf hello >"$TMP/d.hello"
printf hi >"$TMP/d.hi"
for i in $(seq 1 20); do
  LISTENER_STDIN=$TMP/d.hello start_listener "$TMP/d$i.listener.out"
  rc=0
  qt 30 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" <"$TMP/d.hi" >"$TMP/d$i.out" \
    2>"$TMP/d$i.err" || rc=$?
  diag_add "$TMP/d$i.err"
  wait_pid "$LISTENER_PID" 10
  [ "$rc" = 0 ] || fail "d. run $i: client exited $rc, expected 0"
  [ "$WAIT_RC" = 0 ] || fail "d. run $i: listener exited $WAIT_RC, expected 0"
  [ "$(cat "$TMP/d$i.out")" = hello ] || fail "d. run $i: client got '$(cat "$TMP/d$i.out")'"
  [ "$(cat "$TMP/d$i.listener.out")" = hi ] || fail "d. run $i: listener got '$(cat "$TMP/d$i.listener.out")'"
done

pass "listener speaks first (file, terminal); both at once ($crossed/$runs crossed) delivered both ways; 20 short exchanges at once"
