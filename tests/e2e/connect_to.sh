#!/usr/bin/env bash
# --connect-to dials another address but keeps HOST for SNI and verification: HOST=localhost
# verifies against a localhost certificate when dialing 127.0.0.1; a wrong HOST fails
# verification (exit 6) even though the same server answers.
. "$(dirname "$0")/lib.sh"

make_cert "$TMP/c" server
start_listener "$TMP/l.out" --echo --keep-open --cert "$TMP/c/server.crt" --key "$TMP/c/server.key"

rc=0
out=$(printf hello | q -v --cafile "$TMP/c/ca.pem" --connect-to 127.0.0.1 \
        "localhost:$LISTENER_PORT" 2>"$TMP/ok.err") || rc=$?
diag_add "$TMP/ok.err"
[ "$rc" = 0 ] || fail "--connect-to 127.0.0.1 localhost:PORT exited $rc"
[ "$out" = hello ] || fail "echo through --connect-to returned '$out'"
grep -q "socket local=.* peer=127.0.0.1:$LISTENER_PORT" "$TMP/ok.err" ||
  fail "did not dial 127.0.0.1:$LISTENER_PORT"
grep -q 'peer_subject="/CN=localhost"' "$TMP/ok.err" || fail "peer certificate is not CN=localhost"

# A name that does not resolve at all: --connect-to means it is never looked up.
rc=0
out=$(printf hello | q --cafile "$TMP/c/ca.pem" --connect-to "127.0.0.1:$LISTENER_PORT" \
        "wrong.invalid:1" 2>"$TMP/wrong.err") || rc=$?
diag_add "$TMP/wrong.err"
[ "$rc" = 6 ] || fail "wrong HOST with --connect-to exited $rc, expected 6 (verification)"
[ -z "$out" ] || fail "stdout not empty after a failed verification: '$out'"
grep -q 'certificate verification failed' "$TMP/wrong.err" ||
  fail "no verification error: $(cat "$TMP/wrong.err")"
pass "--connect-to keeps HOST for verification"
