#!/usr/bin/env bash
# quicc --perf HOST:PORT, the perf client (draft-banks-quic-performance), against quicc's perf
# server (quicc --listen --perf --keep-open -v), both under the CTest driver:
#   --upload 3M --download 5M --streams 4: exit 0; the final report line counts exactly
#     4 x 3 MiB up and 4 x 5 MiB down, 4 requests on 4 streams; the server's own close line
#     says it received 4 x (8 + 3 MiB) and sent 4 x 5 MiB (so the bytes really went);
#   upload only, download only: the other direction counts 0, the server agrees;
#   --duration 2500ms --streams 3 --json: a JSON line per second (at least 2, none final),
#     then one final line; more requests than streams (requests follow each other), every one
#     complete, and the server's bytes out are exactly the requests' downloads;
#   a server that answers with the wrong size (quicc --echo --alpn perf sends back the request
#     itself): exit 15, "more than the 5 requested" / "the server's FIN came after 18 bytes of
#     the 50000 requested";
#   a peer without ALPN perf (quicc's default echo): exit 7;
#   SIGINT two seconds into a 30 s run: exit 130 within 3 s (scaled), the run's line printed.
. "$(dirname "$0")/lib.sh"

start_listener "$TMP/l.out" --perf --keep-open -v
LOG=$TMP/l.out.err
PERF_FP=$LISTENER_FP PERF_PORT=$LISTENER_PORT
TO=(--pin-sha256 "$PERF_FP" "127.0.0.1:$PERF_PORT")
MiB=1048576

# perf NAME ARGS...: the perf client; sets RC; stdout NAME.out, stderr NAME.err.
perf() {
  local name=$1
  shift
  RC=0
  qt 120 --perf "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
  diag_add "$TMP/$name.err"
  diag_add "$TMP/$name.out"
}

# final_line NAME: the report's last line; fails unless it is the run's ("[   0.00-" ...).
final_line() {
  local line
  line=$(tail -n1 "$TMP/$1.out")
  [[ $line == '[   0.00-'*' request'*' on '*' stream'* ]] || fail "$1: the last line is not the run's report: '$line'"
  printf '%s\n' "$line"
}

# server_close MARK: the server's close line of the connection that ended after MARK.
server_close() {
  wait_log "$LOG" "$1" '\] close by=' 10 || fail "the perf server logged no close after mark $1"
  tail -n +"$(( $1 + 1 ))" "$LOG" | grep -m1 '\] close by='
}

# expect_bytes WHAT LINE FIELD VALUE: LINE's FIELD=VALUE (the server's close line).
expect_bytes() {
  grep -qE "(^| )$3=$4( |$)" <<<"$2" || fail "$1: expected $3=$4 in the server's '$2'"
}

# --- both directions, 4 streams ---------------------------------------------------------------
mark=$(log_mark "$LOG")
perf both --upload 3M --download 5M --streams 4 "${TO[@]}"
[ "$RC" = 0 ] || fail "--upload 3M --download 5M --streams 4: exit $RC, expected 0"
line=$(final_line both)
# Decimal units in the text: 12.6 MB up (4 x 3 MiB), 21.0 MB down (4 x 5 MiB).
[[ $line == *'up 12.6 MB ('*'down 21.0 MB ('*', 4 requests on 4 streams' ]] ||
  fail "both directions: the report says '$line', expected up 12.6 MB, down 21.0 MB, 4 requests on 4 streams"
closed=$(server_close "$mark")
expect_bytes "both directions" "$closed" bytes_in $(( 4 * (8 + 3 * MiB) ))
expect_bytes "both directions" "$closed" bytes_out $(( 4 * 5 * MiB ))

# --- one direction each -------------------------------------------------------------------------
mark=$(log_mark "$LOG")
perf up --upload 2M --streams 2 "${TO[@]}"
[ "$RC" = 0 ] || fail "--upload 2M --streams 2: exit $RC, expected 0"
line=$(final_line up)
[[ $line == *'up 4.2 MB ('*'down 0 B (0.00 Mbit/s), 2 requests on 2 streams' ]] ||
  fail "upload only: the report says '$line'"
closed=$(server_close "$mark")
expect_bytes "upload only" "$closed" bytes_in $(( 2 * (8 + 2 * MiB) ))
expect_bytes "upload only" "$closed" bytes_out 0

mark=$(log_mark "$LOG")
perf down --download 7M "${TO[@]}"
[ "$RC" = 0 ] || fail "--download 7M: exit $RC, expected 0"
line=$(final_line down)
[[ $line == *'up 0 B (0.00 Mbit/s), down 7.3 MB ('*', 1 request on 1 stream' ]] ||
  fail "download only: the report says '$line'"
closed=$(server_close "$mark")
expect_bytes "download only" "$closed" bytes_in 8
expect_bytes "download only" "$closed" bytes_out $(( 7 * MiB ))

# --- --duration, JSON ---------------------------------------------------------------------------
mark=$(log_mark "$LOG")
perf timed --download 256k --upload 64k --streams 3 --duration 2500ms --json "${TO[@]}"
[ "$RC" = 0 ] || fail "--duration 2500ms: exit $RC, expected 0"
closed=$(server_close "$mark")
python3 - "$TMP/timed.out" "$closed" <<'PY' || fail "--duration 2500ms --json: the report is not as expected (above)"
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
seconds, final = lines[:-1], lines[-1]
assert len(seconds) >= 2, f"{len(seconds)} per-second lines, expected at least 2"
assert all(l["event"] == "perf" and not l["final"] for l in seconds), seconds
assert final["final"] and final["streams"] == 3, final
assert final["to_s"] >= 2.5, final
n = final["requests_done"]
assert n > 3, f"{n} requests in 2.5 s on 3 streams: they did not follow each other"
assert final["bytes_down"] == n * 256 * 1024, final
assert final["bytes_up"] == n * 64 * 1024, final
assert sum(l["bytes_down"] for l in seconds) <= final["bytes_down"], lines
server = dict(re.findall(r"(\w+)=(\S+)", sys.argv[2]))
assert int(server["bytes_out"]) == n * 256 * 1024, (server, n)
assert int(server["bytes_in"]) == n * (8 + 64 * 1024), (server, n)
PY

# --- SIGINT in the middle of a timed run: exit 130 at once, the run's report still printed ---------
RC=0
"$QUICC" "--$QUICC_DRIVER" --perf --download 1M --streams 2 --duration 30s "${TO[@]}" >"$TMP/intr.out" 2>"$TMP/intr.err" &
ipid=$!
bg_track "$ipid"
diag_add "$TMP/intr.err" "$TMP/intr.out"
wait_log "$TMP/intr.out" 0 '^\[ +1\.[0-9]+- +2\.' 20 || fail "SIGINT case: no second report line within 20 s"
t0=$(now_ms)
kill -INT "$ipid"
wait "$ipid" || RC=$?
took=$(( $(now_ms) - t0 ))
[ "$RC" = 130 ] || fail "SIGINT mid-run: exit $RC, expected 130"
[ "$took" -lt "$(scaled 3000)" ] || fail "SIGINT mid-run: the client took $took ms to end"
line=$(final_line intr)
[[ $line == *' requests on 2 streams' ]] || fail "SIGINT mid-run: the last line is '$line'"

# --- a server that answers with the wrong size --------------------------------------------------
start_listener "$TMP/echo.out" --echo --alpn perf --keep-open
ECHO=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")
perf more --upload 10k --download 5 "${ECHO[@]}"
[ "$RC" = 15 ] || fail "an echo (13 kB back for 5 asked): exit $RC, expected 15"
grep -q '^quicc: error: response to perf request 1: the server sent [0-9]* bytes, more than the 5 requested' "$TMP/more.err" ||
  fail "an echo answering 5: no 'more than the 5 requested' error"
perf fewer --upload 10 --download 50000 "${ECHO[@]}"
[ "$RC" = 15 ] || fail "an echo (18 bytes back for 50000 asked): exit $RC, expected 15"
grep -q "^quicc: error: response to perf request 1: the server's FIN came after 18 bytes of the 50000 requested" "$TMP/fewer.err" ||
  fail "an echo answering 50000: no 'FIN came after 18 bytes of the 50000 requested' error"

# --- a peer that does not speak perf ------------------------------------------------------------
start_listener "$TMP/plain.out" --echo --keep-open
perf alpn --download 1k --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT"
[ "$RC" = 7 ] || fail "a peer with ALPN quicc only: exit $RC, expected 7 (no ALPN agreed)"

pass "perf client: both directions on 4 streams, each direction, --duration with JSON, wrong sizes (15), no ALPN (7), SIGINT (130)"
