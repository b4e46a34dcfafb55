"""Programs on real pseudo-terminals, for tests of terminal sessions (terminal_session.sh).

Pty(argv) starts argv as the leader of a new session whose controlling terminal is a fresh
pty: stderr is the pty, stdin and stdout too unless files are given. write() types (b"\x03"
is Ctrl-C, b"\x04" Ctrl-D: the line discipline turns them into SIGINT and EOF), expect() waits
for a regular expression in what the program printed, stty() is `stty -g` of the pty.
"""
import fcntl
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time

SCALE = float(os.environ.get("QUICC_TIME_SCALE", "1") or "1")


class Failure(Exception):
    pass


def stty(path):
    with open(path, "rb") as tty:
        return subprocess.run(["stty", "-g"], stdin=tty, capture_output=True, check=True,
                              text=True).stdout.strip()


class Pty:
    def __init__(self, name, argv, stdout=None, log_dir=".", stdin=None):
        self.name = name
        self.master, self.slave = pty.openpty()
        self.path = os.ttyname(self.slave)
        # A terminal as a person's: 80 columns, the usual cooked settings of a login.
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")
        self.stty_before = stty(self.path)
        self.out = b""
        self.seen = 0  # expect() looks after this offset
        self.log_path = os.path.join(log_dir, name + ".pty")
        slave = self.slave

        def child():
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

        out = open(stdout, "wb") if stdout else slave
        inp = open(stdin, "rb") if stdin else slave
        self.proc = subprocess.Popen(argv, stdin=inp, stdout=out, stderr=slave,
                                     preexec_fn=child, close_fds=True)
        if stdout:
            out.close()
        if stdin:
            inp.close()

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.out += data
        with open(self.log_path, "ab") as log:
            log.write(data)
        return bool(data)

    def write(self, data):
        os.write(self.master, data)

    def expect(self, pattern, secs=10, what=None, anywhere=False):
        """Waits for `pattern` (bytes regex) after what earlier calls found (`anywhere`: in all
        the output, in any order with them); returns the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + secs * SCALE
        while True:
            m = regex.search(self.out, 0 if anywhere else self.seen)
            if m:
                self.seen = max(self.seen, m.end())
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("%s: no %s within %gs; it printed: %r" %
                              (self.name, what or pattern, secs * SCALE, self.out[-600:]))
            self._read(min(left, 0.2))

    def absent(self, pattern):
        return re.search(pattern, self.out) is None

    def wait(self, secs=20):
        """The exit code, once the program ended (its output read to the end)."""
        deadline = time.monotonic() + secs * SCALE
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise Failure("%s: still running after %gs; it printed: %r" %
                              (self.name, secs * SCALE, self.out[-600:]))
            self._read(0.1)
        while self._read(0.05):
            pass
        return self.proc.returncode

    def check_terminal_restored(self):
        after = stty(self.path)
        if after != self.stty_before:
            raise Failure("%s: terminal settings changed: stty -g was %s, is %s" %
                          (self.name, self.stty_before, after))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_cases(test, cases, cleanup):
    """Runs each case (those whose name contains $PTY_ONLY, if set), calling cleanup() after
    each; prints "ok: NAME" per case, or "FAIL: TEST: why" and exits 1 at the first failure."""
    only = os.environ.get("PTY_ONLY")
    try:
        for case in cases:
            if only and only not in case.__name__:
                continue
            case()
            cleanup()
            print("ok: " + case.__name__)
    except Failure as e:
        print("FAIL: %s: %s" % (test, e))
        sys.exit(1)
    finally:
        cleanup()
