#!/usr/bin/env python3
"""A UDP relay that loses and delays datagrams, for bench.py's lossy case: one client at a time,
on LISTEN_PORT, relayed to 127.0.0.1:SERVER_PORT. Each datagram, either way, is dropped with
probability --drop and otherwise, with probability --delay, held back --delay-ms before it goes
(so it may overtake nothing but is overtaken: reordering as well as delay). The random choices
come from --seed, so the same datagrams of the same run are treated the same.

  bench/lossy_relay.py LISTEN_PORT SERVER_PORT [--drop 0.05] [--delay 0.05] [--delay-ms 30] [--seed 1]

It prints "relay: ready" on stdout once both sockets are bound, and on SIGTERM the counts
(datagrams relayed, dropped and delayed each way) on stderr.
"""
import argparse
import heapq
import random
import select
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen_port", type=int)
    ap.add_argument("server_port", type=int)
    ap.add_argument("--drop", type=float, default=0.05)
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--delay-ms", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", args.listen_port))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect(("127.0.0.1", args.server_port))
    for s in (front, back):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.setblocking(False)
    client = None
    held = []  # (due, sequence, upstream?, datagram)
    seq = 0
    counts = {k: 0 for k in ("up", "down", "up_dropped", "down_dropped", "up_delayed", "down_delayed")}

    def stop(*_):
        print("relay: " + " ".join("%s=%d" % kv for kv in counts.items()), file=sys.stderr)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("relay: ready", flush=True)

    def send(upstream, data):
        try:
            if upstream:
                back.send(data)
            elif client:
                front.sendto(data, client)
        except (BlockingIOError, ConnectionRefusedError):
            pass  # a full buffer or a server not there: as good as lost

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
                if rng.random() < args.drop:
                    counts[way + "_dropped"] += 1
                    continue
                if rng.random() < args.delay:
                    counts[way + "_delayed"] += 1
                    seq += 1
                    heapq.heappush(held, (time.monotonic() + args.delay_ms / 1000, seq, upstream, data))
                    continue
                send(upstream, data)


if __name__ == "__main__":
    main()
