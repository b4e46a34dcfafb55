#!/usr/bin/env bash
# --check, --warn-days, and failures that say what to do next:
#   - against ngtcp2's gtlsserver (--alpn h3): the report prints every field; --session-out saves
#     the ticket the check waits for, and a second check with --session-in reports resumption;
#     --warn-days 4000 against the 30-day test certificate exits 17 after printing everything;
#     --json prints one JSON object on stdout (and no summary on stderr);
#   - a verification failure names the certificate and gives the --pin-sha256 to copy (which
#     then works); a name mismatch lists the certificate's names; an expired certificate gives
#     its date;
#   - a UDP port nothing listens on exits 18;
#   - a peer's HTTP/3 close code is named;
#   - --check against quicc's own listener and OpenSSL's quic-server-block (last: the demo
#     server exits when a client closes without opening a stream).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

FIELDS=(status exit_code peer alpn tls_version cipher group cert_subject cert_issuer cert_names
        cert_not_before cert_not_after cert_days_left cert_sha256 verify handshake_ms
        handshake_rtt_ms session_offered session_resumed session_tickets closed_by close_kind
        close_code)

# field FILE KEY: the value of the "KEY: value" line in FILE.
field() { sed -n "s/^$2: //p" "$1" | head -n1; }

# has_fields WHAT FILE: every field of a report is there.
has_fields() {
  local k
  for k in "${FIELDS[@]}"; do
    grep -q "^$k: ." "$2" || fail "$1: no '$k: ...' line in the report: $(tr '\n' '|' <"$2")"
  done
}

# check_run NAME WANT_RC ARGS...: `quicc --check ARGS` with stdout NAME.out, stderr NAME.err.
check_run() {
  local name=$1 want=$2 rc=0
  shift 2
  qt 20 --check "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
  diag_add "$TMP/$name.err" "$TMP/$name.out"
  [ "$rc" = "$want" ] || fail "$name: --check exited $rc, expected $want"
}

make_cert "$TMP/gt" server
start_gtlsserver "$TMP/gt"
GT=("--alpn" h3 --cafile "$TMP/gt/ca.pem" "localhost:$GTLS_PORT")
FP=$(cert_fingerprint "$TMP/gt/server.crt")

# --- Every field, and the ticket saved --------------------------------------------------------------
check_run first 0 --session-out "$TMP/s.pem" "${GT[@]}"
has_fields first "$TMP/first.out"
[ "$(field "$TMP/first.out" status)" = ok ] || fail "first: status is not ok"
[ "$(field "$TMP/first.out" alpn)" = h3 ] || fail "first: alpn is not h3"
[ "$(field "$TMP/first.out" tls_version)" = TLSv1.3 ] || fail "first: TLS version is not TLSv1.3"
[ "$(field "$TMP/first.out" cert_subject)" = CN=localhost ] || fail "first: subject is not CN=localhost"
[ "$(field "$TMP/first.out" cert_issuer)" = "CN=quicc e2e test CA" ] || fail "first: wrong issuer"
[ "$(field "$TMP/first.out" cert_names)" = "DNS:localhost, IP:127.0.0.1, IP:::1" ] ||
  fail "first: names are '$(field "$TMP/first.out" cert_names)'"
[ "$(field "$TMP/first.out" cert_sha256)" = "$FP" ] || fail "first: fingerprint is not the certificate's ($FP)"
days=$(field "$TMP/first.out" cert_days_left)
[ "$days" -ge 29 ] && [ "$days" -le 30 ] || fail "first: $days days left of a 30-day certificate"
expected_after=$("$OPENSSL_BIN" x509 -in "$TMP/gt/server.crt" -noout -enddate | sed 's/^notAfter=//')
expected_after=$(date -u -d "$expected_after" +%Y-%m-%dT%H:%M:%SZ)
[ "$(field "$TMP/first.out" cert_not_after)" = "$expected_after" ] ||
  fail "first: not_after '$(field "$TMP/first.out" cert_not_after)', expected $expected_after"
[ "$(field "$TMP/first.out" verify)" = ok ] || fail "first: verify is not ok"
[ "$(field "$TMP/first.out" session_offered)" = no ] || fail "first: a session was offered"
[ "$(field "$TMP/first.out" session_resumed)" = no ] || fail "first: claims resumption"
[ "$(field "$TMP/first.out" session_tickets)" -ge 1 ] || fail "first: no ticket received"
[ "$(field "$TMP/first.out" session_saved_to)" = "$TMP/s.pem" ] || fail "first: the ticket is not said to be saved"
[ "$(field "$TMP/first.out" closed_by)" = local ] && [ "$(field "$TMP/first.out" close_code)" = 0 ] ||
  fail "first: we did not close with code 0"
[ "$(head -n1 "$TMP/s.pem")" = '-----BEGIN SSL SESSION PARAMETERS-----' ] ||
  fail "first: no PEM session in --session-out"
[ ! -s "$TMP/first.err" ] || fail "first: stderr not empty: $(head -c 300 "$TMP/first.err")"

# --- Resumption --------------------------------------------------------------------------------------
check_run resumed 0 --session-in "$TMP/s.pem" "${GT[@]}"
has_fields resumed "$TMP/resumed.out"
[ "$(field "$TMP/resumed.out" session_offered)" = yes ] || fail "resumed: no session offered"
[ "$(field "$TMP/resumed.out" session_resumed)" = yes ] || fail "resumed: the session was not resumed"
[ "$(field "$TMP/resumed.out" cert_sha256)" = "$FP" ] || fail "resumed: the certificate is not reported"

# --- --warn-days: exit 17 after printing everything --------------------------------------------------
check_run expiring 17 --warn-days 4000 "${GT[@]}"
has_fields expiring "$TMP/expiring.out"
[ "$(field "$TMP/expiring.out" status)" = cert_expiring ] || fail "expiring: status is not cert_expiring"
grep -Eq "^quicc: error: peer certificate expires in (29|30) days, on $expected_after \(--warn-days 4000\)$" \
  "$TMP/expiring.err" || fail "expiring: no error naming the expiry date"
check_run not_expiring 0 --warn-days 10 "${GT[@]}"

# --- --json: one object on stdout, no summary on stderr ----------------------------------------------
check_run json 0 --json --session-in "$TMP/s.pem" "${GT[@]}"
python3 - "$TMP/json.out" "$FP" "${FIELDS[@]}" <<'PY' || fail "json: $(cat "$TMP/json.out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, f"{len(lines)} lines on stdout"
report = json.loads(lines[0])
missing = [k for k in sys.argv[3:] if k not in report]
assert not missing, f"missing {missing}"
assert report["status"] == "ok" and report["exit_code"] == 0
assert report["cert_names"] == ["DNS:localhost", "IP:127.0.0.1", "IP:::1"], report["cert_names"]
assert report["cert_sha256"] == sys.argv[2]
assert report["session_resumed"] is True and report["session_offered"] is True
assert isinstance(report["cert_days_left"], int) and isinstance(report["handshake_ms"], float)
PY
[ ! -s "$TMP/json.err" ] || fail "json: stderr not empty (the report replaces the summary): $(cat "$TMP/json.err")"

# --- Failures that say what to do next ----------------------------------------------------------------
# Not trusted: the certificate and the fingerprint to copy, which then works.
check_run untrusted 6 --alpn h3 "localhost:$GTLS_PORT"
msg=$(grep '^quicc: error: ' "$TMP/untrusted.err")
for part in 'certificate verification failed' 'subject "CN=localhost"' \
  'issuer "CN=quicc e2e test CA"' 'names DNS:localhost IP:127.0.0.1 IP:::1' "sha256 $FP" \
  '--cafile FILE' "--pin-sha256 $FP (this certificate only)" '--insecure'; do
  grep -qF -- "$part" <<<"$msg" || fail "untrusted: the error does not say '$part': $msg"
done
grep -Eq 'valid [0-9-]{10}T[0-9:]{8}Z to [0-9-]{10}T[0-9:]{8}Z' <<<"$msg" ||
  fail "untrusted: the error does not give the validity dates: $msg"
[ "$(field "$TMP/untrusted.out" cert_sha256)" = "$FP" ] ||
  fail "untrusted: the report does not show the certificate"
copied=$(sed -n 's/.*--pin-sha256 \([0-9A-F:]*\) (this certificate only).*/\1/p' <<<"$msg")
check_run pinned 0 --alpn h3 --pin-sha256 "$copied" "localhost:$GTLS_PORT"
[ "$(field "$TMP/pinned.out" verify)" = 'pinned (--pin-sha256)' ] || fail "pinned: verify is not 'pinned'"

# The wrong name: the certificate's names.
check_run mismatch 6 --alpn h3 --cafile "$TMP/gt/ca.pem" --connect-to 127.0.0.1 \
  "other.example:$GTLS_PORT"
grep -qF 'hostname mismatch: it is not for other.example; the certificate: subject "CN=localhost"' \
  "$TMP/mismatch.err" || fail "mismatch: the error does not say which name failed"
grep -qF 'names DNS:localhost IP:127.0.0.1 IP:::1' "$TMP/mismatch.err" ||
  fail "mismatch: the error does not list the certificate's names"

# Expired: the date. (Served by quicc's listener: gtlsserver's start-up probe wants a valid one.)
if "$OPENSSL_BIN" x509 -req -in "$TMP/gt/server.csr" -CA "$TMP/gt/ca.pem" -CAkey "$TMP/gt/ca.key" \
     -CAcreateserial -extfile "$TMP/gt/server.ext" -not_before 20240101000000Z \
     -not_after 20240301000000Z -out "$TMP/gt/expired.crt" >"$TMP/expired.log" 2>&1; then
  start_listener "$TMP/expired-listener.out" --echo --keep-open --cert "$TMP/gt/expired.crt" \
    --key "$TMP/gt/server.key"
  check_run expired 6 --cafile "$TMP/gt/ca.pem" "localhost:$LISTENER_PORT"
  grep -Eq 'certificate has expired: it expired [0-9]+ days ago, on 2024-03-01T00:00:00Z; ' \
    "$TMP/expired.err" || fail "expired: the error does not give the date"
  grep -qF -- "--pin-sha256 $(cert_fingerprint "$TMP/gt/expired.crt")" "$TMP/expired.err" ||
    fail "expired: no --pin-sha256 to accept it anyway"
  kill "$LISTENER_PID" 2>/dev/null || true
else
  note "this openssl cannot date a certificate in the past (-not_before/-not_after, OpenSSL 3.4):" \
       "expired certificate not tested"
fi

# Nothing listens: exit 18, at once.
port=$(closed_udp_port)
t0=$(now_ms)
check_run closed 18 --pin-sha256 "$ZERO_PIN" "127.0.0.1:$port"
t1=$(now_ms)
grep -qF "quicc: error: nothing listens on UDP 127.0.0.1:$port (ICMP port unreachable)" \
  "$TMP/closed.err" || fail "closed: no 'nothing listens' error"
[ "$(field "$TMP/closed.out" status)" = port_unreachable ] || fail "closed: status is not port_unreachable"
[ $((t1 - t0)) -lt "$(scaled 3000)" ] || fail "closed: took $((t1 - t0)) ms (an ICMP error is a round trip)"

# --- HTTP/3 close codes are named (pipe mode: a DATA frame where HEADERS must come first) ------------
rc=0
printf '\000\005hello' | qt 20 --alpn h3 --cafile "$TMP/gt/ca.pem" "localhost:$GTLS_PORT" \
  >/dev/null 2>"$TMP/h3close.err" || rc=$?
diag_add "$TMP/h3close.err"
[ "$rc" = 9 ] || fail "h3 close: exited $rc, expected 9"
grep -Eq '^quicc: error: peer closed the connection: application error 0x1[0-9a-f]{2} H3_[A-Z_]+' \
  "$TMP/h3close.err" || fail "h3 close: the code has no H3 name: $(cat "$TMP/h3close.err")"

# --- quicc's own listener, then OpenSSL's quic-server-block -------------------------------------------
start_listener "$TMP/echo.out" --echo --keep-open
check_run quicc 0 --pin-sha256 "$LISTENER_FP" --session-out "$TMP/q.pem" "127.0.0.1:$LISTENER_PORT"
has_fields quicc "$TMP/quicc.out"
[ "$(field "$TMP/quicc.out" alpn)" = quicc ] || fail "quicc: alpn is not quicc"
[ "$(field "$TMP/quicc.out" cert_subject)" = "CN=quicc ephemeral" ] || fail "quicc: wrong subject"
check_run quicc_resumed 0 --pin-sha256 "$LISTENER_FP" --session-in "$TMP/q.pem" \
  "127.0.0.1:$LISTENER_PORT"
[ "$(field "$TMP/quicc_resumed.out" session_resumed)" = yes ] || fail "quicc: not resumed"
grep -q 'stream' "$TMP/echo.out.err" && fail "quicc: the listener saw a stream: $(grep stream "$TMP/echo.out.err")"

make_cert "$TMP/demo" server
start_demo_server "$TMP/demo"
check_run demo 0 --alpn hq-interop --cafile "$TMP/demo/ca.pem" "localhost:$DEMO_PORT"
has_fields demo "$TMP/demo.out"
[ "$(field "$TMP/demo.out" alpn)" = hq-interop ] || fail "demo: alpn is not hq-interop"

pass "--check against gtlsserver (fields, resumption, --warn-days 17, --json), quicc and quic-server-block; failures name the certificate; closed port 18"
