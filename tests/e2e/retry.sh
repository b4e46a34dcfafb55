#!/usr/bin/env bash
# --retry N, --retry-delay D, as a probe uses them:
#   late server:  a client started before its server (nothing listens: exit 18 for each try)
#                 succeeds once the server is up, with a warning per failed attempt, and its
#                 data arrives once (stdin is read only by the attempt that connected);
#   not retried:  a verification failure (exit 6) is not tried again;
#   interrupted:  SIGINT during the wait between attempts ends the run with 130 at once.
. "$(dirname "$0")/lib.sh"

printf 'ping\n' >"$TMP/ping"

# --- late server
port=$(closed_udp_port)
qt 60 --retry 50 --retry-delay 200ms --insecure "127.0.0.1:$port" <"$TMP/ping" \
  >"$TMP/late.out" 2>"$TMP/late.err" &
cpid=$!
bg_track "$cpid"
diag_add "$TMP/late.err"
wait_log "$TMP/late.err" 0 'attempt 2 of 51 failed' 10 || fail "late server: no second failed attempt"
start_listener_at "127.0.0.1:$port" "$TMP/echo" --echo
wait_pid "$cpid" 30
[ "$WAIT_RC" = 0 ] || fail "late server: exit $WAIT_RC, expected 0"
cmp -s "$TMP/late.out" "$TMP/ping" || fail "late server: received '$(head -c 100 "$TMP/late.out")'"
grep -qF "quicc: warning: attempt 1 of 51 failed, trying again in 200ms: nothing listens on UDP 127.0.0.1:$port (ICMP port unreachable)" \
  "$TMP/late.err" || fail "late server: no warning for attempt 1"
failed=$(grep -c 'quicc: warning: attempt [0-9]* of 51 failed' "$TMP/late.err")
wait_pid "$LISTENER_PID" 10

# --- not retried
start_listener "$TMP/echo2" --echo --keep-open
rc=0
qt 20 --retry 3 --retry-delay 100ms "127.0.0.1:$LISTENER_PORT" <"$TMP/ping" >/dev/null \
  2>"$TMP/verify.err" || rc=$?
diag_add "$TMP/verify.err"
[ "$rc" = 6 ] || fail "not retried: exit $rc, expected 6 (verification failed)"
! grep -q 'trying again' "$TMP/verify.err" || fail "not retried: a verification failure was retried"
kill -INT "$LISTENER_PID"
wait_pid "$LISTENER_PID" 10

# --- interrupted
port=$(closed_udp_port)
# quicc itself, not under timeout(1): the signal is for quicc.
"$QUICC" "--$QUICC_DRIVER" --retry 3 --retry-delay 30s --insecure "127.0.0.1:$port" </dev/null \
  >/dev/null 2>"$TMP/int.err" &
cpid=$!
bg_track "$cpid"
diag_add "$TMP/int.err"
wait_log "$TMP/int.err" 0 'trying again in 30s:' 10 || fail "interrupted: no retry warning"
t0=$(now_ms)
kill -INT "$cpid"
wait_pid "$cpid" 5
[ "$WAIT_RC" = 130 ] || fail "interrupted: exit $WAIT_RC, expected 130"
grep -q '^quicc: error: interrupted (SIGINT)$' "$TMP/int.err" || fail "interrupted: no error line"

pass "late server reached after $failed failed attempts; a verify failure not retried; SIGINT in the wait: 130 after $(( $(now_ms) - t0 )) ms"
