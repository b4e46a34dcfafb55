#!/usr/bin/env bash
# --ciphersuites TLS_CHACHA20_POLY1305_SHA256 negotiates ChaCha20, as --stats shows; each of
# QUIC's three suites works; an unknown suite is a usage error.
. "$(dirname "$0")/lib.sh"

start_listener "$TMP/l.out" --echo --keep-open
for suite in TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384; do
  rc=0
  out=$(printf hello | q --stats --ciphersuites "$suite" --pin-sha256 "$LISTENER_FP" \
          "127.0.0.1:$LISTENER_PORT" 2>"$TMP/$suite.err") || rc=$?
  diag_add "$TMP/$suite.err"
  [ "$rc" = 0 ] || fail "$suite: exited $rc"
  [ "$out" = hello ] || fail "$suite: echo returned '$out'"
  grep -Eq "^  cipher: +$suite\$" "$TMP/$suite.err" || fail "$suite: --stats does not show it"
done
rc=0
q --ciphersuites TLS_AES_128_CCM_SHA256 --pin-sha256 "$LISTENER_FP" \
  "127.0.0.1:$LISTENER_PORT" </dev/null >/dev/null 2>"$TMP/ccm.err" || rc=$?
[ "$rc" = 2 ] || [ "$rc" = 5 ] || fail "CCM (not in QUIC) exited $rc, expected a usage (2) or handshake (5) error"
grep -q '^quicc: error: ' "$TMP/ccm.err" || fail "no error line for CCM"
pass "ciphersuites"
