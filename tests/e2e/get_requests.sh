#!/usr/bin/env bash
# --get against OpenSSL's HTTP/0.9 server (quic-hq-interop-server, ALPN hq-interop):
#   2000 small files (/m/0 ... /m/1999) in one connection, every file byte-identical;
#   a large file to -o and to stdout, byte-identical (100 MiB; 20 MiB in sanitizer builds);
#   --max-streams 3 keeps at most 3 requests in flight (and more than one);
#   a server that dies mid-response: non-zero exit naming the path, no partial file left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

make_cert "$TMP/pki" server
WWW=$TMP/www
mkdir -p "$WWW" "$TMP/out"
small_files "$WWW" 2000 9
if time_scaled; then BIG_MB=20; else BIG_MB=100; fi
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$WWW/big"
start_hq_server "$TMP/pki" "$WWW"
TO=(--cafile "$TMP/pki/ca.pem" "localhost:$HQ_PORT")

# --- 2000 files in one connection ----------------------------------------------------------------
seq 0 1999 | sed 's,^,/m/,' >"$TMP/list"
rc=0
qt 120 --get-list "$TMP/list" --output-dir "$TMP/out" -v "${TO[@]}" \
  >"$TMP/many.out" 2>"$TMP/many.err" || rc=$?
diag_add "$TMP/many.err"
[ "$rc" = 0 ] || fail "2000 files: exit $rc: $(grep -v '^\[' "$TMP/many.err" | head -c 300)"
[ "$(grep -c ' handshake_done ' "$TMP/many.err")" = 1 ] || fail "2000 files: not one connection"
[ "$(grep -c ' response path=' "$TMP/many.err")" = 2000 ] ||
  fail "2000 files: $(grep -c ' response path=' "$TMP/many.err") response events, expected 2000"
bad=0
for i in $(seq 0 1999); do cmp -s "$TMP/out/$i" "$WWW/$i" || bad=$((bad + 1)); done
[ "$bad" = 0 ] || fail "2000 files: $bad files differ from the server's"
[ ! -s "$TMP/many.out" ] || fail "2000 files: stdout is not empty"
peak=$(max_in_flight "$TMP/many.err")
[ "$peak" -gt 1 ] || fail "2000 files: never more than $peak request in flight"

# --- a large file, to -o and to stdout -----------------------------------------------------------
rc=0
qt 120 --get /big -o "$TMP/big.o" "${TO[@]}" >"$TMP/big.stdout" 2>"$TMP/big.err" || rc=$?
diag_add "$TMP/big.err"
[ "$rc" = 0 ] || fail "$BIG_MB MiB to -o: exit $rc"
[ "$(sha "$TMP/big.o")" = "$(sha "$WWW/big")" ] || fail "$BIG_MB MiB to -o: file differs"
[ ! -s "$TMP/big.stdout" ] || fail "$BIG_MB MiB to -o: stdout is not empty"
rm -f "$TMP/big.o"
rc=0
qt 120 --get big "${TO[@]}" 2>"$TMP/big2.err" | cat >"$TMP/big.piped" || rc=$?
diag_add "$TMP/big2.err"
[ "$(sha "$TMP/big.piped")" = "$(sha "$WWW/big")" ] || fail "$BIG_MB MiB to a stdout pipe: differs"
rm -f "$TMP/big.piped"

# --- --max-streams -------------------------------------------------------------------------------
seq 0 29 | sed 's,^,/m/,' >"$TMP/list30"
rc=0
qt 30 --get-list "$TMP/list30" --max-streams 3 --output-dir "$TMP/out" -v "${TO[@]}" \
  2>"$TMP/max.err" || rc=$?
diag_add "$TMP/max.err"
[ "$rc" = 0 ] || fail "--max-streams 3: exit $rc"
peak=$(max_in_flight "$TMP/max.err")
[ "$peak" -le 3 ] && [ "$peak" -ge 2 ] || fail "--max-streams 3: $peak requests in flight at once"

# --- the server dies mid-response ----------------------------------------------------------------
mkdir -p "$TMP/cut"
rc=0
qt 60 --get /big --output-dir "$TMP/cut" --idle-timeout 2s "${TO[@]}" 2>"$TMP/cut.err" &
CLIENT=$!
for _ in $(seq 1 "$(scaled 100)"); do
  [ "$(stat -c %s "$TMP/cut/big" 2>/dev/null || echo 0)" -gt 100000 ] && break
  sleep 0.05
done
kill -9 "$HQ_PID"
wait "$CLIENT" || rc=$?
diag_add "$TMP/cut.err"
[ "$rc" != 0 ] || fail "a response cut off by a dead server: exit 0"
check_one_error_line "$TMP/cut.err" "a response cut off"
grep -q '^quicc: error: response to /big: ' "$TMP/cut.err" ||
  fail "a response cut off: the error does not name /big: $(cat "$TMP/cut.err")"
[ ! -e "$TMP/cut/big" ] || fail "a response cut off: the partial file $TMP/cut/big was left"

pass "2000 files identical in one connection (peak $peak in flight with --max-streams 3); $BIG_MB MiB to -o and stdout; a cut response exits $rc"
