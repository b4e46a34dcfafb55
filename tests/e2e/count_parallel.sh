#!/usr/bin/env bash
# --count N --parallel K (--interval D), one process, against quicc's echo listener:
#   all up:     --count 50 --parallel 5 --json: 50 JSON lines (connection 1..50, each status ok
#               with its figures) then the aggregate (50 succeeded), exit 0; every connection
#               sent the same input (the listener echoed 50 times "ping").
#   halfway:    the listener is killed once 5 of 20 connections (one every 100 ms, 2 at once)
#               have succeeded: the rest fail, the aggregate counts them by class (their sum is
#               the failures), and the exit is non-zero and that of a failure class.
#   interrupt:  SIGINT during a long --count: exit 130, with the aggregate of what started.
# And --json-file - puts the JSON Lines on stdout; --send, --send-file and --expect apply to
# every connection (stdin unread).
. "$(dirname "$0")/lib.sh"

printf ping >"$TMP/ping"

# json_lines FILE N: FILE holds N connection objects (numbers 1..N, once each) and one aggregate
# last; prints "SUCCEEDED FAILED SUM_OF_CLASSES STARTED".
json_lines() {
  python3 - "$1" "$2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
conns = [l for l in lines if "connection" in l]
agg = [l for l in lines if "connections" in l]
if len(agg) != 1 or "connections" not in lines[-1]:
    sys.exit(f"want one aggregate, last: {len(agg)} found")
if sorted(c["connection"] for c in conns) != list(range(1, n + 1)):
    sys.exit(f"connection numbers: {sorted(c['connection'] for c in conns)}")
for c in conns:
    for key in ("status", "exit_code", "duration_ms"):
        if key not in c:
            sys.exit(f"no {key} in {c}")
    # Every success got its echo: a time to first byte after the handshake, within the run.
    if c["status"] == "ok" and not (c["t_handshake_ms"] <= c.get("t_first_byte_ms", -1) <= c["duration_ms"]):
        sys.exit(f"t_first_byte_ms out of order in {c}")
a = agg[0]
classes = sum(v for k, v in a.items() if k.startswith("failed_"))
ok = sum(1 for c in conns if c["status"] == "ok")
if ok != a["succeeded"]:
    sys.exit(f"{ok} connections ok, the aggregate says {a['succeeded']}")
print(a["succeeded"], a["failed"], classes, a["started"])
PY
}

# --- all up
start_listener "$TMP/echo" --echo --keep-open
rc=0
qt 120 --count 50 --parallel 5 --json-file "$TMP/all.json" --pin-sha256 "$LISTENER_FP" \
  "127.0.0.1:$LISTENER_PORT" <"$TMP/ping" >"$TMP/all.out" 2>"$TMP/all.err" || rc=$?
diag_add "$TMP/all.err"
[ "$rc" = 0 ] || fail "all up: exit $rc, expected 0"
read -r ok failed classes started < <(json_lines "$TMP/all.json" 50) || fail "all up: bad JSON Lines"
[ "$ok $failed $started" = "50 0 50" ] || fail "all up: $ok succeeded, $failed failed, $started started"
grep -qx 'quicc: 50 connections: 50 started, 50 succeeded, 0 failed' "$TMP/all.err" ||
  fail "all up: no aggregate line on stderr"
for figure in dns connect handshake 'first byte' total; do
  grep -Eq "^  $figure +min [0-9.]+  median [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  max [0-9.]+ ms\$" "$TMP/all.err" ||
    fail "all up: no $figure spread on stderr"
done
[ ! -s "$TMP/all.out" ] || fail "all up: received data reached stdout"
# --json-file -: the same lines on stdout.
rc=0
qt 60 --count 2 --json-file - --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  <"$TMP/ping" >"$TMP/dash.out" 2>"$TMP/dash.err" || rc=$?
[ "$rc" = 0 ] || fail "--json-file -: exit $rc"
json_lines "$TMP/dash.out" 2 >/dev/null || fail "--json-file -: stdout is not 2 connections and an aggregate"
# --send and --send-file are every connection's input (stdin, a FIFO nobody writes, is never
# read), and --expect judges each connection: a match is 0, no match is 16 for every one.
hold_fifo "$TMP/never"
printf 'pong\n' >"$TMP/pong"
rc=0
qt 60 --count 4 --parallel 2 --send 'ping\n' --send-file "$TMP/pong" --expect '^ping$' \
  --expect '^pong$' --json-file "$TMP/send.json" --pin-sha256 "$LISTENER_FP" \
  "127.0.0.1:$LISTENER_PORT" <"$TMP/never" >/dev/null 2>"$TMP/send.err" || rc=$?
diag_add "$TMP/send.err"
[ "$rc" = 0 ] || fail "--count with --send and --expect: exit $rc, expected 0"
read -r ok failed classes started < <(json_lines "$TMP/send.json" 4) || fail "--send: bad JSON Lines"
[ "$ok $failed" = "4 0" ] || fail "--count with --send: $ok succeeded, $failed failed"
rc=0
qt 60 --count 3 --parallel 3 --send 'ping\n' --expect '^nope$' --json-file "$TMP/nope.json" \
  --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" <"$TMP/never" >/dev/null \
  2>"$TMP/nope.err" || rc=$?
diag_add "$TMP/nope.err"
[ "$rc" = 16 ] || fail "--count with an --expect that cannot match: exit $rc, expected 16"
grep -q '3 failed (3 expect_failed)' "$TMP/nope.err" || fail "--expect: no aggregate of 3 expect_failed"
kill -INT "$LISTENER_PID"
wait_pid "$LISTENER_PID" 10

# --- halfway
start_listener "$TMP/echo2" --echo --keep-open
qt 120 --count 20 --parallel 2 --interval 100ms --connect-timeout 1s --idle-timeout 2s \
  --json-file "$TMP/half.json" --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
  <"$TMP/ping" >"$TMP/half.out" 2>"$TMP/half.err" &
cpid=$!
bg_track "$cpid"
diag_add "$TMP/half.err"
deadline=$(( $(now_ms) + $(scaled 30) * 1000 ))
until [ "$(cat "$TMP/half.json" 2>/dev/null | grep -c '"status":"ok"')" -ge 5 ]; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "halfway: 5 connections did not succeed"
  sleep 0.02
done
kill_now "$LISTENER_PID"
wait_pid "$cpid" 90
[ "$WAIT_RC" != 0 ] && [ "$WAIT_RC" != 124 ] || fail "halfway: exit $WAIT_RC, expected a failure's"
read -r ok failed classes started < <(json_lines "$TMP/half.json" 20) || fail "halfway: bad JSON Lines"
[ "$started" = 20 ] || fail "halfway: $started of 20 started"
[ "$ok" -ge 5 ] && [ "$failed" -ge 1 ] || fail "halfway: $ok succeeded, $failed failed"
[ "$classes" = "$failed" ] || fail "halfway: the classes count $classes failures of $failed"
grep -Eq '^quicc: 20 connections: 20 started, [0-9]+ succeeded, [0-9]+ failed \([0-9]+ [a-z_]+' "$TMP/half.err" ||
  fail "halfway: no aggregate line with failure classes on stderr"
python3 - "$TMP/half.json" "$WAIT_RC" <<'PY' || fail "halfway: the exit code is not the lowest failing one"
import json, sys
codes = [json.loads(l)["exit_code"] for l in open(sys.argv[1]) if '"connection"' in l]
want = min(c for c in codes if c)
sys.exit(0 if want == int(sys.argv[2]) else f"exit {sys.argv[2]}, lowest failure {want}")
PY
note "halfway: $ok succeeded, $failed failed, exit $WAIT_RC"

# --- interrupt
start_listener "$TMP/echo3" --echo --keep-open
"$QUICC" "--$QUICC_DRIVER" --count 1000 --parallel 2 --interval 200ms --pin-sha256 "$LISTENER_FP" \
  "127.0.0.1:$LISTENER_PORT" <"$TMP/ping" >"$TMP/int.out" 2>"$TMP/int.err" &
cpid=$!
bg_track "$cpid"
diag_add "$TMP/int.err"
sleep 1
kill -INT "$cpid"
wait_pid "$cpid" 20
[ "$WAIT_RC" = 130 ] || fail "interrupt: exit $WAIT_RC, expected 130"
grep -Eq '^quicc: 1000 connections: [0-9]+ started, ' "$TMP/int.err" || fail "interrupt: no aggregate line"
kill -INT "$LISTENER_PID"
pass
