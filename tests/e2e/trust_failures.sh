#!/usr/bin/env bash
# Trust failures (issue 13), each a quicc client against a real quicc pipe listener on loopback
# that has data to send (a client that wrongly accepted would print it) and a client that has
# data to send (a listener that wrongly accepted would print it):
#   1. expired certificate, from a trusted CA, for the right name: the expiry is its only fault;
#   2. wrong name: a trusted certificate for wrong-name.example, dialled as localhost, as
#      127.0.0.1, and as localhost with --sni wrong-name.example (SNI does not change the name
#      verified: HOST is);
#   3. unknown CA: a certificate from another CA with --cafile naming ours; the listener's
#      ephemeral self-signed certificate with the system store alone;
#   4. wrong --pin-sha256 (another real certificate's), with --cafile trusting the right one:
#      the pin replaces the CA check, it does not add to it;
#   5. a listener requiring a client certificate (--require-client-cert): the client presents
#      none, or one from a CA the listener does not trust.
# Every rejected client: the documented exit code (6 for the peer's certificate, 5 for a
# handshake the listener refused), 0 bytes on stdout, exactly one "quicc: error: " line naming
# the problem, done within 5 s (scaled).
#   6. The listener's side of each: one warning naming the failure, nothing on its stdout, still
#      waiting; then a client that trusts the certificate gets the listener's data byte for byte,
#      and the listener ends (0) with exactly that client's data on stdout: nothing from the
#      rejected one. Once more with a --keep-open listener (the relay's code path), rejecting a
#      client without a certificate and a client with a wrong pin.
. "$(dirname "$0")/lib.sh"

# The system store is the only trust a client without --cafile has (case 3b); the machine's
# SSL_CERT_FILE / SSL_CERT_DIR must not stand in for it.
unset SSL_CERT_FILE SSL_CERT_DIR

DATA=$TMP/listener-data
{
  printf 'listener data: a client that accepted the certificate would print this line\n'
  head -c 16384 /dev/urandom
} >"$DATA"
CLIENT_DATA=$TMP/client-data
{
  printf 'client data: a listener that accepted the client would print this line\n'
  head -c 65536 /dev/urandom
} >"$CLIENT_DATA"

# --- Certificates ------------------------------------------------------------------------------
PKI=$TMP/pki
make_cert "$PKI" server   # ca.pem (our CA) and server.crt (localhost, 127.0.0.1, ::1)

# new_ca NAME CN: a self-signed CA NAME.pem / NAME.key in $PKI.
new_ca() {
  "$OPENSSL_BIN" req -x509 -new -nodes -days 30 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$PKI/$1.key" -out "$PKI/$1.pem" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" >>"$PKI/extra.log" 2>&1 ||
    { diag_add "$PKI/extra.log"; fail "openssl: CA $1"; }
}

# sign NAME CA CN EXT [X509 OPTIONS...]: NAME.crt / NAME.key in $PKI, for CN, signed by CA,
# with the extension lines EXT (\n-separated); the options default to -days 30.
sign() {
  local name=$1 ca=$2 cn=$3 ext=$4; shift 4
  [ $# -gt 0 ] || set -- -days 30
  printf '%b\n' "$ext" >"$PKI/$name.ext"
  { "$OPENSSL_BIN" req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
      -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=$cn" &&
    "$OPENSSL_BIN" x509 -req "$@" -in "$PKI/$name.csr" -CA "$PKI/$ca.pem" -CAkey "$PKI/$ca.key" \
      -CAcreateserial -extfile "$PKI/$name.ext" -out "$PKI/$name.crt"
  } >>"$PKI/extra.log" 2>&1 || { diag_add "$PKI/extra.log"; fail "openssl: certificate $name"; }
}

SERVER_EXT='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth'
CLIENT_EXT='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth'
new_ca otherca "quicc e2e other CA"
sign expired ca localhost "$SERVER_EXT\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
  -not_before 20200101000000Z -not_after 20200102000000Z
sign wrongname ca wrong-name.example "$SERVER_EXT\nsubjectAltName=DNS:wrong-name.example"
sign foreign otherca localhost "$SERVER_EXT\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
sign client ca "quicc e2e client" "$CLIENT_EXT"
sign foreign_client otherca "quicc e2e foreign client" "$CLIENT_EXT"

# Each certificate has the one fault its case is about, as OpenSSL itself sees it.
"$OPENSSL_BIN" verify -CAfile "$PKI/ca.pem" -verify_hostname localhost -no_check_time \
  "$PKI/expired.crt" >>"$PKI/extra.log" 2>&1 ||
  fail "fixture: expired.crt does not verify for localhost even with -no_check_time"
"$OPENSSL_BIN" verify -CAfile "$PKI/ca.pem" "$PKI/expired.crt" >"$PKI/expired.verify" 2>&1 &&
  fail "fixture: expired.crt verifies today"
grep -q 'certificate has expired' "$PKI/expired.verify" ||
  fail "fixture: expired.crt fails for another reason: $(cat "$PKI/expired.verify")"
"$OPENSSL_BIN" verify -CAfile "$PKI/ca.pem" -verify_hostname wrong-name.example \
  "$PKI/wrongname.crt" >>"$PKI/extra.log" 2>&1 || fail "fixture: wrongname.crt does not verify"
"$OPENSSL_BIN" verify -CAfile "$PKI/otherca.pem" -verify_hostname localhost \
  "$PKI/foreign.crt" >>"$PKI/extra.log" 2>&1 || fail "fixture: foreign.crt does not verify with its CA"

# --- Helpers -----------------------------------------------------------------------------------

# listen CASE ARGS...: a pipe listener (stdin: $DATA) for the case, stdout $TMP/CASE.l.out.
listen() {
  local name=$1; shift
  LOUT=$TMP/$name.l.out
  LERR=$LOUT.err
  LISTENER_STDIN=$DATA start_listener "$LOUT" "$@"
}

# rejected WHAT CODE ERE ARGS...: a client (stdin: $CLIENT_DATA) with ARGS must exit CODE
# within 5 s (scaled) with an empty stdout and exactly one "quicc: error: " line matching ERE.
# Sets MARK to the listener's stderr before the client ran.
rejected() {
  local what=$1 code=$2 ere=$3; shift 3
  local rc=0 t0 ms out=$TMP/$what.out err=$TMP/$what.err
  MARK=$(log_mark "$LERR")
  t0=$(now_ms)
  qt 15 "$@" <"$CLIENT_DATA" >"$out" 2>"$err" || rc=$?
  ms=$(( $(now_ms) - t0 ))
  diag_add "$err"
  [ ! -s "$out" ] ||
    fail "$what: client exited $rc with $(stat -c %s "$out") bytes on stdout (expected none): $(head -c 60 "$out" | tr -c '[:print:]' .)"
  [ "$rc" != 124 ] && [ "$rc" != 137 ] ||
    fail "$what: client hung (killed after $(scaled 15) s), expected exit $code"
  [ "$rc" = "$code" ] ||
    fail "$what: client exited $rc, expected $code: $(head -c 300 "$err")"
  check_one_error_line "$err" "$what"
  grep -Eq -- "$ere" "$err" || fail "$what: the error line does not match /$ere/: $(head -c 400 "$err")"
  [ "$ms" -le "$(scaled 5000)" ] || fail "$what: the client took $ms ms, expected at most $(scaled 5000) ms"
  note "$what: exit $rc in $ms ms: $(cut -c1-110 "$err")"
}

# listener_untouched WHAT ERE: after `rejected`, the listener logged exactly one line, a warning
# matching ERE, wrote nothing to stdout and waits for the next client.
listener_untouched() {
  local what=$1 ere=$2 since
  wait_log "$LERR" "$MARK" '^quicc: (warning|error): ' 5 ||
    fail "$what: the listener logged nothing about the failed handshake within $(scaled 5) s"
  since=$(log_since "$LERR" "$MARK")
  [ "$(printf '%s\n' "$since" | wc -l)" = 1 ] && [[ $since == "quicc: warning: "* ]] ||
    fail "$what: the listener should log exactly one warning, logged: $(printf '%s' "$since" | head -c 400 | tr '\n' '|')"
  [[ $since =~ $ere ]] || fail "$what: the listener's warning does not match /$ere/: $since"
  [ ! -s "$LOUT" ] ||
    fail "$what: the listener wrote $(stat -c %s "$LOUT") bytes of a rejected client's data to stdout"
  if ! kill -0 "$LISTENER_PID" 2>/dev/null; then
    wait_pid "$LISTENER_PID" 1
    fail "$what: the listener exited ($WAIT_RC) after a failed handshake instead of waiting for the next client"
  fi
}

# served WHAT ARGS...: a client that trusts the listener gets $DATA whole and exits 0; a
# listener of one connection then exits 0, a --keep-open one is stopped; either way its stdout
# is exactly $CLIENT_DATA: nothing of the rejected clients'.
served() {
  local what=$1; shift
  local rc=0 out=$TMP/$what.good.out err=$TMP/$what.good.err keep_open=${KEEP_OPEN:-0} deadline
  qt 15 "$@" <"$CLIENT_DATA" >"$out" 2>"$err" || rc=$?
  diag_add "$err"
  [ "$rc" = 0 ] || fail "$what: the trusting client exited $rc, expected 0: $(head -c 300 "$err")"
  cmp -s "$out" "$DATA" ||
    fail "$what: the trusting client got $(stat -c %s "$out") bytes, not the listener's $(stat -c %s "$DATA")$(
      [ "$keep_open" = 1 ] && printf '%s' ": the --keep-open listener's input must wait for a client that completes its handshake, not go to one it rejected")"
  if [ "$keep_open" = 1 ]; then
    deadline=$(( $(now_ms) + $(scaled 5000) ))
    while [ "$(stat -c %s "$LOUT")" -lt "$(stat -c %s "$CLIENT_DATA")" ] && [ "$(now_ms)" -lt "$deadline" ]; do
      sleep 0.05
    done
    kill -0 "$LISTENER_PID" 2>/dev/null || fail "$what: the --keep-open listener exited"
    kill -TERM "$LISTENER_PID"
    wait_pid "$LISTENER_PID" 10
    [ "$WAIT_RC" = 143 ] ||
      fail "$what: the --keep-open listener exited $WAIT_RC on SIGTERM, expected 143 (124: still running after $(scaled 10) s)"
  else
    wait_pid "$LISTENER_PID" 10
    [ "$WAIT_RC" = 0 ] ||
      fail "$what: the listener exited $WAIT_RC after serving the trusting client, expected 0 (124: still running after $(scaled 10) s)"
  fi
  cmp -s "$LOUT" "$CLIENT_DATA" ||
    fail "$what: the listener's stdout ($(stat -c %s "$LOUT") bytes) is not exactly the trusting client's data ($(stat -c %s "$CLIENT_DATA") bytes)"
  # (A --keep-open listener's one error is the SIGTERM that ended it.)
  ! grep -vqx 'quicc: error: interrupted (SIGTERM)' <(grep '^quicc: error: ' "$LERR") ||
    fail "$what: the listener logged an error: $(grep '^quicc: error: ' "$LERR")"
}

# --- 1. Expired certificate ----------------------------------------------------------------------
listen expired --cert "$PKI/expired.crt" --key "$PKI/expired.key"
rejected expired 6 '^quicc: error: certificate verification failed: certificate has expired: it expired [0-9]+ days ago, on 2020-01-02T00:00:00Z' \
  --cafile "$PKI/ca.pem" "localhost:$LISTENER_PORT"
listener_untouched expired 'handshake failed: the peer sent TLS alert "certificate expired"'
# The override the message offers.
served expired --pin-sha256 "$(cert_fingerprint "$PKI/expired.crt")" "localhost:$LISTENER_PORT"

# --- 2. Wrong name -------------------------------------------------------------------------------
listen wrongname --cert "$PKI/wrongname.crt" --key "$PKI/wrongname.key"
rejected wrongname_host 6 '^quicc: error: certificate verification failed: hostname mismatch: it is not for localhost;' \
  --cafile "$PKI/ca.pem" "localhost:$LISTENER_PORT"
listener_untouched wrongname_host 'handshake failed: the peer sent TLS alert "bad certificate"'
rejected wrongname_ip 6 '^quicc: error: certificate verification failed: IP address mismatch' \
  --cafile "$PKI/ca.pem" "127.0.0.1:$LISTENER_PORT"
listener_untouched wrongname_ip 'handshake failed: the peer sent TLS alert "bad certificate"'
rejected wrongname_sni 6 '^quicc: error: certificate verification failed: hostname mismatch: it is not for localhost;' \
  --cafile "$PKI/ca.pem" --sni wrong-name.example "localhost:$LISTENER_PORT"
listener_untouched wrongname_sni 'handshake failed: the peer sent TLS alert "bad certificate"'
served wrongname --cafile "$PKI/ca.pem" --connect-to 127.0.0.1 "wrong-name.example:$LISTENER_PORT"

# --- 3. Unknown CA -------------------------------------------------------------------------------
listen foreign --cert "$PKI/foreign.crt" --key "$PKI/foreign.key"
rejected unknown_ca 6 '^quicc: error: certificate verification failed: unable to get local issuer certificate; the certificate: subject "CN=localhost", issuer "CN=quicc e2e other CA"' \
  --cafile "$PKI/ca.pem" "localhost:$LISTENER_PORT"
listener_untouched unknown_ca 'handshake failed: the peer sent TLS alert "unknown CA"'
served unknown_ca --cafile "$PKI/otherca.pem" "localhost:$LISTENER_PORT"

listen selfsigned   # the listener's ephemeral self-signed certificate
rejected self_signed 6 '^quicc: error: certificate verification failed: self-signed certificate;' \
  "127.0.0.1:$LISTENER_PORT"
listener_untouched self_signed 'handshake failed: the peer sent TLS alert "unknown CA"'
served self_signed --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT"

# --- 4. Wrong pin --------------------------------------------------------------------------------
listen pin --cert "$PKI/server.crt" --key "$PKI/server.key"
SERVER_FP=$(cert_fingerprint "$PKI/server.crt")
rejected wrong_pin 6 "^quicc: error: certificate sha256 fingerprint $SERVER_FP does not match --pin-sha256" \
  --cafile "$PKI/ca.pem" --pin-sha256 "$(cert_fingerprint "$PKI/foreign.crt")" "localhost:$LISTENER_PORT"
listener_untouched wrong_pin 'handshake failed: the peer sent TLS alert "bad certificate"'
served wrong_pin --pin-sha256 "$SERVER_FP" "localhost:$LISTENER_PORT"

# --- 5. Client certificate required --------------------------------------------------------------
MTLS=(--cert "$PKI/server.crt" --key "$PKI/server.key" --cafile "$PKI/ca.pem" --require-client-cert)
listen mtls "${MTLS[@]}"
rejected no_client_cert 5 '^quicc: error: handshake failed: the peer sent TLS alert "certificate required"' \
  --cafile "$PKI/ca.pem" "localhost:$LISTENER_PORT"
listener_untouched no_client_cert 'handshake failed: we sent TLS alert "certificate required"'
rejected foreign_client_cert 5 '^quicc: error: handshake failed: the peer sent TLS alert "unknown CA"' \
  --cafile "$PKI/ca.pem" --cert "$PKI/foreign_client.crt" --key "$PKI/foreign_client.key" \
  "localhost:$LISTENER_PORT"
listener_untouched foreign_client_cert 'certificate verification failed: unable to get local issuer certificate'
served mtls --cafile "$PKI/ca.pem" --cert "$PKI/client.crt" --key "$PKI/client.key" "localhost:$LISTENER_PORT"

# --- 6. The same, a --keep-open listener (the relay) -----------------------------------------------
# Its input is "read only while a client is connected (nothing is read to be thrown away)" and
# "every client that completes its handshake gets a pipe" (core/relay.hpp, relay_listener.cpp):
# a client it rejected must leave the input to the next one, who completes its handshake.
listen mtls_keep_open "${MTLS[@]}" --keep-open
rejected no_client_cert_keep_open 5 '^quicc: error: handshake failed: the peer sent TLS alert "certificate required"' \
  --cafile "$PKI/ca.pem" "localhost:$LISTENER_PORT"
listener_untouched no_client_cert_keep_open 'handshake failed: we sent TLS alert "certificate required"'
rejected wrong_pin_keep_open 6 "^quicc: error: certificate sha256 fingerprint $SERVER_FP does not match --pin-sha256" \
  --pin-sha256 "$(cert_fingerprint "$PKI/foreign.crt")" --cert "$PKI/client.crt" --key "$PKI/client.key" \
  "localhost:$LISTENER_PORT"
listener_untouched wrong_pin_keep_open 'handshake failed: the peer sent TLS alert "bad certificate"'
KEEP_OPEN=1 served mtls_keep_open --cafile "$PKI/ca.pem" --cert "$PKI/client.crt" --key "$PKI/client.key" \
  "localhost:$LISTENER_PORT"

pass "expired, wrong name (host, IP, --sni), unknown CA (foreign CA, self-signed), wrong pin: exit 6; client certificate missing or untrusted: exit 5; empty stdout both sides, one error line, listeners unharmed"
