#!/usr/bin/env bash
# Smaller TLS and transport options: --insecure warns every time, --sni/--no-sni, -4,
# --idle-timeout, --version's feature list, --stats/--json fields.
. "$(dirname "$0")/lib.sh"

start_listener "$TMP/l.out" --echo
rc=0
out=$(printf hello | q --insecure "127.0.0.1:$LISTENER_PORT" 2>"$TMP/insecure.err") || rc=$?
[ "$rc" = 0 ] && [ "$out" = hello ] || fail "--insecure: rc $rc, out '$out'"
grep -q '^quicc: warning: --insecure' "$TMP/insecure.err" || fail "--insecure printed no warning"

rc=0
out=$(printf hello | q -4 --idle-timeout 5s --sni example.test --json --pin-sha256 "$LISTENER_FP" \
        "localhost:$LISTENER_PORT" 2>"$TMP/json.err") || rc=$?
diag_add "$TMP/json.err"
[ "$rc" = 0 ] && [ "$out" = hello ] || fail "-4 --sni --json: rc $rc, out '$out'"
tail -n1 "$TMP/json.err" >"$TMP/summary.json"
for key in status handshake_ms alpn cipher group peer_subject peer_not_after verify resumed \
           bytes_sent bytes_received duration_ms throughput_mbit_s close_code; do
  json_value=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]])' \
                 "$TMP/summary.json" "$key" 2>/dev/null) || fail "--json summary lacks '$key'"
done
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes_sent"])' "$TMP/summary.json")" = 5 ] ||
  fail "--json bytes_sent is not 5"

rc=0
printf hello | q -6 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" >/dev/null \
  2>"$TMP/v6.err" || rc=$?
[ "$rc" = 3 ] || fail "-6 with an IPv4 literal exited $rc, expected 3 (no such address)"

"$QUICC" --version >"$TMP/version" || fail "--version failed"
grep -q '^quicc ' "$TMP/version" && grep -q '^OpenSSL 3\.' "$TMP/version" &&
  grep -q '^qlog: ' "$TMP/version" && grep -q '^keylog: ' "$TMP/version" ||
  fail "--version lacks the version, OpenSSL or feature lines: $(cat "$TMP/version")"
pass "insecure, sni, -4/-6, idle-timeout, json, version"
