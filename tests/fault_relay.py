#!/usr/bin/env python3
"""A UDP relay that mistreats datagrams, for the fault tests and bench.py's lossy case: one
client at a time, on 127.0.0.1:LISTEN_PORT (0: any free port), relayed to 127.0.0.1:SERVER_PORT.

Each datagram, either way, in this order: after --blackhole-after BYTES relayed (both ways
together) or --blackhole-at SECONDS since the first datagram, dropped (only those going
--blackhole-way up or down, if given; for --blackhole-for SECONDS only, if given); else dropped with
probability --drop; else, with probability --corrupt, one random bit of it flipped; then sent,
and a second time with probability --dup; with probability --delay, the sending (both copies)
waits --delay-ms first, so that later datagrams overtake it. A rate is one number for both
directions or UP,DOWN (up: client to server). The random choices come from --seed alone, so a
run meets the same faults in the same order of datagrams. With --trace FILE, a line per
datagram: seconds since the first, up or down, its length and what became of it (sent, dropped,
blackholed, corrupted, duplicated, delayed), so that a failed run shows the timing of its end.

  tests/fault_relay.py LISTEN_PORT SERVER_PORT [--drop R] [--delay R] [--delay-ms 30] [--dup R]
                       [--corrupt R] [--blackhole-after BYTES] [--blackhole-at SECONDS]
                       [--blackhole-for SECONDS] [--blackhole-way up|down|both] [--seed 1]
                       [--trace FILE]

It prints "relay: ready PORT" on stdout once bound (PORT: the one it listens on), and at
SIGTERM or SIGINT the counts on stderr: "relay: up=N down=N up_dropped=N ..." .
"""
import argparse
import heapq
import random
import select
import signal
import socket
import sys
import time


def rates(text):
    parts = [float(p) for p in text.split(",")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not all(0 <= p <= 1 for p in parts):
        raise argparse.ArgumentTypeError("expected R or UP,DOWN, each from 0 to 1: %r" % text)
    return {"up": parts[0], "down": parts[1]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen_port", type=int)
    ap.add_argument("server_port", type=int)
    ap.add_argument("--drop", type=rates, default=rates("0"))
    ap.add_argument("--delay", type=rates, default=rates("0"))
    ap.add_argument("--delay-ms", type=float, default=30)
    ap.add_argument("--dup", type=rates, default=rates("0"))
    ap.add_argument("--corrupt", type=rates, default=rates("0"))
    ap.add_argument("--blackhole-after", type=int, default=None)
    ap.add_argument("--blackhole-at", type=float, default=None)
    ap.add_argument("--blackhole-for", type=float, default=None)
    ap.add_argument("--blackhole-way", choices=("up", "down", "both"), default="both")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trace", default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    trace = open(args.trace, "w", buffering=1 << 16) if args.trace else None

    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", args.listen_port))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect(("127.0.0.1", args.server_port))
    for s in (front, back):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.setblocking(False)
    client = None
    held = []  # (due, sequence, upstream, datagram)
    seq = 0
    relayed = 0
    first = None
    blackhole_from = None  # when the blackhole began
    counts = {}
    for way in ("up", "down"):
        for what in ("", "_dropped", "_blackholed", "_corrupted", "_duplicated", "_delayed"):
            counts[way + what] = 0

    def stop(*_):
        if trace:
            trace.close()
        print("relay: " + " ".join("%s=%d" % kv for kv in counts.items()), file=sys.stderr, flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("relay: ready %d" % front.getsockname()[1], flush=True)

    def note(way, data, verdict):
        if trace:
            trace.write("%.6f %s %d %s\n" % (time.monotonic() - first, way, len(data), verdict))

    def send(upstream, data):
        try:
            if upstream:
                back.send(data)
            elif client:
                front.sendto(data, client)
        except (BlockingIOError, ConnectionRefusedError):
            pass  # a full buffer, or a server that is gone: as good as lost

    while True:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, upstream, data = heapq.heappop(held)
            send(upstream, data)
        timeout = max(0.0, held[0][0] - now) if held else 1.0
        readable, _, _ = select.select([front, back], [], [], timeout)
        for sock in readable:
            upstream = sock is front
            for _ in range(64):
                try:
                    if upstream:
                        data, addr = front.recvfrom(65536)
                        client = addr
                    else:
                        data = back.recv(65536)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                way = "up" if upstream else "down"
                counts[way] += 1
                if first is None:
                    first = time.monotonic()
                # Every choice is drawn for every datagram, so that one fault's rate does not
                # shift which datagrams the others hit.
                r_drop, r_corrupt, r_dup, r_delay = (rng.random() for _ in range(4))
                bit = rng.randrange(len(data) * 8) if data else 0
                now = time.monotonic()
                if blackhole_from is None and (
                        (args.blackhole_after is not None and relayed >= args.blackhole_after) or
                        (args.blackhole_at is not None and now - first >= args.blackhole_at)):
                    blackhole_from = now
                if (blackhole_from is not None and args.blackhole_way in (way, "both") and
                        (args.blackhole_for is None or now - blackhole_from < args.blackhole_for)):
                    counts[way + "_blackholed"] += 1
                    note(way, data, "blackholed")
                    continue
                relayed += len(data)
                if r_drop < args.drop[way]:
                    counts[way + "_dropped"] += 1
                    note(way, data, "dropped")
                    continue
                if r_corrupt < args.corrupt[way] and data:
                    counts[way + "_corrupted"] += 1
                    data = bytearray(data)
                    data[bit // 8] ^= 1 << (bit % 8)
                    data = bytes(data)
                verdict = "corrupted" if r_corrupt < args.corrupt[way] and data else "sent"
                copies = 1
                if r_dup < args.dup[way]:
                    counts[way + "_duplicated"] += 1
                    copies = 2
                    verdict += ",duplicated"
                if r_delay < args.delay[way]:
                    counts[way + "_delayed"] += 1
                    note(way, data, verdict + ",delayed")
                    for _ in range(copies):
                        seq += 1
                        heapq.heappush(held, (time.monotonic() + args.delay_ms / 1000, seq, upstream, data))
                    continue
                note(way, data, verdict)
                for _ in range(copies):
                    send(upstream, data)


if __name__ == "__main__":
    main()
