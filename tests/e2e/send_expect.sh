#!/usr/bin/env bash
# Scripted checks: --send, --send-file, --expect, --expect-close, as the user sees them (exit
# code, stdout, the error line), against quicc's echo listener, a quicc pipe listener that keeps
# its side open, a pipe listener that sends and expects itself, and OpenSSL's demo echo server
# (quic-server-block). CTest runs it under both drivers.
#
# What really happens with an echo server: --send ends our side with a FIN after the data (as
# stdin EOF does), so the echo server ends its side too and the run would end at its FIN anyway;
# a match ends the run early only when the peer keeps its side open: our side not ended
# (--on-eof ignore, the echo then never ends its own), or a server that answers and waits (a
# banner from a pipe listener whose stdin stays open). There the run ends right after the match,
# exit 0, while --expect-close waits for a FIN that never comes (--timeout, exit 14).
# quic-server-block exits as soon as a client closes before its FIN (its stream conclude fails:
# demos/guide/quic-server-block.c), so against it the one case that does so runs last.
. "$(dirname "$0")/lib.sh"

# run NAME SECS ARGS...: quicc ARGS (stdin /dev/null), stdout NAME.out, stderr NAME.err, bounded
# by SECS (scaled). Sets RC and MS (elapsed).
run() {
  local name=$1 secs=$2 t0
  shift 2
  diag_add "$TMP/$name.err"
  t0=$(now_ms)
  RC=0
  qt "$secs" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
  MS=$(( $(now_ms) - t0 ))
}

# want_rc WHAT WANT: RC must be WANT.
want_rc() {
  [ "$RC" = "$2" ] ||
    fail "$1: exit $RC, expected $2 (124: still running at the time limit); stderr: $(grep -v '^\[' "$TMP/$NAME.err" | head -c 400 | tr '\n' '|')"
}

# error_line NAME: the one "quicc: error: " line of NAME.err (fails unless there is exactly one).
error_line() {
  local n
  n=$(grep -c '^quicc: error: ' "$TMP/$1.err" || true)
  [ "$n" = 1 ] || fail "$1: $n 'quicc: error: ' lines on stderr, expected one"
  grep '^quicc: error: ' "$TMP/$1.err"
}

# same_bytes WHAT FILE EXPECTED_FILE
same_bytes() {
  cmp -s "$2" "$3" ||
    fail "$1: stdout is $(od -An -c "$2" | head -c 200 | tr -s ' \n' ' '), expected $(od -An -c "$3" | head -c 200 | tr -s ' \n' ' ')"
}

# check NAME SECS WANT_RC ARGS...: run, then the exit code.
check() {
  NAME=$1
  local secs=$2 want=$3
  shift 3
  run "$NAME" "$secs" "$@"
  want_rc "$NAME ($*)" "$want"
}

start_listener "$TMP/echo.out" --echo --keep-open -v
ECHO_LOG=$TMP/echo.out.err
ECHO=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")

# --- Usage errors: exit 2 before any network activity, one line naming the problem ------------
for c in "bad_escape|invalid --send 'GET /\\q': unknown escape '\\q'|--send|GET /\\q" \
         "bad_hex|invalid --send 'x\\x4': '\\x4' needs two hex digits|--send|x\\x4" \
         "lone_backslash|invalid --send 'x\\': a lone backslash at the end|--send|x\\" \
         "bad_regex|invalid --expect 'HTTP/1.(': |--expect|HTTP/1.(" \
         "backref|invalid --expect '(a)\\1': back-references (\\1) are not supported|--expect|(a)\\1" \
         "expect_close_alone|--expect-close needs --expect|--expect-close|" \
         "missing_file|cannot read --send-file '$TMP/nope': No such file or directory|--send-file|$TMP/nope"; do
  IFS='|' read -r name want option value <<<"$c"
  args=("$option")
  [ -n "$value" ] && args+=("$value")
  # A port where nothing listens: a run that got as far as the network would fail otherwise.
  check "$name" 10 2 "${args[@]}" 127.0.0.1:9
  check_one_error_line "$TMP/$name.err" "$name"
  grep -qF -- "quicc: error: $want" "$TMP/$name.err" ||
    fail "$name: error line '$(cat "$TMP/$name.err")' does not start with '$want'"
  [ "$MS" -le "$(scaled 2000)" ] || fail "$name: a usage error took $MS ms"
done

# --- A match: exit 0; parts sent in command-line order, binary-clean --------------------------
printf 'file\0part' >"$TMP/part"
printf 'one\r\nfile\0part<fifo>\001two\n' >"$TMP/match.want"
check match 10 0 --send 'one\r\n' --send-file "$TMP/part" --send-file <(printf '<fifo>') \
  --send '\x01two\n' --expect '^one$' --expect 'two$' "${ECHO[@]}"
same_bytes "match: --send, --send-file, --send-file <(...), --send" "$TMP/match.out" "$TMP/match.want"
[ ! -s "$TMP/match.err" ] || fail "match: stderr is not empty: $(head -c 300 "$TMP/match.err")"

# --- No match: exit 16 at the peer's FIN, the first bytes shown escaped -----------------------
check nomatch 10 16 --send 'hello\x1b[2J\x00\r\n' --expect world --expect 'hel+o' "${ECHO[@]}"
printf 'hello\033[2J\0\r\n' >"$TMP/nomatch.want"
same_bytes "no match: received data still goes to stdout" "$TMP/nomatch.out" "$TMP/nomatch.want"
line=$(error_line nomatch)
[ "$line" = "quicc: error: --expect found no match in the received data (12 bytes received up to the peer's FIN): 'world' did not match; received: \"hello\\x1b[2J\\x00\\x0d\\x0a\"" ] ||
  fail "no match: error line is: $line"
! grep -q $'\033' "$TMP/nomatch.err" || fail "no match: a raw ESC reached stderr"
# The same as JSON Lines: the bytes in a field of their own.
check nomatch_json 10 16 --log-format json --send 'hi\x00' --expect world "${ECHO[@]}"
grep -qF '"event":"error","status":"expect_failed","message":"--expect found no match in the received data (3 bytes received up to the peer'"'"'s FIN): '"'"'world'"'"' did not match; received:","received":"hi\u0000"}' "$TMP/nomatch_json.err" ||
  fail "no match, JSON log: $(grep -m1 expect_failed "$TMP/nomatch_json.err")"

# --- No match and no FIN: exit 16 at --timeout, not 14 ---------------------------------------
# --timeout scales: the echo must come back within it, after a handshake a loaded machine slows.
T1=$(scaled 1)
check nomatch_timeout $((10 + T1)) 16 --send hello --on-eof ignore --expect world --timeout "${T1}s" "${ECHO[@]}"
[ "$MS" -ge $((T1 * 1000 - 100)) ] && [ "$MS" -le $((T1 * 1000 + $(scaled 3000))) ] ||
  fail "no match, no FIN: ended after $MS ms, expected at --timeout ${T1}s"
error_line nomatch_timeout | grep -qF "(5 bytes received; --timeout ${T1}s reached): 'world' did not match; received: \"hello\"" ||
  fail "no match, no FIN: $(error_line nomatch_timeout)"
check nomatch_idle 10 16 --send hello --on-eof ignore --expect world --idle-exit 1s "${ECHO[@]}"
error_line nomatch_idle | grep -qF '(5 bytes received; no data for 1s (--idle-exit))' ||
  fail "no match, --idle-exit: $(error_line nomatch_idle)"

# --- A match while the echo keeps its side open (--on-eof ignore: we never FIN) ----------------
mark=$(log_mark "$ECHO_LOG")
check early 20 0 -v --send hello --on-eof ignore --expect hello --timeout 15s "${ECHO[@]}"
[ "$(cat "$TMP/early.out")" = hello ] || fail "early: stdout '$(head -c 100 "$TMP/early.out")'"
[ "$MS" -le "$(scaled 2500)" ] || fail "early: the run took $MS ms after a match in the first bytes"
! grep -q 'change=fin_received' "$TMP/early.err" || fail "early: the echo sent a FIN after all?"
grep -q 'close by=local kind=application code=0 ' "$TMP/early.err" ||
  fail "early: no graceful close (code 0) of ours in the log"
wait_log "$ECHO_LOG" "$mark" 'close by=peer kind=application code=0 ' 5 ||
  fail "early: the echo listener did not see our close"
# --expect-close reads on to the FIN that never comes: --timeout, with the expectation met (14).
check early_close $((20 + T1)) 14 --send hello --on-eof ignore --expect hello --expect-close --timeout "${T1}s" "${ECHO[@]}"
[ "$(cat "$TMP/early_close.out")" = hello ] || fail "early_close: stdout '$(head -c 100 "$TMP/early_close.out")'"
error_line early_close | grep -qF -- "--timeout ${T1}s reached" || fail "early_close: $(error_line early_close)"
# ... and with our FIN the echo ends its side: --expect-close then ends at its FIN, exit 0.
check close_fin 10 0 -v --send hello --expect hello --expect-close "${ECHO[@]}"
grep -q 'change=fin_received' "$TMP/close_fin.err" || fail "close_fin: no fin_received before the end"

# --- A match with our input still being sent: it is all sent, then the run ends --------------
# The echo, blocked on our flow control, would stop reading ours if we stopped reading its echo
# at the match: reading goes on (to stdout) until our input is out and acknowledged, then stops.
{ printf 'START\n'; head -c $((8 * 1024 * 1024)) /dev/urandom; } >"$TMP/big"
check big 40 0 -v --send-file "$TMP/big" --expect '^START$' --timeout 30s "${ECHO[@]}"
grep -Eq "close by=local kind=application code=0 .* bytes_out=$((8 * 1024 * 1024 + 6)) bytes_unacked=0( |\$)" "$TMP/big.err" ||
  fail "big: not everything was sent and acknowledged: $(grep 'close by' "$TMP/big.err")"
got=$(stat -c %s "$TMP/big.out")
[ "$got" -gt 0 ] && cmp -s -n "$got" "$TMP/big.out" "$TMP/big" ||
  fail "big: stdout ($got bytes) is not the start of the echo"
note "big: 8 MiB sent after a match in the first bytes; $got bytes of the echo read, in $MS ms"

# --- A server that answers and keeps its side open: a banner from a pipe listener -------------
hold_fifo "$TMP/banner.fifo"
LISTENER_STDIN=$TMP/banner.fifo start_listener "$TMP/banner_listener.out" -v
printf '220 quicc ready\r\n' >"$TMP/banner.fifo"   # a second writer; the FIFO stays open
check banner 20 0 -v --expect '^220 ' --timeout 15s --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT"
[ "$(cat "$TMP/banner.out")" = $'220 quicc ready\r' ] || fail "banner: stdout '$(head -c 100 "$TMP/banner.out")'"
[ "$MS" -le "$(scaled 2500)" ] || fail "banner: the run took $MS ms after the banner matched"
kill_now "$LISTENER_PID"
kill_now "$HOLD_PID"
# The same with --expect-close: the FIN never comes, --timeout ends it (exit 14).
hold_fifo "$TMP/banner2.fifo"
LISTENER_STDIN=$TMP/banner2.fifo start_listener "$TMP/banner2_listener.out"
printf '220 quicc ready\r\n' >"$TMP/banner2.fifo"
check banner_close 20 14 --expect '^220 ' --expect-close --timeout 1s \
  --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT"
kill_now "$LISTENER_PID"
kill_now "$HOLD_PID"

# --- A pipe listener sends and expects too (ncat-like) -----------------------------------------
for want in 0 16; do
  pattern='^ping$'
  [ "$want" = 16 ] && pattern='^pang$'
  start_listener "$TMP/pl$want.out" --send 'pong\n' --expect "$pattern"
  check "pl_client$want" 10 0 --send 'ping\n' --expect '^pong$' --pin-sha256 "$LISTENER_FP" \
    "127.0.0.1:$LISTENER_PORT"
  wait_pid "$LISTENER_PID" 10
  [ "$WAIT_RC" = "$want" ] ||
    fail "pipe listener --expect '$pattern': exit $WAIT_RC, expected $want; $(grep -v '^\[' "$TMP/pl$want.out.err" | tail -n 2 | tr '\n' '|')"
  [ "$(cat "$TMP/pl$want.out")" = ping ] || fail "pipe listener: stdout '$(cat "$TMP/pl$want.out")'"
  if [ "$want" = 16 ]; then
    grep -qF "quicc: error: --expect found no match in the received data (5 bytes received up to the peer's FIN): '^pang\$' did not match; received: \"ping\\x0a\"" \
      "$TMP/pl$want.out.err" || fail "pipe listener, no match: $(grep error "$TMP/pl$want.out.err")"
  fi
done

# --- OpenSSL's demo echo server -------------------------------------------------------------
make_cert "$TMP/pki" server
start_demo_server "$TMP/pki"
DEMO=(--alpn hq-interop --cafile "$TMP/pki/ca.pem" "localhost:$DEMO_PORT")
check demo_match 10 0 --send 'GET /\r\n' --send-file "$TMP/part" --expect '^GET /\r$' --expect 'file\x00part$' "${DEMO[@]}"
printf 'GET /\r\nfile\0part' >"$TMP/demo_match.want"
same_bytes "demo: match" "$TMP/demo_match.out" "$TMP/demo_match.want"
check demo_nomatch 10 16 --send 'hello' --expect '^HTTP/1\.1 200' --timeout 5s "${DEMO[@]}"
[ "$MS" -le "$(scaled 4000)" ] || fail "demo: no match took $MS ms (its FIN should end it)"
error_line demo_nomatch | grep -qF "(5 bytes received up to the peer's FIN): '^HTTP/1\\.1 200' did not match; received: \"hello\"" ||
  fail "demo: no match: $(error_line demo_nomatch)"
check demo_bad_escape 10 2 --send '\z' "${DEMO[@]}"
check demo_bad_regex 10 2 --expect '[' "${DEMO[@]}"
kill -0 "$DEMO_PID" 2>/dev/null || fail "quic-server-block exited during the cases that end with its FIN"
# Last: without our FIN, no match, the run ends at --timeout (the demo server exits after it).
check demo_nomatch_timeout 10 16 --send 'hello' --on-eof ignore --expect world --timeout 1s "${DEMO[@]}"
[ "$MS" -ge 900 ] && [ "$MS" -le "$(scaled_over 1000 4000)" ] ||
  fail "demo: no match, no FIN: ended after $MS ms, expected at --timeout 1s"

pass "usage errors 2; match 0; no match 16 (at the FIN, --timeout, --idle-exit); an early match ends the run; --expect-close reads on; pipe listener; quic-server-block"
