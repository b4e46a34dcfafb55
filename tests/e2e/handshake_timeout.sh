#!/usr/bin/env bash
# A peer that swallows every datagram: `quicc --connect-timeout 1s` gives up with exit 4 within
# 3 s and prints nothing on stdout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

start_udp_sink
port=$SINK_PORT

t0=$(now_ms)
rc=0
printf 'data that goes nowhere' |
  qt 10 --connect-timeout 1s --pin-sha256 "$ZERO_PIN" "127.0.0.1:$port" \
    >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
t1=$(now_ms)
diag_add "$TMP/client.err"
[ "$rc" != 124 ] || fail "client still running after $(scaled 10) s despite --connect-timeout 1s"
[ "$rc" = 4 ] || fail "client exited $rc, expected 4 (handshake timeout)"
[ ! -s "$TMP/client.out" ] || fail "client printed on stdout: $(head -c 100 "$TMP/client.out")"
grep -q '^quicc: error: ' "$TMP/client.err" || fail "no 'quicc: error: ' line on stderr"
[ $((t1 - t0)) -le "$(scaled_over 1000 3000)" ] ||
  fail "client took $((t1 - t0)) ms to give up, expected <= $(scaled_over 1000 3000) ms"
[ $((t1 - t0)) -ge 800 ] || fail "client gave up after $((t1 - t0)) ms, before the 1 s connect timeout"

# 500ms form of the duration.
t0=$(now_ms)
rc=0
qt 10 --connect-timeout 500ms --pin-sha256 "$ZERO_PIN" "127.0.0.1:$port" </dev/null \
  >"$TMP/client2.out" 2>"$TMP/client2.err" || rc=$?
t1=$(now_ms)
diag_add "$TMP/client2.err"
[ "$rc" = 4 ] || fail "--connect-timeout 500ms: client exited $rc, expected 4"
[ $((t1 - t0)) -le "$(scaled_over 500 2000)" ] ||
  fail "--connect-timeout 500ms: took $((t1 - t0)) ms, expected <= $(scaled_over 500 2000) ms"

pass "handshake timeout -> exit 4"
