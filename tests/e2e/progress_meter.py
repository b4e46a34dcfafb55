"""The progress meter (run by progress_meter.sh, which sets QUICC, QUICC_DRIVER, TMP, DATA: a
100 MB file). A client sends DATA to a quicc pipe listener whose stdout is read at most 50 MiB/s
(so the transfer runs for about two seconds: the meter is drawn from its first second on, every
200 ms; at 100 MiB/s a fast run, its last megabytes in the listener's buffers, was over before a
second drawing); the client's stderr is a pty, or a file:
  on the pty, the meter is drawn ("\\rquicc: in ..., out ..., N s" ESC[K) and redrawn with the
  bytes growing, and erased at the end ("\\r" ESC[K, nothing after it); exit 0;
  with stderr a file, no meter; with --no-progress or -v on the pty, none either.
A --get of DATA from a --serve listener, its stdout read as slowly: the meter too, the response
whole.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_pty import SCALE, Failure, Pty, run_cases  # noqa: E402

QUICC = os.environ["QUICC"]
DRIVER = "--" + os.environ["QUICC_DRIVER"]
TMP = os.environ["TMP"]
DATA = os.environ["DATA"]
METER = re.compile(rb"\rquicc: in [0-9.]+ k?M?G?B \([0-9.]+ k?M?G?B/s\), out ([0-9.]+ k?M?G?B) "
                   rb"\([0-9.]+ k?M?G?B/s\), \d+ s\x1b\[K")
METER_IN = re.compile(rb"\rquicc: in [0-9.]+ k?M?G?B ")
# A reader of the listener's stdout that takes 1 MiB every 20 ms at most.
SLOW_READER = ("import sys,time\n"
               "n=0\n"
               "while True:\n"
               "  b=sys.stdin.buffer.read(1<<20)\n"
               "  if not b: break\n"
               "  n+=len(b)\n"
               "  time.sleep(0.02)\n"
               "print(n)\n")
procs = []


def listener(name):
    err = os.path.join(TMP, name + ".err")
    with open(err, "wb") as e:
        reader = subprocess.Popen([sys.executable, "-c", SLOW_READER], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        l = subprocess.Popen([QUICC, DRIVER, "--listen", "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                             stdout=reader.stdin, stderr=e)
        reader.stdin.close()
    procs.extend([l, reader])
    deadline = time.monotonic() + 10 * SCALE
    while time.monotonic() < deadline:
        text = open(err, "rb").read()
        port = re.search(rb"listening on 127\.0\.0\.1:(\d+)", text)
        fp = re.search(rb"fingerprint ([0-9A-F:]+)", text)
        if port and fp:
            return l, reader, port.group(1).decode(), fp.group(1).decode()
        time.sleep(0.05)
    raise Failure("%s: the listener did not start: %r" % (name, open(err, "rb").read()))


def finish(name, l, reader):
    try:
        l.wait(timeout=60 * SCALE)
        got = reader.stdout.read()
        reader.wait(timeout=30 * SCALE)
    except subprocess.TimeoutExpired:
        raise Failure("%s: the listener or its reader did not end" % name)
    if l.returncode != 0:
        raise Failure("%s: the listener exited %d" % (name, l.returncode))
    if int(got) != os.path.getsize(DATA):
        raise Failure("%s: the listener delivered %s bytes" % (name, got.strip()))


def on_pty(name, *args):
    l, reader, port, fp = listener(name + "_l")
    c = Pty(name, [QUICC, DRIVER, "--pin-sha256", fp, *args, "127.0.0.1:" + port],
            stdout="/dev/null", stdin=DATA, log_dir=TMP)
    procs.append(c.proc)
    rc = c.wait(120)
    finish(name, l, reader)
    if rc != 0:
        raise Failure("%s: exit %d; it printed %r" % (name, rc, c.out[-400:]))
    return c.out


def meter_on_a_terminal():
    check_meter("meter", on_pty("meter"))


def check_meter(name, out):
    drawn = [m.group(1) for m in METER.finditer(out)]
    if len(set(drawn)) < 2 and name != "get":
        raise Failure("%s: the meter was not redrawn with new figures (%d drawings: %r); "
                      "stderr was %r" % (name, len(drawn), drawn, out[-400:]))
    ins = [m.group(0) for m in METER_IN.finditer(out)]
    if len(set(ins)) < 2 and name == "get":
        raise Failure("%s: the meter's bytes in did not grow (%r); stderr was %r"
                      % (name, ins[:5], out[-400:]))
    last = out.rfind(b"\rquicc: in ")
    tail = out[last:]
    end = METER.match(tail)
    if not end or tail[end.end():] != b"\r\x1b[K":
        raise Failure("%s: not erased at the end: stderr ends %r" % (name, out[-200:]))


def meter_for_get():
    served = os.path.join(TMP, "served")
    os.makedirs(served, exist_ok=True)
    target = os.path.join(served, "data")
    if not os.path.exists(target):
        os.link(DATA, target)
    err = os.path.join(TMP, "get_l.err")
    with open(err, "wb") as e:
        l = subprocess.Popen([QUICC, DRIVER, "--listen", "127.0.0.1:0", "--serve", served],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=e)
    procs.append(l)
    deadline = time.monotonic() + 10 * SCALE
    while True:
        text = open(err, "rb").read()
        port = re.search(rb"listening on 127\.0\.0\.1:(\d+)", text)
        fp = re.search(rb"fingerprint ([0-9A-F:]+)", text)
        if port and fp:
            break
        if time.monotonic() > deadline:
            raise Failure("get_l: the listener did not start: %r" % text)
        time.sleep(0.05)
    # The response goes to stdout, a FIFO read slowly: the download lasts over a second.
    fifo = os.path.join(TMP, "get.fifo")
    os.mkfifo(fifo)
    reader = subprocess.Popen(["sh", "-c", 'exec "$0" -c "$1" <"$2"', sys.executable,
                               SLOW_READER, fifo], stdout=subprocess.PIPE)
    procs.append(reader)
    c = Pty("get", [QUICC, DRIVER, "--pin-sha256", fp.group(1).decode(), "--get", "/data",
                    "127.0.0.1:" + port.group(1).decode()], stdout=fifo, log_dir=TMP)
    procs.append(c.proc)
    rc = c.wait(120)
    got = reader.communicate(timeout=30 * SCALE)[0]
    if rc != 0:
        raise Failure("get: exit %d; it printed %r" % (rc, c.out[-400:]))
    if int(got) != os.path.getsize(DATA):
        raise Failure("get: the response was %s bytes" % got.strip())
    check_meter("get", c.out)


def no_meter_in_a_file():
    l, reader, port, fp = listener("file_l")
    err = os.path.join(TMP, "file_c.err")
    with open(DATA, "rb") as i, open(err, "wb") as e:
        c = subprocess.run([QUICC, DRIVER, "--pin-sha256", fp, "127.0.0.1:" + port], stdin=i,
                           stdout=subprocess.DEVNULL, stderr=e, timeout=120 * SCALE)
    finish("file", l, reader)
    text = open(err, "rb").read()
    if c.returncode != 0 or b"\r" in text or b"quicc: in " in text:
        raise Failure("file: exit %d, stderr %r" % (c.returncode, text[-300:]))


def no_meter_asked():
    for args in (["--no-progress"], ["-v"]):
        out = on_pty("quiet", *args)
        if METER.search(out) or b"\x1b[K" in out:
            raise Failure("%s on a terminal: a meter was drawn: %r" % (args[0], out[-300:]))
        if args == ["-v"] and b"handshake_done" not in out:
            raise Failure("-v: no log on the terminal")


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
    procs.clear()


run_cases("progress_meter", [meter_on_a_terminal, meter_for_get, no_meter_in_a_file, no_meter_asked],
          cleanup)
