#!/usr/bin/env bash
# Certificate verification failures exit 6 and never write the peer's data to stdout:
#  a) quicc echo listener with its ephemeral self-signed certificate, client with neither
#     --pin-sha256 nor --cafile (system store);
#  b) the same listener, client with a wrong --pin-sha256 (all zeros);
#  c) OpenSSL's quic-server-block with a certificate from a test CA, client without --cafile.
. "$(dirname "$0")/lib.sh"

# expect_verify_failure WHAT ARGS...: runs the client with "secret" on stdin.
expect_verify_failure() {
  local what=$1; shift
  local rc=0
  printf 'secret data that must not come back\n' |
    qt 15 "$@" >"$TMP/$what.out" 2>"$TMP/$what.err" || rc=$?
  diag_add "$TMP/$what.err"
  [ "$rc" != 0 ] || fail "$what: client exited 0, expected 6 (certificate verification failure)"
  [ "$rc" != 124 ] || fail "$what: client hung (killed by timeout after $(scaled 15) s), expected exit 6"
  [ ! -s "$TMP/$what.out" ] ||
    fail "$what: stdout not empty ($(stat -c %s "$TMP/$what.out") bytes: $(head -c 60 "$TMP/$what.out"))"
  [ "$rc" = 6 ] || fail "$what: client exited $rc, expected 6 (certificate verification failure)"
  grep -q '^quicc: error: ' "$TMP/$what.err" ||
    fail "$what: no 'quicc: error: ' line on stderr"
}

# Make sure the listener is reachable at all, so that a 6 below is about the certificate.
start_listener "$TMP/listener.out" --echo --keep-open
rc=0
out=$(printf ok | qt 15 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" 2>"$TMP/sanity.err") || rc=$?
diag_add "$TMP/sanity.err"
[ "$rc" = 0 ] && [ "$out" = ok ] ||
  fail "sanity: pinned client to the echo listener failed (exit $rc, stdout '$out')"

expect_verify_failure quicc_no_trust "127.0.0.1:$LISTENER_PORT"
expect_verify_failure quicc_wrong_pin --pin-sha256 "$ZERO_PIN" "127.0.0.1:$LISTENER_PORT"
# Same, with the colon-separated form of the wrong pin.
expect_verify_failure quicc_wrong_pin_colons \
  --pin-sha256 "$(printf '%s' "$ZERO_PIN" | sed 's/../&:/g; s/:$//')" "127.0.0.1:$LISTENER_PORT"

kill -0 "$LISTENER_PID" 2>/dev/null || fail "echo listener died after rejected clients"

make_cert "$TMP/pki" server
start_demo_server "$TMP/pki"   # proves it works with --cafile
expect_verify_failure demo_no_cafile --alpn hq-interop "localhost:$DEMO_PORT"

pass "untrusted certificate, wrong pin (both spellings), untrusted CA: exit 6, empty stdout"
