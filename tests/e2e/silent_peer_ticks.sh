#!/usr/bin/env bash
# A peer that never answers: quicc keeps OpenSSL's timers running while it waits, so the
# client sends a probe when the probe timeout (PTO) expires: the -vvv trace shows an Initial
# packet with a PING or CRYPTO frame at least 0.5 s after the first one; and quicc gives up with exit
# 4 (handshake timeout) when --connect-timeout expires (3 s: after 2.7 s, by 4 s).
#
# Who runs the timers depends on the driver:
#   nonblocking  quicc's own poll() loop: at -vv it logs timer-driven turns (tick wake=timeout)
#                with a finite next_timeout_ms from SSL_get_event_timeout.
#   blocking     the handshake is one blocking SSL_do_handshake call on a worker thread, so
#                quicc has no turns to log (it ticks once per blocking call that returns, and
#                this one never does); OpenSSL's assist thread runs the timers, which only the
#                probe packet shows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"

start_udp_sink
port=$SINK_PORT

t0=$(now_ms)
rc=0
qt 20 -vvv --connect-timeout 3s --pin-sha256 "$ZERO_PIN" "127.0.0.1:$port" </dev/null \
  >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
elapsed=$(( $(now_ms) - t0 ))
diag_add "$TMP/client.err"
[ "$rc" = 4 ] || fail "exited $rc, expected 4 (handshake timeout)"
[ ! -s "$TMP/client.out" ] || fail "stdout not empty"
grep -q '^quicc: error: no handshake with 127.0.0.1:'"$port"' within 3000 ms' "$TMP/client.err" ||
  fail "no 'no handshake ... within 3000 ms' error line"
# Upper bound: the deadline plus process start-up and exit on a loaded machine (the default
# --connect-timeout is 10 s); that slack, not quicc's deadline, scales with QUICC_TIME_SCALE.
[ "$elapsed" -ge 2700 ] && [ "$elapsed" -le "$(scaled_over 3000 4000)" ] ||
  fail "gave up after $elapsed ms; --connect-timeout 3s allows 2700..$(scaled_over 3000 4000) ms"

# When we sent each Initial packet that elicits an ACK (CRYPTO: the ClientHello; PING: a probe),
# as opposed to the one carrying our CONNECTION_CLOSE. The trace logs a packet's frames before
# the packet itself.
probes=$(python3 - "$TMP/client.err" <<'PY'
import re, sys
times, when, frames, state = [], None, [], None
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\[\s*([0-9.]+)ms\] trace direction=", line)
    if m:
        when = float(m.group(1))
    elif line.startswith("Sent Frame: "):
        frames.append(line[len("Sent Frame: "):].strip())
    elif line.startswith("Sent Packet"):
        state = "packet"
    elif state == "packet" and line.strip().startswith("Packet Type:"):
        if line.split(":", 1)[1].strip() == "Initial" and ("Crypto" in frames or "Ping" in frames):
            times.append(when)
        frames, state = [], None
if not times:
    sys.exit("no Initial packet with a CRYPTO or PING frame in the -vvv trace")
late = [t for t in times if t - times[0] >= 500]
if not late:
    sys.exit(f"{len(times)} ack-eliciting Initial packet(s), all within 500 ms of the first: no probe")
print(f"{len(times)} ack-eliciting Initial packets; the first probe {late[0] - times[0]:.0f} ms after the first")
PY
) || fail "no timer-driven probe: $probes"
note "$probes"

if [ "$QUICC_DRIVER" = nonblocking ]; then
  timer_ticks=$(grep -c 'tick wake=timeout' "$TMP/client.err" || true)
  [ "$timer_ticks" -ge 1 ] ||
    fail "expected timer-driven ticks (wake=timeout) from the retransmission timer, saw none"
  grep -Eq 'tick wake=[a-z_|]+ next_timeout_ms=[0-9.]+ ' "$TMP/client.err" ||
    fail "no tick with a finite next_timeout_ms"
  note "$timer_ticks timer-driven ticks in $elapsed ms"
fi
pass "silent peer: probe sent, exit 4 after $elapsed ms"
