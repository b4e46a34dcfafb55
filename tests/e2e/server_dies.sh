#!/usr/bin/env bash
# A server killed (SIGKILL) around the end of an exchange: the client ends within its idle
# timeout plus a margin, never waiting for --timeout or forever, and exits 0 only with the
# whole echo.
#   at once:  killed as soon as it has sent its FIN (its log says so). The client has all it
#             wants and closes after its ACK delay; its CONNECTION_CLOSE draws ICMP, and
#             OpenSSL ends the connection at once, inside that close call, with no closing
#             period and nothing more to wait for. Before the fix the client then sat in poll()
#             with nothing to wake it.
#   racing:   3 clients started 30 ms apart, the server killed 50 ms after the last: some
#             finish first, some are closing, some fail mid-transfer.
. "$(dirname "$0")/lib.sh"

printf ping >"$TMP/ping"
limit=10  # seconds (scaled by wait_pid): idle timeout 2 s, connect timeout 1 s (scaled), a margin
codes=""

# judge ROUND CLIENT PID
judge() {
  wait_pid "$3" "$limit"
  diag_add "$TMP/c$1$2.err"
  case $WAIT_RC in
    124) fail "$1, client $2: still running $(scaled "$limit") s after the server died" ;;
    0) cmp -s "$TMP/c$1$2.out" "$TMP/ping" || fail "$1, client $2: exit 0 without the whole echo" ;;
    # handshake timeout (killed mid-handshake), idle timeout, network error, incomplete, port
    # unreachable
    4|11|12|15|18) ;;
    *) fail "$1, client $2: exit $WAIT_RC" ;;
  esac
  codes+=" $WAIT_RC"
}

# --- at once
for round in 1 2 3 4 5 6; do
  start_listener "$TMP/once$round" --echo --keep-open -v
  qt 60 --idle-timeout 2s --connect-timeout "$(scaled 1)s" --pin-sha256 "$LISTENER_FP" \
    "127.0.0.1:$LISTENER_PORT" <"$TMP/ping" >"$TMP/conce${round}1.out" 2>"$TMP/conce${round}1.err" &
  pid=$!
  bg_track "$pid"
  # (Polled every 2 ms, not wait_log's 50: the kill must come within the client's ACK delay.)
  deadline=$(( $(now_ms) + $(scaled 10) * 1000 ))
  until grep -q 'change=fin_sent' "$TMP/once$round.err"; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "at once: the listener sent no FIN"
    sleep 0.002
  done
  kill_now "$LISTENER_PID"
  judge "once$round" 1 "$pid"
done

# --- racing
for round in 1 2 3 4 5 6; do
  start_listener "$TMP/race$round" --echo --keep-open
  pids=()
  for i in 1 2 3; do
    qt 60 --idle-timeout 2s --connect-timeout "$(scaled 1)s" --pin-sha256 "$LISTENER_FP" \
      "127.0.0.1:$LISTENER_PORT" <"$TMP/ping" >"$TMP/crace$round$i.out" 2>"$TMP/crace$round$i.err" &
    pids+=($!)
    bg_track "$!"
    sleep 0.03
  done
  sleep 0.05
  kill_now "$LISTENER_PID"
  for i in 1 2 3; do judge "race$round" "$i" "${pids[$((i - 1))]}"; done
done
pass "24 clients of a killed server ended in time; exits:$codes"
