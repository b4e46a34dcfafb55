#!/usr/bin/env bash
# ALPN against ngtcp2's gtlsserver (h3 only): a handshake with --alpn h3 succeeds and closes
# with H3_NO_ERROR (0x100) without opening a stream; a mismatch exits 7 (no ALPN) and names
# what we offered. Against quicc's listener, the listener names both lists.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

make_cert "$TMP/gt" server
start_gtlsserver "$TMP/gt"

rc=0
q -v --alpn h3 --on-eof close --close-code 0x100 --cafile "$TMP/gt/ca.pem" \
  "localhost:$GTLS_PORT" </dev/null >"$TMP/h3.out" 2>"$TMP/h3.err" || rc=$?
diag_add "$TMP/h3.err"
[ "$rc" = 0 ] || fail "--alpn h3 against gtlsserver exited $rc"
grep -q 'handshake_done alpn=h3 ' "$TMP/h3.err" || fail "handshake_done does not show alpn=h3"
grep -q 'close by=local kind=application code=256 ' "$TMP/h3.err" ||
  fail "we did not close with application code 256 (H3_NO_ERROR 0x100)"
grep -q 'fin_sent' "$TMP/h3.err" && fail "a stream was opened (fin_sent) on a handshake-only run"

rc=0
q --alpn nope,hq-interop --cafile "$TMP/gt/ca.pem" "localhost:$GTLS_PORT" </dev/null \
  >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
diag_add "$TMP/bad.err"
[ "$rc" = 7 ] || fail "ALPN mismatch with gtlsserver exited $rc, expected 7"
grep -q 'no ALPN agreed.*we offered nope,hq-interop' "$TMP/bad.err" ||
  fail "the error does not name the offered list: $(cat "$TMP/bad.err")"
[ ! -s "$TMP/bad.out" ] || fail "stdout not empty"

# quicc's listener knows both lists and says so.
start_listener "$TMP/l.out" --echo --keep-open --alpn a,b
rc=0
q --alpn x,y --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" </dev/null \
  >/dev/null 2>"$TMP/x.err" || rc=$?
[ "$rc" = 7 ] || fail "ALPN mismatch with quicc's listener exited $rc, expected 7"
for _ in $(seq 1 "$(scaled 20)"); do
  grep -q 'client offered x,y, we accept a,b' "$TMP/l.out.err" && break
  sleep 0.1
done
grep -q 'client offered x,y, we accept a,b' "$TMP/l.out.err" ||
  fail "the listener does not name both ALPN lists"
pass "h3 with gtlsserver; mismatches exit 7 and name the lists"
