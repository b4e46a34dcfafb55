#!/usr/bin/env bash
# Issue 13's fault cases, each judged on its outcome, on the integrity of what arrived (sha256
# of what was sent against what was received, or: stdout is a byte prefix of the data, never
# anything else) and on its run time, which is printed (note) for every run:
#
#  (a) 7% drop each way, plus 5% of the datagrams held back 30 ms, and
#  (b) 10% drop each way: a quicc pipe listener sends 4 MiB (1 MiB under a sanitizer) from its
#      stdin to a quicc client through tests/fault_relay.py (seeded). Both exit 0, the client's
#      stdout is the data (sha256), the listener's empty, within AB_BOUND = 80 s (scaled) from
#      the client's start to both exits. Measured on this 2-core machine, loaded by other
#      builds: 3-8 s usually, 15.5 s and 20.5 s at worst (blocking); the bound is ~4x the worst.
#  (c) 30% drop each way on a small exchange (a line each way), so that it is the handshake
#      that meets the loss: 8 seeds at once, the client with --connect-timeout 4s. Each either
#      completes (client and listener exit 0, both lines arrived intact, the client within
#      30 s, the listener within 10 s of it) or the client gives up with exit 4 (handshake
#      timeout) within connect timeout + 3 s, with nothing on stdout; its listener, which never
#      got a connection through its handshake, is still waiting for a client (nc -l: a failed
#      handshake is the client's failure, the listener waits for the next one) with nothing on
#      stdout. Measured: 4.05-4.8 s for a timeout (5.4 s once); a success 0.5-7.3 s, 11 s and
#      15.7 s once each (there, a lost FIN sent again only after 12 s, the PTO backing off from
#      an RTT estimate of 1.6 s that the handshake's losses left, on loopback); the bound is
#      about twice the worst. 2 to 4 seeds of 8 complete; how many is printed.
#  (d) the server SIGKILLed mid-transfer (server_dies.sh covers kills around the end of a tiny
#      echo; this is a bulk download cut in the middle): a pipe listener sends 50 MiB (20 under a
#      sanitizer), killed once the client (--idle-timeout 6s) has written 1 MiB.
#       - through the relay (no faults; it swallows the ICMP errors a dead port draws): the
#         client exits 11 (idle timeout) no sooner than 1 s and within 6 s + 10% + 2 s
#         (the margin scaled) of the kill. With 2 s it took 2.00-2.09 s, 2.72 s under load, and
#         before a fix in about 1 run in 3 2.95-3.12 s: see the comment at the bound;
#       - directly, the client uploading too (so a datagram surely goes out after the kill): the
#         ICMP port unreachable ends it with exit 12 (network error: "the peer's port became
#         unreachable?") or 18 (port unreachable), within the same bound; measured ~30 ms.
#      In both, stdout is a byte prefix of the data, at least the 1 MiB seen before the kill and
#      less than the whole.
#  (e) ngtcp2's gtlsserver (h3 only) losing 5% of what it sends and of what it receives
#      (its own -t 0.05 -r 0.05): 4 runs of `quicc --alpn h3` sending an HTTP/3 GET (a HEADERS
#      frame, QPACK static table: lib_peers.sh's h3_get) for a 1 MB file (256 KiB under a
#      sanitizer) on the pipe's bidirectional stream: exit 0, the response's DATA frames are the
#      file (sha256), each run within 20 s (scaled; measured 0.6-3.1 s). gtlsserver's control
#      and QPACK streams are ignored with a warning (pipe mode). Every run has
#      --connect-timeout 3s --retry 2: when gtlsserver drops both datagrams of our ClientHello
#      (X25519MLKEM768 makes it 2), OpenSSL 3.5's PTO probes are Initial packets with a PING and
#      no CRYPTO, which ngtcp2 drops without state or ACK (ERR_DROP_CONN), so the ClientHello is
#      never sent again and the handshake cannot complete (seen in ~1 run in 40: exit 4 after
#      the 10 s default). Retries are counted and printed. And 2 runs of non-HTTP/3 bytes
#      ("hi\n") on that stream: nghttp3 reads them as a frame (type 0x68, a 2-byte length
#      varint 0x690a) cut short by the FIN and closes the connection with H3_FRAME_ERROR
#      (0x106); quicc, whose peer closed with an application error, must exit 9 and name the
#      code, with nothing on stdout. Skipped (noted) when gtlsserver is not installed.
#
# FAULT_CASES (default abcde) picks the cases to run, for investigating one by hand.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"
# Under a sanitizer (e) is left out by default: it checks interop under loss, not memory or
# threads (the normal phase runs it under both drivers). It once met a GET stalled at OpenSSL's
# initial 512 KiB stream window for 25 s (local run W): a lost MAX_STREAM_DATA that OpenSSL
# 3.5.7 never sent again, fixed by scripts/openssl-patches/0002 (tests/e2e/lost_credit.sh).
if [ -n "${QUICC_SANITIZER:-}" ]; then DEFAULT_CASES=abcd; else DEFAULT_CASES=abcde; fi
want() { [[ ${FAULT_CASES:-$DEFAULT_CASES} == *$1* ]]; }

AB_BOUND=80           # seconds, scaled: (a) and (b), client start to both exits
C_CONNECT_MS=4000     # (c): --connect-timeout
C_SEEDS=${FAULT_C_SEEDS:-1 2 3 4 5 6 7 8}  # (c)'s relay seeds; FAULT_C_SEEDS to pick some
C_N=$(wc -w <<<"$C_SEEDS")
D_IDLE_MS=6000        # (d): the client's --idle-timeout
D_MARGIN_MS=2000      # (d): scheduling margin over the idle timeout + 10% (scaled)
E_RUNS=4 E_BOUND=20   # (e): GET runs, seconds each (scaled)
E_RETRY=(--connect-timeout "$(scaled 3)s" --retry 2 --retry-delay 200ms)
AB_KIB=4096 D_MIB=50 E_BYTES=1000000
if [ -n "${QUICC_SANITIZER:-}" ]; then
  AB_KIB=1024 D_MIB=20 E_BYTES=262144
fi

head -c $((D_MIB * 1024 * 1024)) /dev/urandom >"$TMP/big.bin"
head -c $((AB_KIB * 1024)) "$TMP/big.bin" >"$TMP/ab.bin"

# is_prefix FILE DATA: FILE's bytes are the first bytes of DATA.
is_prefix() { cmp -s -n "$(stat -c %s "$1")" "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
# (a), (b): a few MiB, listener to client, through a lossy relay

# lossy_download NAME SEED RELAY_ARGS...
lossy_download() {
  local name=$1 seed=$2 rc t0 client_ms listener_ms
  shift 2
  LISTENER_STDIN=$TMP/ab.bin start_listener "$TMP/$name.l.out" -v
  # The relay's trace: a line per datagram, whose last ones show how a failed run ended.
  start_relay "$name" "$LISTENER_PORT" "$@" --seed "$seed" --trace "$TMP/$name.relay.trace"
  diag_add "$TMP/$name.c.err" "$TMP/$name.relay.trace"
  t0=$(now_ms)
  rc=0
  qt $((AB_BOUND + 5)) -v --pin-sha256 "$LISTENER_FP" "127.0.0.1:$RELAY_PORT" </dev/null \
    >"$TMP/$name.c.out" 2>"$TMP/$name.c.err" || rc=$?
  client_ms=$(( $(now_ms) - t0 ))
  wait_pid "$LISTENER_PID" 20
  listener_ms=$(( $(now_ms) - t0 ))
  stop_relay "$name" "$RELAY_PID"
  note "($name) $* seed $seed: client ${client_ms} ms (exit $rc), listener ${listener_ms} ms" \
       "(exit $WAIT_RC); $(cat "$TMP/$name.relay.err")"
  [ "$rc" != 124 ] || fail "($name) the client still ran after $(scaled $((AB_BOUND + 5))) s"
  [ "$rc" = 0 ] || fail "($name) the client exited $rc, expected 0"
  [ "$WAIT_RC" != 124 ] || fail "($name) the listener still ran $(scaled 20) s after the client exited 0"
  [ "$WAIT_RC" = 0 ] || fail "($name) the listener exited $WAIT_RC, expected 0"
  [ "$(sha "$TMP/$name.c.out")" = "$(sha "$TMP/ab.bin")" ] ||
    fail "($name) the client's stdout ($(stat -c %s "$TMP/$name.c.out") bytes) differs from the listener's $AB_KIB KiB"
  [ ! -s "$TMP/$name.l.out" ] || fail "($name) the listener wrote $(stat -c %s "$TMP/$name.l.out") bytes; the client sent none"
  [ "$listener_ms" -le $(( $(scaled "$AB_BOUND") * 1000 )) ] ||
    fail "($name) took ${listener_ms} ms, more than the $(scaled "$AB_BOUND") s bound"
  grep -qE 'up_dropped=[1-9]' "$TMP/$name.relay.err" && grep -qE 'down_dropped=[1-9]' "$TMP/$name.relay.err" ||
    fail "($name) the relay did not drop both ways: $(cat "$TMP/$name.relay.err")"
  AB_TIMES+=" $name=${listener_ms}ms"
}

AB_TIMES=""
want a && lossy_download a 13 --drop 0.07 --delay 0.05 --delay-ms 30
want b && lossy_download b 21 --drop 0.10

# ---------------------------------------------------------------------------------------------
# (c): 30% loss during a small exchange: the handshake meets it

c_client() {  # c_client SEED RELAY_PORT FP: runs in the background; writes "RC MS" to c$SEED.res
  local seed=$1 rc=0 t0
  t0=$(now_ms)
  qt 45 -v --connect-timeout "${C_CONNECT_MS}ms" --pin-sha256 "$3" "127.0.0.1:$2" \
    <"$TMP/c$seed.up" >"$TMP/c$seed.c.out" 2>"$TMP/c$seed.c.err" || rc=$?
  echo "$rc $(( $(now_ms) - t0 ))" >"$TMP/c$seed.res"
}

declare -A C_LPID C_RPID C_CPID
completed=0 timed_out=0 c_times=""
want c || C_SEEDS=""
for seed in $C_SEEDS; do
  printf 'from the listener, seed %s\n' "$seed" >"$TMP/c$seed.down"
  printf 'hi %s\n' "$seed" >"$TMP/c$seed.up"
  LISTENER_STDIN=$TMP/c$seed.down start_listener "$TMP/c$seed.l.out" -v
  C_LPID[$seed]=$LISTENER_PID
  start_relay "c$seed" "$LISTENER_PORT" --drop 0.3 --seed "$seed"
  C_RPID[$seed]=$RELAY_PID
  c_client "$seed" "$RELAY_PORT" "$LISTENER_FP" &
  C_CPID[$seed]=$!
  bg_track "$!"
  diag_add "$TMP/c$seed.c.err"
done
for seed in $C_SEEDS; do
  wait_pid "${C_CPID[$seed]}" 50
  [ "$WAIT_RC" != 124 ] || fail "(c) seed $seed: the client still ran after $(scaled 50) s"
  read -r rc ms <"$TMP/c$seed.res"
  case $rc in
    0)
      [ "$ms" -le "$(scaled_over "$C_CONNECT_MS" $((C_CONNECT_MS + 26000)))" ] ||
        fail "(c) seed $seed: the client exited 0 after ${ms} ms, more than" \
             "$(scaled_over "$C_CONNECT_MS" $((C_CONNECT_MS + 26000))) ms"
      cmp -s "$TMP/c$seed.c.out" "$TMP/c$seed.down" ||
        fail "(c) seed $seed: exit 0 but the client's stdout is not the listener's line: $(head -c 100 "$TMP/c$seed.c.out" | od -c | head -n 3)"
      wait_pid "${C_LPID[$seed]}" 10
      [ "$WAIT_RC" = 0 ] ||
        fail "(c) seed $seed: the client completed, but the listener exited $WAIT_RC" \
             "(124: still running $(scaled 10) s later), expected 0: $(tail -n 1 "$TMP/c$seed.l.out.err")"
      cmp -s "$TMP/c$seed.l.out" "$TMP/c$seed.up" ||
        fail "(c) seed $seed: the listener's stdout is not the client's line"
      completed=$((completed + 1))
      c_times+=" $seed:ok:${ms}ms" ;;
    4)
      [ "$ms" -ge $((C_CONNECT_MS - 200)) ] ||
        fail "(c) seed $seed: handshake timeout after ${ms} ms, before the ${C_CONNECT_MS} ms connect timeout"
      [ "$ms" -le "$(scaled_over "$C_CONNECT_MS" $((C_CONNECT_MS + 3000)))" ] ||
        fail "(c) seed $seed: the handshake timeout came after ${ms} ms, more than" \
             "$(scaled_over "$C_CONNECT_MS" $((C_CONNECT_MS + 3000))) ms"
      grep -q "^quicc: error: no handshake with 127.0.0.1:[0-9]* within $C_CONNECT_MS ms" "$TMP/c$seed.c.err" ||
        fail "(c) seed $seed: exit 4 without its error line"
      [ ! -s "$TMP/c$seed.c.out" ] || fail "(c) seed $seed: exit 4 (no handshake) but stdout has $(stat -c %s "$TMP/c$seed.c.out") bytes"
      # Its listener never completed a handshake: it waits for the next client (or warns that
      # this one did not finish its handshake and waits on).
      kill -0 "${C_LPID[$seed]}" 2>/dev/null ||
        fail "(c) seed $seed: the client's handshake timed out and its listener exited; it should wait for another client"
      kill_now "${C_LPID[$seed]}"
      [ ! -s "$TMP/c$seed.l.out" ] || fail "(c) seed $seed: no handshake, yet the listener wrote to stdout"
      timed_out=$((timed_out + 1))
      c_times+=" $seed:4:${ms}ms" ;;
    *)
      fail "(c) seed $seed: the client exited $rc after ${ms} ms; expected 0 (done) or 4 (handshake timeout)" ;;
  esac
  stop_relay "c$seed" "${C_RPID[$seed]}"
done
[ -z "$C_SEEDS" ] || note "(c) 30% drop, --connect-timeout ${C_CONNECT_MS}ms: $completed of $C_N completed," \
     "$timed_out timed out; seed:exit:time$c_times"

# ---------------------------------------------------------------------------------------------
# (d): the server SIGKILLed mid-transfer

# killed_server NAME VIA CLIENT_STDIN: VIA is relay or direct; sets D_RC and D_MS (kill to exit).
killed_server() {
  local name=$1 via=$2 cin=$3 port deadline cpid t_kill size_at_kill end rc size
  LISTENER_STDIN=$TMP/big.bin start_listener "$TMP/$name.l.out" -v
  port=$LISTENER_PORT
  if [ "$via" = relay ]; then
    start_relay "$name" "$LISTENER_PORT"
    port=$RELAY_PORT
  fi
  diag_add "$TMP/$name.c.err"
  (
    rc=0
    qt 30 -v --idle-timeout "${D_IDLE_MS}ms" --pin-sha256 "$LISTENER_FP" "127.0.0.1:$port" \
      <"$cin" >"$TMP/$name.c.out" 2>"$TMP/$name.c.err" || rc=$?
    echo "$rc $(now_ms)" >"$TMP/$name.res"
  ) &
  cpid=$!
  bg_track "$cpid"
  deadline=$(( $(now_ms) + $(scaled 20) * 1000 ))
  while [ "$(stat -c %s "$TMP/$name.c.out" 2>/dev/null || echo 0)" -lt 1048576 ]; do
    kill -0 "$cpid" 2>/dev/null || fail "($name) the client ended before 1 MiB arrived"
    [ "$(now_ms)" -lt "$deadline" ] || fail "($name) less than 1 MiB arrived in $(scaled 20) s"
    sleep 0.005
  done
  disown "$LISTENER_PID" 2>/dev/null || true   # (no "Killed" job notice)
  kill -KILL "$LISTENER_PID"
  t_kill=$(now_ms)
  size_at_kill=$(stat -c %s "$TMP/$name.c.out")
  kill_now "$LISTENER_PID"
  wait_pid "$cpid" 30
  [ "$WAIT_RC" != 124 ] || fail "($name) the client still ran $(scaled 30) s after the server was killed"
  read -r D_RC end <"$TMP/$name.res"
  D_MS=$((end - t_kill))
  [ "$via" != relay ] || stop_relay "$name" "$RELAY_PID"
  size=$(stat -c %s "$TMP/$name.c.out")
  note "($name) server killed at ${size_at_kill} bytes received: client exit $D_RC ${D_MS} ms" \
       "after the kill, ${size} bytes on stdout: $(tail -n 1 "$TMP/$name.c.err")"
  is_prefix "$TMP/$name.c.out" "$TMP/big.bin" ||
    fail "($name) the client's stdout ($size bytes) is not a prefix of the data"
  [ "$size" -ge "$size_at_kill" ] && [ "$size" -lt $((D_MIB * 1024 * 1024)) ] ||
    fail "($name) $size bytes on stdout: not between the $size_at_kill seen before the kill and the whole"
  local bound hint=""
  bound=$(scaled_over $((D_IDLE_MS * 11 / 10)) $((D_IDLE_MS * 11 / 10 + D_MARGIN_MS)))
  if [ "$D_MS" -gt "$bound" ]; then
    # Seen in about 1 run in 3, both drivers, before the pipe client kept an idle timer of its
    # own from the last datagram received (PipeOptions::local_idle, core/client.cpp): OpenSSL's
    # keep-alive PING, due idle/2 after our last packet, was the first ack-eliciting packet
    # since the peer's last one and restarted OpenSSL's idle timer (RFC 9000 10.1): 1.5 x the
    # idle timeout. 6 s and a 2 s margin (4 s and 1 s were 35 ms short beside two busy loops: 5435 ms) keep a loaded machine apart from
    # that (9 s).
    if [ "$D_MS" -ge $((D_IDLE_MS * 14 / 10)) ] && [ "$D_MS" -le $((D_IDLE_MS * 16 / 10 + D_MARGIN_MS)) ]; then
      hint=" (1.5 x the idle timeout: OpenSSL's keep-alive PING at idle/2 restarted the idle timer,"
      hint+=" and the client's own timer from the peer's last datagram did not end it)"
    fi
    fail "($name) the client exited $D_RC ${D_MS} ms after the kill, more than $bound ms" \
         "(idle timeout ${D_IDLE_MS} ms + 10% + margin)$hint"
  fi
}

d_relay_ms=- d_direct_ms=- D_RC=-
if want d; then
killed_server d_relay relay /dev/null
[ "$D_RC" = 11 ] || fail "(d_relay) the client exited $D_RC, expected 11 (idle timeout)"
grep -q '^quicc: error: connection idle timeout' "$TMP/d_relay.c.err" ||
  fail "(d_relay) no idle timeout error line"
[ "$D_MS" -ge 1000 ] || fail "(d_relay) idle timeout only ${D_MS} ms after the kill (--idle-timeout ${D_IDLE_MS}ms)"
d_relay_ms=$D_MS

killed_server d_direct direct "$TMP/big.bin"
case $D_RC in
  12|18) ;;
  *) fail "(d_direct) the client exited $D_RC, expected 12 (network error, port unreachable) or 18 (port unreachable)" ;;
esac
d_direct_ms=$D_MS
fi

# ---------------------------------------------------------------------------------------------
# (e): gtlsserver with its own 5% loss each way, ALPN h3

e_summary="(e) skipped: gtlsserver not installed"
want e || GTLSSERVER="" e_summary="(e) not run"
if [ -n "$GTLSSERVER" ]; then
  make_cert "$TMP/gt" server
  head -c "$E_BYTES" "$TMP/big.bin" >"$TMP/gt/doc"
  # start_gtlsserver runs $GTLSSERVER: a wrapper adds the loss options.
  printf '#!/bin/sh\nexec %s -t 0.05 -r 0.05 "$@"\n' "$GTLSSERVER" >"$TMP/gtlsserver-lossy"
  chmod +x "$TMP/gtlsserver-lossy"
  GTLSSERVER=$TMP/gtlsserver-lossy
  start_gtlsserver "$TMP/gt"
  h3_get /doc localhost >"$TMP/get.bin"
  e_times=""
  for run in $(seq 1 "$E_RUNS"); do
    diag_add "$TMP/e$run.err"
    t0=$(now_ms)
    rc=0
    qt $((E_BOUND + 5)) -v "${E_RETRY[@]}" --alpn h3 --close-code 0x100 --cafile "$TMP/gt/ca.pem" \
      "localhost:$GTLS_PORT" <"$TMP/get.bin" >"$TMP/e$run.out" 2>"$TMP/e$run.err" || rc=$?
    ms=$(( $(now_ms) - t0 ))
    e_times+=" ${ms}ms"
    retries=$(grep -c '^quicc: warning: attempt [0-9]* of [0-9]* failed' "$TMP/e$run.err" || true)
    [ "$retries" = 0 ] || e_times+="($retries retries)"
    [ "$rc" = 0 ] || fail "(e) GET run $run: exit $rc, expected 0 (${ms} ms)"
    [ "$ms" -le $(( $(scaled "$E_BOUND") * 1000 )) ] ||
      fail "(e) GET run $run took ${ms} ms, more than $(scaled "$E_BOUND") s"
    # The response: a HEADERS frame, then DATA frames whose payloads must be the document.
    python3 - "$TMP/e$run.out" "$TMP/gt/doc" <<'PY' || fail "(e) GET run $run: the response is not the document"
import hashlib, sys
data, doc = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
def varint(b, i):
    n = 1 << (b[i] >> 6)
    v = b[i] & 0x3f
    for k in range(1, n):
        v = (v << 8) | b[i + k]
    return v, i + n
i, types, body = 0, [], b""
while i < len(data):
    t, i = varint(data, i)
    n, i = varint(data, i)
    if i + n > len(data):
        sys.exit(f"frame type {t:#x} of {n} bytes cut short at {len(data)}")
    types.append(t)
    if t == 0x00:
        body += data[i:i + n]
    i += n
if not types or types[0] != 0x01:
    sys.exit(f"the first frame is not HEADERS: types {types[:5]}")
if hashlib.sha256(body).digest() != hashlib.sha256(doc).digest():
    sys.exit(f"DATA payloads: {len(body)} bytes, not the {len(doc)}-byte document")
PY
  done
  note "(e) GET of $E_BYTES bytes from gtlsserver -t 0.05 -r 0.05, $E_RUNS runs:$e_times"
  # Non-HTTP/3 bytes on the request stream: the server closes with H3_FRAME_ERROR.
  e_raw=""
  for run in 1 2; do
    diag_add "$TMP/eraw$run.err"
    t0=$(now_ms)
    rc=0
    printf 'hi\n' | qt $((E_BOUND + 5)) -v "${E_RETRY[@]}" --alpn h3 --cafile "$TMP/gt/ca.pem" \
      "localhost:$GTLS_PORT" >"$TMP/eraw$run.out" 2>"$TMP/eraw$run.err" || rc=$?
    ms=$(( $(now_ms) - t0 ))
    e_raw+=" ${ms}ms"
    retries=$(grep -c '^quicc: warning: attempt [0-9]* of [0-9]* failed' "$TMP/eraw$run.err" || true)
    [ "$retries" = 0 ] || e_raw+="($retries retries)"
    [ "$rc" = 9 ] || fail "(e) non-HTTP/3 bytes, run $run: exit $rc, expected 9 (the peer's H3_FRAME_ERROR close)"
    grep -q '^quicc: error: peer closed the connection: application error 0x106 H3_FRAME_ERROR' "$TMP/eraw$run.err" ||
      fail "(e) non-HTTP/3 bytes, run $run: the error does not name H3_FRAME_ERROR"
    [ ! -s "$TMP/eraw$run.out" ] || fail "(e) non-HTTP/3 bytes, run $run: stdout not empty"
    [ "$ms" -le $(( $(scaled "$E_BOUND") * 1000 )) ] ||
      fail "(e) non-HTTP/3 bytes, run $run took ${ms} ms, more than $(scaled "$E_BOUND") s"
  done
  note "(e) non-HTTP/3 bytes: exit 9 H3_FRAME_ERROR:$e_raw"
  e_summary="(e) $E_RUNS GETs and 2 refusals through gtlsserver's 5% loss"
fi

pass "(a,b)$AB_TIMES; (c) $completed/$C_N completed, $timed_out exit 4; (d) exit 11 ${d_relay_ms} ms / exit $D_RC ${d_direct_ms} ms after the kill; $e_summary"
