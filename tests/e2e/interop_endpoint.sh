#!/usr/bin/env bash
# interop/run_endpoint.sh, the QUIC interop runner's client endpoint, with the runner's
# variables (ROLE, TESTCASE, REQUESTS, SSL_CERT_FILE; DOWNLOADS for /downloads) against
# OpenSSL's HTTP/0.9 server: handshake, transfer, multiplexing, chacha20, resumption,
# keyupdate, multiconnect and retry download byte-identical files, each showing what the case
# is about in the -v log (one or several connections, the cipher, a resumed session, a key
# update); an unknown test case exits 127. Then the endpoint's server role (quicc --serve)
# serves the multiplexing case to its client role.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

ENDPOINT=$(cd "$(dirname "$0")/../.." && pwd)/interop/run_endpoint.sh
make_cert "$TMP/pki" server
WWW=$TMP/www
mkdir -p "$WWW"
for i in 1 2 3; do head -c $((i * 30000 + 7)) /dev/urandom >"$WWW/file$i"; done
head -c $((3 * 1024 * 1024)) /dev/urandom >"$WWW/large"
for i in $(seq 1 200); do head -c $((RANDOM % 2000)) /dev/urandom >"$WWW/m$i"; done
start_hq_server "$TMP/pki" "$WWW"

# endpoint CASE FILE...: runs the endpoint for CASE requesting FILEs from the server; RC, and
# the log in $TMP/CASE.log.
endpoint() {
  local case=$1 requests="" f params="--$QUICC_DRIVER ${EXTRA:-}"
  shift
  for f in "$@"; do requests+="https://localhost:$HQ_PORT/$f "; done
  rm -rf "$TMP/dl-$case"
  RC=0
  ROLE=client TESTCASE=$case REQUESTS=$requests SSL_CERT_FILE=$TMP/pki/ca.pem \
    DOWNLOADS=$TMP/dl-$case QUICC=$QUICC CLIENT_PARAMS=$params \
    timeout -k 5 "$(scaled 120)" "$ENDPOINT" >"$TMP/$case.out" 2>"$TMP/$case.log" || RC=$?
  diag_add "$TMP/$case.log"
}

# downloaded CASE FILE...: every FILE is in the case's downloads, byte-identical.
downloaded() {
  local case=$1 f
  shift
  [ "$RC" = 0 ] || fail "$case: the endpoint exited $RC: $(grep -v '^\[' "$TMP/$case.log" | head -c 300)"
  for f in "$@"; do
    cmp -s "$TMP/dl-$case/$f" "$WWW/$f" || fail "$case: /downloads/$f differs from the server's"
  done
}

connections() { grep -c ' handshake_done ' "$TMP/$1.log"; }

endpoint handshake file1
downloaded handshake file1
[ "$(connections handshake)" = 1 ] || fail "handshake: $(connections handshake) connections"

EXTRA=-vvv endpoint transfer file1 file2 large
downloaded transfer file1 file2 large
[ "$(connections transfer)" = 1 ] || fail "transfer: $(connections transfer) connections"

many=()
for i in $(seq 1 200); do many+=("m$i"); done
endpoint multiplexing "${many[@]}"
downloaded multiplexing "${many[@]}"
[ "$(connections multiplexing)" = 1 ] || fail "multiplexing: $(connections multiplexing) connections"

endpoint chacha20 file1 file2
downloaded chacha20 file1 file2
grep -q ' handshake_done .*cipher=TLS_CHACHA20_POLY1305_SHA256' "$TMP/chacha20.log" ||
  fail "chacha20: the handshake did not agree on TLS_CHACHA20_POLY1305_SHA256"

endpoint resumption file1 file2 file3
downloaded resumption file1 file2 file3
[ "$(connections resumption)" = 2 ] || fail "resumption: $(connections resumption) connections, expected 2"
grep ' handshake_done ' "$TMP/resumption.log" | tail -n1 | grep -q 'resumed=1' ||
  fail "resumption: the second connection did not resume the session"

endpoint keyupdate large
downloaded keyupdate large
grep -q ' key_update ' "$TMP/keyupdate.log" || fail "keyupdate: no key update was made"

endpoint multiconnect file1 file2 file3
downloaded multiconnect file1 file2 file3
[ "$(connections multiconnect)" = 3 ] || fail "multiconnect: $(connections multiconnect) connections, expected 3"

endpoint zerortt file1
[ "$RC" = 127 ] || fail "an unsupported test case (zerortt) exited $RC, expected 127"
[ ! -e "$TMP/dl-zerortt/file1" ] || fail "an unsupported test case downloaded something"

# retry: OpenSSL's server validates addresses with a Retry unless NO_ADDR_VALIDATE is set.
kill "$HQ_PID"
wait "$HQ_PID" 2>/dev/null || true
HQ_PORT=$(free_udp_port)
FILEPREFIX=$WWW "$HQ_SERVER" "$HQ_PORT" "$TMP/pki/server.crt" "$TMP/pki/server.key" \
  </dev/null >"$TMP/hq-retry.log" 2>&1 &
bg_track $!
diag_add "$TMP/hq-retry.log"
sleep 0.3
EXTRA=-vvv endpoint retry file1 file2
downloaded retry file1 file2
# The Retry's token comes back in the client's second Initial (-vvv's packet trace).
grep -Eq '^ *Token: [0-9a-f]{16}' "$TMP/retry.log" || fail "retry: no Initial carried a Retry token"
grep -Eq '^ *Token: [0-9a-f]{16}' "$TMP/transfer.log" &&
  fail "transfer: a token without a Retry? (the check for retry would prove nothing)"

# The server role: quicc --serve with the runner's names for the certificate and files, and the
# client role against it.
mkdir -p "$TMP/certs"
cp "$TMP/pki/server.crt" "$TMP/certs/cert.pem"
cp "$TMP/pki/server.key" "$TMP/certs/priv.key"
cp "$TMP/pki/ca.pem" "$TMP/certs/ca.pem"
HQ_PORT=$(free_udp_port)
ROLE=server TESTCASE=transfer CERTS=$TMP/certs WWW=$WWW PORT=127.0.0.1:$HQ_PORT QUICC=$QUICC \
  SERVER_PARAMS="--$QUICC_DRIVER" "$ENDPOINT" </dev/null >/dev/null 2>"$TMP/server-role.log" &
bg_track $!
diag_add "$TMP/server-role.log"
wait_log "$TMP/server-role.log" 0 'listening on' 10 || fail "the server role did not start"
endpoint multiplexing "${many[@]}"
downloaded multiplexing "${many[@]}"
ROLE=server TESTCASE=zerortt "$ENDPOINT" </dev/null >/dev/null 2>&1 && rc=0 || rc=$?
[ "$rc" = 127 ] || fail "the server role with an unsupported test case exited $rc, expected 127"

pass "handshake, transfer, multiplexing (200 files), chacha20, resumption, keyupdate, multiconnect and retry against quic-hq-interop-server; multiplexing against the endpoint's own server role; unknown case: 127"
