#!/usr/bin/env bash
# A peer that never answers: at -vv quicc shows timer-driven ticks (wake=timeout) while it
# retransmits, then gives up with exit 4 (handshake timeout) when --connect-timeout expires,
# within 10% of it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

start_udp_sink
port=$SINK_PORT

t0=$(now_ms)
rc=0
qt 20 -vv --connect-timeout 3s --pin-sha256 "$ZERO_PIN" "127.0.0.1:$port" </dev/null \
  >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
elapsed=$(( $(now_ms) - t0 ))
diag_add "$TMP/client.err"
[ "$rc" = 4 ] || fail "exited $rc, expected 4 (handshake timeout)"
[ ! -s "$TMP/client.out" ] || fail "stdout not empty"
grep -q '^quicc: error: no handshake with 127.0.0.1:'"$port"' within 3000 ms' "$TMP/client.err" ||
  fail "no 'no handshake ... within 3000 ms' error line"
[ "$elapsed" -ge 2700 ] && [ "$elapsed" -le 3300 ] ||
  fail "gave up after $elapsed ms; --connect-timeout 3s allows 2700..3300 ms"
if [ "$QUICC_DRIVER" = nonblocking ]; then
  # The non-blocking driver owns the loop: its ticks show OpenSSL's retransmission timer.
  timer_ticks=$(grep -c 'tick wake=timeout' "$TMP/client.err" || true)
  [ "$timer_ticks" -ge 1 ] || fail "expected timer-driven ticks (wake=timeout) from the retransmission timer, saw none"
  grep -Eq 'tick wake=[a-z_|]+ next_timeout_ms=[0-9.]+ ' "$TMP/client.err" ||
    fail "no tick with a finite next_timeout_ms"
  note "$timer_ticks timer-driven ticks in $elapsed ms"
else
  # OpenSSL's blocking calls own the loop; quicc can only show what each call returned.
  grep -q 'handshake_start' "$TMP/client.err" || fail "no handshake_start event at -vv"
  note "gave up after $elapsed ms"
fi
pass "silent peer: ticks and exit 4 after $elapsed ms"
