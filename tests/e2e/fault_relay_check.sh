#!/usr/bin/env bash
# tests/fault_relay.py does what the fault tests rely on: 100 datagrams of 100 bytes through it
# to a UDP socket of ours, once per fault: --corrupt 1 delivers all 100, each one bit off its
# original; --blackhole-after 3000 delivers the first 30 and swallows the rest (with
# --blackhole-way down, which only swallows what comes back, all 100; with --blackhole-for 0.5,
# 10 more sent a second later arrive); --dup 1
# delivers 200; --drop 0.5,0 drops about half of those going up (seeded: the same count each
# run) and its counts say so; with no fault, all 100 arrive unchanged, in order.
. "$(dirname "$0")/lib.sh"

python3 - "$(dirname "$0")/../fault_relay.py" <<'PY' || fail "the relay does not do what its options say (above)"
import socket, subprocess, sys, time
relay = sys.argv[1]
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
srv.settimeout(1.0)

def run(extra, later=0):
    p = subprocess.Popen([sys.executable, relay, "0", str(srv.getsockname()[1])] + extra,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = int(p.stdout.readline().split()[2])
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = [bytes([i]) * 100 for i in range(100)]
    for d in sent:
        cli.sendto(d, ("127.0.0.1", port))
    if later:
        time.sleep(1.0)
        sent += [bytes([200 + i]) * 100 for i in range(later)]
        for d in sent[-later:]:
            cli.sendto(d, ("127.0.0.1", port))
    got = []
    try:
        while True:
            got.append(srv.recvfrom(2000)[0])
    except socket.timeout:
        pass
    p.terminate()
    return sent, got, p.communicate()[1].strip()

def bits_off(d):
    original = bytes([max(set(d), key=d.count)]) * len(d)
    return sum(bin(x ^ y).count("1") for x, y in zip(d, original))

sent, got, err = run([])
assert got == sent, ("no fault", len(got))
sent, got, err = run(["--corrupt", "1"])
assert len(got) == 100 and all(bits_off(d) == 1 for d in got), ("corrupt", len(got), err)
assert "up_corrupted=100" in err, err
sent, got, err = run(["--blackhole-after", "3000"])
assert got == sent[:30] and "up_blackholed=70" in err, ("blackhole", len(got), err)
sent, got, err = run(["--blackhole-after", "3000", "--blackhole-way", "down"])
assert got == sent and "up_blackholed=0" in err, ("blackhole down only", len(got), err)
sent, got, err = run(["--blackhole-after", "3000", "--blackhole-for", "0.5"], later=10)
assert got == sent[:30] + sent[100:] and "up_blackholed=70" in err, ("blackhole for", len(got), err)
sent, got, err = run(["--dup", "1"])
assert len(got) == 200 and "up_duplicated=100" in err, ("dup", len(got), err)
sent, got, err = run(["--drop", "0.5,0", "--seed", "3"])
dropped = int(err.split("up_dropped=")[1].split()[0])
assert 30 <= dropped <= 70 and len(got) == 100 - dropped, ("drop", len(got), err)
PY
pass "corrupt, blackhole (one way, for a time), duplicate, drop: as the options say"
