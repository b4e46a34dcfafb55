#!/usr/bin/env bash
# quicc and `cat` write to one slow pipe: `{ quicc … & cat BIG; wait; } | slow`. quicc receives
# 8 MB from a listener (`--on-eof ignore </dev/null`), cat writes 8 MB; the slow consumer is held
# back until quicc's stream is flowing, so both meet a full pipe.
#   - cat exits 0 with no error (no EAGAIN: nobody made the shared pipe non-blocking), quicc
#     exits 0, and the consumer gets both: cat's bytes are all zero, quicc's never zero, so the
#     consumer's zero bytes must number 8 MB and its other bytes must be exactly quicc's data;
#   - the pipe's file status flags, probed from the pipeline after quicc ended, lack O_NONBLOCK;
#   - the same when quicc is SIGKILLed mid-transfer: cat still succeeds, the flags are clean, and
#     what quicc wrote is an uncorrupted prefix of its data.
# Controls: the probe does see O_NONBLOCK when something sets it, and cat does fail with EAGAIN
# in this pipeline when a co-writer leaves it set (so the checks above can fail).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_delivery.sh"

SIZE=$((8 * 1024 * 1024))
# quicc's data: random bytes without zeros; cat's data: zeros.
python3 -c '
import os, sys
size, out = int(sys.argv[1]), bytearray()
while len(out) < size:
    out += os.urandom(size).replace(b"\0", b"")
sys.stdout.buffer.write(out[:size])' "$SIZE" >"$TMP/qdata"
head -c "$SIZE" /dev/zero >"$TMP/zeros"
[ "$(file_size "$TMP/qdata")" = "$SIZE" ] || fail "could not make $SIZE non-zero random bytes"

# set_nonblock FD: sets O_NONBLOCK on FD's open file description (for the controls).
set_nonblock() {
  python3 -c '
import fcntl, os, sys
fd = int(sys.argv[1])
fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)' "$1"
}

# --- controls --------------------------------------------------------------------------------
{ set_nonblock 1; nonblock_probe 1 "$TMP/probe.control"; } | cat >/dev/null
[ "$(cat "$TMP/probe.control")" = nonblock ] ||
  fail "control: the O_NONBLOCK probe says '$(cat "$TMP/probe.control")' on a pipe just made non-blocking"
{
  set_nonblock 1
  rc=0; cat "$TMP/zeros" 2>"$TMP/control.cat.err" || rc=$?
  echo "$rc" >"$TMP/control.cat.rc"
} | slow_consumer "$TMP/control.slow" "$TMP/control.gate" &
gpid=$!
bg_track "$gpid"
touch "$TMP/control.gate"
wait_pid "$gpid" 30
[ "$WAIT_RC" != 124 ] || fail "control pipeline did not finish within $(scaled 30) s"
[ "$(cat "$TMP/control.cat.rc")" != 0 ] && grep -q 'Resource temporarily unavailable' "$TMP/control.cat.err" ||
  fail "control: cat on a shared pipe left non-blocking exited $(cat "$TMP/control.cat.rc") without EAGAIN" \
       "('$(head -c 200 "$TMP/control.cat.err")'); this test could not see the fault it is for"

# shared_run NAME KILL: one `{ quicc & cat zeros; wait; } | slow` run; KILL=1 SIGKILLs quicc once
# its stream flows. Sets QRC, CRC, FLAGS_BEFORE, FLAGS_AFTER; the consumer's bytes are in NAME.slow.
shared_run() {
  local name=$1 kill=$2 qpid gpid deadline
  LISTENER_STDIN=$TMP/qdata start_listener "$TMP/$name.listener.out" -v
  {
    nonblock_probe 1 "$TMP/$name.flags.before"
    "$QUICC" "--$QUICC_DRIVER" -v --on-eof ignore --timeout 60s \
      --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" </dev/null 2>"$TMP/$name.err" &
    qpid=$!
    echo "$qpid" >"$TMP/$name.qpid"
    rc=0; cat "$TMP/zeros" 2>"$TMP/$name.cat.err" || rc=$?
    echo "$rc" >"$TMP/$name.cat.rc"
    # (stderr: bash's "Killed" notice for the SIGKILLed run)
    rc=0; { wait "$qpid" || rc=$?; } 2>/dev/null
    echo "$rc" >"$TMP/$name.quicc.rc"
    nonblock_probe 1 "$TMP/$name.flags.after"
  } | slow_consumer "$TMP/$name.slow" "$TMP/$name.gate" &
  gpid=$!
  bg_track "$gpid"
  diag_add "$TMP/$name.err" "$TMP/$name.cat.err"
  deadline=$(( $(now_ms) + $(scaled 10000) ))
  until [ -s "$TMP/$name.qpid" ]; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "$name: the pipeline did not start quicc within $(scaled 10) s"
    sleep 0.05
  done
  qpid=$(cat "$TMP/$name.qpid")
  bg_track "$qpid"
  wait_log "$TMP/$name.err" 0 'stream id=[0-9]+ change=accepted' 15 ||
    fail "$name: quicc logged no accepted stream within $(scaled 15) s (the listener has 8 MB to send)"
  if [ "$kill" = 1 ]; then
    kill -9 "$qpid"
    deadline=$(( $(now_ms) + $(scaled 5000) ))
    while kill -0 "$qpid" 2>/dev/null; do
      [ "$(now_ms)" -lt "$deadline" ] || fail "$name: quicc survived SIGKILL for $(scaled 5) s"
      sleep 0.05
    done
  fi
  touch "$TMP/$name.gate"
  wait_pid "$gpid" 90
  [ "$WAIT_RC" != 124 ] || fail "$name: the pipeline still runs after $(scaled 90) s"
  bg_forget "$qpid"
  QRC=$(cat "$TMP/$name.quicc.rc")
  CRC=$(cat "$TMP/$name.cat.rc")
  FLAGS_BEFORE=$(cat "$TMP/$name.flags.before")
  FLAGS_AFTER=$(cat "$TMP/$name.flags.after")
  [ "$FLAGS_BEFORE" = block ] || fail "$name: the shared pipe was non-blocking before quicc started"
}

# split_output NAME: counts the consumer's zero bytes (cat's) into ZEROS and writes its other
# bytes (quicc's) to NAME.quicc.
split_output() {
  ZEROS=$(tr -cd '\000' <"$TMP/$1.slow" | wc -c)
  tr -d '\000' <"$TMP/$1.slow" >"$TMP/$1.quicc"
}

# --- quicc runs to the end ---------------------------------------------------------------------
shared_run whole 0
split_output whole
note "whole run: quicc exit $QRC, cat exit $CRC, consumer got $(file_size "$TMP/whole.slow") bytes" \
     "($ZEROS from cat, $(file_size "$TMP/whole.quicc") from quicc), pipe flags after: $FLAGS_AFTER"
[ "$CRC" = 0 ] && [ ! -s "$TMP/whole.cat.err" ] ||
  fail "whole run: cat exited $CRC writing to the pipe it shares with quicc: '$(head -c 200 "$TMP/whole.cat.err")'"
[ "$QRC" = 0 ] || fail "whole run: quicc exited $QRC, expected 0: '$(error_line "$TMP/whole.err")'"
[ "$FLAGS_AFTER" = block ] || fail "whole run: quicc left O_NONBLOCK set on the shared pipe"
[ "$ZEROS" = "$SIZE" ] || fail "whole run: the consumer got $ZEROS of cat's $SIZE bytes"
[ "$(file_size "$TMP/whole.slow")" = $((2 * SIZE)) ] ||
  fail "whole run: the consumer got $(file_size "$TMP/whole.slow") bytes, expected $SIZE + $SIZE"
cmp -s "$TMP/whole.quicc" "$TMP/qdata" || fail "whole run: quicc's bytes in the pipe differ from the listener's data"
wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" = 0 ] || fail "whole run: the listener exited $WAIT_RC, expected 0 (124: still running)"
rm -f "$TMP/whole.slow" "$TMP/whole.quicc"

# --- quicc SIGKILLed mid-transfer --------------------------------------------------------------
shared_run killed 1
split_output killed
note "killed run: quicc exit $QRC, cat exit $CRC, consumer got $(file_size "$TMP/killed.slow") bytes" \
     "($ZEROS from cat, $(file_size "$TMP/killed.quicc") from quicc), pipe flags after: $FLAGS_AFTER"
[ "$QRC" = 137 ] || fail "killed run: quicc exited $QRC, expected 137 (SIGKILL)"
[ "$CRC" = 0 ] && [ ! -s "$TMP/killed.cat.err" ] ||
  fail "killed run: cat exited $CRC after quicc was SIGKILLed: '$(head -c 200 "$TMP/killed.cat.err")'"
[ "$FLAGS_AFTER" = block ] || fail "killed run: the shared pipe is non-blocking after quicc was SIGKILLed"
[ "$ZEROS" = "$SIZE" ] || fail "killed run: the consumer got $ZEROS of cat's $SIZE bytes"
[ "$(file_size "$TMP/killed.quicc")" -lt "$SIZE" ] ||
  fail "killed run: quicc had written all $SIZE bytes before the kill; not a mid-transfer kill"
is_prefix "$TMP/killed.quicc" "$TMP/qdata" ||
  fail "killed run: what quicc wrote before the kill is not a prefix of the listener's data"
kill_now "$LISTENER_PID"

pass "quicc and cat share a slow pipe: cat never sees EAGAIN, sizes add up, O_NONBLOCK never left set (also after SIGKILL)"
