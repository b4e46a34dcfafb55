#!/usr/bin/env bash
# A listener whose close reason holds ESC, BEL, the byte 0xff and a C1 control (U+009B, CSI, as
# UTF-8): the reason reaches the client's logs only escaped.
#   text (-v --stats, and -vvv)   stderr has no byte < 0x20 but newline, no 0x7f, is valid UTF-8
#                                 without C1 code points, and shows the reason as
#                                 \x1b[31m\x07\xff\xc2\x9bX in the close event, the error line and
#                                 the summary (and the -vvv frame trace)
#   JSON (--log-format json -v --json, and -vvv)
#                                 every stderr line is strict UTF-8 and parses as JSON; the reason
#                                 decodes to "\x1b[31m\x07\ufffd\x9bX" (U+FFFD for 0xff) in the
#                                 close event, the error event and the summary: which also shows
#                                 the reason's bytes crossed the wire as given
# The listener (its input "hi", --close-code 5 --close-reason ...) finishes its transfer and,
# as the client waits for it (--wait-peer), closes after its 1 s grace with that code and reason:
# the client's run ends with the peer's close, exit 9, the reason in its error line. The
# listener's own -v log must show the reason escaped the same way.
. "$(dirname "$0")/lib.sh"

REASON=$'\e[31m\a\xff\xc2\x9bX'
ESCAPED='\x1b[31m\x07\xff\xc2\x9bX'
printf hi >"$TMP/hi"

# run NAME ARGS...: a fresh pipe listener closing with REASON, and `printf x | quicc ARGS...
# --wait-peer` against it; the client's stderr goes to $TMP/NAME.err. Checks the exits (client 9,
# listener 0) and the listener's log.
run() {
  local name=$1 rc
  shift
  LISTENER_STDIN=$TMP/hi start_listener "$TMP/$name.listener.out" -v --close-code 5 --close-reason "$REASON"
  diag_add "$TMP/$name.err"
  rc=0
  printf x | qt 20 "$@" --wait-peer --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
  [ "$rc" = 9 ] || fail "$name: the client exited $rc, expected 9 (the peer closed with code 5)"
  [ "$(cat "$TMP/$name.out")" = hi ] || fail "$name: the client wrote '$(head -c 100 "$TMP/$name.out" | od -c | head -n 2)'"
  wait_pid "$LISTENER_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "$name: the listener exited $WAIT_RC, expected 0"
  grep -Fq "close by=local kind=application code=5 frame_type=0 reason=\"$ESCAPED\"" "$TMP/$name.listener.out.err" ||
    fail "$name: the listener did not log its close with code 5 and reason \"$ESCAPED\""
  check_text "$TMP/$name.listener.out.err" "$name (listener)"
}

# check_text FILE WHAT: FILE is safe for a terminal: no control byte but newline, no DEL, valid
# UTF-8 without C1 code points.
check_text() {
  python3 - "$1" <<'PY' || fail "$2: unsafe text on stderr (see above)"
import sys
data = open(sys.argv[1], "rb").read()
bad = sorted({f"0x{b:02x}" for b in data if (b < 0x20 and b != 0x0a) or b == 0x7f})
if bad:
    sys.exit(f"raw control bytes {', '.join(bad)} in {sys.argv[1]}")
try:
    text = data.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit(f"not UTF-8 ({e}) in {sys.argv[1]}")
c1 = sorted({f"U+{ord(c):04X}" for c in text if 0x80 <= ord(c) <= 0x9f})
if c1:
    sys.exit(f"C1 controls {', '.join(c1)} in {sys.argv[1]}")
PY
}

# check_json FILE WHAT TRACE: every line of FILE is a JSON object (strict UTF-8, no raw control
# bytes or C1 code points); the close event (by=peer, code 5), the error event and the summary
# carry the reason; with TRACE=1 a frame trace shows it too.
check_json() {
  python3 - "$1" "$3" <<'PY' || fail "$2: JSON log check failed (see above)"
import json, sys
path, want_trace = sys.argv[1], sys.argv[2] == "1"
want = "\x1b[31m\x07\ufffd\x9bX"
close = error = summary = trace = None
for n, raw in enumerate(open(path, "rb").read().split(b"\n"), 1):
    if not raw:
        continue
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.exit(f"line {n} is not UTF-8 ({e}): {raw[:200]!r}")
    if any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in line):
        sys.exit(f"line {n} holds a raw control character: {line[:200]!r}")
    try:
        obj = json.loads(line)
    except ValueError as e:
        sys.exit(f"line {n} is not JSON ({e}): {line[:200]!r}")
    if not isinstance(obj, dict):
        sys.exit(f"line {n} is not a JSON object: {line[:200]!r}")
    event = obj.get("event")
    if event == "close" and obj.get("by") == "peer":
        close = obj
    elif event == "error":
        error = obj
    elif event == "trace" and "Connection close" in obj.get("text", ""):
        trace = obj
    elif event is None and "exit_code" in obj:
        summary = obj
if not close or close.get("code") != 5 or close.get("reason") != want:
    sys.exit(f"no close event by=peer with code 5 and reason {want!r}: {close!r}")
if not error or not error.get("message", "").endswith(f"application error 0x5 ({want})"):
    sys.exit(f"no error event ending with 'application error 0x5 ({want!r})': {error!r}")
if not summary or summary.get("exit_code") != 9 or summary.get("close_reason") != want:
    sys.exit(f"no summary with exit_code 9 and close_reason {want!r}: {summary!r}")
if want_trace and (not trace or f"Reason: {want}" not in trace["text"]):
    sys.exit(f"no frame trace with 'Reason: {want!r}': {trace!r}")
print(f"{path}: every line JSON; the reason decodes to {want!r}")
PY
}

# check_escaped FILE WHAT TRACE: the reason shows escaped in FILE's close event, error line and
# --stats summary (and, with TRACE=1, in the frame trace).
check_escaped() {
  local f=$1 what=$2
  grep -Fq "close by=peer kind=application code=5 frame_type=0 reason=\"$ESCAPED\"" "$f" ||
    fail "$what: no close event with reason=\"$ESCAPED\""
  grep -Fxq "quicc: error: peer closed the connection: application error 0x5 ($ESCAPED)" "$f" ||
    fail "$what: no error line ending in 'application error 0x5 ($ESCAPED)'"
  grep -Eq "^  close_reason: +$(printf '%s' "$ESCAPED" | sed 's/[][\\.]/\\&/g')\$" "$f" ||
    fail "$what: no --stats line 'close_reason: $ESCAPED'"
  [ "$3" = 0 ] || grep -Fxq "    Reason: $ESCAPED" "$f" || fail "$what: no frame trace line '    Reason: $ESCAPED'"
}

run text -v --stats
check_text "$TMP/text.err" "text -v --stats"
check_escaped "$TMP/text.err" "text -v --stats" 0

run text3 -vvv --stats
check_text "$TMP/text3.err" "text -vvv --stats"
check_escaped "$TMP/text3.err" "text -vvv --stats" 1

run json --log-format json -v --json
check_json "$TMP/json.err" "--log-format json -v --json" 0

run json3 --log-format json -vvv --json
check_json "$TMP/json3.err" "--log-format json -vvv --json" 1

pass "a close reason with ESC, BEL, 0xff and CSI: escaped in text logs, valid JSON with U+FFFD"
