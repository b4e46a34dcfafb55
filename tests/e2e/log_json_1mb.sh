#!/usr/bin/env bash
# `-vv --log-format json` of a 1 MB transfer: every log line parses as JSON, tick events carry
# next_timeout_ms as a non-negative number or "infinite", and the data still arrives intact.
. "$(dirname "$0")/lib.sh"

start_listener "$TMP/echo.out" --echo --keep-open
head -c 1000000 /dev/urandom >"$TMP/in"
rc=0
q -vv --log-format json --log-file "$TMP/log.jsonl" --pin-sha256 "$LISTENER_FP" \
  "127.0.0.1:$LISTENER_PORT" <"$TMP/in" >"$TMP/out" 2>"$TMP/client.err" || rc=$?
diag_add "$TMP/client.err" "$TMP/log.jsonl"
[ "$rc" = 0 ] || fail "client exited $rc"
[ "$(sha "$TMP/in")" = "$(sha "$TMP/out")" ] || fail "echoed data differs"
[ ! -s "$TMP/client.err" ] || fail "stderr not empty with --log-file: $(head -c 200 "$TMP/client.err")"

python3 - "$TMP/log.jsonl" <<'PY' || fail "JSON log check failed (see above)"
import json, sys
ticks = 0
events = []
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        e = json.loads(line)
    except ValueError as err:
        sys.exit(f"line {n} is not JSON: {err}: {line[:200]!r}")
    if not isinstance(e.get("t_ms"), (int, float)) or not isinstance(e.get("event"), str):
        sys.exit(f"line {n} lacks t_ms/event: {line[:200]!r}")
    events.append(e["event"])
    if e["event"] == "tick":
        ticks += 1
        t = e.get("next_timeout_ms")
        ok = t == "infinite" or (isinstance(t, (int, float)) and not isinstance(t, bool) and t >= 0)
        if not ok:
            sys.exit(f"line {n}: tick next_timeout_ms is {t!r}")
        for key in ("wake", "read_desired", "write_desired", "bytes_in", "bytes_out"):
            if key not in e:
                sys.exit(f"line {n}: tick lacks {key}")
if ticks == 0:
    sys.exit("no tick events at -vv")
for needed in ("handshake_done", "close"):
    if needed not in events:
        sys.exit(f"no {needed} event")
if events[-1] != "close":
    sys.exit(f"last event is {events[-1]}, expected close")
print(f"{len(events)} JSON events, {ticks} ticks")
PY
pass "JSON log of a 1 MB transfer"
