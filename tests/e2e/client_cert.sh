#!/usr/bin/env bash
# A listener that requires client certificates (--cafile + --require-client-cert): without
# --cert the handshake fails with a clear message (exit 5, "certificate required"); with a
# certificate from that CA it succeeds.
. "$(dirname "$0")/lib.sh"

make_cert "$TMP/c" server
"$OPENSSL_BIN" req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout "$TMP/c/client.key" -out "$TMP/c/client.csr" -subj "/CN=quicc test client" \
  >"$TMP/c/client.log" 2>&1 || fail "client CSR"
"$OPENSSL_BIN" x509 -req -days 2 -in "$TMP/c/client.csr" -CA "$TMP/c/ca.pem" \
  -CAkey "$TMP/c/ca.key" -CAcreateserial -out "$TMP/c/client.crt" >>"$TMP/c/client.log" 2>&1 ||
  fail "client certificate"

start_listener "$TMP/l.out" --echo --keep-open --cafile "$TMP/c/ca.pem" --require-client-cert
rc=0
out=$(printf hello | q --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
        2>"$TMP/nocert.err") || rc=$?
diag_add "$TMP/nocert.err"
[ "$rc" = 5 ] || fail "without --cert: exited $rc, expected 5 (handshake failed)"
[ -z "$out" ] || fail "without --cert: stdout '$out'"
grep -q 'certificate required' "$TMP/nocert.err" ||
  fail "without --cert: message does not say 'certificate required': $(cat "$TMP/nocert.err")"

rc=0
out=$(printf hello | q --cert "$TMP/c/client.crt" --key "$TMP/c/client.key" \
        --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" 2>"$TMP/cert.err") || rc=$?
diag_add "$TMP/cert.err"
[ "$rc" = 0 ] || fail "with --cert: exited $rc"
[ "$out" = hello ] || fail "with --cert: echo returned '$out'"
pass "client certificates"
