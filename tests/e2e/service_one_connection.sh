#!/usr/bin/env bash
# Without --keep-open a service listener is `nc -l`: it serves its first connection and exits
# with that connection's outcome. For --echo, --sink, --source and --serve: one client, then
# the listener exits 0 by itself. A client whose handshake fails before (wrong ALPN) is a
# warning in the listener's log, which goes on waiting for the next one; for the pipe listener
# too.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/www"
printf 'hello\n' >"$TMP/hello"
cp "$TMP/hello" "$TMP/www/hello"

# one NAME INPUT EXPECTED CLIENT_ARGS -- LISTENER_ARGS...
one() {
  local name=$1 input=$2 expected=$3 client_args=$4
  shift 5
  start_listener "$TMP/$name.l" "$@"
  # A client that fails its handshake: the listener must not take it as its one connection.
  local rc=0
  q --alpn nothing --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" </dev/null \
    >/dev/null 2>"$TMP/$name.bad.err" || rc=$?
  [ "$rc" = 7 ] || fail "$name: a client offering the wrong ALPN exited $rc, expected 7"
  kill -0 "$LISTENER_PID" 2>/dev/null || fail "$name: the listener exited after a failed handshake"
  rc=0
  # shellcheck disable=SC2086
  q $client_args --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" <"$input" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
  diag_add "$TMP/$name.err"
  [ "$rc" = 0 ] || fail "$name: the client exited $rc"
  [ "$(wc -c <"$TMP/$name.out")" = "$expected" ] ||
    fail "$name: the client received $(wc -c <"$TMP/$name.out") bytes, expected $expected"
  wait_pid "$LISTENER_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "$name: the listener exited $WAIT_RC after its client (124: still running)"
  grep -q '^quicc: warning: .*ALPN.*(connection 1)$' "$TMP/$name.l.err" ||
    fail "$name: no warning about the failed handshake of connection 1"
  ! grep -q '^quicc: error:' "$TMP/$name.l.err" || fail "$name: the listener logged an error"
}

one echo "$TMP/hello" 6 "" -- --echo
one sink "$TMP/hello" 0 "" -- --sink
grep -q '^quicc: stream 0: 6 bytes in .* (connection 2)$' "$TMP/sink.l.err" ||
  fail "sink: no report of stream 0 of connection 2"
one source /dev/null 1000000 "" -- --source 1000000
printf 'GET /hello\r\n' >"$TMP/request"
one serve "$TMP/request" 6 "--alpn hq-interop" -- --serve "$TMP/www"

# The pipe listener too: a failed handshake is a warning, the next client gets the pipe.
LISTENER_STDIN=$TMP/hello start_listener "$TMP/pipe.l"
rc=0
q --alpn nothing --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" </dev/null >/dev/null \
  2>/dev/null || rc=$?
[ "$rc" = 7 ] || fail "pipe: a client offering the wrong ALPN exited $rc, expected 7"
rc=0
q --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" <"$TMP/hello" >"$TMP/pipe.out" \
  2>"$TMP/pipe.err" || rc=$?
diag_add "$TMP/pipe.err"
[ "$rc" = 0 ] && cmp -s "$TMP/pipe.out" "$TMP/hello" || fail "pipe: the next client exited $rc"
wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" = 0 ] || fail "pipe: the listener exited $WAIT_RC"
cmp -s "$TMP/pipe.l" "$TMP/hello" || fail "pipe: the listener's stdout differs from what was sent"
grep -q '^quicc: warning: .*ALPN' "$TMP/pipe.l.err" || fail "pipe: no warning about the failed handshake"
! grep -q '^quicc: error:' "$TMP/pipe.l.err" || fail "pipe: the listener logged an error"
pass
