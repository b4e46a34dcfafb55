#!/usr/bin/env bash
# 10 MB of random bytes from a quicc client to a one-shot quicc listener (no --echo, listener
# stdin /dev/null). The listener's stdout must be byte-identical to the input; both exit 0.
# The client trusts the listener's ephemeral certificate through --pin-sha256.
. "$(dirname "$0")/lib.sh"

head -c $((10 * 1024 * 1024)) /dev/urandom >"$TMP/in"

start_listener "$TMP/listener.out"

rc=0
q --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  <"$TMP/in" >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
diag_add "$TMP/client.err"
[ "$rc" = 0 ] || fail "client exited with $rc (124 = killed by timeout after ${QUICC_TIMEOUT}s)"

wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" != 124 ] || fail "listener still running $(scaled 10) s after the client finished"
[ "$WAIT_RC" = 0 ] || fail "listener exited with $WAIT_RC"

[ "$(stat -c %s "$TMP/listener.out")" = $((10 * 1024 * 1024)) ] ||
  fail "listener wrote $(stat -c %s "$TMP/listener.out") bytes to stdout, expected $((10 * 1024 * 1024))"
[ "$(sha "$TMP/listener.out")" = "$(sha "$TMP/in")" ] ||
  fail "listener stdout differs from the client's input (sha256 mismatch)"
[ ! -s "$TMP/client.out" ] ||
  fail "client stdout should be empty (listener stdin was /dev/null), got $(stat -c %s "$TMP/client.out") bytes"

pass "10 MiB client -> listener byte-identical"
