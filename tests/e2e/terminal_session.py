"""Terminal sessions on real pseudo-terminals (run by terminal_session.sh, which sets QUICC,
QUICC_DRIVER, TMP, QUICC_STREAM_OPENER): a quicc client and a quicc pipe listener, each on a
pty of its own, talk both ways; every escape command has its effect at the peer or in the -v
log; each way of ending (Ctrl-D, ~., ~c, ~r, Ctrl-C, the peer's close) leaves the terminal's
settings as they were (stty -g before and after); the peer's own streams show labelled on the
terminal and nowhere else; ~n, ~u and ~s send on streams of our own (the peer's replies on them
labelled); Ctrl-C works with the terminal's output stalled, SIGTERM mid-transfer closes
gracefully; --no-interactive sends ~ lines as data.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_pty import SCALE, Failure, Pty, run_cases  # noqa: E402

QUICC = os.environ["QUICC"]
DRIVER = "--" + os.environ["QUICC_DRIVER"]
TMP = os.environ["TMP"]
OPENER = os.environ.get("QUICC_STREAM_OPENER", "")
started = []


def listener(name, *args, stdout=None):
    p = Pty(name, [QUICC, DRIVER, "--listen", "127.0.0.1:0", *args], stdout=stdout, log_dir=TMP)
    started.append(p)
    port = p.expect(rb"listening on 127\.0\.0\.1:(\d+)", what="listening line").group(1)
    fp = p.expect(rb"fingerprint ([0-9A-F:]+)", what="fingerprint").group(1)
    return p, port.decode(), fp.decode()


def client(name, port, fp, *args):
    p = Pty(name, [QUICC, DRIVER, "--pin-sha256", fp, *args, "127.0.0.1:" + port], log_dir=TMP)
    started.append(p)
    return p


def want_exit(p, code, why):
    rc = p.wait()
    if rc != code:
        raise Failure("%s: exit %d, expected %d (%s); it printed: %r" %
                      (p.name, rc, code, why, p.out[-600:]))
    p.check_terminal_restored()


def connected(c, l):
    c.expect(rb"quicc: connected to 127\.0\.0\.1:\d+ \(ALPN quicc, TLS_\w+\); ~\? for commands",
             what="client's banner")
    l.expect(rb"quicc: connection from 127\.0\.0\.1:\d+ \(ALPN quicc, TLS_\w+\); ~\? for commands",
             what="listener's banner")


def talk_and_ctrl_d():
    """Acceptance 1, and Ctrl-D as the end: lines both ways, half-close, both exit 0."""
    l, port, fp = listener("talk_l")
    c = client("talk_c", port, fp)
    connected(c, l)
    c.write(b"hello from the client\n")
    l.expect(rb"hello from the client", what="the client's line")
    l.write(b"hello from the listener\n")
    c.expect(rb"hello from the listener", what="the listener's line")
    c.write(b"\x04")  # Ctrl-D: FIN, keep reading
    l.expect(rb"quicc: the peer finished sending \(FIN after 22 bytes\)", what="the FIN note")
    l.write(b"late reply\n")
    c.expect(rb"late reply", what="a reply after our FIN")
    # The listener's terminal session has the same commands.
    l.write(b"~l\n")
    l.expect(rb"quicc: stream 0 \(the peer's\): out 35 bytes, open; in 22 bytes, FIN received",
             what="~l at the listener")
    l.write(b"~i\n")
    l.expect(rb"quicc: peer 127\.0\.0\.1:\d+, ALPN quicc, .*; 22 bytes in, 35 bytes out",
             what="~i at the listener")
    l.write(b"\x04")
    c.expect(rb"quicc: the peer finished sending \(FIN after 35 bytes\)", what="the FIN note")
    want_exit(c, 0, "both sides ended with Ctrl-D")
    want_exit(l, 0, "both sides ended with Ctrl-D")


def commands_then_reset():
    """~? ~~ ~i ~l ~k at the client (-v), then ~r 7: the listener sees the reset."""
    l, port, fp = listener("cmd_l")
    c = client("cmd_c", port, fp, "-v")
    connected(c, l)
    c.write(b"~?\n")
    c.expect(rb"~c CODE \[REASON\]\s+close the connection", what="~? help")
    c.write(b"~~tilde\n")
    l.expect(rb"(?<![~])~tilde", what="~~ sent as ~")
    if not l.absent(rb"~~tilde"):
        raise Failure("cmd_l: ~~ arrived as ~~")
    c.write(b"~i\n")
    c.expect(rb"quicc: peer 127\.0\.0\.1:\d+, ALPN quicc, TLS_\w+, handshake RTT [0-9.]+ ms; "
             rb"0 bytes in, 7 bytes out", what="~i figures")
    c.write(b"~l\n")
    c.expect(rb"quicc: stream 0 \(ours\): out 7 bytes, open; in 0 bytes, open", what="~l list")
    c.write(b"~k\n")
    c.expect(rb"command name=k", what="~k in the log")
    c.expect(rb"key_update after_bytes=7", what="the key update")
    c.write(b"after the key update\n")
    l.expect(rb"after the key update", what="data after ~k")
    c.write(b"~r 7\n")
    c.expect(rb"command name=r", what="~r in the log")
    l.expect(rb"quicc: the peer reset the stream \(code 0x7\)", what="the reset at the peer")
    want_exit(c, 0, "~r 7: our side reset, then closed")
    want_exit(l, 10, "its peer reset the stream")


def fin_then_quit():
    """~f sends FIN and keeps reading; later lines are not sent; ~. closes and quits (exit 0)."""
    l, port, fp = listener("quit_l")
    c = client("quit_c", port, fp)
    connected(c, l)
    c.write(b"one\n~f\n")
    l.expect(rb"one", what="the line before ~f")
    l.expect(rb"quicc: the peer finished sending \(FIN after 4 bytes\)", what="~f's FIN")
    c.write(b"two\n")
    c.expect(rb"quicc: not sent: our side of the stream is finished", what="the not-sent note")
    l.write(b"reply\n")
    c.expect(rb"reply", what="a reply after ~f")
    c.write(b"~.\n")
    want_exit(c, 0, "~. after our data was acknowledged")
    l.expect(rb"quicc: the peer closed the connection \(application code 0x0\)",
             what="the peer's close note")
    if not l.absent(rb"two"):
        raise Failure("quit_l: a line typed after ~f arrived")
    l.kill()


def close_with_code():
    """~c 0x42 REASON: the listener is told the code and reason, and exits 9."""
    l, port, fp = listener("close_l")
    c = client("close_c", port, fp)
    connected(c, l)
    c.write(b"last words\n~c 0x42 done here\n")
    l.expect(rb"last words\r\nquicc: the peer closed the connection \(application code 0x42\): "
             rb"done here", what="the line before ~c, then ~c's close")
    want_exit(c, 0, "~c: our data acknowledged")
    want_exit(l, 9, "its peer closed with an application error")


def ctrl_c_and_peer_close():
    """Ctrl-C at the listener closes (0x1, exit 130); the client notes the close, exits 9."""
    l, port, fp = listener("intr_l")
    c = client("intr_c", port, fp)
    connected(c, l)
    l.write(b"\x03")
    c.expect(rb"quicc: the peer closed the connection \(application code 0x1\): interrupted",
             what="the peer's close note")
    want_exit(l, 130, "Ctrl-C")
    want_exit(c, 9, "the peer closed with an application error")
    # Ctrl-C at a client, mid-session.
    l, port, fp = listener("intr2_l")
    c = client("intr2_c", port, fp)
    connected(c, l)
    c.write(b"hello\n")
    l.expect(rb"hello")
    c.write(b"\x03")
    want_exit(c, 130, "Ctrl-C")
    l.expect(rb"quicc: the peer closed the connection \(application code 0x1\): interrupted",
             what="the client's close at the listener")
    l.kill()


def peer_streams_labelled():
    """The peer's own streams: labelled on the terminal (escaped), never on stdout."""
    if not OPENER:
        raise Failure("QUICC_STREAM_OPENER is not set")
    out = os.path.join(TMP, "labels.out")
    l, port, fp = listener("labels_l", stdout=out)
    pipe_data = b"the pipe's own bytes\n"
    with open(os.path.join(TMP, "labels.in"), "wb") as f:
        f.write(pipe_data)
    with open(os.path.join(TMP, "labels.in"), "rb") as f:
        peer = subprocess.Popen([OPENER, "connect", "127.0.0.1", port, "3000", "fin"],
                                stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    l.expect(rb"quicc: stream 4: bidi extra \\x1b\[2J\\x00 end", what="the bidirectional stream, labelled",
             anywhere=True)
    l.expect(rb"quicc: stream 2: uni extra \\x1b\[2J\\x00 end", what="the unidirectional stream, labelled",
             anywhere=True)
    if b"\x1b[2J" in l.out:
        raise Failure("labels_l: the peer's escape sequence reached the terminal raw")
    l.write(b"\x04")
    got, err = peer.communicate(timeout=30)
    want_exit(l, 0, "the pipe ended both ways")
    with open(out, "rb") as f:
        stdout = f.read()
    if stdout != pipe_data:
        raise Failure("labels_l: stdout is %r, expected only the pipe's bytes" % stdout)


def play(steps):
    """Runs a script of steps: (pty, bytes) types, (pty, regex, what) waits for output,
    (pty, signal) signals the program."""
    for step in steps:
        if len(step) == 3:
            step[0].expect(step[1], what=step[2])
        elif isinstance(step[1], bytes):
            step[0].write(step[1])
        else:
            os.kill(step[0].proc.pid, step[1])


def own_streams():
    """~n, ~u and ~s at the client (-v): lines go to the chosen stream, shown labelled at the
    listener; ~f and ~r end that stream alone; ~l lists them all; SIGUSR1 counts them."""
    l, port, fp = listener("own_l")
    c = client("own_c", port, fp, "-v")
    connected(c, l)
    play([
        (c, b"~n\n"),
        (c, rb"quicc: ~n: the pipe's stream is not open yet", "~n before the pipe's stream"),
        (c, b"first\n"),
        (l, rb"(?m)^first\r$", "the pipe's first line"),
        (c, b"~n\n"),
        (c, rb"command name=n", "~n in the log"),
        (c, rb"stream id=4 change=opened", "stream 4 opened"),
        (c, rb"quicc: sending on stream 4 \(bidirectional\)", "~n's note"),
        (c, b"on four\n"),
        (l, rb"quicc: stream 4: on four", "stream 4's line, labelled"),
        (c, b"~u\n"),
        (c, rb"command name=u", "~u in the log"),
        (c, rb"stream id=2 change=opened", "stream 2 opened"),
        (c, rb"quicc: sending on stream 2 \(unidirectional\)", "~u's note"),
        (c, b"on two\n"),
        (l, rb"quicc: stream 2: on two", "stream 2's line, labelled"),
        (c, signal.SIGUSR1),
        (c, rb"quicc: status: .*, 3 streams open", "the status line's streams"),
        (c, b"~s\n"),
        (c, rb"command name=s", "~s in the log"),
        (c, rb"quicc: sending on stream 0 \(the pipe's\)", "~s's note"),
        (c, b"back on the pipe\n"),
        (l, rb"(?m)^back on the pipe\r$", "the pipe's line, unlabelled"),
        (c, b"~s 4\n~f\n"),
        (c, rb"stream id=4 change=fin_sent", "~f on stream 4 in the log"),
        (l, rb"quicc: stream 4 ended: FIN after 8 bytes", "stream 4's FIN at the peer"),
        # The listener ends its half of an extra stream once the peer's half ended: an empty FIN.
        (c, rb"quicc: stream 4 ended: FIN after 0 bytes", "the listener's FIN on stream 4"),
        (c, b"~s 2\n~r 9\n"),
        (c, rb"stream id=2 change=reset_sent code=9", "~r 9 on stream 2 in the log"),
        (l, rb"quicc: stream 2 ended: reset by the peer \(code 0x9\)", "stream 2's reset at the peer"),
        (c, b"more\n"),
        (c, rb"quicc: not sent: our side of stream 2 is finished", "a line for a reset stream"),
        (c, b"~s 7\n"),
        (c, rb"quicc: ~s: no stream 7 of ours", "~s to a stream that is not ours"),
        (c, b"~s 4\n"),
        (c, rb"quicc: ~s: our side of stream 4 is finished", "~s to a finished stream"),
        (c, b"~l\n"),
        (c, rb"quicc: stream 0 \(ours\): out 23 bytes, open; in 0 bytes, open\r\n"
            rb"quicc: stream 4 \(ours\): out 8 bytes, FIN sent; in FIN received\r\n"
            rb"quicc: stream 2 \(ours, unidirectional\): out 7 bytes, reset sent \[sending here\]",
         "~l with every stream"),
        (c, b"~s 0\n"),
        (c, rb"quicc: sending on stream 0 \(the pipe's\)", "~s 0's note"),
        (l, b"reply\n"),
        (c, rb"(?m)^reply\r$", "the listener's line on the pipe"),
        (c, b"\x04"),
        (l, rb"the peer finished sending \(FIN after 23 bytes\)", "the pipe's FIN"),
        (l, b"\x04"),
    ])
    want_exit(c, 0, "the pipe ended both ways")
    want_exit(l, 0, "the pipe ended both ways")


def listener_opens_streams():
    """The listener's terminal session has ~n, ~u and ~s too (server-initiated streams 1, 3)."""
    l, port, fp = listener("lopen_l")
    c = client("lopen_c", port, fp)
    connected(c, l)
    play([
        (c, b"hi\n"),
        (l, rb"(?m)^hi\r$", "the client's line"),
        (l, b"~n\n"),
        (l, rb"quicc: ~n: send a line on the pipe's stream first", "~n before our first line"),
        (l, b"hello\n"),
        (c, rb"(?m)^hello\r$", "the listener's line"),
        (l, b"~n\nfrom the listener\n"),
        (c, rb"quicc: stream 1: from the listener", "stream 1's line, labelled"),
        (l, b"~u\none way\n"),
        (c, rb"quicc: stream 3: one way", "stream 3's line, labelled"),
        (l, b"~s\non the pipe\n"),
        (c, rb"(?m)^on the pipe\r$", "the pipe's line"),
        (l, b"~l\n"),
        (l, rb"quicc: stream 0 \(the peer's\): out 18 bytes, open; in 3 bytes, open \[sending here\]\r\n"
            rb"quicc: stream 1 \(ours\): out 18 bytes, open; in open\r\n"
            rb"quicc: stream 3 \(ours, unidirectional\): out 8 bytes, open", "~l at the listener"),
        (c, b"\x04"),
        (l, rb"the peer finished sending", "the client's FIN"),
        (l, b"\x04"),
    ])
    want_exit(c, 0, "the pipe ended both ways")
    want_exit(l, 0, "the pipe ended both ways")


def own_stream_echoed():
    """The peer's half of a ~n stream: an echo listener's reply shows labelled, then its FIN."""
    l, port, fp = listener("echo_l", "--echo")
    c = client("echo_c", port, fp)
    play([
        (c, rb"quicc: connected to", "client's banner"),
        (c, b"pipe line\n"),
        (c, rb"(?m)^pipe line\r\n(.*\r\n)*pipe line\r$", "the pipe's echo"),
        (c, b"~n\nping\n"),
        (c, rb"quicc: stream 4: ping", "the echo on stream 4, labelled"),
        (c, b"~f\n"),
        (c, rb"quicc: stream 4 ended: FIN after 5 bytes", "the echo's FIN on stream 4"),
        (c, b"~l\n"),
        (c, rb"quicc: stream 4 \(ours\): out 5 bytes, FIN sent; in FIN received", "~l"),
        (c, b"\x04"),
    ])
    want_exit(c, 0, "the pipe ended both ways")
    l.kill()


def sending_listener(name, size):
    """A pipe listener whose stdin is `size` random bytes (it sends them to its client), and a
    client of it, connected."""
    data = os.path.join(TMP, name + ".in")
    with open(data, "wb") as f:
        f.write(os.urandom(size))
    l = Pty(name + "_l", [QUICC, DRIVER, "--listen", "127.0.0.1:0"], stdin=data, log_dir=TMP)
    started.append(l)
    port = l.expect(rb"listening on 127\.0\.0\.1:(\d+)", what="listening line").group(1).decode()
    fp = l.expect(rb"fingerprint ([0-9A-F:]+)", what="fingerprint").group(1).decode()
    c = client(name + "_c", port, fp)
    c.expect(rb"quicc: connected to", what="client's banner")
    return l, c


def stalled_terminal_then_ctrl_c():
    """The peer sends 20 MB to a terminal nobody reads (stdout blocks), then Ctrl-C: exit 130."""
    l, c = sending_listener("stall", 20_000_000)
    # Nobody reads the client's terminal now: its output queue fills and its writes block.
    time.sleep(2 * SCALE)
    c.write(b"\x03")  # the line discipline also discards the queued output, as a terminal does
    want_exit(c, 130, "Ctrl-C with its terminal stalled")
    l.kill()


def sigterm_mid_transfer():
    """SIGTERM while the peer's data streams to the terminal: a graceful close, exit 143."""
    l, c = sending_listener("term", 20_000_000)
    before = len(c.out)
    while len(c.out) < before + 100_000:
        c.expect(rb"[\s\S]", what="the peer's data")
    os.kill(c.proc.pid, signal.SIGTERM)
    want_exit(c, 143, "SIGTERM mid-transfer")
    l.expect(rb"quicc: error: peer closed the connection: application error 0x1 \(interrupted\)",
             what="the client's close at the listener", secs=20)
    want_exit(l, 9, "its peer closed with an application error")


def no_interactive():
    """--no-interactive on a terminal: no banner, ~ lines are data."""
    l, port, fp = listener("raw_l")
    c = client("raw_c", port, fp, "--no-interactive")
    l.expect(rb"connection from", what="listener's banner")
    c.write(b"~k\n~.\n")
    l.expect(rb"~k\r?\n~\.", what="the ~ lines as data")
    c.write(b"\x04")
    l.write(b"\x04")
    want_exit(c, 0, "Ctrl-D both sides")
    want_exit(l, 0, "Ctrl-D both sides")
    if not c.absent(rb"~\? for commands"):
        raise Failure("raw_c: a banner without a terminal session")


cases = [talk_and_ctrl_d, commands_then_reset, fin_then_quit, close_with_code,
         ctrl_c_and_peer_close, peer_streams_labelled, own_streams, listener_opens_streams,
         own_stream_echoed,
         stalled_terminal_then_ctrl_c, sigterm_mid_transfer, no_interactive]


def cleanup():
    for p in started:
        p.kill()
    started.clear()


run_cases("terminal_session", cases, cleanup)
