#!/usr/bin/env bash
# SIGINT, SIGTERM and SIGHUP in every phase of a run. In each case quicc must exit with
# 128 + signal (130, 143, 129) within 1 s of the signal and print
# `quicc: error: interrupted (SIGxxx)`; in the phases where it waits, it must use under 50 ms of
# CPU in a 1 s window of waiting (its process CPU clock, once it is ready and settled).
#
#   phase                    how                                                    signals
#   resolving                `unshare -m -n`, resolv.conf -> a DNS server that      INT* TERM
#                            never answers: quicc some.name.test:4433 waits in
#                            getaddrinfo (skipped, with a note, where unshare fails)
#   listener mid-handshake   a relay in front of the listener forwards the client's INT* TERM
#                            datagrams and drops the listener's (all but Retry, so
#                            that the listener keeps state for the client)
#   handshake (client)       the same relay; the client is signalled once the       INT* HUP
#                            listener is gone, still retrying its Initial
#   listener waiting         `quicc --listen`, no client                            INT* TERM HUP
#   transfer                 `yes` | quicc | (read) against an echo listener, which INT TERM HUP
#                            must log the close: code 1, reason "interrupted"
#   stdout stalled           a listener sends /dev/zero; quicc's stdout is a FIFO   INT* TERM
#                            whose reader never reads; once more with a FIFO that   INT*
#                            another writer left partly filled
#   closing                  both sides --wait-peer after both FINs, each waiting   INT* HUP
#                            for the other's CONNECTION_CLOSE
#   (* = CPU measured while waiting)
# SIGINT runs in every phase. SIGTERM and SIGHUP each run in phases before any connection exists
# (the resolver, handshake and accept waits) and in phases of the transfer policy (transfer,
# stalled, closing), all three in the transfer. Two and three signals: interrupt_escalation.sh.
# Every quicc under test is the direct child of lib_sigrun.py (no timeout(1) in between), which
# bounds every wait itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_signals.sh"

D=--$QUICC_DRIVER

# cpu_for SIG: sets CPU_ARGS, the CPU window options: measured in the SIGINT run of a waiting
# phase.
cpu_for() {
  CPU_ARGS=()
  if [ "$1" = INT ]; then CPU_ARGS=(--cpu-window "$CPU_WINDOW"); fi
}

# --- resolving -----------------------------------------------------------------------------------
if silent_dns_setup; then
  for sig in INT TERM; do
    name=resolving.$sig
    cpu_for "$sig"
    rm -f "$TMP/dns.log"
    sigrun "$name" --stderr "$TMP/$name.err" --ready "$TMP/dns.log" '^query ' "${CPU_ARGS[@]}" \
      --signal "$sig" -- unshare -m -n bash "$TMP/silent_dns.sh" "$QUICC" "$D" -v some.name.test:4433
    silent_dns_stop
    expect_interrupted "$name" "$sig"
    ! grep -q 'resolved\|handshake_start' "$TMP/$name.err" ||
      problem "$name" "quicc got past resolving: $(head -n 3 "$TMP/$name.err" | tr '\n' '|')"
  done
else
  note "resolving phase skipped: $SILENT_DNS_WHY"
fi

# --- handshake: the listener, then the client ----------------------------------------------------
for sigs in "TERM HUP" "INT INT"; do
  lsig=${sigs% *} csig=${sigs#* }
  ln=listener_handshake.$lsig cn=handshake.$csig
  cpu_for "$lsig"
  : >"$TMP/$ln.err"
  sigrun_start "$ln" --stderr "$TMP/$ln.err" --ready "$TMP/$ln.err" 'connection_accepted' \
    --ready "$TMP/$ln.relay.log" '^dropped' --ready-timeout 30 "${CPU_ARGS[@]}" --signal "$lsig" -- \
    "$QUICC" "$D" --listen 127.0.0.1:0 -v
  wait_log "$TMP/$ln.err" 0 '^quicc: certificate sha256 fingerprint ' 20 ||
    fail "$ln: the listener printed no fingerprint line within $(scaled 20) s"
  port=$(sed -n 's/^quicc: listening on .*:\([0-9]*\)$/\1/p' "$TMP/$ln.err")
  fp=$(sed -n 's/^quicc: certificate sha256 fingerprint \([0-9A-F:]*\).*/\1/p' "$TMP/$ln.err")
  start_handshake_blackhole "$port" "$ln"
  # The client is signalled only after the listener's run ended: its CONNECTION_CLOSE would
  # otherwise reach the listener (the relay forwards what clients send) and end its handshake.
  cpu_for "$csig"
  sigrun_start "$cn" --stderr "$TMP/$cn.err" --ready "$TMP/$cn.err" 'handshake_start' \
    --ready "$TMP/$ln.relay.log" '^dropped' --ready "$TMP/$ln.sigrun" 'status=' --ready-timeout 60 \
    "${CPU_ARGS[@]}" --signal "$csig" -- \
    "$QUICC" "$D" -v --connect-timeout 60s --pin-sha256 "$fp" "127.0.0.1:$RELAY_PORT"
  sigrun_finish "$ln"
  expect_interrupted "$ln" "$lsig"
  ! grep -q handshake_done "$TMP/$ln.err" || problem "$ln" "the handshake completed through the relay"
  sigrun_finish "$cn"
  expect_interrupted "$cn" "$csig"
  ! grep -q handshake_done "$TMP/$cn.err" || problem "$cn" "the handshake completed through the relay"
done

# --- listener waiting ----------------------------------------------------------------------------
for sig in INT TERM HUP; do
  name=listener_waiting.$sig
  cpu_for "$sig"
  sigrun "$name" --stderr "$TMP/$name.err" --ready "$TMP/$name.err" '^quicc: listening on ' \
    "${CPU_ARGS[@]}" --signal "$sig" -- "$QUICC" "$D" --listen 127.0.0.1:0 -v
  expect_interrupted "$name" "$sig"
done

# --- transfer ------------------------------------------------------------------------------------
start_listener "$TMP/echo.out" --echo --keep-open -v
ECHO_LOG=$TMP/echo.out.err ECHO_PORT=$LISTENER_PORT ECHO_FP=$LISTENER_FP ECHO_PID=$LISTENER_PID
for sig in INT TERM HUP; do
  name=transfer.$sig
  mark=$(log_mark "$ECHO_LOG")
  yes_fifo "$name"
  sigrun "$name" --stdin "$TMP/$name.in" --drain-stdout --ready-drained 1000000 \
    --stderr "$TMP/$name.err" --ready "$TMP/$name.err" 'stream id=0 change=opened' --settle 0.2 \
    --signal "$sig" -- "$QUICC" "$D" -v --pin-sha256 "$ECHO_FP" "127.0.0.1:$ECHO_PORT"
  expect_interrupted "$name" "$sig"
  grep -Eq 'close by=local kind=application code=1 .*reason=interrupted( |$)' "$TMP/$name.err" ||
    problem "$name" "quicc did not log 'close by=local kind=application code=1 ... reason=interrupted'"
  wait_log "$ECHO_LOG" "$mark" 'close by=peer kind=application code=1 .*reason=interrupted( |$)' 3 ||
    problem "$name" "the echo listener logged no 'close by=peer kind=application code=1 ..." \
            "reason=interrupted': $(log_since "$ECHO_LOG" "$mark" | grep -E 'close|error' | tr '\n' '|')"
done
kill -0 "$ECHO_PID" 2>/dev/null || fail "the echo listener exited"
kill "$ECHO_PID"

# --- stdout stalled ------------------------------------------------------------------------------
# "prefilled": another writer of the FIFO left 28,700 bytes in 14 of its 16 page buffers, as a
# `{ printf ...; quicc ...; } | reader` pipeline may: the bytes queued then suggest more room
# than the pipe has.
for run in INT TERM INT.prefilled; do
  sig=${run%%.*} name=stalled.$run
  cpu_for "$sig"
  prefill=()
  [ "$run" = "${run%.prefilled}" ] || prefill=(--stall-prefill)
  LISTENER_STDIN=/dev/zero start_listener "$TMP/$name.listener.out" -v
  hold_fifo "$TMP/$name.in"
  sigrun "$name" --stdin "$TMP/$name.in" --stall-stdout "$TMP/$name.out" "${prefill[@]}" \
    --ready-stalled --stderr "$TMP/$name.err" "${CPU_ARGS[@]}" --signal "$sig" -- \
    "$QUICC" "$D" -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT"
  expect_interrupted "$name" "$sig"
  kill_now "$LISTENER_PID"
  kill_now "$HOLD_PID"
done

# --- closing -------------------------------------------------------------------------------------
printf hello >"$TMP/hello"
printf hi >"$TMP/hi"
for sig in INT HUP; do
  name=closing.$sig
  cpu_for "$sig"
  LISTENER_STDIN=$TMP/hello start_listener "$TMP/$name.listener.out" -v --wait-peer
  sigrun "$name" --stdin "$TMP/hi" --stdout "$TMP/$name.out" --stderr "$TMP/$name.err" \
    --ready "$TMP/$name.err" 'change=fin_sent' --ready "$TMP/$name.err" 'change=fin_received' \
    "${CPU_ARGS[@]}" --signal "$sig" -- \
    "$QUICC" "$D" -v --wait-peer --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT"
  expect_interrupted "$name" "$sig"
  [ "$(cat "$TMP/$name.out")" = hello ] ||
    problem "$name" "quicc wrote '$(head -c 100 "$TMP/$name.out")', expected hello"
  # Both sides were waiting for the other's close: the listener ends on ours.
  wait_pid "$LISTENER_PID" 5
  [ "$WAIT_RC" = 9 ] ||
    problem "$name" "the listener exited $WAIT_RC after quicc's interrupted close, expected 9 (124: still running)"
  grep -Eq 'close by=peer kind=application code=1 .*reason=interrupted( |$)' "$TMP/$name.listener.out.err" ||
    problem "$name" "the listener logged no 'close by=peer kind=application code=1 ... reason=interrupted'"
done

report_results "SIGINT/SIGTERM/SIGHUP in every phase: exit 130/143/129 within 1 s; waiting costs < 50 ms of CPU"
