#!/usr/bin/env bash
# An established connection on which neither side sends anything must not busy-loop: over a 5 s
# window that starts after both handshakes, the client and the listener each use < 50 ms of CPU
# (utime + stime from /proc/PID/stat, all threads; start-up and handshake are not counted). The
# limit is scaled by QUICC_TIME_SCALE (lib.sh), the window is not.
. "$(dirname "$0")/lib.sh"

WINDOW_S=5
LIMIT_MS=$(scaled 50)

# Both ends read from FIFOs that stay open and silent.
hold_fifo "$TMP/listener.fifo"
hold_fifo "$TMP/client.fifo"
LISTENER_STDIN=$TMP/listener.fifo start_listener "$TMP/listener.out" -v

"$QUICC" "--$QUICC_DRIVER" -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  <"$TMP/client.fifo" >"$TMP/client.out" 2>"$TMP/client.err" &
CLIENT_PID=$!
bg_track "$CLIENT_PID"
diag_add "$TMP/client.err"
wait_log "$TMP/client.err" 0 handshake_done 10 || fail "the client logged no handshake_done within $(scaled 10) s"
wait_log "$TMP/listener.out.err" 0 handshake_done 10 ||
  fail "the listener logged no handshake_done within $(scaled 10) s"

# cpu_ms PID: the process's user + system CPU time so far, in milliseconds (fields 14 and 15 of
# /proc/PID/stat, in clock ticks; the command name in field 2 may hold spaces, so count from
# the closing parenthesis).
TICK=$(getconf CLK_TCK)
cpu_ms() {
  local stat rest
  stat=$(cat "/proc/$1/stat") || return 1
  rest=${stat##*) }
  # shellcheck disable=SC2086
  set -- $rest   # $1 is field 3 (state), so utime is ${12} and stime ${13}
  echo $(( (${12} + ${13}) * 1000 / TICK ))
}

c0=$(cpu_ms "$CLIENT_PID") || fail "the client exited right after its handshake"
l0=$(cpu_ms "$LISTENER_PID") || fail "the listener exited right after its handshake"
sleep "$WINDOW_S"   # the measurement window itself, not a wait for an event
c1=$(cpu_ms "$CLIENT_PID") || fail "the client exited during the idle window"
l1=$(cpu_ms "$LISTENER_PID") || fail "the listener exited during the idle window"
client_ms=$((c1 - c0))
listener_ms=$((l1 - l0))
note "CPU over ${WINDOW_S} s idle: client ${client_ms} ms, listener ${listener_ms} ms (resolution $((1000 / TICK)) ms)"
cpu_limits_apply || note "ThreadSanitizer build: the CPU figures are shown, not judged (see lib.sh)"
! cpu_limits_apply || [ "$client_ms" -lt "$LIMIT_MS" ] ||
  fail "the client used ${client_ms} ms of CPU in ${WINDOW_S} s idle, limit ${LIMIT_MS} ms"
! cpu_limits_apply || [ "$listener_ms" -lt "$LIMIT_MS" ] ||
  fail "the listener used ${listener_ms} ms of CPU in ${WINDOW_S} s idle, limit ${LIMIT_MS} ms"
pass "idle connection is cheap: client ${client_ms} ms, listener ${listener_ms} ms in ${WINDOW_S} s"
