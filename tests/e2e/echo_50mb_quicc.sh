#!/usr/bin/env bash
# 50 MB of random bytes through a `quicc --listen --echo` listener, echoed back byte-identical;
# then `printf hello | quicc ...` prints exactly "hello", exits 0, within 2 s.
. "$(dirname "$0")/lib.sh"

SIZE=$((50 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$TMP/in"

start_listener "$TMP/listener.out" --echo --keep-open

rc=0
q --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  <"$TMP/in" >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
diag_add "$TMP/client.err"
[ "$rc" = 0 ] || fail "50 MiB echo: client exited with $rc (124 = killed by timeout after ${QUICC_TIMEOUT}s)"
got=$(stat -c %s "$TMP/client.out")
[ "$got" = "$SIZE" ] || fail "50 MiB echo: client got $got bytes back, expected $SIZE"
[ "$(sha "$TMP/client.out")" = "$(sha "$TMP/in")" ] ||
  fail "50 MiB echo: echoed data differs from the input (sha256 mismatch)"
rm -f "$TMP/in" "$TMP/client.out"

kill -0 "$LISTENER_PID" 2>/dev/null || fail "echo listener exited after one connection"

t0=$(now_ms)
rc=0
out=$(printf hello | q --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" 2>"$TMP/hello.err") || rc=$?
t1=$(now_ms)
diag_add "$TMP/hello.err"
[ "$rc" = 0 ] || fail "hello: client exited with $rc"
[ "$out" = hello ] || fail "hello: client printed '$out', expected 'hello'"
# $(...) strips trailing newlines: check the exact bytes too.
[ "$(printf hello | q --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 68656c6c6f ] ||
  fail "hello: client output is not exactly the 5 bytes 'hello'"
[ $((t1 - t0)) -le "$(scaled 2000)" ] ||
  fail "hello: round trip took $((t1 - t0)) ms, expected <= $(scaled 2000) ms"

kill -0 "$LISTENER_PID" 2>/dev/null || fail "echo listener exited after serving connections"

pass "50 MiB echoed byte-identical; hello in $((t1 - t0)) ms"
