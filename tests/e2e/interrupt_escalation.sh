#!/usr/bin/env bash
# One, two and three signals while quicc's close has to wait. The first SIGINT closes gracefully
# (bounded to 500 ms), a second one closes rapidly, a third ends quicc by the signal itself.
#
# Setup: a `yes` transfer to an echo listener through a relay that delays each datagram 150 ms
# each way, so that OpenSSL's closing period (3 PTO) is over a second (on plain loopback it is
# ~100 ms, and a graceful close would end by itself long before its bound); once 20 kB came
# back the listener is stopped with SIGSTOP, so nothing it could send ends the close either, and
# 0.5 s later:
#   one SIGINT     exit 130 within 1 s, no sooner than 400 ms (the close waits for its 500 ms
#                  bound: the precondition that gives the next check its meaning), and under
#                  100 ms of CPU from the signal to the exit: it waits for nothing that can come
#                  and must not spin (polling a close in progress every 10 ms, as the blocking
#                  driver does, costs ~30 ms over those ~800 ms; a busy loop costs several times
#                  the limit even when it gets only part of a CPU)
#   two SIGINTs    50 ms apart: exit 130 within 0.5 s of the second, and less than 500 ms after
#                  the first, which only the second signal's rapid close can achieve
#   three signals  SIGINT, SIGTERM and SIGHUP sent while quicc is stopped (SIGSTOP), then
#                  SIGCONT: all three are handled before quicc runs on, and the third ends it by
#                  the signal itself (wait status "killed by signal N", not exit 128+N, which a
#                  shell's $? cannot tell apart). Three different signals, because a signal that
#                  is already pending is not queued a second time.
# quicc is the direct child of lib_sigrun.py (no timeout(1) in between), which bounds every wait.
# Upper bounds (time, CPU) are scaled by QUICC_TIME_SCALE (lib.sh); the two-signal check against
# the first signal's 500 ms bound is not scalable and is made only when QUICC_TIME_SCALE is 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_signals.sh"

# stopped_peer_run NAME SIGRUN-ARGS...: one run of the setup above, with the signals of
# SIGRUN-ARGS.
stopped_peer_run() {
  local name=$1; shift
  start_listener "$TMP/$name.listener.out" --echo --keep-open -v
  start_delay_relay "$LISTENER_PORT" "$name" 150
  yes_fifo "$name"
  sigrun "$name" --stdin "$TMP/$name.in" --drain-stdout --ready-drained 20000 \
    --stderr "$TMP/$name.err" --ready "$TMP/$name.err" 'stream id=0 change=opened' \
    --stop-first "$LISTENER_PID" --settle 0.5 "$@" -- \
    "$QUICC" "--$QUICC_DRIVER" -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$RELAY_PORT"
  kill_now "$LISTENER_PID"   # SIGKILL works on a stopped process
}

# --- one SIGINT ----------------------------------------------------------------------------------
stopped_peer_run one --signal INT
expect_interrupted one INT
if [ "$R_STATUS" != running ]; then
  [ "$R_DELAY" -ge 400 ] ||
    fail "one: quicc exited $R_DELAY ms after one SIGINT with a stopped peer 150 ms away; the" \
         "two-signal check below needs a graceful close that waits for its 500 ms bound (>= 400 ms)"
  ! cpu_limits_apply || awk -v c="$R_CLOSING_CPU" -v limit="$(scaled 100)" 'BEGIN { exit !(c < limit) }' ||
    problem one "quicc used $R_CLOSING_CPU ms of CPU in the $R_DELAY ms from SIGINT to its exit," \
            "waiting for a stopped peer; expected < $(scaled 100) ms"
  RESULTS[-1]+=", CPU $R_CLOSING_CPU ms from the signal to the exit"
fi

# --- two SIGINTs ---------------------------------------------------------------------------------
stopped_peer_run two --signal INT --signal INT --gap-ms 50
[ "$R_SENT" = 2 ] || fail "two: quicc ended $R_FIRST ms after the first SIGINT, before the second"
expect_interrupted two INT
if [ "$R_STATUS" != running ]; then
  [ "$R_DELAY" -le "$(scaled 500)" ] ||
    problem two "quicc exited $R_DELAY ms after the second SIGINT, expected <= $(scaled 500) ms"
  # The first signal's graceful close is bounded by quicc itself (500 ms, unscaled): a slower
  # build cannot be held to end before it, so this check is the normal build's alone.
  if time_scaled; then
    note "two: not checking that quicc ended < 500 ms after the first SIGINT (it took $R_FIRST ms):" \
         "quicc's own 500 ms bound does not scale with QUICC_TIME_SCALE=$TIME_SCALE"
  else
    [ "$R_FIRST" -lt 500 ] ||
      problem two "quicc exited $R_FIRST ms after the first SIGINT ($R_DELAY ms after the second): no" \
              "sooner than the first one's 500 ms graceful close would have ended it alone"
  fi
  RESULTS[-1]+=" of the second SIGINT, $R_FIRST ms of the first"
fi

# --- three signals -------------------------------------------------------------------------------
stopped_peer_run three --together --signal INT --signal TERM --signal HUP
RESULTS+=("three: $R_STATUS after $R_DELAY ms")
case $R_STATUS in
  signal:1|signal:2|signal:15) ;;
  *) problem three "quicc ended with $R_STATUS after SIGINT, SIGTERM and SIGHUP, expected to be" \
             "killed by one of them (signal:2, signal:15 or signal:1; running: still running $(scaled 5) s later)" ;;
esac
[ "$R_DELAY" = - ] || [ "$R_DELAY" -le "$(scaled 500)" ] ||
  problem three "quicc ended $R_DELAY ms after the three signals, expected <= $(scaled 500) ms"

report_results "1st signal: graceful close within 1 s; 2nd: rapid, within 0.5 s; 3rd: killed by the signal"
