#!/usr/bin/env bash
# Smaller TLS and transport options, each checked for its effect:
#   --insecure      connects to an unverifiable listener, with a warning every time;
#   --sni NAME      the listener's -vvv trace shows NAME in the ClientHello's server_name;
#   --no-sni        a client dialling a host name sends no server_name (without it: the name);
#   -4 / -6         an address of the other family is "no such address" (exit 3);
#   --idle-timeout  1s: once the listener stops answering (SIGSTOP), the client gives up as idle
#                   (exit 11) within 5 s (the default is 30 s);
#   --json          the summary's fields; --version its feature lines.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_trace.sh"

start_listener "$TMP/l.out" --echo --keep-open -vvv
LOG=$TMP/l.out.err

rc=0
out=$(printf hello | q --insecure "127.0.0.1:$LISTENER_PORT" 2>"$TMP/insecure.err") || rc=$?
[ "$rc" = 0 ] && [ "$out" = hello ] || fail "--insecure: rc $rc, out '$out'"
grep -q '^quicc: warning: --insecure' "$TMP/insecure.err" || fail "--insecure printed no warning"

# --sni: the name the listener received.
mark=$(log_mark "$LOG")
rc=0
out=$(printf hello | q --sni example.test --pin-sha256 "$LISTENER_FP" \
        "127.0.0.1:$LISTENER_PORT" 2>"$TMP/sni.err") || rc=$?
diag_add "$TMP/sni.err"
[ "$rc" = 0 ] && [ "$out" = hello ] || fail "--sni example.test: rc $rc, out '$out'"
log_since "$LOG" "$mark" >"$TMP/sni.trace"
sni=$(trace_sni "$TMP/sni.trace") || fail "--sni: $sni"
[ "$sni" = example.test ] || fail "--sni example.test: the listener saw server_name '$sni'"

# --no-sni, against the name it would otherwise send ("localhost").
for variant in default no-sni; do
  args=(); [ "$variant" = no-sni ] && args=(--no-sni)
  mark=$(log_mark "$LOG")
  rc=0
  out=$(printf hello | q "${args[@]}" --pin-sha256 "$LISTENER_FP" "localhost:$LISTENER_PORT" \
          2>"$TMP/$variant.err") || rc=$?
  diag_add "$TMP/$variant.err"
  [ "$rc" = 0 ] && [ "$out" = hello ] || fail "$variant, localhost: rc $rc, out '$out'"
  log_since "$LOG" "$mark" >"$TMP/$variant.trace"
  sni=$(trace_sni "$TMP/$variant.trace") || fail "$variant: $sni"
  want=localhost; [ "$variant" = no-sni ] && want='(none)'
  [ "$sni" = "$want" ] || fail "$variant, localhost: the listener saw server_name '$sni', expected '$want'"
done

rc=0
out=$(printf hello | q -4 --json --pin-sha256 "$LISTENER_FP" \
        "localhost:$LISTENER_PORT" 2>"$TMP/json.err") || rc=$?
diag_add "$TMP/json.err"
[ "$rc" = 0 ] && [ "$out" = hello ] || fail "-4 --json: rc $rc, out '$out'"
tail -n1 "$TMP/json.err" >"$TMP/summary.json"
for key in status handshake_ms alpn cipher group peer_subject peer_not_after verify resumed \
           bytes_sent bytes_received duration_ms throughput_mbit_s close_code; do
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]])' \
    "$TMP/summary.json" "$key" >/dev/null 2>&1 || fail "--json summary lacks '$key'"
done
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes_sent"])' "$TMP/summary.json")
[ "$bytes" = 5 ] || fail "--json bytes_sent is $bytes, expected 5"

rc=0
q -4 --pin-sha256 "$LISTENER_FP" "[::1]:$LISTENER_PORT" </dev/null >/dev/null 2>"$TMP/v4.err" || rc=$?
[ "$rc" = 3 ] || fail "-4 with an IPv6 literal exited $rc, expected 3 (no such address)"
rc=0
q -6 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" </dev/null >/dev/null 2>"$TMP/v6.err" || rc=$?
[ "$rc" = 3 ] || fail "-6 with an IPv4 literal exited $rc, expected 3 (no such address)"

# --idle-timeout: OpenSSL keeps a live connection alive with PINGs at half the idle timeout, so
# the negotiated value shows once the peer falls silent.
hold_fifo "$TMP/idle.fifo"
"$QUICC" "--$QUICC_DRIVER" -v --idle-timeout 1s --pin-sha256 "$LISTENER_FP" \
  "127.0.0.1:$LISTENER_PORT" <"$TMP/idle.fifo" >/dev/null 2>"$TMP/idle.err" &
cpid=$!
bg_track "$cpid"
diag_add "$TMP/idle.err"
wait_log "$TMP/idle.err" 0 handshake_done 10 || fail "--idle-timeout 1s: no handshake_done within $(scaled 10) s"
kill -STOP "$LISTENER_PID"
t0=$(now_ms)
wait_pid "$cpid" 10
elapsed=$(( $(now_ms) - t0 ))
kill_now "$LISTENER_PID"
[ "$WAIT_RC" = 11 ] ||
  fail "--idle-timeout 1s, listener stopped: client exited $WAIT_RC, expected 11 (idle; 124: still running after $(scaled 10) s)"
grep -q '^quicc: error: connection idle timeout' "$TMP/idle.err" || fail "--idle-timeout 1s: no idle error line"
[ "$elapsed" -ge 800 ] && [ "$elapsed" -le "$(scaled_over 1000 5000)" ] ||
  fail "--idle-timeout 1s: the client gave up $elapsed ms after the listener stopped, expected 800 .. $(scaled_over 1000 5000) ms"

"$QUICC" --version >"$TMP/version" || fail "--version failed"
grep -q '^quicc ' "$TMP/version" && grep -q '^OpenSSL 3\.' "$TMP/version" &&
  grep -q '^qlog: ' "$TMP/version" && grep -q '^keylog: ' "$TMP/version" ||
  fail "--version lacks the version, OpenSSL or feature lines: $(cat "$TMP/version")"
pass "insecure, sni, no-sni, -4/-6, idle-timeout ($elapsed ms), json, version"
