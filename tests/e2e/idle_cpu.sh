#!/usr/bin/env bash
# An established connection on which neither side sends anything for 5 s must not busy-loop:
# the client's whole run (start-up and handshake included) costs < 50 ms of CPU, measured with
# getrusage (os.wait4) on the client process.
. "$(dirname "$0")/lib.sh"

# Both ends read from FIFOs that stay open and silent.
mkfifo "$TMP/listener.fifo" "$TMP/client.fifo"
sleep 30 >"$TMP/listener.fifo" &
bg_track $!
sleep 30 >"$TMP/client.fifo" &
bg_track $!
LISTENER_STDIN=$TMP/listener.fifo start_listener "$TMP/listener.out"

python3 - "$QUICC" "$QUICC_DRIVER" "$LISTENER_FP" "$LISTENER_PORT" "$TMP" <<'PY' ||
import os, signal, subprocess, sys, time
quicc, driver, fp, port, tmp = sys.argv[1:]
with open(f"{tmp}/client.fifo", "rb") as stdin, open(f"{tmp}/client.out", "wb") as out, \
        open(f"{tmp}/client.err", "wb") as err:
    p = subprocess.Popen([quicc, f"--{driver}", "-v", "--pin-sha256", fp, f"127.0.0.1:{port}"],
                         stdin=stdin, stdout=out, stderr=err)
    time.sleep(5.0)
    alive = p.poll() is None
    p.send_signal(signal.SIGKILL)
    _, status, ru = os.wait4(p.pid, 0)
cpu_ms = (ru.ru_utime + ru.ru_stime) * 1000
log = open(f"{tmp}/client.err").read()
print(f"client CPU over 5 s idle: {cpu_ms:.1f} ms (user {ru.ru_utime*1000:.1f}, sys {ru.ru_stime*1000:.1f})")
if not alive:
    sys.exit("client exited before the 5 s were up")
if "handshake_done" not in log:
    sys.exit("the connection was never established")
if cpu_ms >= 50:
    sys.exit(f"client used {cpu_ms:.1f} ms of CPU in 5 s idle, limit 50 ms")
PY
  fail "idle CPU check failed (see above)"
diag_add "$TMP/client.err"
pass "idle connection is cheap"
