#!/usr/bin/env bash
# IPv6 literals: a listener on [::1]:0, a client to [::1]:PORT with --pin-sha256, "hello"
# goes through in both directions.
. "$(dirname "$0")/lib.sh"

have_ipv6_loopback || skip "::1 is not usable on this machine"

# One-shot listener: the client sends hello, the listener sends "world" back.
printf world >"$TMP/listener.in"
LISTENER_STDIN=$TMP/listener.in start_listener_at '[::1]:0' "$TMP/listener.out"
case "$LISTENER_ADDR" in
  *::1*) ;;
  *) fail "listening line reports '$LISTENER_ADDR', expected an address on ::1" ;;
esac

rc=0
printf hello | q --pin-sha256 "$LISTENER_FP" "[::1]:$LISTENER_PORT" \
  >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
diag_add "$TMP/client.err"
[ "$rc" = 0 ] || fail "client to [::1]:$LISTENER_PORT exited with $rc"
wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" != 124 ] || fail "listener still running $(scaled 10) s after the client finished"
[ "$WAIT_RC" = 0 ] || fail "listener exited with $WAIT_RC"
[ "$(cat "$TMP/listener.out")" = hello ] ||
  fail "listener stdout is '$(head -c 100 "$TMP/listener.out")', expected 'hello'"
[ "$(cat "$TMP/client.out")" = world ] ||
  fail "client stdout is '$(head -c 100 "$TMP/client.out")', expected 'world'"

# And an echo listener on [::1] with a hex pin without colons.
start_listener_at '[::1]:0' "$TMP/echo.out" --echo --keep-open
pin=$(printf '%s' "$LISTENER_FP" | tr -d ':' | tr 'A-F' 'a-f')
rc=0
out=$(printf hello | q --pin-sha256 "$pin" "[::1]:$LISTENER_PORT" 2>"$TMP/echo-client.err") || rc=$?
diag_add "$TMP/echo-client.err"
[ "$rc" = 0 ] || fail "echo client to [::1]:$LISTENER_PORT (lowercase pin without colons) exited with $rc"
[ "$out" = hello ] || fail "echo client to [::1]:$LISTENER_PORT printed '$out', expected 'hello'"

pass "[::1] one-shot and echo round trips"
