#!/usr/bin/env bash
# The pipe through a lossy path (issue 13): a quicc client and a quicc pipe listener talk through
# tests/fault_relay.py, which drops 5% of the datagrams each way, holds 5% back 30 ms (so later
# ones overtake them) and sends 1% twice, seeded. Full duplex: the listener's stdin, 20 MiB of
# random bytes, must reach the client's stdout, and the client's stdin, 2 MiB, the listener's
# stdout, both byte for byte (sha256), both sides exiting 0, within a bound (180 s scaled; the
# run times are printed). The download direction carries the bulk: an upload under loss is 2x
# slower (BENCHMARKS.md, "Upload under loss"). Under a sanitizer build, 5 MiB and 1 MiB: the
# same paths, in a time CI can afford.
. "$(dirname "$0")/lib.sh"

RELAY=$(dirname "$0")/../fault_relay.py
DOWN_MIB=20 UP_MIB=2
[ -z "${QUICC_SANITIZER:-}" ] || DOWN_MIB=5 UP_MIB=1
head -c $((DOWN_MIB * 1024 * 1024)) /dev/urandom >"$TMP/down.bin"
head -c $((UP_MIB * 1024 * 1024)) /dev/urandom >"$TMP/up.bin"

LISTENER_STDIN=$TMP/down.bin start_listener "$TMP/listener.out"

# The relay, between the client and the listener; it names its port once bound.
python3 "$RELAY" 0 "$LISTENER_PORT" --drop 0.05 --delay 0.05 --delay-ms 30 --dup 0.01 --seed 7 \
  >"$TMP/relay.out" 2>"$TMP/relay.err" &
RELAY_PID=$!
bg_track "$RELAY_PID"
diag_add "$TMP/relay.err"
wait_log "$TMP/relay.out" 0 '^relay: ready [0-9]+$' 20 || fail "the relay did not start"
RELAY_PORT=$(awk '{print $3; exit}' "$TMP/relay.out")

t0=$(now_ms)
RC=0
qt 180 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$RELAY_PORT" <"$TMP/up.bin" >"$TMP/client.out" \
  2>"$TMP/client.err" || RC=$?
client_ms=$(( $(now_ms) - t0 ))
diag_add "$TMP/client.err"
wait_pid "$LISTENER_PID" 30
listener_ms=$(( $(now_ms) - t0 ))
kill -TERM "$RELAY_PID" 2>/dev/null || true
wait "$RELAY_PID" 2>/dev/null || true
note "client ${client_ms} ms, listener ${listener_ms} ms; $(cat "$TMP/relay.err")"

[ "$RC" = 0 ] || fail "the client exited $RC, expected 0"
# Both exit 0: the listener's last bytes acknowledged too. (Once the client closed as soon as
# its ACK of them had left; when the relay dropped that ACK the listener exited 15. Now the side
# that received last leaves the close to its peer: TransferPolicy::Settings::quiet.)
[ "$WAIT_RC" = 0 ] || fail "the listener exited $WAIT_RC, expected 0: $(tail -n1 "$TMP/listener.out.err")"
[ "$(sha "$TMP/client.out")" = "$(sha "$TMP/down.bin")" ] ||
  fail "the client's stdout ($(stat -c %s "$TMP/client.out") bytes) differs from the listener's $DOWN_MIB MiB stdin"
[ "$(sha "$TMP/listener.out")" = "$(sha "$TMP/up.bin")" ] ||
  fail "the listener's stdout ($(stat -c %s "$TMP/listener.out") bytes) differs from the client's $UP_MIB MiB stdin"
grep -qE 'up_dropped=[1-9]' "$TMP/relay.err" && grep -qE 'down_duplicated=[1-9]' "$TMP/relay.err" ||
  fail "the relay dropped or duplicated nothing: $(cat "$TMP/relay.err")"

pass "$DOWN_MIB MiB down and $UP_MIB MiB up through 5% drop, 5% 30 ms delay, 1% duplicates: identical, both exit 0 (client ${client_ms} ms)"
