#!/usr/bin/env bash
# Terminal sessions: quicc on real pseudo-terminals (terminal_session.py, lib_pty.py) — lines
# both ways between a client and a pipe listener, every escape command, each way of ending with
# the terminal's settings unchanged, the peer's streams labelled on the terminal only,
# --no-interactive; and, off a terminal, a "~." line is data.
. "$(dirname "$0")/lib.sh"

[ -n "${QUICC_STREAM_OPENER:-}" ] && [ -x "$QUICC_STREAM_OPENER" ] ||
  fail "QUICC_STREAM_OPENER='${QUICC_STREAM_OPENER:-}' is not the stream_opener test peer"

# --- off a terminal, without --interactive: "~." is data like any other line
printf 'one\n~.\n~k\n' >"$TMP/typed"
start_listener "$TMP/echo" --echo
rc=0
qt 20 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" <"$TMP/typed" >"$TMP/piped.out" \
  2>"$TMP/piped.err" || rc=$?
diag_add "$TMP/piped.err"
[ "$rc" = 0 ] || fail "piped: exit $rc"
cmp -s "$TMP/piped.out" "$TMP/typed" || fail "piped: the echo is '$(od -c "$TMP/piped.out" | head -3)'"
wait_pid "$LISTENER_PID" 10

# --- on pseudo-terminals
for f in "$TMP"/*.pty; do [ -e "$f" ] && diag_add "$f"; done
export QUICC QUICC_DRIVER TMP QUICC_STREAM_OPENER
python3 "$(dirname "$0")/terminal_session.py" >"$TMP/pty.log" 2>&1 || {
  for f in "$TMP"/*.pty; do diag_add "$f"; done
  cat "$TMP/pty.log" >&2
  fail "$(grep -m1 '^FAIL' "$TMP/pty.log" || tail -1 "$TMP/pty.log")"
}
pass "$(grep -c '^ok:' "$TMP/pty.log") terminal sessions on ptys; a piped ~. line is data"
