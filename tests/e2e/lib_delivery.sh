# shellcheck shell=bash
# Helpers for the delivery tests (speak_first, slow_consumer, rapid_upload, shared_pipe): a slow
# consumer, a pseudo-terminal driver, a probe for O_NONBLOCK on an inherited descriptor, and the
# "delivered or named the loss" rule. Source after lib.sh.

# random_file FILE BYTES: BYTES random bytes.
random_file() { head -c "$2" /dev/urandom >"$1"; }

# file_size FILE
file_size() { stat -c %s "$1"; }

# is_prefix GOT FULL: GOT's bytes are the first bytes of FULL (an empty GOT is a prefix).
is_prefix() {
  local n
  n=$(file_size "$1")
  [ "$n" -le "$(file_size "$2")" ] && cmp -s -n "$n" "$1" "$2"
}

# The slow consumer: reads at most 64 KiB, sleeps 2 ms, repeats until EOF, and appends what it
# read to OUT. With GATE it first waits (up to 60 s, scaled) until the file GATE exists, so that
# writers meet a full pipe.
cat >"$TMP/slow_consumer.py" <<'PY'
import os, sys, time
out_path = sys.argv[1]
gate = sys.argv[2] if len(sys.argv) > 2 else ""
if gate:
    deadline = time.monotonic() + 60 * int(os.environ.get("QUICC_TIME_SCALE", "1"))
    while not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.01)
with open(out_path, "wb") as out:
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        out.write(chunk)
        time.sleep(0.002)
PY

# slow_consumer OUT [GATE]: the slow consumer on stdin (for the end of a pipeline).
slow_consumer() { python3 "$TMP/slow_consumer.py" "$@"; }

# start_slow_fifo FIFO OUT [GATE]: creates FIFO and starts a slow consumer reading it in the
# background (tracked); sets SLOW_PID. Open FIFO for writing to feed it.
start_slow_fifo() {
  local fifo=$1
  shift
  mkfifo "$fifo"
  python3 "$TMP/slow_consumer.py" "$@" <"$fifo" &
  SLOW_PID=$!
  bg_track "$SLOW_PID"
}

# nonblock_probe FD ANSWER_FILE: writes "nonblock" or "block" to ANSWER_FILE for descriptor FD
# as this process inherited it (the flag lives in the open file description all inheritors
# share). The answer goes to a file because FD is often stdout itself.
cat >"$TMP/nonblock_probe.py" <<'PY'
import fcntl, os, sys
fd, answer = int(sys.argv[1]), sys.argv[2]
with open(answer, "w") as f:
    f.write("nonblock\n" if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK else "block\n")
PY
nonblock_probe() { python3 "$TMP/nonblock_probe.py" "$1" "$2"; }

# The pseudo-terminal driver: runs a command with a new pty as its stdin and stdout (and as its
# controlling terminal, in a new session), copies what the terminal shows (the echo of typed
# text and the command's output) to SCREEN, and takes commands from its own stdin, one a line:
#   type TEXT   types TEXT and Enter
#   eof         types Ctrl-D (at the start of a line: end of input for the command)
#   hangup      closes the terminal (the command gets SIGHUP and EIO)
# When its stdin ends it waits (up to 60 s, then SIGKILL) for the command and writes its exit
# status to RC_FILE (128+N when killed by signal N).
cat >"$TMP/pty_run.py" <<'PY'
import fcntl, os, pty, subprocess, sys, termios, threading
screen_path, rc_path = sys.argv[1], sys.argv[2]
cmd = sys.argv[3:]
master, slave = pty.openpty()

def make_controlling():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)

child = subprocess.Popen(cmd, stdin=slave, stdout=slave, start_new_session=True,
                         preexec_fn=make_controlling)
os.close(slave)

def copy_screen():
    with open(screen_path, "ab", buffering=0) as screen:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            screen.write(data)

threading.Thread(target=copy_screen, daemon=True).start()
master_open = True
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("type "):
        os.write(master, line[5:].encode() + b"\n")
    elif line == "eof":
        os.write(master, b"\x04")
    elif line == "hangup" and master_open:
        os.close(master)
        master_open = False
try:
    rc = child.wait(timeout=60 * int(os.environ.get("QUICC_TIME_SCALE", "1")))
except subprocess.TimeoutExpired:
    child.kill()
    rc = child.wait()
with open(rc_path, "w") as f:
    f.write(str(rc if rc >= 0 else 128 - rc) + "\n")
PY

# await_listening ERR PID: waits (up to 10 s, scaled) until the listener PID has printed its
# listening and fingerprint lines into ERR; sets LISTENER_PORT and LISTENER_FP.
await_listening() {
  local err=$1 pid=$2 deadline
  deadline=$(( $(now_ms) + $(scaled 10000) ))
  LISTENER_PORT=
  LISTENER_FP=
  until [ -n "$LISTENER_PORT" ] && [ -n "$LISTENER_FP" ]; do
    LISTENER_PORT=$(sed -n 's/^quicc: listening on .*:\([0-9]*\)$/\1/p' "$err" 2>/dev/null | head -n1)
    LISTENER_FP=$(sed -n 's/^quicc: certificate sha256 fingerprint \([0-9A-F:]*\).*/\1/p' "$err" 2>/dev/null | head -n1)
    kill -0 "$pid" 2>/dev/null || fail "listener exited before printing its listening and fingerprint lines"
    [ "$(now_ms)" -lt "$deadline" ] || fail "listener printed no listening/fingerprint lines within $(scaled 10) s"
    sleep 0.05
  done
}

# error_line FILE: the last "quicc: error: " line of FILE (empty if none).
error_line() { grep '^quicc: error: ' "$1" | tail -n1 || true; }

# loss_count ERRFILE: the byte count the error line names (empty if it names none). The engine's
# words: "N bytes we sent were not acknowledged ...", "peer closed the connection before its
# FIN, after N bytes", "N bytes received were not written ...", "N bytes of input were never
# sent ...", "peer closed the connection with N bytes we sent unacknowledged".
loss_count() {
  error_line "$1" | grep -Eo '[0-9]+ bytes?' | head -n1 | grep -Eo '^[0-9]+' || true
}

# check_side WHAT RC ERRFILE [GOT EXPECTED]: the delivery contract for one side of a run:
#   exit 0             every byte arrived: GOT (when given) is byte-identical to EXPECTED;
#   exit 15            the error line names the loss as a byte count N > 0 (and GOT, when given,
#                      is an uncorrupted prefix of EXPECTED);
#   anything else      fails.
# Sets LOSS to the count named (empty on exit 0).
check_side() {
  local what=$1 rc=$2 err=$3 got=${4:-} expected=${5:-}
  LOSS=
  case "$rc" in
    0)
      if [ -n "$got" ]; then
        [ "$(file_size "$got")" = "$(file_size "$expected")" ] ||
          fail "$what: exit 0 but $(file_size "$got") of $(file_size "$expected") bytes arrived"
        cmp -s "$got" "$expected" || fail "$what: exit 0 but the bytes that arrived differ from the input"
      fi
      ;;
    15)
      LOSS=$(loss_count "$err")
      [ -n "$LOSS" ] && [ "$LOSS" -gt 0 ] ||
        fail "$what: exit 15 but the error line names no byte count > 0: '$(error_line "$err")'"
      if [ -n "$got" ]; then
        is_prefix "$got" "$expected" ||
          fail "$what: exit 15 and the $(file_size "$got") bytes that arrived are not a prefix of the input"
      fi
      ;;
    124) fail "$what: still running when its bound ran out (hang)" ;;
    *) fail "$what: exit $rc, expected 0 (all delivered) or 15 naming the loss; error line: '$(error_line "$err")'" ;;
  esac
}
