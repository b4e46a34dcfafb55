#!/usr/bin/env bash
# Certificate verification failures exit 6 and never write the peer's data to stdout:
#  a) quicc echo listener with its ephemeral self-signed certificate, client with neither
#     --pin-sha256 nor --cafile (system store);
#  b) the same listener, client with a wrong --pin-sha256 (all zeros);
#  c) OpenSSL's quic-server-block with a certificate from a test CA, client without --cafile.
# And the system store as quicc reads it (no --cafile/--capath), strace showing which files
# each run opens: with neither SSL_CERT_FILE nor SSL_CERT_DIR, the default directory alone
# when it has hash links (read lazily: OpenSSL's default bundle is never opened), else the
# bundle; either way the test CA is not trusted (6). SSL_CERT_DIR naming a hashed directory
# with the test CA verifies the demo server (OpenSSL's default paths: that directory and the
# bundle); SSL_CERT_FILE naming the CA does too; a directory without hash links trusts nothing
# of its own (6).
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

# system_store_run NAME ENV...: a client without --cafile, under `env -u SSL_CERT_FILE -u
# SSL_CERT_DIR ENV...`, against a fresh demo server (it ends after a failed handshake); sets RC.
system_store_run() {
  local name=$1
  shift
  kill "$DEMO_PID" 2>/dev/null || true
  start_demo_server "$TMP/pki"
  local tracer=(strace -f -q -e trace=openat,open,stat,newfstatat,statx -o "$TMP/$name.trace")
  # The sanitizers' runtimes do not work under ptrace (LeakSanitizer ends in a fatal error):
  # their builds check the exit codes only.
  [ -z "${QUICC_SANITIZER:-}" ] || tracer=()
  RC=0
  printf hello | env -u SSL_CERT_FILE -u SSL_CERT_DIR "$@" "${tracer[@]}" \
    timeout -k 5 "$(scaled 15)" "$QUICC" "--$QUICC_DRIVER" --alpn hq-interop "localhost:$DEMO_PORT" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
  diag_add "$TMP/$name.err"
}
# traced NAME: whether the run NAME was traced.
traced() { [ -s "$TMP/$1.trace" ]; }
mkdir "$TMP/hashed" "$TMP/unhashed"
cp "$TMP/pki/ca.pem" "$TMP/hashed/" && cp "$TMP/pki/ca.pem" "$TMP/unhashed/"
"$OPENSSL_BIN" rehash "$TMP/hashed" >"$TMP/rehash.log" 2>&1 || { diag_add "$TMP/rehash.log"; fail "openssl rehash failed"; }
DEFAULT_DIR=$("$OPENSSL_BIN" version -d | sed 's/^OPENSSLDIR: "\(.*\)"$/\1/')
system_store_run store_system
[ "$RC" = 6 ] || fail "the system store alone (the test CA is not in it): client exited $RC, expected 6"
# (Not `ls | grep -q`: under pipefail ls's SIGPIPE would fail the test's condition.)
if ! traced store_system; then
  note "a sanitizer build: the files the runs open are not traced"
elif [ -n "$(ls "$DEFAULT_DIR/certs/" 2>/dev/null | grep -E '^[0-9a-f]{8}\.[0-9]$' || true)" ]; then
  # The lookup by the issuer's hash at verification, a stat (our CA is not there: ENOENT).
  grep -Eq "\"$DEFAULT_DIR/certs/[0-9a-f]{8}\\.0\"" "$TMP/store_system.trace" ||
    fail "the system store: no lookup by hash in $DEFAULT_DIR/certs"
  ! grep -q "\"$DEFAULT_DIR/cert.pem\"" "$TMP/store_system.trace" ||
    fail "the system store has hash links, yet the whole bundle $DEFAULT_DIR/cert.pem was read"
  note "system store: read lazily from $DEFAULT_DIR/certs"
else
  grep -q "\"$DEFAULT_DIR/cert.pem\"" "$TMP/store_system.trace" ||
    fail "the system store without hash links: the bundle $DEFAULT_DIR/cert.pem was not read"
  note "system store: $DEFAULT_DIR/certs has no hash links, the bundle was read"
fi
system_store_run store_dir SSL_CERT_DIR="$TMP/hashed"
[ "$RC" = 0 ] || fail "SSL_CERT_DIR with the hashed test CA: client exited $RC, expected 0"
! traced store_dir || grep -q "\"$DEFAULT_DIR/cert.pem\"" "$TMP/store_dir.trace" ||
  fail "SSL_CERT_DIR elsewhere: OpenSSL's default bundle was not read with it"
system_store_run store_file SSL_CERT_FILE="$TMP/pki/ca.pem"
[ "$RC" = 0 ] || fail "SSL_CERT_FILE naming the test CA: client exited $RC, expected 0"
system_store_run store_unhashed SSL_CERT_DIR="$TMP/unhashed"
[ "$RC" = 6 ] || fail "SSL_CERT_DIR without hash links: client exited $RC, expected 6"

pass "untrusted certificate, wrong pin (both spellings), untrusted CA: exit 6, empty stdout; the system store's hashed directory, file, and fallback"
