#!/usr/bin/env python3
"""Runs one command as this process's own child, waits until it is ready, optionally measures its
CPU time while it waits, signals it and times how long it takes to end.

    python3 lib_sigrun.py [OPTIONS] -- COMMAND [ARGS...]

The command is our direct child, so a signal sent to its pid reaches it (not a timeout(1) or a
shell in between), and its end is seen with wait4(): a real exit (`status=exit:130`) is told
apart from a death by a signal (`status=signal:2`), which a shell's `$?` (130 for both) cannot.

Prints one line of space-separated key=value results on stdout:
  pid=N ready_ms=N cpu_ms=N.N sent=K delay_ms=N first_delay_ms=N closing_cpu_ms=N.N
  status=exit:N|signal:N|running
  - cpu_ms: CPU time of the command (every thread, live or ended; from its process CPU clock)
    over --cpu-window seconds; "-" without a window.
  - closing_cpu_ms: CPU time from just before the first signal to the end (wait4's rusage
    minus the CPU clock then).
  - sent: how many of the --signal signals were sent before the command ended.
  - delay_ms / first_delay_ms: from the last / first signal sent to the command's end.
  - status=running: still running --exit-timeout seconds after the last signal (then killed).
Exits 0 when that line was printed, 1 (with the reason on stderr) when the command ended before
it was ready or did not become ready in time. The command never outlives this script.

QUICC_TIME_SCALE (a positive integer, default 1; see lib.sh) multiplies every wait before giving
up: --ready-timeout, --exit-timeout, the 0.3 s of quiet of --ready-stalled and the 5 s for
SIGSTOP to take hold. --settle, --cpu-window and --gap-ms are part of what is measured and are
not scaled.
"""

import argparse
import ctypes
import fcntl
import os
import re
import signal
import struct
import sys
import termios
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def time_scale():
    raw = os.environ.get("QUICC_TIME_SCALE", "") or "1"
    if not re.fullmatch(r"[1-9][0-9]?", raw):
        sys.exit(f"lib_sigrun: QUICC_TIME_SCALE must be an integer from 1 to 99 (got {raw!r})")
    return int(raw)


TIME_SCALE = time_scale()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The command's standard descriptors.
    p.add_argument("--stdin", default="/dev/null")
    p.add_argument("--stdout", default="/dev/null")
    p.add_argument("--stderr", default="/dev/null")
    p.add_argument("--drain-stdout", action="store_true",
                   help="the command's stdout is a pipe that this script reads and discards")
    p.add_argument("--stall-stdout", metavar="FIFO",
                   help="the command's stdout is FIFO, whose only reader (this script) never reads")
    p.add_argument("--stall-prefill", action="store_true",
                   help="before the command starts, another writer leaves 28,700 bytes in 14 of "
                        "the FIFO's 16 page buffers (writes of 4000 and 100 bytes in turn: a "
                        "write whose tail does not fit the last buffer starts a new one), so "
                        "that the bytes queued (FIONREAD) suggest 8 free pages where 2 are")
    p.add_argument("--pidfile", help="write the command's pid here as soon as it started")
    # When the command is ready (all of these).
    p.add_argument("--ready", nargs=2, action="append", default=[], metavar=("FILE", "REGEX"),
                   help="a line of FILE matches REGEX (repeatable)")
    p.add_argument("--ready-drained", type=int, default=0, metavar="BYTES",
                   help="--drain-stdout has read at least BYTES")
    p.add_argument("--ready-stalled", action="store_true",
                   help="the command wrote to the --stall-stdout FIFO, then nothing for 0.3 s")
    p.add_argument("--ready-timeout", type=float, default=20.0)
    # Then.
    p.add_argument("--stop-first", type=int, metavar="PID",
                   help="SIGSTOP this other process once the command is ready (before --settle)")
    p.add_argument("--settle", type=float, default=0.3,
                   help="seconds between ready and the CPU window (or the first signal)")
    p.add_argument("--cpu-window", type=float, default=0.0, metavar="SECONDS")
    p.add_argument("--signal", action="append", default=[], metavar="SIG",
                   help="INT, TERM or HUP; repeatable, sent in order")
    p.add_argument("--gap-ms", type=float, default=0.0, help="pause between two signals")
    p.add_argument("--together", action="store_true",
                   help="send every signal while the command is stopped (SIGSTOP), then SIGCONT: "
                        "each one is handled before the command runs on; delays count from SIGCONT")
    p.add_argument("--exit-timeout", type=float, default=5.0)
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    if a.command[:1] == ["--"]:
        a.command = a.command[1:]
    if not a.command:
        p.error("no command")
    if not a.signal:
        p.error("no --signal")
    if (a.stall_prefill or a.ready_stalled) and not a.stall_stdout:
        p.error("--stall-prefill and --ready-stalled need --stall-stdout")
    a.ready_timeout *= TIME_SCALE
    a.exit_timeout *= TIME_SCALE
    return a


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc = ctypes.CDLL(None, use_errno=True)


def cpu_seconds(pid):
    """CPU time of process `pid` so far, all its threads (those that ended too): its process
    CPU clock (nanoseconds), or else utime+stime from /proc/PID/stat (CLK_TCK ticks)."""
    clock, now = ctypes.c_int(), _Timespec()
    if (_libc.clock_getcpuclockid(pid, ctypes.byref(clock)) == 0
            and _libc.clock_gettime(clock.value, ctypes.byref(now)) == 0):
        return now.tv_sec + now.tv_nsec / 1e9
    # Fields after the parenthesised name, which may itself hold spaces: utime is field 14.
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def all_threads_stopped(pid):
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in ("T", "t"):
                    return False
    except FileNotFoundError:
        return False
    return True


def pending_bytes(fd):
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def status_text(wait_status):
    if os.WIFSIGNALED(wait_status):
        return f"signal:{os.WTERMSIG(wait_status)}"
    return f"exit:{os.WEXITSTATUS(wait_status)}"


def main():
    a = parse_args()
    patterns = [(path, re.compile(regex)) for path, regex in a.ready]
    signals = [getattr(signal, "SIG" + s.upper().removeprefix("SIG")) for s in a.signal]

    stall_reader = None
    drained = 0
    stdin = os.open(a.stdin, os.O_RDONLY)
    if a.drain_stdout:
        drain_fd, stdout = os.pipe()
    elif a.stall_stdout:
        if not os.path.exists(a.stall_stdout):
            os.mkfifo(a.stall_stdout)
        # A reader first, so that opening the write end does not block; it never reads.
        stall_reader = os.open(a.stall_stdout, os.O_RDONLY | os.O_NONBLOCK)
        stdout = os.open(a.stall_stdout, os.O_WRONLY)
        if a.stall_prefill:
            for _ in range(7):
                os.write(stdout, b"p" * 4000)
                os.write(stdout, b"p" * 100)
    else:
        stdout = os.open(a.stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    stderr = os.open(a.stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
                os.dup2(fd, target)
            os.closerange(3, 1 << 16)
            # Python ignores SIGPIPE, and a shell's background job ignores SIGINT: an ignored
            # signal stays ignored across exec.
            for s in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
                signal.signal(s, signal.SIG_DFL)
            os.execvp(a.command[0], a.command)
        except BaseException as e:
            os.write(2, f"lib_sigrun: cannot run {a.command[0]}: {e}\n".encode())
        os._exit(127)
    for fd in (stdin, stdout, stderr):
        os.close(fd)

    if a.drain_stdout:
        def drain():
            nonlocal drained
            while chunk := os.read(drain_fd, 1 << 16):
                drained += len(chunk)

        threading.Thread(target=drain, daemon=True).start()
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(f"{pid}\n")

    ended = None  # (wait status, monotonic time, CPU seconds of the whole run)

    def killed(signum, _frame):
        # The test is being cleaned up: the command must not outlive us.
        if ended is None:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        sys.exit(f"lib_sigrun: got signal {signum}")

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, killed)

    def poll_end():
        nonlocal ended
        if ended is None:
            got, wait_status, usage = os.wait4(pid, os.WNOHANG)
            if got == pid:
                ended = (wait_status, time.monotonic(), usage.ru_utime + usage.ru_stime)
        return ended is not None

    def die(message):
        if not poll_end():
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        sys.exit(f"lib_sigrun: {message}")

    prefilled = pending_bytes(stall_reader) if stall_reader is not None else 0
    queued = (prefilled, time.monotonic())  # bytes in the FIFO, and since when

    def stalled():
        nonlocal queued
        now_queued = pending_bytes(stall_reader)
        if now_queued != queued[0]:
            queued = (now_queued, time.monotonic())
        return now_queued > prefilled and time.monotonic() - queued[1] >= 0.3 * TIME_SCALE

    def ready():
        for path, regex in patterns:
            try:
                with open(path, errors="replace") as f:
                    if not any(regex.search(line) for line in f):
                        return False
            except FileNotFoundError:
                return False
        if a.ready_stalled and not stalled():
            return False
        return drained >= a.ready_drained

    deadline = start + a.ready_timeout
    while not ready():
        if poll_end():
            die(f"{a.command[0]} ended ({status_text(ended[0])}) before it was ready")
        if time.monotonic() > deadline:
            held = f"; its stdout FIFO holds {pending_bytes(stall_reader)} bytes" if stall_reader is not None else ""
            die(f"{a.command[0]} was not ready within {a.ready_timeout:g} s{held}")
        time.sleep(0.01)
    ready_ms = (time.monotonic() - start) * 1000

    if a.stop_first:
        os.kill(a.stop_first, signal.SIGSTOP)
    time.sleep(a.settle)
    cpu = "-"
    if a.cpu_window > 0:
        before = cpu_seconds(pid)
        time.sleep(a.cpu_window)
        if poll_end():
            die(f"{a.command[0]} ended ({status_text(ended[0])}) during the CPU window")
        cpu = f"{(cpu_seconds(pid) - before) * 1000:.1f}"
    if poll_end():
        die(f"{a.command[0]} ended ({status_text(ended[0])}) before the first signal")

    cpu_before_signals = cpu_seconds(pid)
    sent_at = []
    if a.together:
        os.kill(pid, signal.SIGSTOP)
        stop_deadline = time.monotonic() + 5 * TIME_SCALE
        while not all_threads_stopped(pid):
            if time.monotonic() > stop_deadline:
                die(f"SIGSTOP did not stop every thread within {5 * TIME_SCALE} s")
            time.sleep(0.001)
        for s in signals:
            os.kill(pid, s)
        sent_at.append(time.monotonic())
        os.kill(pid, signal.SIGCONT)
        sent_count = len(signals)
    else:
        for i, s in enumerate(signals):
            if i > 0:
                gap_end = time.monotonic() + a.gap_ms / 1000
                while time.monotonic() < gap_end and not poll_end():
                    time.sleep(0.001)
            if poll_end():
                break
            sent_at.append(time.monotonic())
            os.kill(pid, s)
        sent_count = len(sent_at)

    exit_deadline = sent_at[-1] + a.exit_timeout
    while not poll_end() and time.monotonic() < exit_deadline:
        time.sleep(0.002)
    if ended is None:
        status, delay, first_delay, closing_cpu = "running", "-", "-", "-"
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    else:
        status = status_text(ended[0])
        delay = f"{(ended[1] - sent_at[-1]) * 1000:.0f}"
        first_delay = f"{(ended[1] - sent_at[0]) * 1000:.0f}"
        closing_cpu = f"{(ended[2] - cpu_before_signals) * 1000:.1f}"
    print(f"pid={pid} ready_ms={ready_ms:.0f} cpu_ms={cpu} sent={sent_count} delay_ms={delay} "
          f"first_delay_ms={first_delay} closing_cpu_ms={closing_cpu} status={status}", flush=True)


if __name__ == "__main__":
    main()
