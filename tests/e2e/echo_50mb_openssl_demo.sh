#!/usr/bin/env bash
# 50 MB of random bytes through OpenSSL's demo QUIC echo server (quic-server-block) with a
# certificate from a test CA; quicc trusts it with --cafile and uses ALPN hq-interop. The echo
# must be byte-identical, plus a "hello" round trip.
. "$(dirname "$0")/lib.sh"

SIZE=$((50 * 1024 * 1024))
make_cert "$TMP/pki" server
start_demo_server "$TMP/pki"     # waits until a hello round trip works

head -c "$SIZE" /dev/urandom >"$TMP/in"
rc=0
q --alpn hq-interop --cafile "$TMP/pki/ca.pem" "localhost:$DEMO_PORT" \
  <"$TMP/in" >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
diag_add "$TMP/client.err"
[ "$rc" = 0 ] || fail "50 MiB echo: client exited with $rc (124 = killed by timeout after ${QUICC_TIMEOUT}s)"
got=$(stat -c %s "$TMP/client.out")
[ "$got" = "$SIZE" ] || fail "50 MiB echo: client got $got bytes back, expected $SIZE"
[ "$(sha "$TMP/client.out")" = "$(sha "$TMP/in")" ] ||
  fail "50 MiB echo: echoed data differs from the input (sha256 mismatch)"
rm -f "$TMP/in" "$TMP/client.out"

t0=$(now_ms)
rc=0
printf hello | q --alpn hq-interop --cafile "$TMP/pki/ca.pem" "localhost:$DEMO_PORT" \
  >"$TMP/hello.out" 2>"$TMP/hello.err" || rc=$?
t1=$(now_ms)
diag_add "$TMP/hello.err"
[ "$rc" = 0 ] || fail "hello: client exited with $rc"
[ "$(od -An -tx1 "$TMP/hello.out" | tr -d ' \n')" = 68656c6c6f ] ||
  fail "hello: client printed '$(head -c 100 "$TMP/hello.out")', expected exactly 'hello'"
[ $((t1 - t0)) -le "$(scaled 2000)" ] ||
  fail "hello: round trip took $((t1 - t0)) ms, expected <= $(scaled 2000) ms"

pass "50 MiB echoed byte-identical by quic-server-block; hello in $((t1 - t0)) ms"
