#!/usr/bin/env bash
# `quicc --listen --serve DIR --keep-open` serves files below DIR and nothing else. Raw HTTP/0.9
# requests come from quicc clients in pipe mode (one bidirectional stream: stdin, then FIN):
#   - a good file is served byte-identical, also without "\r\n" and with a trailing " HTTP/1.0";
#   - GET /../etc/passwd, GET //etc/passwd and a symlink in DIR to /etc/passwd are refused: the
#     stream is reset (client exit 10, stream reset), nothing of /etc/passwd reaches stdout, and
#     the listener logs a warning naming the refused path; a missing file and a directory too.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/www/sub"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$TMP/www/sub/data.bin"
ln -s /etc/passwd "$TMP/www/out"
ln -s sub/data.bin "$TMP/www/inside"  # a link that stays inside is served

start_listener "$TMP/l.out" --serve "$TMP/www" --keep-open

# get NAME REQUEST: REQUEST (printf format) on one stream; sets RC, NAME.out holds the answer.
# Each answer, a reset too, comes at once: a RESET_STREAM that waited for the next PING took
# 15 s.
get() {
  local t0
  RC=0
  t0=$(now_ms)
  printf "$2" | q --alpn hq-interop --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
    >"$TMP/$1.out" 2>"$TMP/$1.err" || RC=$?
  diag_add "$TMP/$1.err"
  [ $(( $(now_ms) - t0 )) -le "$(scaled 5000)" ] ||
    fail "'$2': the answer took $(( $(now_ms) - t0 )) ms, expected <= $(scaled 5000) ms"
}

for req in 'GET /sub/data.bin\r\n' 'GET /sub/data.bin' 'GET /sub/data.bin HTTP/1.0\r\n' 'GET /inside\r\n'; do
  get good "$req"
  [ "$RC" = 0 ] || fail "'$req': the client exited $RC, expected 0"
  cmp -s "$TMP/good.out" "$TMP/www/sub/data.bin" ||
    fail "'$req': the answer ($(wc -c <"$TMP/good.out") bytes) differs from the file"
done

# A client whose FIN comes after the request line, later: the listener reads on to it (a
# STOP_SENDING before it took the client's unacknowledged stream away: exit 10).
RC=0
{ printf 'GET /sub/data.bin\r\n'; sleep 0.3; } |
  q --alpn hq-interop --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
    >"$TMP/late.out" 2>"$TMP/late.err" || RC=$?
diag_add "$TMP/late.err"
[ "$RC" = 0 ] || fail "a request whose FIN came later: the client exited $RC, expected 0"
cmp -s "$TMP/late.out" "$TMP/www/sub/data.bin" || fail "a request whose FIN came later: wrong answer"

passwd_line=$(head -n1 /etc/passwd)
for case in '/../etc/passwd' '//etc/passwd' '/out' '/missing' '/sub' '/sub/../sub/data.bin'; do
  get refused "GET $case\r\n"
  [ "$RC" = 10 ] || fail "GET $case: the client exited $RC, expected 10 (stream reset)"
  [ ! -s "$TMP/refused.out" ] || fail "GET $case: the client received $(wc -c <"$TMP/refused.out") bytes"
  ! grep -qF -- "$passwd_line" "$TMP/refused.out" || fail "GET $case: /etc/passwd reached the client"
  grep -q 'code 0x10' "$TMP/refused.err" || fail "GET $case: the client did not see reset code 0x10: $(cat "$TMP/refused.err")"
  grep -qF -- "quicc: warning: stream 0: GET $case: " "$TMP/l.out.err" ||
    fail "GET $case: the listener logged no warning naming the path"
done

# Not a GET request at all.
get bad 'PUT /sub/data.bin\r\n'
[ "$RC" = 10 ] || fail "PUT: the client exited $RC, expected 10"

kill -0 "$LISTENER_PID" 2>/dev/null || fail "the listener with --keep-open exited"
! grep -q '^quicc: error:' "$TMP/l.out.err" || fail "the listener logged an error: $(grep -m1 '^quicc: error:' "$TMP/l.out.err")"
pass
