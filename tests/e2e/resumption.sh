#!/usr/bin/env bash
# Resumption: --session-out saves a ticket, --session-in offers it; the second connection
# reports resumed=true (--json) against quicc's listener and against gtlsserver.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

start_listener "$TMP/l.out" --echo --keep-open
rc=0
printf hello | q --session-out "$TMP/s.pem" --json-file "$TMP/first.json" \
  --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" >/dev/null 2>"$TMP/1.err" || rc=$?
diag_add "$TMP/1.err"
[ "$rc" = 0 ] || fail "first connection exited $rc"
[ -s "$TMP/s.pem" ] || fail "no session saved"
[ "$(json_field "$TMP/first.json" resumed)" = false ] || fail "first connection claims resumed"
rc=0
printf hello | q --session-in "$TMP/s.pem" --json-file "$TMP/second.json" \
  --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" >/dev/null 2>"$TMP/2.err" || rc=$?
diag_add "$TMP/2.err"
[ "$rc" = 0 ] || fail "resumed connection exited $rc"
[ "$(json_field "$TMP/second.json" resumed)" = true ] || fail "quicc listener: not resumed"

make_cert "$TMP/gt" server
start_gtlsserver "$TMP/gt"
# Tickets come after the handshake: stay connected a moment (stdin open 0.5 s, scaled).
rc=0
sleep "$(scaled_f 0.5)" | q --alpn h3 --on-eof close --close-code 0x100 --cafile "$TMP/gt/ca.pem" \
  --session-out "$TMP/g.pem" "localhost:$GTLS_PORT" >/dev/null 2>"$TMP/g1.err" || rc=$?
diag_add "$TMP/g1.err"
[ "$rc" = 0 ] || fail "first gtlsserver connection exited $rc"
[ -s "$TMP/g.pem" ] || fail "gtlsserver: no ticket saved"
rc=0
sleep "$(scaled_f 0.2)" | q --alpn h3 --on-eof close --close-code 0x100 --cafile "$TMP/gt/ca.pem" \
  --session-in "$TMP/g.pem" --json-file "$TMP/g2.json" "localhost:$GTLS_PORT" \
  >/dev/null 2>"$TMP/g2.err" || rc=$?
diag_add "$TMP/g2.err"
[ "$rc" = 0 ] || fail "resumed gtlsserver connection exited $rc"
[ "$(json_field "$TMP/g2.json" resumed)" = true ] || fail "gtlsserver: not resumed"
pass "resumed against quicc's listener and gtlsserver"
