#!/usr/bin/env bash
# quicc --get against quicc --listen --serve (both under the CTest driver):
#   2000 files (/m/0 ... /m/1999) in one connection, every file byte-identical, and the
#   listener's log names the connection;
#   a large file (100 MiB; 20 MiB in sanitizer builds) byte-identical;
#   refused and missing paths among good ones: the good ones are saved, the run exits 10
#   (stream reset) naming the first lost path, and no file is left for the lost ones;
#   the listener (with --keep-open) logs no error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

WWW=$TMP/www
mkdir -p "$WWW/m" "$TMP/out" "$TMP/mixed"
small_files "$WWW/m" 2000 11
if time_scaled; then BIG_MB=20; else BIG_MB=100; fi
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$WWW/big"
ln -s /etc/passwd "$WWW/m/escape"

start_listener "$TMP/l.out" --serve "$WWW" --keep-open -v
TO=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")

seq 0 1999 | sed 's,^,/m/,' >"$TMP/list"
rc=0
qt 120 --get-list "$TMP/list" --output-dir "$TMP/out" -v "${TO[@]}" 2>"$TMP/many.err" || rc=$?
diag_add "$TMP/many.err"
[ "$rc" = 0 ] || fail "2000 files: exit $rc: $(grep -v '^\[' "$TMP/many.err" | head -c 300)"
[ "$(grep -c ' handshake_done ' "$TMP/many.err")" = 1 ] || fail "2000 files: not one connection"
# Every response whole: the client closes with no error (code 0, no reason; it once said 0x3
# "timeout").
grep -Eq '\] close by=local kind=application code=0 frame_type=0 reason="" bytes_in=' "$TMP/many.err" ||
  fail "2000 files: the close was not code 0: $(grep '] close ' "$TMP/many.err")"
bad=0
for i in $(seq 0 1999); do cmp -s "$TMP/out/$i" "$WWW/m/$i" || bad=$((bad + 1)); done
[ "$bad" = 0 ] || fail "2000 files: $bad files differ from the listener's"
peak=$(max_in_flight "$TMP/many.err")
[ "$peak" -gt 1 ] || fail "2000 files: never more than $peak request in flight"
grep -Eq ' connection_accepted index=1 peer=127\.0\.0\.1:[0-9]+' "$TMP/l.out.err" ||
  fail "the listener's connection_accepted does not name the client's address"

rc=0
qt 120 --get /big -o "$TMP/big" "${TO[@]}" 2>"$TMP/big.err" || rc=$?
diag_add "$TMP/big.err"
[ "$rc" = 0 ] || fail "$BIG_MB MiB: exit $rc"
[ "$(sha "$TMP/big")" = "$(sha "$WWW/big")" ] || fail "$BIG_MB MiB: the file differs"
rm -f "$TMP/big"

rc=0
qt 30 --get /m/1 --get /m/escape --get /m/2 --get /m/missing --output-dir "$TMP/mixed" "${TO[@]}" \
  2>"$TMP/mixed.err" || rc=$?
diag_add "$TMP/mixed.err"
[ "$rc" = 10 ] || fail "refused paths: exit $rc, expected 10 (stream reset)"
check_one_error_line "$TMP/mixed.err" "refused paths"
grep -q '^quicc: error: response to /m/escape: peer reset the stream (code 0x10) after 0 bytes (2 of 4 responses lost)$' \
  "$TMP/mixed.err" || fail "refused paths: the error does not name /m/escape: $(cat "$TMP/mixed.err")"
cmp -s "$TMP/mixed/1" "$WWW/m/1" && cmp -s "$TMP/mixed/2" "$WWW/m/2" ||
  fail "refused paths: the good responses were not saved"
[ ! -e "$TMP/mixed/escape" ] && [ ! -e "$TMP/mixed/missing" ] ||
  fail "refused paths: a file was left for a lost response"

kill -0 "$LISTENER_PID" 2>/dev/null || fail "the listener with --keep-open exited"
! grep -q '^quicc: error:' "$TMP/l.out.err" || fail "the listener logged an error"
pass "2000 files (peak $peak in flight) and $BIG_MB MiB from quicc --serve; refused paths exit 10"
