#!/usr/bin/env bash
# quicc --listen --perf, a QUIC perf server (draft-banks-quic-performance), against quicc in
# pipe mode with --alpn perf as its client: stdin is the request stream's bytes (the 8-byte
# big-endian size N, then the upload), stdout what the server sent back. Both under the CTest
# driver. Requests:
#   N=5 after an 11-byte upload: exactly 5 bytes back, the server's pattern ("abcde"), FIN;
#   N=0 after a 1 MiB upload: nothing back, a FIN (the client exits 0);
#   N=3 MiB: 3 MiB back, every byte the pattern's ('a' + i mod 251 mod 26);
#   3 bytes, then FIN (no whole header): nothing back, a FIN, and the server warns
#     "perf request ignored: the request ended after 3 of its 8 header bytes";
#   a client offering only ALPN quicc: no ALPN agreed (exit 7): the server speaks perf.
. "$(dirname "$0")/lib.sh"

start_listener "$TMP/l.out" --perf --keep-open -v
LOG=$TMP/l.out.err
TO=(--alpn perf --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")

# request NAME: the client with $TMP/NAME.in as stdin; sets RC.
request() {
  RC=0
  qt 60 "${TO[@]}" <"$TMP/$1.in" >"$TMP/$1.out" 2>"$TMP/$1.err" || RC=$?
  diag_add "$TMP/$1.err"
}

{ printf '\0\0\0\0\0\0\0\005'; printf 'upload byte'; } >"$TMP/five.in"
request five
[ "$RC" = 0 ] || fail "N=5: client exited $RC, expected 0"
[ "$(cat "$TMP/five.out")" = abcde ] || fail "N=5: got '$(od -c "$TMP/five.out" | head -2)', expected 'abcde'"

{ printf '\0\0\0\0\0\0\0\0'; head -c 1048576 /dev/zero; } >"$TMP/zero.in"
request zero
[ "$RC" = 0 ] || fail "N=0 after a 1 MiB upload: client exited $RC, expected 0 (a FIN alone)"
[ ! -s "$TMP/zero.out" ] || fail "N=0: $(stat -c %s "$TMP/zero.out") bytes came back, expected none"

printf '\0\0\0\0\0\060\0\0' >"$TMP/big.in"
request big
[ "$RC" = 0 ] || fail "N=3 MiB: client exited $RC, expected 0"
python3 - "$TMP/big.out" <<'PY' || fail "N=3 MiB: the response is not 3 MiB of the server's pattern"
import sys
data = open(sys.argv[1], "rb").read()
assert len(data) == 3 * 1024 * 1024, len(data)
want = bytes(ord("a") + i % 251 % 26 for i in range(251))
for i in range(0, len(data), 251):
    chunk = data[i:i + 251]
    assert chunk == want[:len(chunk)], i
PY

mark=$(log_mark "$LOG")
printf '\0\0\0' >"$TMP/short.in"
request short
[ "$RC" = 0 ] || fail "a 3-byte request: client exited $RC, expected 0 (the server's FIN alone)"
[ ! -s "$TMP/short.out" ] || fail "a 3-byte request: $(stat -c %s "$TMP/short.out") bytes came back, expected none"
wait_log "$LOG" "$mark" 'perf request ignored: the request ended after 3 of its 8 header bytes' 5 ||
  fail "a 3-byte request: the server logged no 'perf request ignored: ... after 3 of its 8 header bytes'"

RC=0
printf '\0\0\0\0\0\0\0\005' | qt 30 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  >"$TMP/alpn.out" 2>"$TMP/alpn.err" || RC=$?
diag_add "$TMP/alpn.err"
[ "$RC" = 7 ] || fail "a client offering ALPN quicc only: exit $RC, expected 7 (no ALPN: the server speaks perf)"

kill -0 "$LISTENER_PID" 2>/dev/null || fail "the perf server died"
! grep -q 'quicc: error' "$LOG" || fail "the perf server logged an error: $(grep 'quicc: error' "$LOG" | head -3)"
pass "perf server: sizes 5, 0 and 3 MiB with uploads, a short header, its ALPN"
