#!/usr/bin/env bash
# --key-update against gtlsserver: an HTTP/3 GET of a 10 MB file over a raw stream, with a key
# update requested right after the handshake. The whole file arrives after the update, and the
# -vvv trace shows our 1-RTT packets moving from key phase 0 to key phase 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

make_cert "$TMP/gt" server
head -c 10000000 /dev/urandom >"$TMP/gt/big"
start_gtlsserver "$TMP/gt"

rc=0
h3_get /big localhost | q -vvv --alpn h3 --key-update 0 --close-code 0x100 \
  --cafile "$TMP/gt/ca.pem" "localhost:$GTLS_PORT" >"$TMP/out" 2>"$TMP/trace" || rc=$?
diag_add "$TMP/trace"
[ "$rc" = 0 ] || fail "client exited $rc"
size=$(stat -c %s "$TMP/out")
# The response is HTTP/3 frames: headers plus DATA frames carrying the 10 MB.
[ "$size" -gt 10000000 ] || fail "received $size bytes, expected the 10 MB file plus framing"
grep -q 'key_update after_bytes=' "$TMP/trace" || fail "no key_update event"

python3 - "$TMP/trace" <<'PY' || fail "key phase check failed (see above)"
import re, sys
direction, phases, first_update = None, [], None
for line in open(sys.argv[1]):
    if line.startswith("Sent Packet"):
        direction = "sent"
    elif line.startswith("Received Packet"):
        direction = "received"
    elif "key_update after_bytes" in line and first_update is None:
        first_update = len(phases)
    m = re.match(r"\s+Key Phase: (\d)", line)
    if m and direction == "sent":
        phases.append(int(m.group(1)))
if first_update is None:
    sys.exit("no key_update event in the trace")
before, after = phases[:first_update], phases[first_update:]
if not before or set(before) != {0}:
    sys.exit(f"before the update: phases {set(before)} (expected only 0)")
if after.count(1) < 10:
    sys.exit(f"only {after.count(1)} packets in key phase 1 after the update")
# (The phase may flip again later: a key update the peer starts is answered with ours.)
print(f"{len(before)} packets in phase 0, then {after.count(1)} in phase 1")
PY
pass "key update; transfer continued in the new key phase"
