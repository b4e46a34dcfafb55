# shellcheck shell=bash
# One probe per option for role_parity.sh: `probe_<option> ROLE` (the long name without its
# dashes, inner dashes as underscores: --no-sni -> probe_no_sni) shows that the option took
# effect for ROLE (client | pipe | echo), and fails (lib.sh's fail) otherwise: each probe checks
# something that would not happen without the option. Probes run in a subshell of their own,
# with TMP their scratch directory, and may run in parallel with one another. Source after
# lib.sh, lib_peers.sh, lib_trace.sh, lib_write_spy.sh and lib_stream_opener.sh.
#
# Shared, read-only inputs (role_parity.sh makes them): $SHARED/pki (server.crt/key and
# ca.pem from make_cert, client.crt/key signed by the same CA, other.key: a key of another
# certificate), $SHARED/capath (the CA, hashed for --capath), $SHARED/data (2 MiB of random bytes).

# The side under test runs with this driver option (the probes of --blocking and --nonblocking
# change it); its peers always run with the CTest driver (q, qt).
SUT_DRIVER=("--$QUICC_DRIVER")

# --- Running the side under test and its peers ---------------------------------------------------

# role_args ROLE: prints the arguments that make quicc run as ROLE, one per line, for a run that
# needs no peer (refusals, --help, a listener alone).
role_args() {
  case $1 in
    client) printf '%s\n' 127.0.0.1:9 ;;
    pipe) printf '%s\n' --listen 127.0.0.1:0 ;;
    echo) printf '%s\n' --listen 127.0.0.1:0 --echo ;;
  esac
}

# sut_run NAME SECS ARGS...: `quicc ARGS` as the side under test, stdin $CIN (default
# /dev/null), stdout NAME.out, stderr NAME.err, bounded by SECS (scaled). Sets RC and ELAPSED (ms).
sut_run() {
  local name=$1 secs=$2 t0
  shift 2
  diag_add "$TMP/$name.err"
  t0=$(now_ms)
  RC=0
  timeout -k 2 "$(scaled_f "$secs")" "$QUICC" "${SUT_DRIVER[@]}" "$@" <"${CIN:-/dev/null}" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
  ELAPSED=$(( $(now_ms) - t0 ))
}

# peer_run NAME SECS ARGS...: the same for a peer (the CTest driver).
peer_run() {
  local name=$1 secs=$2 t0
  shift 2
  diag_add "$TMP/$name.err"
  t0=$(now_ms)
  RC=0
  qt "$secs" "$@" <"${CIN:-/dev/null}" >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
  ELAPSED=$(( $(now_ms) - t0 ))
}

# sut_alone ROLE NAME SECS ARGS...: sut_run of ROLE without a peer.
sut_alone() {
  local role=$1 name=$2 secs=$3
  shift 3
  local base
  mapfile -t base < <(role_args "$role")
  sut_run "$name" "$secs" "${base[@]}" "$@"
}

# await_listening PID WANT_FP FILE...: waits ($LISTEN_WAIT seconds, default 20; scaled) until
# one of FILEs holds the listener's "listening on" line (text or JSON) and, when WANT_FP is 1, its
# fingerprint. Sets SUT_ADDR, SUT_PORT, SUT_FP and TO_SUT (the arguments that make a client
# reach it).
await_listening() {
  local pid=$1 want_fp=$2 deadline line
  shift 2
  SUT_ADDR='' SUT_FP=''
  deadline=$(( $(now_ms) + $(scaled "${LISTEN_WAIT:-20}") * 1000 ))
  while :; do
    line=$(cat "$@" 2>/dev/null | grep -m1 -oE 'listening on [^ ]+|"event":"listening","local":"[^"]+"' || true)
    if [ -n "$line" ]; then
      SUT_ADDR=${line#listening on }
      SUT_ADDR=${SUT_ADDR#\"event\":\"listening\",\"local\":\"}
      SUT_ADDR=${SUT_ADDR%\"}
    fi
    line=$(cat "$@" 2>/dev/null | grep -m1 -oE 'fingerprint [0-9A-F:]+|"sha256":"[0-9A-F:]+"' || true)
    if [ -n "$line" ]; then
      SUT_FP=${line#fingerprint }
      SUT_FP=${SUT_FP#\"sha256\":\"}
      SUT_FP=${SUT_FP%\"}
    fi
    if [ -n "$SUT_ADDR" ] && { [ "$want_fp" = 0 ] || [ -n "$SUT_FP" ]; }; then break; fi
    kill -0 "$pid" 2>/dev/null || fail "the listener under test exited before it was listening"
    [ "$(now_ms)" -lt "$deadline" ] ||
      fail "the listener under test did not start listening within $(scaled "${LISTEN_WAIT:-20}") s"
    sleep 0.05
  done
  SUT_PORT=${SUT_ADDR##*:}
  if [ -n "$SUT_FP" ]; then
    TO_SUT=(--pin-sha256 "$SUT_FP" "127.0.0.1:$SUT_PORT")
  else
    TO_SUT=(--cafile "$SHARED/pki/ca.pem" "localhost:$SUT_PORT")
  fi
}

# sut_listen ROLE ARGS...: starts the listener under test (--listen $SUT_WHERE, default
# 127.0.0.1:0; --echo --keep-open for ROLE echo) with ARGS, stdin from $LISTENER_STDIN (default /dev/null),
# stdout sut.out, stderr sut.err; waits until it listens (its lines may go to --log-file, or be
# JSON). Sets SUT_PID and what await_listening sets.
sut_listen() {
  local role=$1 prev='' a logfile='' want_fp=1
  shift
  for a in "$@"; do
    [ "$prev" = --log-file ] && logfile=$a
    [ "$a" = --cert ] && want_fp=0
    prev=$a
  done
  local mode=()
  # An echo listener serves several clients one after the other (--keep-open) unless
  # SUT_ONE_CONNECTION is set (probe_keep_open).
  if [ "$role" = echo ]; then
    mode=(--echo)
    [ -n "${SUT_ONE_CONNECTION:-}" ] || mode+=(--keep-open)
  fi
  diag_add "$TMP/sut.err"
  "$QUICC" "${SUT_DRIVER[@]}" --listen "${SUT_WHERE:-127.0.0.1:0}" "${mode[@]}" "$@" \
    <"${LISTENER_STDIN:-/dev/null}" >"$TMP/sut.out" 2>"$TMP/sut.err" &
  SUT_PID=$!
  bg_track "$SUT_PID"
  await_listening "$SUT_PID" "$want_fp" "$TMP/sut.err" ${logfile:+"$logfile"}
}

# peer_echo ARGS...: a quicc echo listener (CTest driver) for a client under test. Sets PEER_PID,
# PEER_ERR (its stderr) and TO_PEER.
peer_echo() {
  start_listener "$TMP/peer.out" --echo --keep-open "$@"
  peer_set
}

# peer_pipe ARGS...: a quicc pipe listener (stdin $LISTENER_STDIN) for a client under test.
peer_pipe() {
  start_listener "$TMP/peer.out" "$@"
  peer_set
}

peer_set() {
  PEER_PID=$LISTENER_PID
  PEER_ERR=$TMP/peer.out.err
  if [ -n "$LISTENER_FP" ]; then
    TO_PEER=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")
  else
    TO_PEER=(--cafile "$SHARED/pki/ca.pem" "localhost:$LISTENER_PORT")
  fi
}

# session ROLE ARGS...: one short, complete session in which the side under test (ROLE) runs
# with ARGS, so that options acting on a whole run can be checked afterwards:
#   client  sends "hello" to an echo listener and gets it back, exit 0;
#   pipe    (stdin "hello") receives "hi" from a client and sends "hello" back, exit 0;
#   echo    echoes "hi" to a client, then is interrupted: exit 130 (SIGINT).
# The side under test's stderr is sut.err, its exit status SUT_RC.
session() {
  local role=$1
  shift
  case $role in
    client)
      peer_echo
      CIN=$TMP/hello sut_run sut 20 "$@" "${TO_PEER[@]}"
      SUT_RC=$RC
      [ "$RC" = 0 ] || fail "session: the client under test exited $RC"
      [ "$(cat "$TMP/sut.out")" = hello ] || fail "session: the client under test got '$(head -c 100 "$TMP/sut.out")' back"
      ;;
    pipe)
      LISTENER_STDIN=$TMP/hello sut_listen pipe "$@"
      CIN=$TMP/hi peer_run peer 20 "${TO_SUT[@]}"
      [ "$RC" = 0 ] || fail "session: the client of the pipe listener under test exited $RC"
      [ "$(cat "$TMP/peer.out")" = hello ] || fail "session: the client got '$(head -c 100 "$TMP/peer.out")'"
      wait_pid "$SUT_PID" 20
      SUT_RC=$WAIT_RC
      [ "$SUT_RC" = 0 ] || fail "session: the pipe listener under test exited $SUT_RC (124: still running)"
      [ "$(cat "$TMP/sut.out")" = hi ] || fail "session: the pipe listener wrote '$(head -c 100 "$TMP/sut.out")'"
      ;;
    echo)
      sut_listen echo "$@"
      CIN=$TMP/hi peer_run peer 20 "${TO_SUT[@]}"
      [ "$RC" = 0 ] || fail "session: the client of the echo listener under test exited $RC"
      [ "$(cat "$TMP/peer.out")" = hi ] || fail "session: the client got '$(head -c 100 "$TMP/peer.out")'"
      kill -INT "$SUT_PID"
      wait_pid "$SUT_PID" 10
      SUT_RC=$WAIT_RC
      [ "$SUT_RC" = 130 ] || fail "session: the echo listener under test exited $SUT_RC after SIGINT, expected 130"
      ;;
  esac
}

# --- Checks -------------------------------------------------------------------------------------

# want_rc WHAT WANT NAME: RC must be WANT (NAME.err is quoted otherwise).
want_rc() {
  [ "$RC" = "$2" ] ||
    fail "$1: exit $RC, expected $2 (124: killed by the time limit); stderr: $(grep -v '^\[' "$TMP/$3.err" | head -c 300 | tr '\n' '|')"
}

# has WHAT FILE ERE: FILE must have a line matching ERE.
has() {
  grep -Eq -- "$3" "$2" || fail "$1: no line matching /$3/ in ${2#"$TMP"/}"
}

# lacks WHAT FILE ERE: no line of FILE may match ERE.
lacks() {
  ! grep -Eq -- "$3" "$2" || fail "$1: ${2#"$TMP"/} has a line matching /$3/: $(grep -Em1 -- "$3" "$2")"
}

# within WHAT MS LOW HIGH: LOW <= MS <= HIGH, the upper bound scaled (QUICC_TIME_SCALE).
within() {
  local high
  high=$(scaled "$4")
  [ "$2" -ge "$3" ] && [ "$2" -le "$high" ] || fail "$1: took $2 ms, expected $3 .. $high ms"
}

# log_gap FILE FROM TO: the milliseconds between the first -v line of FILE matching the ERE FROM
# and the first after it matching TO, by the log's own timestamps (which a loaded machine does
# not skew the way polling from outside does); fails when either is missing.
log_gap() {
  python3 - "$@" <<'PY' || fail "no '$2' ... '$3' lines in ${1#"$TMP"/}"
import re, sys
start = None
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\[\s*([0-9.]+)ms\] (.*)", line)
    if not m:
        continue
    if start is None and re.search(sys.argv[2], m.group(2)):
        start = float(m.group(1))
    elif start is not None and re.search(sys.argv[3], m.group(2)):
        print(round(float(m.group(1)) - start))
        sys.exit(0)
sys.exit(1)
PY
}

# threads PID: how many threads the process has.
threads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }

# --- Probes: connection -------------------------------------------------------------------------

probe_alpn() {
  if [ "$1" = client ]; then
    peer_echo
    sut_run alpn 10 --alpn other "${TO_PEER[@]}"
    want_rc "--alpn other, listener accepting only quicc" 7 alpn
    has "--alpn other" "$TMP/alpn.err" 'ALPN'
    return
  fi
  sut_listen "$1" --alpn other
  peer_run default 10 "${TO_SUT[@]}"
  want_rc "a client offering quicc to a listener accepting only other" 7 default
  CIN=$TMP/hi peer_run other 10 -v --alpn other "${TO_SUT[@]}"
  want_rc "a client offering other" 0 other
  has "a client offering other" "$TMP/other.err" 'handshake_done alpn=other '
}

probe_sni() {
  peer_echo -vvv
  CIN=$TMP/hello sut_run sni 10 --sni probe.example "${TO_PEER[@]}"
  want_rc "--sni probe.example" 0 sni
  local sni
  sni=$(trace_sni "$PEER_ERR") || fail "--sni: $sni"
  [ "$sni" = probe.example ] || fail "--sni probe.example: the listener received server_name '$sni'"
}

probe_no_sni() {
  peer_echo -vvv
  # A host name, which the client would otherwise send.
  CIN=$TMP/hello sut_run nosni 10 --no-sni --pin-sha256 "$LISTENER_FP" "localhost:$LISTENER_PORT"
  want_rc "--no-sni localhost" 0 nosni
  local sni
  sni=$(trace_sni "$PEER_ERR") || fail "--no-sni: $sni"
  [ "$sni" = '(none)' ] || fail "--no-sni: the listener received server_name '$sni'"
}

probe_connect_to() {
  peer_echo
  CIN=$TMP/hello sut_run ct 10 --connect-to "127.0.0.1:$LISTENER_PORT" --pin-sha256 "$LISTENER_FP" \
    nosuchhost.invalid:1
  want_rc "--connect-to 127.0.0.1:PORT nosuchhost.invalid:1" 0 ct
  [ "$(cat "$TMP/ct.out")" = hello ] || fail "--connect-to: got '$(cat "$TMP/ct.out")' back"
}

# A listener's -4/-6 choose the wildcard socket of `--listen PORT`; a client's, the addresses it
# accepts for a literal.
probe_ipv4() {
  if [ "$1" = client ]; then
    sut_run v4 10 -4 --pin-sha256 "$ZERO_PIN" '[::1]:9'
    want_rc "-4 [::1]:9" 3 v4
    return
  fi
  SUT_WHERE=0 session "$1" -4
  case $SUT_ADDR in
    0.0.0.0:*) ;;
    *) fail "--listen 0 -4 listens on $SUT_ADDR, expected 0.0.0.0:PORT" ;;
  esac
}

probe_ipv6() {
  if [ "$1" = client ]; then
    sut_run v6 10 -6 --pin-sha256 "$ZERO_PIN" 127.0.0.1:9
    want_rc "-6 127.0.0.1:9" 3 v6
    return
  fi
  have_ipv6_loopback || skip "no IPv6 loopback"
  SUT_WHERE=0 sut_listen "$1" -6
  case $SUT_ADDR in
    '[::]:'*) ;;
    *) fail "--listen 0 -6 listens on $SUT_ADDR, expected [::]:PORT" ;;
  esac
  # Without -6 the socket is dual-stack and an IPv4 client gets in.
  peer_run v4 10 --pin-sha256 "$SUT_FP" "127.0.0.1:$SUT_PORT"
  want_rc "a client at 127.0.0.1 of a -6 listener (nothing listens there: exit 18)" 18 v4
  CIN=$TMP/hi peer_run v6 10 --pin-sha256 "$SUT_FP" "[::1]:$SUT_PORT"
  want_rc "a client at [::1] of a -6 listener" 0 v6
}

probe_idle_timeout() {
  local cpid t0
  hold_fifo "$TMP/client.fifo"
  case $1 in
    client)
      # OpenSSL keeps a live connection alive with PINGs: the timeout shows when the peer stops.
      peer_echo
      "$QUICC" "${SUT_DRIVER[@]}" -v --idle-timeout 1s "${TO_PEER[@]}" <"$TMP/client.fifo" \
        >/dev/null 2>"$TMP/sut.err" &
      cpid=$!
      bg_track "$cpid"
      diag_add "$TMP/sut.err"
      wait_log "$TMP/sut.err" 0 handshake_done 10 || fail "--idle-timeout 1s: no handshake_done"
      kill -STOP "$PEER_PID"
      t0=$(now_ms)
      wait_pid "$cpid" 15
      RC=$WAIT_RC
      kill_now "$PEER_PID"
      want_rc "--idle-timeout 1s, the listener stopped" 11 sut
      # At most 8 s after the stop (polled from outside), and by the client's own log no sooner
      # than 1 s after its handshake: its last packet came after that. The stop itself may come
      # a few hundred ms after the last packet on a loaded machine (took 632 ms from the stop
      # once, 1008 ms from the handshake by the log, beside an OpenSSL build).
      within "--idle-timeout 1s (the default is 30 s): idle after the listener stopped" \
        $(( $(now_ms) - t0 )) 0 8000
      within "--idle-timeout 1s: no sooner than 1 s after the handshake (the client's log)" \
        "$(log_gap "$TMP/sut.err" '^handshake_done ' '^close by=local ')" 950 8000
      ;;
    pipe)
      # The listener's own timer: the client offers the default 30 s.
      hold_fifo "$TMP/listener.fifo"
      LISTENER_STDIN=$TMP/listener.fifo sut_listen pipe -v --idle-timeout 1s
      "$QUICC" "--$QUICC_DRIVER" "${TO_SUT[@]}" <"$TMP/client.fifo" >/dev/null 2>"$TMP/peer.err" &
      bg_track $!
      wait_log "$TMP/sut.err" 0 handshake_done 10 || fail "--idle-timeout 1s: no handshake_done"
      wait_pid "$SUT_PID" 15
      RC=$WAIT_RC
      want_rc "pipe listener --idle-timeout 1s, both sides silent" 11 sut
      has "pipe listener --idle-timeout 1s" "$TMP/sut.err" 'idle'
      within "pipe listener --idle-timeout 1s (the client offers 30 s): closed after the handshake" \
        "$(log_gap "$TMP/sut.err" '^handshake_done ' '^close by=local ')" 700 8000
      ;;
    echo)
      sut_listen echo -v --idle-timeout 1s
      "$QUICC" "--$QUICC_DRIVER" "${TO_SUT[@]}" <"$TMP/client.fifo" >/dev/null 2>"$TMP/peer.err" &
      local cpid=$!
      bg_track $cpid
      wait_log "$TMP/sut.err" 0 handshake_done 10 || fail "--idle-timeout 1s: no handshake_done"
      wait_log "$TMP/sut.err" 0 'connection idle for --idle-timeout' 10 ||
        fail "echo listener --idle-timeout 1s: the silent connection was not closed as idle within $(scaled 10) s"
      wait_log "$TMP/sut.err" 0 '\] close by=local ' 5 || fail "echo listener --idle-timeout 1s: no close logged"
      within "echo listener --idle-timeout 1s (the client offers 30 s): closed after the handshake" \
        "$(log_gap "$TMP/sut.err" '^handshake_done ' '^close by=local ')" 700 8000
      # The client, still there, hears why: code 0x3, "idle".
      wait_pid "$cpid" 10
      has "echo listener --idle-timeout 1s: its client" "$TMP/peer.err" \
        '^quicc: error: peer closed the connection: application error 0x3 \(idle\)'
      ;;
  esac
}

probe_session_out() {
  peer_echo
  CIN=$TMP/hello sut_run so 10 --session-out "$TMP/session.pem" "${TO_PEER[@]}"
  want_rc "--session-out" 0 so
  [ "$(head -n1 "$TMP/session.pem" 2>/dev/null)" = '-----BEGIN SSL SESSION PARAMETERS-----' ] ||
    fail "--session-out: no PEM session in the file"
}

probe_session_in() {
  peer_echo
  CIN=$TMP/hello peer_run first 10 --session-out "$TMP/session.pem" "${TO_PEER[@]}"
  want_rc "saving a session" 0 first
  CIN=$TMP/hello sut_run si 10 -v --session-in "$TMP/session.pem" "${TO_PEER[@]}"
  want_rc "--session-in" 0 si
  has "--session-in" "$TMP/si.err" 'handshake_done .* resumed=1 '
}

# Smoke tests (client only).
probe_check() {
  peer_echo
  sut_run check 10 --check "${TO_PEER[@]}"
  want_rc "--check" 0 check
  has "--check" "$TMP/check.out" '^status: ok$'
  has "--check" "$TMP/check.out" '^alpn: quicc$'
  has "--check" "$TMP/check.out" "^cert_sha256: $LISTENER_FP\$"
}

# The listener's ephemeral certificate is valid for a day: the echo works, and the run then
# exits 17.
probe_warn_days() {
  peer_echo
  CIN=$TMP/hello sut_run wd 10 --warn-days 2 "${TO_PEER[@]}"
  want_rc "--warn-days 2, a certificate valid for a day" 17 wd
  [ "$(cat "$TMP/wd.out")" = hello ] || fail "--warn-days: the echo did not come back first"
  # The ephemeral certificate is valid for 24 h from the second it was made: checked within that
  # same second, exactly a day is left.
  has "--warn-days" "$TMP/wd.err" '^quicc: error: peer certificate expires (within a day|in 1 day), on .* \(--warn-days 2\)$'
}

probe_key_update() {
  if [ "$1" = client ]; then
    peer_echo
    CIN=$TMP/hello sut_run ku 10 -v --key-update 0 "${TO_PEER[@]}"
    want_rc "--key-update 0" 0 ku
    has "--key-update 0" "$TMP/ku.err" 'key_update after_bytes='
    return
  fi
  # A listener's key update waits until the client's handshake is confirmed (it has our
  # HANDSHAKE_DONE: an ACK from it came after). A two-byte exchange that the client closes can
  # be over before that; 1 MB cannot.
  head -c 1000000 /dev/urandom >"$TMP/mb"
  if [ "$1" = echo ]; then
    sut_listen echo -v --key-update 0
    CIN=$TMP/mb peer_run peer 20 "${TO_SUT[@]}"
    want_rc "the client of an echo listener with --key-update 0" 0 peer
    cmp -s "$TMP/mb" "$TMP/peer.out" || fail "--key-update 0 (echo): the echo differs from the input"
    kill -INT "$SUT_PID"
  else
    LISTENER_STDIN=$TMP/mb sut_listen pipe -v --key-update 0
    CIN=$TMP/hi peer_run peer 20 "${TO_SUT[@]}"
    want_rc "the client of a pipe listener with --key-update 0" 0 peer
    cmp -s "$TMP/mb" "$TMP/peer.out" || fail "--key-update 0 (pipe): the client got other bytes"
  fi
  wait_pid "$SUT_PID" 10
  has "--key-update 0" "$TMP/sut.err" 'key_update after_bytes='
}

# start_retry_relay PORT: a UDP relay on 127.0.0.1 in front of 127.0.0.1:PORT that passes
# everything a client sends, but of the listener's answers only Retry packets, so that the
# listener accepts the connection and its handshake never completes. Sets RELAY_PORT.
start_retry_relay() {
  python3 -u - "$1" "$TMP/relay.port" >"$TMP/relay.log" 2>&1 <<'PY' &
import select, socket, sys
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", 0))
back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
back.connect(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(f"{front.getsockname()[1]}\n")
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
client = None
while True:
    ready, _, _ = select.select([front, back], [], [])
    if front in ready:
        data, client = front.recvfrom(65536)
        back.send(data)
    if back in ready:
        data = back.recv(65536)
        # QUIC v1 long header, packet type Retry: the first byte's four high bits are 1111.
        if client and data and data[0] & 0xF0 == 0xF0:
            front.sendto(data, client)
PY
  bg_track $!
  diag_add "$TMP/relay.log"
  local i
  for i in $(seq 1 "$(scaled 200)"); do
    [ -s "$TMP/relay.port" ] && break
    sleep 0.05
  done
  RELAY_PORT=$(cat "$TMP/relay.port" 2>/dev/null || true)
  [ -n "$RELAY_PORT" ] || fail "the UDP relay did not start"
}

probe_connect_timeout() {
  if [ "$1" = client ]; then
    # The client's deadline covers resolving too, in a thread of its own: under TSan on a loaded
    # machine that alone has taken over 1 s (exit 3), so the timer is scaled (1 s, 6 s under
    # TSan: still short of the default 10 s, and the error line names it).
    local secs
    secs=$(scaled 1)
    start_udp_sink
    sut_run ct 10 --connect-timeout "${secs}s" --pin-sha256 "$ZERO_PIN" "127.0.0.1:$SINK_PORT"
    want_rc "--connect-timeout ${secs}s against a UDP sink" 4 ct
    has "--connect-timeout ${secs}s" "$TMP/ct.err" "within ${secs}000 ms"
    within "--connect-timeout ${secs}s (the default is 10 s)" "$ELAPSED" 700 7000
    return
  fi
  # JSON Lines: the error event, unlike the text error line, carries a timestamp.
  local gap
  sut_listen "$1" -v --log-format json --connect-timeout 1s
  start_retry_relay "$SUT_PORT"
  qt 20 --connect-timeout 15s --pin-sha256 "$SUT_FP" "127.0.0.1:$RELAY_PORT" </dev/null \
    >/dev/null 2>"$TMP/peer.err" &
  bg_track $!
  wait_log "$TMP/sut.err" 0 '"event":"connection_accepted"' 10 ||
    fail "--connect-timeout: the listener accepted no connection through the relay"
  wait_log "$TMP/sut.err" 0 '"message":"client handshake not done within 1000 ms"' 10 ||
    fail "--connect-timeout 1s: the listener did not drop the client whose handshake never completes"
  gap=$(python3 - "$TMP/sut.err" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
accepted = next(e["t_ms"] for e in events if e["event"] == "connection_accepted")
dropped = next(e["t_ms"] for e in events if e["event"] in ("error", "warning") and "handshake not done" in e["message"])
print(round(dropped - accepted))
PY
) || fail "--connect-timeout: cannot read the listener's JSON log"
  within "--connect-timeout 1s (the default is 10 s): dropped after being accepted" "$gap" 900 7000
  kill -0 "$SUT_PID" 2>/dev/null || fail "--connect-timeout: the listener exited instead of waiting for the next client"
}

# --- Probes: ending the connection ---------------------------------------------------------------

probe_timeout() {
  if [ "$1" = client ]; then
    peer_echo
    hold_fifo "$TMP/client.fifo"
    CIN=$TMP/client.fifo sut_run to 15 --timeout 1s "${TO_PEER[@]}"
  else
    sut_alone "$1" to 15 --timeout 1s
  fi
  want_rc "--timeout 1s" 14 to
  has "--timeout 1s" "$TMP/to.err" '^quicc: error: --timeout 1s reached'
  within "--timeout 1s" "$ELAPSED" 800 7000
}

probe_idle_exit() {
  if [ "$1" = client ]; then
    peer_echo
    hold_fifo "$TMP/client.fifo"
    CIN=$TMP/client.fifo sut_run ie 15 --idle-exit 1s "${TO_PEER[@]}"
  else
    sut_alone "$1" ie 15 --idle-exit 1s
  fi
  want_rc "--idle-exit 1s" 11 ie
  has "--idle-exit 1s" "$TMP/ie.err" '^quicc: error: .*\(--idle-exit\)'
  within "--idle-exit 1s" "$ELAPSED" 800 7000
}

# wait_frame FILE FRAME FIELD SECONDS: waits until the -vvv trace FILE shows a received FRAME
# (as "Received Frame: FRAME") with the line FIELD among its next four. SECONDS is scaled.
wait_frame() {
  local deadline=$(( $(now_ms) + $(scaled "$4") * 1000 ))
  until awk -v frame="Received Frame: $2" -v field="$3" '
          $0 == frame { left = 4; next }
          left > 0 { left--; if (substr($0, length($0) - length(field) + 1) == field) found = 1 }
          END { exit !found }' "$1"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# --- Probes: the peer's extra streams (stream_opener, lib_stream_opener.sh) ---------------------

# --peer-streams reject:0x7: the peer sees its extra bidirectional stream reset with code 7
# (left alone, the stream would get no answer at all).
probe_peer_streams() {
  opener_extra_files "$TMP"
  OPENER_PKI=$SHARED/pki opener_session "$1" ps open --peer-streams reject:0x7
  opener_reported ps "bidi id=$BIDI_ID read=reset:7 "
}

# --output-dir on a pipe listener: with --peer-streams accept, the peer's extra streams are
# saved there byte for byte. A client's --output-dir belongs to --get: its probe,
# probe_output_dir_client, comes with it.
probe_output_dir() {
  case $1 in
    pipe)
      opener_extra_files "$TMP"
      mkdir "$TMP/od"
      opener_session pipe od fin --peer-streams accept --output-dir "$TMP/od"
      cmp -s "$TMP/od/stream-$BIDI_ID" "$TMP/extra_bidi" ||
        fail "--output-dir: $TMP/od/stream-$BIDI_ID is not the bytes of the peer's stream $BIDI_ID"
      ;;
    client)
      declare -F probe_output_dir_client >/dev/null ||
        fail "--output-dir (client): no client probe yet"
      probe_output_dir_client
      ;;
    *) fail "--output-dir: no probe for role $1" ;;
  esac
}

probe_on_eof() {
  if [ "$1" = client ]; then
    # The listener's wire trace, not its events: a reset that arrives just before the close may
    # be reported as the close alone.
    peer_echo -vvv
    CIN=$TMP/hello sut_run eof 10 -v --on-eof reset:5 "${TO_PEER[@]}"
    has "--on-eof reset:5" "$TMP/eof.err" 'stream id=[0-9]+ change=reset_sent code=5( |$)'
    wait_frame "$PEER_ERR" "Reset stream" "App Protocol Error Code: 5" 10 ||
      fail "--on-eof reset:5: the listener received no RESET_STREAM with code 5"
    return
  fi
  sut_listen pipe -v --on-eof reset:5
  CIN=$TMP/hi peer_run peer 10 "${TO_SUT[@]}"
  want_rc "the client of a pipe listener with --on-eof reset:5" 10 peer
  has "--on-eof reset:5" "$TMP/peer.err" '0x5'
  wait_pid "$SUT_PID" 10
  has "--on-eof reset:5" "$TMP/sut.err" 'change=reset_sent code=5( |$)'
}

# stopped_peer_close ROLE WHY ARGS...: the side under test (ARGS, --on-eof close, --timeout 20s)
# sends "hi" to a peer that was stopped (SIGSTOP) after the handshake, so the bytes are never
# acknowledged. With a close that does not wait for acknowledgements the side under test exits
# 15 at once, its error line naming WHY; a graceful close would wait until --timeout (14).
# all_threads_stopped PID: waits (up to 5 s, scaled) until every thread of PID is stopped.
all_threads_stopped() {
  local pid=$1 deadline t state running
  deadline=$(( $(now_ms) + $(scaled 5) * 1000 ))
  while :; do
    running=0
    for t in /proc/"$pid"/task/*/stat; do
      state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "$t" 2>/dev/null) || continue
      [ "$state" = T ] || [ "$state" = t ] || running=1
    done
    [ "$running" = 0 ] && return 0
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.01
  done
}

stopped_peer_close() {
  local role=$1 why=$2 peer sut_pid
  shift 2
  hold_fifo "$TMP/sut.fifo"
  local feeder=$HOLD_PID
  hold_fifo "$TMP/peer.fifo"
  if [ "$role" = client ]; then
    LISTENER_STDIN=$TMP/peer.fifo peer_pipe -v
    "$QUICC" "${SUT_DRIVER[@]}" -v --on-eof close --timeout 20s "$@" "${TO_PEER[@]}" \
      <"$TMP/sut.fifo" >/dev/null 2>"$TMP/sut.err" &
    sut_pid=$!
    bg_track "$sut_pid"
    diag_add "$TMP/sut.err"
    peer=$PEER_PID
    wait_log "$PEER_ERR" 0 handshake_done 10 || fail "$why: the peer logged no handshake_done"
  else
    LISTENER_STDIN=$TMP/sut.fifo sut_listen pipe -v --on-eof close --timeout 20s "$@"
    sut_pid=$SUT_PID
    "$QUICC" "--$QUICC_DRIVER" -v "${TO_SUT[@]}" <"$TMP/peer.fifo" >/dev/null 2>"$TMP/peer.err" &
    peer=$!
    bg_track "$peer"
    diag_add "$TMP/peer.err"
    wait_log "$TMP/peer.err" 0 handshake_done 10 || fail "$why: the peer logged no handshake_done"
  fi
  wait_log "$TMP/sut.err" 0 handshake_done 10 || fail "$why: no handshake_done"
  kill -STOP "$peer"
  # Every thread stopped first: OpenSSL's assist thread (blocking driver) ACKed the data when
  # it had not stopped yet (a CI run under ASan).
  all_threads_stopped "$peer" || fail "$why: the peer's threads did not all stop"
  printf hi >"$TMP/sut.fifo"
  kill "$feeder"   # the input's last writer: EOF after "hi"
  wait_pid "$sut_pid" 30
  RC=$WAIT_RC
  kill_now "$peer"
  want_rc "$why, peer stopped" 15 sut
  has "$why" "$TMP/sut.err" \
    "^quicc: error: 2 bytes we sent were not acknowledged when the connection closed \\($why\\)\$"
}

probe_shutdown() { stopped_peer_close "$1" "--shutdown rapid" --shutdown rapid; }

probe_no_stream_flush() { stopped_peer_close "$1" --no-stream-flush --no-stream-flush; }

probe_wait_peer() {
  if [ "$1" = client ]; then
    # Without --wait-peer the client closes (by=local) once the transfer is over.
    peer_pipe -v
    CIN=$TMP/hi sut_run wp 10 -v --wait-peer "${TO_PEER[@]}"
    want_rc "--wait-peer" 0 wp
    has "--wait-peer" "$TMP/wp.err" '\] close by=peer '
    lacks "--wait-peer" "$TMP/wp.err" '\] close by=local '
    return
  fi
  # A listener leaves the close to its client for 1 s, then closes itself; with --wait-peer it
  # waits until this client (which waits too) gives up at its --timeout 6s (code 0x3).
  sut_listen pipe -v --wait-peer
  CIN=$TMP/hi peer_run peer 20 -v --wait-peer --timeout 6s "${TO_SUT[@]}"
  want_rc "a client with --wait-peer --timeout 6s" 14 peer
  wait_pid "$SUT_PID" 10
  has "pipe listener --wait-peer" "$TMP/sut.err" '\] close by=peer kind=application code=3 '
  lacks "pipe listener --wait-peer" "$TMP/sut.err" '\] close by=local '
}

# close_by_sut ROLE ARGS...: the side under test closes the connection with ARGS; sets CLOSE_LOG,
# the peer's log of that close.
close_by_sut() {
  local role=$1
  shift
  if [ "$role" = client ]; then
    peer_echo -v
    CIN=$TMP/hello sut_run close 10 "$@" "${TO_PEER[@]}"
    want_rc "client closing with $*" 0 close
    wait_log "$PEER_ERR" 0 '\] close by=peer ' 5 || fail "$*: the listener logged no close by the peer"
    CLOSE_LOG=$PEER_ERR
  else
    # The client waits for the listener to close (it would close first otherwise).
    sut_listen pipe -v "$@"
    CIN=$TMP/hi peer_run peer 10 -v --wait-peer "${TO_SUT[@]}"
    want_rc "the client of a pipe listener closing with $* (an application error)" 9 peer
    CLOSE_LOG=$TMP/peer.err
  fi
}

probe_close_code() {
  close_by_sut "$1" --close-code 0x42
  has "--close-code 0x42" "$CLOSE_LOG" '\] close by=peer kind=application code=66 '
}

probe_close_reason() {
  close_by_sut "$1" --close-code 7 --close-reason probe-bye
  has "--close-reason probe-bye" "$CLOSE_LOG" '\] close by=peer kind=application code=7 .*reason=probe-bye( |$)'
}

# slow_sink NAME: a FIFO, NAME.fifo, copied to NAME.out with a 2 s pause after the first byte.
# Whoever writes to it soon finds its output full and stops reading its stream; flow control
# then fills the stream of the side that sends, whose writes block (what makes them partial, or
# retried). Sets SINK_PID.
slow_sink() {
  mkfifo "$TMP/$1.fifo"
  { dd bs=1 count=1 status=none; sleep 2; cat; } <"$TMP/$1.fifo" >"$TMP/$1.out" &
  SINK_PID=$!
  bg_track "$SINK_PID"
}

# write_mode_probe ROLE OPTION BIT COUNTER: 2 MiB written by the side under test, watched by
# the write spy (lib_write_spy.sh): its streams get mode BIT, and under the non-blocking driver
# the spy's COUNTER (continued / moved) shows the mode at work. Under the blocking driver
# OpenSSL's blocking SSL_write_ex takes whole buffers (see ARCHITECTURE.md), so the mode set is
# all there is to see. The data goes in through an odd_feed and comes back through a
# slow_sink, so that writes do block, part way through a buffer.
write_mode_probe() {
  local role=$1 option=$2 bit=$3 counter=$4 summary want inferior
  have_write_spy || skip "gdb cannot run here: $option cannot be observed"
  want=$(sha "$SHARED/data")
  slow_sink back
  odd_feed "$SHARED/data" "$TMP/data.fifo"
  case $role in
    client)
      peer_echo
      spy_run "$TMP/spy.log" "$TMP/data.fifo" "$TMP/back.fifo" "$TMP/sut.err" "${SUT_DRIVER[@]}" \
        "$option" "${TO_PEER[@]}"
      RC=$SPY_RC
      want_rc "client $option" 0 sut
      ;;
    pipe)
      spy_start "$TMP/spy.log" "$TMP/data.fifo" "$TMP/sut.out" "$TMP/sut.err" "${SUT_DRIVER[@]}" \
        --listen 127.0.0.1:0 "$option"
      LISTEN_WAIT=60 await_listening "$SPY_PID" 1 "$TMP/sut.err"
      RC=0
      qt 60 "${TO_SUT[@]}" </dev/null >"$TMP/back.fifo" 2>"$TMP/peer.err" || RC=$?
      diag_add "$TMP/peer.err"
      want_rc "the client of a pipe listener with $option" 0 peer
      wait_pid "$SPY_PID" 30
      RC=$WAIT_RC
      want_rc "pipe listener $option" 0 sut
      ;;
    echo)
      spy_start "$TMP/spy.log" /dev/null "$TMP/sut.out" "$TMP/sut.err" "${SUT_DRIVER[@]}" \
        --listen 127.0.0.1:0 --echo --keep-open "$option"
      LISTEN_WAIT=60 await_listening "$SPY_PID" 1 "$TMP/sut.err"
      RC=0
      qt 60 "${TO_SUT[@]}" <"$TMP/data.fifo" >"$TMP/back.fifo" 2>"$TMP/peer.err" || RC=$?
      diag_add "$TMP/peer.err"
      want_rc "the client of an echo listener with $option" 0 peer
      inferior=$(spy_inferior "$SPY_PID")
      [ -n "$inferior" ] || fail "echo listener $option: no quicc process under gdb"
      kill -INT "$inferior"
      wait_pid "$SPY_PID" 30
      RC=$WAIT_RC
      want_rc "echo listener $option, interrupted" 130 sut
      ;;
  esac
  wait_pid "$SINK_PID" 10
  [ "$(sha "$TMP/back.out")" = "$want" ] || fail "$option ($role): the bytes that came back differ from the input"
  summary=$(spy_summary "$TMP/spy.log")
  note "$option ($role): $summary"
  [ $(( $(spy_field "$summary" set) & bit )) != 0 ] || fail "$option: no stream got mode bit $bit ($summary)"
  if [ "${SUT_DRIVER[*]}" = --nonblocking ]; then
    [ "$(spy_field "$summary" "$counter")" -gt 0 ] ||
      fail "$option: the spy saw no write $counter (partial: continued; retried from another buffer: moved): $summary"
  fi
}

probe_partial_write() { write_mode_probe "$1" --partial-write 1 continued; }

probe_moving_buffer() { write_mode_probe "$1" --moving-buffer 2 moved; }

# --- Probes: security -----------------------------------------------------------------------------

# trust_probe ROLE OPTION VALUE: a client trusts the listener's CA through OPTION; a listener
# verifies its client's certificate against it.
trust_probe() {
  local role=$1 option=$2 value=$3
  if [ "$role" = client ]; then
    peer_echo --cert "$SHARED/pki/server.crt" --key "$SHARED/pki/server.key"
    CIN=$TMP/hello sut_run trust 10 -v "$option" "$value" "localhost:$LISTENER_PORT"
    want_rc "client $option (a listener certificate from that CA)" 0 trust
    has "client $option" "$TMP/trust.err" 'handshake_done .* verify=ok '
    return
  fi
  sut_listen "$role" --require-client-cert "$option" "$value"
  CIN=$TMP/hi peer_run peer 10 --cert "$SHARED/pki/client.crt" --key "$SHARED/pki/client.key" \
    "${TO_SUT[@]}"
  want_rc "a client certificate from the CA in the listener's $option" 0 peer
}

probe_cafile() { trust_probe "$1" --cafile "$SHARED/pki/ca.pem"; }

probe_capath() { trust_probe "$1" --capath "$SHARED/capath"; }

probe_insecure() {
  peer_echo
  CIN=$TMP/hello sut_run ins 10 --insecure "127.0.0.1:$LISTENER_PORT"
  want_rc "--insecure against an ephemeral certificate" 0 ins
  has "--insecure" "$TMP/ins.err" '^quicc: warning: --insecure'
}

probe_require_client_cert() {
  sut_listen "$1" --require-client-cert --cafile "$SHARED/pki/ca.pem"
  peer_run nocert 10 "${TO_SUT[@]}"
  want_rc "a client without a certificate" 5 nocert
  has "--require-client-cert" "$TMP/nocert.err" 'certificate required'
}

# negotiated_probe ROLE FIELD VALUE OPTION ARG: the handshake_done line shows FIELD=VALUE when
# the side under test restricts the choice with OPTION ARG (the defaults pick something else).
negotiated_probe() {
  local role=$1 field=$2 value=$3
  shift 3
  if [ "$role" = client ]; then
    peer_echo
    CIN=$TMP/hello sut_run neg 10 -v "$@" "${TO_PEER[@]}"
    want_rc "client $*" 0 neg
    has "client $*" "$TMP/neg.err" "handshake_done .*$field=$value( |\$)"
    return
  fi
  sut_listen "$role" "$@"
  CIN=$TMP/hi peer_run peer 10 -v "${TO_SUT[@]}"
  want_rc "the client of a listener with $*" 0 peer
  has "listener $*" "$TMP/peer.err" "handshake_done .*$field=$value( |\$)"
}

probe_ciphersuites() {
  negotiated_probe "$1" cipher TLS_CHACHA20_POLY1305_SHA256 --ciphersuites TLS_CHACHA20_POLY1305_SHA256
}

probe_groups() { negotiated_probe "$1" group secp256r1 --groups P-256; }

probe_pin_sha256() {
  peer_echo
  sut_run wrong 10 --pin-sha256 "$ZERO_PIN" "127.0.0.1:$LISTENER_PORT"
  want_rc "a wrong --pin-sha256" 6 wrong
  CIN=$TMP/hello sut_run right 10 --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT"
  want_rc "the listener's --pin-sha256 (its certificate is self-signed)" 0 right
}

probe_cert() {
  if [ "$1" = client ]; then
    peer_echo --require-client-cert --cafile "$SHARED/pki/ca.pem"
    CIN=$TMP/hello sut_run cert 10 --cert "$SHARED/pki/client.crt" --key "$SHARED/pki/client.key" \
      "${TO_PEER[@]}"
    want_rc "--cert to a listener requiring client certificates" 0 cert
    return
  fi
  sut_listen "$1" --cert "$SHARED/pki/server.crt" --key "$SHARED/pki/server.key"
  CIN=$TMP/hi peer_run peer 10 -v "${TO_SUT[@]}"
  want_rc "a client verifying the listener's --cert against its CA" 0 peer
  has "listener --cert" "$TMP/peer.err" 'handshake_done .*peer_subject="/CN=localhost"'
}

# --key: the key is the one used with the certificate (a key of another certificate is refused;
# probe_cert shows the matching one at work).
probe_key() {
  sut_alone "$1" key 10 --cert "$SHARED/pki/server.crt" --key "$SHARED/pki/other.key"
  want_rc "--key of another certificate" 2 key
  has "--key of another certificate" "$TMP/key.err" "^quicc: error: private key '.*other\\.key' does not match"
}

# --- Probes: engine -----------------------------------------------------------------------------

# driver_probe ROLE DRIVER: the side under test runs with --DRIVER; during a connection the
# non-blocking driver is one thread, the blocking one more (reader/writer threads, OpenSSL's
# assist thread). Under ThreadSanitizer (QUICC_SANITIZER=thread) its runtime has a background
# thread of its own (measured: a non-blocking client or listener has 2 threads, a blocking
# listener 3 during a connection, a blocking client 5 against 4): the non-blocking driver may
# then show 2, and the blocking one must show at least 3.
driver_probe() {
  local role=$1 driver=$2 pid n i tsan=0
  [ "${QUICC_SANITIZER:-}" != thread ] || tsan=1
  SUT_DRIVER=("--$driver")
  hold_fifo "$TMP/client.fifo"
  if [ "$role" = client ]; then
    peer_echo
    "$QUICC" "--$driver" -v "${TO_PEER[@]}" <"$TMP/client.fifo" >/dev/null 2>"$TMP/sut.err" &
    pid=$!
    bg_track "$pid"
    diag_add "$TMP/sut.err"
  else
    hold_fifo "$TMP/listener.fifo"
    LISTENER_STDIN=$TMP/listener.fifo sut_listen "$role" -v
    pid=$SUT_PID
    "$QUICC" "--$QUICC_DRIVER" "${TO_SUT[@]}" <"$TMP/client.fifo" >/dev/null 2>"$TMP/peer.err" &
    bg_track $!
  fi
  wait_log "$TMP/sut.err" 0 handshake_done 10 || fail "--$driver: no handshake_done"
  for _ in $(seq 1 "$(scaled 40)"); do
    n=$(threads "$pid")
    if [ "$driver" = nonblocking ]; then
      [ "$n" = 1 ] && return 0
      [ "$tsan" = 1 ] && [ "$n" = 2 ] && return 0
    else
      [ "$n" -ge $((2 + tsan)) ] && return 0
    fi
    sleep 0.05
  done
  fail "--$driver: the $role has $n thread(s) during a connection${QUICC_SANITIZER:+ (under $QUICC_SANITIZER sanitizer)}"
}

# --nonblocking is also the default: that it is not ignored shows in its conflict with
# --blocking.
probe_nonblocking() {
  driver_probe "$1" nonblocking
  sut_alone "$1" both 10 --blocking
  want_rc "--nonblocking --blocking" 2 both
  has "--nonblocking --blocking" "$TMP/both.err" '^quicc: error: --blocking and --nonblocking exclude each other$'
}

probe_blocking() { driver_probe "$1" blocking; }

# --- Probes: output -------------------------------------------------------------------------------

probe_verbose() {
  session "$1" -v
  has "-v" "$TMP/sut.err" '^\[ *[0-9.]+ms\] handshake_done '
}

probe_keylog() {
  session "$1" --keylog "$TMP/keys.txt"
  has "--keylog" "$TMP/keys.txt" '^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]+$'
}

probe_qlog_dir() {
  local side=server
  [ "$1" = client ] && side=client
  mkdir "$TMP/qlog"
  session "$1" --qlog-dir "$TMP/qlog"
  python3 - "$TMP/qlog" "$side" <<'PY' || fail "--qlog-dir: no valid ${side} qlog (see above)"
import glob, json, sys
files = glob.glob(f"{sys.argv[1]}/*_{sys.argv[2]}.sqlog")
if not files:
    sys.exit(f"no *_{sys.argv[2]}.sqlog in the directory")
records = [r for f in files for r in open(f, "rb").read().decode().split("\x1e") if r.strip()]
for r in records:
    json.loads(r)
if len(records) < 3:
    sys.exit(f"only {len(records)} qlog records")
PY
}

probe_stats() {
  session "$1" --stats
  has "--stats" "$TMP/sut.err" '^quicc: statistics$'
  has "--stats" "$TMP/sut.err" '^  cipher: +TLS_'
}

# json_summary WHAT FILE: FILE's last line is the JSON summary of a run with a handshake.
json_summary() {
  python3 - "$2" <<'PY' || fail "$1: no JSON summary (see above)"
import json, sys
lines = open(sys.argv[1]).read().strip().splitlines()
if not lines:
    sys.exit("empty")
d = json.loads(lines[-1])
for key in ("status", "exit_code", "cipher", "bytes_sent", "bytes_received"):
    if key not in d:
        sys.exit(f"no '{key}' in {lines[-1][:200]}")
if not d["cipher"].startswith("TLS_"):
    sys.exit(f"cipher is '{d['cipher']}'")
PY
}

probe_json() {
  session "$1" --json
  json_summary "--json" "$TMP/sut.err"
}

probe_json_file() {
  session "$1" --json-file "$TMP/summary.json"
  json_summary "--json-file" "$TMP/summary.json"
}

# -w: the figures follow the data on stdout, a time in seconds with 6 decimals as curl's.
probe_write_out() {
  peer_echo
  CIN=$TMP/hello sut_run sut 20 \
    -w '[%{time_handshake} %{time_starttransfer} %{alpn} %{exitcode} %{size_download}]\n' "${TO_PEER[@]}"
  want_rc "-w" 0 sut
  grep -Eqx 'hello\[[0-9]+\.[0-9]{6} [0-9]+\.[0-9]{6} quicc 0 5\]' "$TMP/sut.out" ||
    fail "-w: stdout is '$(head -c 200 "$TMP/sut.out" | tr '\n' '|')'"
  # The echo's first byte came after the handshake.
  tr '[]' '  ' <"$TMP/sut.out" | awk '{ exit !($2 <= $3) }' ||
    fail "-w: time_starttransfer before time_handshake in '$(cat "$TMP/sut.out")'"
}

# --count: 3 connections, each reported (-w) and summed up.
probe_count() {
  peer_echo
  CIN=$TMP/hello sut_run sut 30 --count 3 -w '%{connection}:%{exitcode}\n' "${TO_PEER[@]}"
  want_rc "--count" 0 sut
  [ "$(sort "$TMP/sut.out" | tr '\n' ' ')" = "1:0 2:0 3:0 " ] ||
    fail "--count 3: -w printed '$(head -c 200 "$TMP/sut.out" | tr '\n' '|')'"
  has "--count" "$TMP/sut.err" '^quicc: 3 connections: 3 started, 3 succeeded, 0 failed$'
}

# --parallel: 2 connections held open 1 s each (--on-eof ignore, --timeout) overlap at the
# listener with --parallel 2 (the second accepted before the first closed), not without it.
probe_parallel() {
  local want
  for want in overlap apart; do
    peer_echo -v
    # Scaled: each connection's handshake must be done well within it, on a loaded machine too.
    local args=(--count 2 --on-eof ignore --timeout "$(scaled 1)s")
    [ "$want" = overlap ] && args+=(--parallel 2)
    sut_run sut 30 "${args[@]}" "${TO_PEER[@]}"
    want_rc "--parallel ($want)" 14 sut
    python3 - "$PEER_ERR" "$want" <<'PY' || fail "--parallel: the connections did not $want (see above)"
import re, sys
want = sys.argv[2]
lines = open(sys.argv[1]).read().splitlines()
second = next(i for i, l in enumerate(lines) if "connection_accepted index=2" in l)
# Not logged yet (the listener may still be writing it when the client under test has exited):
# the first connection is still open, after everything logged so far.
first_close = next((i for i, l in enumerate(lines) if re.search(r"\] close .* connection=1$", l)),
                   len(lines))
ok = second < first_close if want == "overlap" else second > first_close
sys.exit(0 if ok else f"second accepted at line {second}, first closed at {first_close}")
PY
    kill -INT "$PEER_PID"
    wait_pid "$PEER_PID" 10
  done
}

# --interval: the second of 2 connections starts 1.5 s after the first (a lower bound).
probe_interval() {
  peer_echo
  local t0=$(now_ms)
  CIN=$TMP/hello sut_run sut 30 --count 2 --interval 1500ms "${TO_PEER[@]}"
  want_rc "--interval" 0 sut
  [ $(( $(now_ms) - t0 )) -ge 1500 ] || fail "--interval 1500ms: 2 connections took $(( $(now_ms) - t0 )) ms"
}

# --retry: a port nothing listens on is tried 1 + N times (a warning before each retry), and
# still exits 18; without it, once.
probe_retry() {
  local port
  port=$(closed_udp_port)
  sut_run sut 20 --retry 2 --retry-delay 100ms --pin-sha256 "$ZERO_PIN" "127.0.0.1:$port"
  want_rc "--retry 2, nothing listening" 18 sut
  [ "$(grep -c '^quicc: warning: attempt [12] of 3 failed, trying again in 100ms: nothing listens on UDP' "$TMP/sut.err")" = 2 ] ||
    fail "--retry 2: not two retry warnings in '$(tr '\n' '|' <"$TMP/sut.err")'"
}

# --retry-delay: two retries 1 s apart take 2 s at least (the default, 1 s, is not tested here).
probe_retry_delay() {
  local port
  port=$(closed_udp_port)
  sut_run sut 20 --retry 2 --retry-delay 1100ms --pin-sha256 "$ZERO_PIN" "127.0.0.1:$port"
  want_rc "--retry-delay 1100ms, nothing listening" 18 sut
  [ "$ELAPSED" -ge 2200 ] || fail "--retry 2 --retry-delay 1100ms: over after $ELAPSED ms"
  has "--retry-delay" "$TMP/sut.err" 'trying again in 1100ms: '
}

probe_log_format() {
  session "$1" -v --log-format json
  python3 - "$TMP/sut.err" <<'PY' || fail "--log-format json (see above)"
import json, sys
events = [json.loads(line)["event"] for line in open(sys.argv[1]) if line.strip()]
if "handshake_done" not in events:
    sys.exit(f"no handshake_done event among {events}")
PY
}

probe_log_file() {
  session "$1" -v --log-file "$TMP/log.txt"
  has "--log-file" "$TMP/log.txt" '\] handshake_done '
  lacks "--log-file" "$TMP/sut.err" 'handshake_done'
}

# --- Probes: requests (--get) --------------------------------------------------------------------

# hq_files: OpenSSL's HTTP/0.9 server serving $TMP/www (files a, b, c0..c5 of random bytes).
# Sets TO_HQ.
hq_files() {
  mkdir -p "$TMP/www" "$TMP/got"
  local f
  for f in a b c0 c1 c2 c3 c4 c5; do head -c $((RANDOM % 20000 + 1)) /dev/urandom >"$TMP/www/$f"; done
  start_hq_server "$SHARED/pki" "$TMP/www"
  TO_HQ=(--cafile "$SHARED/pki/ca.pem" "localhost:$HQ_PORT")
}

# --get: the response is on stdout (without the option the client would pipe empty stdin).
probe_get() {
  hq_files
  sut_run get 20 --get /dir/a "${TO_HQ[@]}"
  want_rc "--get /dir/a" 0 get
  cmp -s "$TMP/get.out" "$TMP/www/a" || fail "--get /dir/a: stdout differs from the file"
}

probe_get_list() {
  hq_files
  printf '/a\n/x/b\n' >"$TMP/list"
  sut_run list 20 --get-list "$TMP/list" --output-dir "$TMP/got" "${TO_HQ[@]}"
  want_rc "--get-list" 0 list
  cmp -s "$TMP/got/a" "$TMP/www/a" && cmp -s "$TMP/got/b" "$TMP/www/b" ||
    fail "--get-list: the saved files differ from the server's"
}

# --max-streams 2: never more than 2 requests in flight (6 go out at once without it).
probe_max_streams() {
  hq_files
  local args=() f
  for f in c0 c1 c2 c3 c4 c5; do args+=(--get "/$f"); done
  sut_run max 20 -v --max-streams 2 "${args[@]}" --output-dir "$TMP/got" "${TO_HQ[@]}"
  want_rc "--max-streams 2" 0 max
  local peak
  peak=$(max_in_flight "$TMP/max.err")
  [ "$peak" -le 2 ] || fail "--max-streams 2: $peak requests in flight at once"
}

# The perf client's options, against quicc's perf server (-v: its close line counts the bytes
# each way, so the probes see what went over the wire, not only what the client says).
peer_perf() {
  start_listener "$TMP/peer.out" --perf --keep-open -v
  peer_set
}

# perf_server_close: the perf server's close line for the connection the probe made.
perf_server_close() {
  wait_log "$PEER_ERR" 0 '\] close by=' 10 || fail "the perf server logged no close"
  grep -m1 '\] close by=' "$PEER_ERR"
}

# --upload 1M: the server received 8 + 1 MiB (the default asks for no upload).
probe_upload() {
  peer_perf
  sut_run upload 30 --perf --upload 1M "${TO_PEER[@]}"
  want_rc "--perf --upload 1M" 0 upload
  has "--upload 1M" "$TMP/upload.out" '^\[   0\.00- .*\] up 1\.0 MB \('
  perf_server_close >"$TMP/upload.close"
  has "--upload 1M" "$TMP/upload.close" ' bytes_in=1048584 '
}

# --download 3M: the server sent 3 MiB (the default is 100 MiB).
probe_download() {
  peer_perf
  sut_run download 30 --perf --download 3M "${TO_PEER[@]}"
  want_rc "--perf --download 3M" 0 download
  has "--download 3M" "$TMP/download.out" ', down 3\.1 MB \(.*, 1 request on 1 stream$'
  perf_server_close >"$TMP/download.close"
  has "--download 3M" "$TMP/download.close" ' bytes_out=3145728 '
}

# --streams 3: three requests at once (the default is one).
probe_streams() {
  peer_perf
  sut_run streams 30 --perf --download 1k --streams 3 "${TO_PEER[@]}"
  want_rc "--perf --streams 3" 0 streams
  has "--streams 3" "$TMP/streams.out" ', 3 requests on 3 streams$'
  perf_server_close >"$TMP/streams.close"
  has "--streams 3" "$TMP/streams.close" ' bytes_out=3072 '
}

# --duration 1500ms: requests follow each other for 1.5 s (without it: one, and done at once).
probe_duration() {
  peer_perf
  sut_run duration 30 --perf --download 1k --duration 1500ms "${TO_PEER[@]}"
  want_rc "--perf --duration 1500ms" 0 duration
  [ "$ELAPSED" -ge 1500 ] || fail "--duration 1500ms: the client was done after $ELAPSED ms"
  has "--duration 1500ms" "$TMP/duration.out" '^\[   0\.00-   1\.[5-9][0-9] s\].*, [0-9]{2,} requests on 1 stream$'
}

probe_output() {
  hq_files
  sut_run output 20 --get /b -o "$TMP/got/response" "${TO_HQ[@]}"
  want_rc "-o" 0 output
  [ ! -s "$TMP/output.out" ] || fail "-o: the response went to stdout too"
  cmp -s "$TMP/got/response" "$TMP/www/b" || fail "-o: the saved file differs"
}

probe_output_dir_client() {
  hq_files
  sut_run dir 20 --get /a --output-dir "$TMP/got" "${TO_HQ[@]}"
  want_rc "--output-dir" 0 dir
  [ ! -s "$TMP/dir.out" ] || fail "--output-dir: the response went to stdout too"
  cmp -s "$TMP/got/a" "$TMP/www/a" || fail "--output-dir: $TMP/got/a differs"
}

# --- Probes: scripted checks (--send, --send-file, --expect, --expect-close) -----------------------

# send_probe ROLE WHAT WANT_FILE ARGS...: the side under test sends what ARGS say instead of its
# stdin ("hello", which must not arrive): a client to an echo listener gets WANT_FILE back; a
# pipe listener's client receives WANT_FILE.
send_probe() {
  local role=$1 what=$2 want=$3
  shift 3
  if [ "$role" = client ]; then
    peer_echo
    CIN=$TMP/hello sut_run send 20 "$@" "${TO_PEER[@]}"
    want_rc "$what" 0 send
    cmp -s "$TMP/send.out" "$want" || fail "$what: the echo is not what was to be sent"
    return
  fi
  LISTENER_STDIN=$TMP/hello sut_listen pipe "$@"
  peer_run peer 20 "${TO_SUT[@]}"
  want_rc "the client of a pipe listener with $what" 0 peer
  cmp -s "$TMP/peer.out" "$want" || fail "$what: the client did not receive what was to be sent"
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "$what: the pipe listener exited $WAIT_RC"
}

probe_send() {
  printf 'hi\0\r\n' >"$TMP/send.want"
  send_probe "$1" "--send 'hi\\x00\\r\\n'" "$TMP/send.want" --send 'hi\x00\r\n'
}

probe_send_file() { send_probe "$1" "--send-file" "$SHARED/data" --send-file "$SHARED/data"; }

# --crlf: the side under test sends "a\nb\r\n" as "a\r\nb\r\n" (an echo gives it back to a
# client; a pipe listener's client receives it).
probe_crlf() {
  printf 'a\nb\r\n' >"$TMP/lines"
  printf 'a\r\nb\r\n' >"$TMP/lines.want"
  if [ "$1" = client ]; then
    peer_echo
    CIN=$TMP/lines sut_run crlf 20 --crlf "${TO_PEER[@]}"
    want_rc "--crlf" 0 crlf
    cmp -s "$TMP/crlf.out" "$TMP/lines.want" || fail "--crlf: the echo is '$(od -c "$TMP/crlf.out" | head -3)'"
    return
  fi
  LISTENER_STDIN=$TMP/lines sut_listen pipe -C
  peer_run peer 20 "${TO_SUT[@]}"
  want_rc "the client of a pipe listener with -C" 0 peer
  cmp -s "$TMP/peer.out" "$TMP/lines.want" || fail "-C: the client received '$(od -c "$TMP/peer.out" | head -3)'"
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "-C: the pipe listener exited $WAIT_RC"
}

# --expect: no match is exit 16 (without the option, exit 0).
probe_expect() {
  if [ "$1" = client ]; then
    peer_echo
    CIN=$TMP/hello sut_run expect 20 --expect '^nope$' "${TO_PEER[@]}"
  else
    LISTENER_STDIN=$TMP/hello sut_listen pipe --expect '^nope$'
    CIN=$TMP/hi peer_run peer 20 "${TO_SUT[@]}"
    want_rc "the client of a pipe listener with --expect" 0 peer
    wait_pid "$SUT_PID" 10
    RC=$WAIT_RC
    cp "$TMP/sut.err" "$TMP/expect.err"
  fi
  want_rc "--expect '^nope\$', no match" 16 expect
  has "--expect" "$TMP/expect.err" "^quicc: error: --expect found no match in the received data .*'\\^nope\\\$' did not match"
}

# --expect-close: a match in a stream that never ends reads on, to --timeout (14); without the
# option the match ends the run (exit 0).
# --timeout scales: the peer's data must arrive within it, after a handshake load slows.
probe_expect_close() {
  local t1 t2
  t1=$(scaled 1) t2=$(scaled 2)
  if [ "$1" = client ]; then
    peer_echo
    CIN=$TMP/hello sut_run ec $((20 + t1)) --on-eof ignore --expect hello --expect-close --timeout "${t1}s" "${TO_PEER[@]}"
  else
    # The client says "hi" (a line: $ needs its end) and never ends its side (a FIFO held open).
    LISTENER_STDIN=$TMP/hello sut_listen pipe --on-eof ignore --expect '^hi$' --expect-close --timeout "${t2}s"
    hold_fifo "$TMP/client.fifo"
    "$QUICC" "--$QUICC_DRIVER" "${TO_SUT[@]}" <"$TMP/client.fifo" >/dev/null 2>"$TMP/peer.err" &
    bg_track $!
    printf 'hi\n' >"$TMP/client.fifo"
    wait_pid "$SUT_PID" $((13 + t2))
    RC=$WAIT_RC
    cp "$TMP/sut.err" "$TMP/ec.err"
  fi
  want_rc "--expect-close, a stream that never ends" 14 ec
  has "--expect-close" "$TMP/ec.err" '^quicc: error: --timeout [0-9]+s reached'
}

# --- Probes: general ------------------------------------------------------------------------------

# --keep-open: two clients one after the other are both echoed and the listener still runs;
# without it, the listener exits 0 after its first client.
probe_keep_open() {
  if [ "$1" = pipe ]; then
    probe_keep_open_pipe
    return
  fi
  sut_listen "$1"
  local i
  for i in 1 2; do
    CIN=$TMP/hi peer_run "keep$i" 10 "${TO_SUT[@]}"
    want_rc "client $i of an echo listener with --keep-open" 0 "keep$i"
    [ "$(cat "$TMP/keep$i.out")" = hi ] || fail "--keep-open: client $i got '$(head -c 100 "$TMP/keep$i.out")'"
  done
  kill -0 "$SUT_PID" 2>/dev/null || fail "--keep-open: the listener exited after two clients"
  kill -INT "$SUT_PID"
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 130 ] || fail "--keep-open: the listener exited $WAIT_RC after SIGINT, expected 130"
  # The same without the option: one client, then the listener ends by itself.
  SUT_ONE_CONNECTION=1 sut_listen "$1"
  CIN=$TMP/hi peer_run one 10 "${TO_SUT[@]}"
  want_rc "the client of an echo listener without --keep-open" 0 one
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "without --keep-open the listener exited $WAIT_RC after its client (124: still running), expected 0"
}

# A pipe listener with --keep-open: its input ("hello") goes to the client connected when it
# is read; a later client finds it at EOF; what both send reaches the output; the listener
# stays until SIGINT.
probe_keep_open_pipe() {
  LISTENER_STDIN=$TMP/hello sut_listen pipe --keep-open
  CIN=$TMP/hi peer_run keep1 10 "${TO_SUT[@]}"
  want_rc "client 1 of a pipe listener with --keep-open" 0 keep1
  [ "$(cat "$TMP/keep1.out")" = hello ] || fail "--keep-open: client 1 got '$(head -c 100 "$TMP/keep1.out")'"
  CIN=$TMP/hi peer_run keep2 10 "${TO_SUT[@]}"
  want_rc "client 2 of a pipe listener with --keep-open (its input at EOF)" 0 keep2
  [ ! -s "$TMP/keep2.out" ] || fail "--keep-open: client 2 got '$(head -c 100 "$TMP/keep2.out")' after the input's EOF"
  kill -0 "$SUT_PID" 2>/dev/null || fail "--keep-open: the pipe listener exited after two clients"
  kill -INT "$SUT_PID"
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 130 ] || fail "--keep-open: the pipe listener exited $WAIT_RC after SIGINT, expected 130"
  [ "$(cat "$TMP/sut.out")" = hihi ] || fail "--keep-open: the pipe listener wrote '$(head -c 100 "$TMP/sut.out")', expected both clients' hi"
  # Without it: one client, then the listener ends by itself.
  LISTENER_STDIN=$TMP/hello sut_listen pipe
  CIN=$TMP/hi peer_run one 10 "${TO_SUT[@]}"
  want_rc "the client of a pipe listener without --keep-open" 0 one
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "without --keep-open the pipe listener exited $WAIT_RC after its client (124: still running), expected 0"
}

# --max-conns 1: while a client is connected, the next is refused (its handshake completed, then
# closed with code 0x5: exit 9, the error naming the code and "too many connections"; the
# listener warns, naming it) and the first goes on; once the first is gone, the next is served.
probe_max_conns() {
  local keep=()
  [ "$1" = echo ] || keep=(--keep-open)
  LISTENER_STDIN=$TMP/hello sut_listen "$1" "${keep[@]}" --max-conns 1 -v
  # The first client holds its connection until its input ends, 3 s from now (scaled).
  { sleep "$(scaled_f 3)"; cat "$TMP/hi"; } |
    { CIN=/dev/stdin peer_run held 20 "${TO_SUT[@]}"; echo "$RC" >"$TMP/held.rc"; } &
  local held=$!
  bg_track "$held"
  wait_log "$TMP/sut.err" 0 '^\[ *[0-9.]+ms\] handshake_done .*connection=1$' 10 ||
    fail "--max-conns: the first client's handshake did not complete"
  CIN=$TMP/hi peer_run refused 10 "${TO_SUT[@]}"
  want_rc "a second client of a listener with --max-conns 1" 9 refused
  has "--max-conns: the refused client" "$TMP/refused.err" \
    '^quicc: error: peer closed the connection: application error 0x5 \(too many connections\)$'
  [ ! -s "$TMP/refused.out" ] || fail "--max-conns: the refused client wrote to stdout"
  has "--max-conns: the listener" "$TMP/sut.err" \
    '^quicc: warning: refused a connection from 127\.0\.0\.1:[0-9]+: 1 connection is open \(--max-conns 1\); closing it with code 0x5$'
  wait_pid "$held" 20
  [ "$(cat "$TMP/held.rc")" = 0 ] || fail "--max-conns: the first client exited $(cat "$TMP/held.rc"), expected 0"
  if [ "$1" = echo ]; then
    [ "$(cat "$TMP/held.out")" = hi ] || fail "--max-conns: the first client got '$(head -c 100 "$TMP/held.out")', expected its echo"
  else
    [ "$(cat "$TMP/held.out")" = hello ] || fail "--max-conns: the first client got '$(head -c 100 "$TMP/held.out")', expected the listener's input"
  fi
  CIN=$TMP/hi peer_run after 10 "${TO_SUT[@]}"
  want_rc "a client after the first left, --max-conns 1" 0 after
  lacks "--max-conns" "$TMP/sut.err" 'refused a connection .*: 0 connections'
  [ "$(grep -c 'refused a connection' "$TMP/sut.err")" = 1 ] || fail "--max-conns: the listener refused more than one client"
  kill -INT "$SUT_PID"
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 130 ] || fail "--max-conns: the listener exited $WAIT_RC after SIGINT, expected 130"
}

probe_help() {
  sut_alone "$1" help 10 --help
  want_rc "--help" 0 help
  [ "$(head -n1 "$TMP/help.out")" = "Usage: quicc [OPTIONS] HOST:PORT" ] ||
    fail "--help printed '$(head -n1 "$TMP/help.out")' first"
}

probe_version() {
  sut_alone "$1" version 10 --version
  want_rc "--version" 0 version
  has "--version" "$TMP/version.out" '^quicc [0-9]'
}

# --- Probes: terminal sessions (--interactive, --no-interactive) ---------------------------------

# --interactive on piped input: "~~two" goes as "~two", "~k" makes a key update (in the -v log)
# and is not sent; the side under test's peer receives the rest.
probe_interactive() {
  printf 'one\n~~two\n~k\n' >"$TMP/typed"
  printf 'one\n~two\n' >"$TMP/typed.want"
  local err
  if [ "$1" = client ]; then
    peer_echo
    CIN=$TMP/typed sut_run typed 20 -v --interactive "${TO_PEER[@]}"
    want_rc "--interactive" 0 typed
    cmp -s "$TMP/typed.out" "$TMP/typed.want" || fail "--interactive: the echo is '$(od -c "$TMP/typed.out" | head -3)'"
    err=$TMP/typed.err
  else
    LISTENER_STDIN=$TMP/typed sut_listen pipe -v --interactive
    # The client keeps its side open until the key update is made: a listener's key update
    # waits for the client's handshake confirmation, which a loaded machine delays past the
    # end of so short an exchange.
    hold_fifo "$TMP/peer.fifo" 60
    diag_add "$TMP/peer.err"
    qt 20 "${TO_SUT[@]}" <"$TMP/peer.fifo" >"$TMP/peer.out" 2>"$TMP/peer.err" &
    local peer_job=$!
    wait_log "$TMP/sut.err" 0 'key_update after_bytes=' 10 || fail "--interactive: ~k made no key update"
    kill_now "$HOLD_PID"
    RC=0
    wait "$peer_job" || RC=$?
    want_rc "the client of a pipe listener with --interactive" 0 peer
    cmp -s "$TMP/peer.out" "$TMP/typed.want" || fail "--interactive: the client received '$(od -c "$TMP/peer.out" | head -3)'"
    wait_pid "$SUT_PID" 10
    [ "$WAIT_RC" = 0 ] || fail "--interactive: the pipe listener exited $WAIT_RC"
    err=$TMP/sut.err
  fi
  grep -q 'command name=k' "$err" || fail "--interactive: no ~k command in the -v log"
  grep -q 'key_update after_bytes=' "$err" || fail "--interactive: ~k made no key update"
}

# --no-interactive: a line beginning with ~ is data like any other.
probe_no_interactive() {
  printf 'one\n~.\n~k\n' >"$TMP/typed"
  if [ "$1" = client ]; then
    peer_echo
    CIN=$TMP/typed sut_run typed 20 -v --no-interactive "${TO_PEER[@]}"
    want_rc "--no-interactive" 0 typed
    cmp -s "$TMP/typed.out" "$TMP/typed" || fail "--no-interactive: the echo is '$(od -c "$TMP/typed.out" | head -3)'"
    ! grep -q 'command name=' "$TMP/typed.err" || fail "--no-interactive: a ~ line was a command"
    return
  fi
  LISTENER_STDIN=$TMP/typed sut_listen pipe -v --no-interactive
  peer_run peer 20 "${TO_SUT[@]}"
  want_rc "the client of a pipe listener with --no-interactive" 0 peer
  cmp -s "$TMP/peer.out" "$TMP/typed" || fail "--no-interactive: the client received '$(od -c "$TMP/peer.out" | head -3)'"
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "--no-interactive: the pipe listener exited $WAIT_RC"
  ! grep -q 'command name=' "$TMP/sut.err" || fail "--no-interactive: a ~ line was a command"
}

# --- Probes: the progress meter (--progress, --no-progress) ------------------------------------

# slow_input FILE SEEN: a FIFO whose writer sends "a", then, 1 s after the file SEEN is not
# empty (the other side wrote the "a" it got), "b", and ends: a pipe transfer that lasts longer
# than the meter's first ticks however long the connection took to start (a sanitizer build
# under load can take seconds).
slow_input() {
  mkfifo "$1"
  {
    printf 'a\n'
    while [ ! -s "$2" ]; do sleep 0.05; done
    sleep 1
    printf 'b\n'
  } >"$1" &
  bg_track $!
}

# progress_probe ROLE OPTION: the side under test, stderr a file, with OPTION; sets ERR_FILE.
progress_probe() {
  if [ "$1" = client ]; then
    slow_input "$TMP/slow" "$TMP/progress.out"
    peer_echo
    CIN=$TMP/slow sut_run progress 30 "$2" "${TO_PEER[@]}"
    want_rc "$2" 0 progress
    [ "$(cat "$TMP/progress.out")" = "$(printf 'a\nb')" ] || fail "$2: the echo is '$(od -c "$TMP/progress.out" | head -2)'"
    ERR_FILE=$TMP/progress.err
    return
  fi
  slow_input "$TMP/slow" "$TMP/peer.out"
  LISTENER_STDIN=$TMP/slow sut_listen pipe "$2"
  peer_run peer 30 "${TO_SUT[@]}"
  want_rc "the client of a pipe listener with $2" 0 peer
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "$2: the pipe listener exited $WAIT_RC"
  ERR_FILE=$TMP/sut.err
}

# --progress: the meter even on a file, drawn ("\rquicc: in ..." ESC[K) and erased at the end
# (the last bytes on stderr are "\r" ESC[K).
probe_progress() {
  progress_probe "$1" --progress
  grep -aq $'\rquicc: in [0-9.]* [kMG]*B ([0-9.]* [kMG]*B/s), out ' "$ERR_FILE" ||
    fail "--progress: no meter on stderr: '$(od -c "$ERR_FILE" | head -4)'"
  [ "$(tail -c 4 "$ERR_FILE" | od -An -tx1 | tr -d ' \n')" = 0d1b5b4b ] ||
    fail "--progress: the meter was not erased at the end: '$(tail -c 40 "$ERR_FILE" | od -c)'"
}

# --no-progress: none.
probe_no_progress() {
  progress_probe "$1" --no-progress
  ! grep -aq $'\r' "$ERR_FILE" || fail "--no-progress: a meter on stderr"
}

# --- Probes: one direction (--send-only, --recv-only) ---------------------------------------

# direction_probe ROLE OPTION...: the side under test (stdin "hello", the OPTIONs) and a quicc
# pipe peer (stdin "hi"); sets SUT_GOT and PEER_GOT (what each wrote to its stdout).
direction_probe() {
  local role=$1
  shift
  if [ "$role" = client ]; then
    LISTENER_STDIN=$TMP/hi peer_pipe
    CIN=$TMP/hello sut_run dir 20 "$@" "${TO_PEER[@]}"
    want_rc "$*" 0 dir
    wait_pid "$PEER_PID" 10
    [ "$WAIT_RC" = 0 ] || fail "$*: the pipe listener peer exited $WAIT_RC"
    SUT_GOT=$(cat "$TMP/dir.out") PEER_GOT=$(cat "$TMP/peer.out")
    return
  fi
  LISTENER_STDIN=$TMP/hello sut_listen pipe "$@"
  CIN=$TMP/hi peer_run peer 20 "${TO_SUT[@]}"
  want_rc "the client of a pipe listener with $*" 0 peer
  wait_pid "$SUT_PID" 10
  [ "$WAIT_RC" = 0 ] || fail "$*: the pipe listener exited $WAIT_RC"
  SUT_GOT=$(cat "$TMP/sut.out") PEER_GOT=$(cat "$TMP/peer.out")
}

# --send-only: our "hello" reaches the peer; its "hi" is read and discarded. With --on-eof fin
# the run waits for the peer's FIN, so that the peer's "hi" is surely read (and acknowledged)
# before the close: --send-only's own --on-eof close may close before it arrives, which the
# peer rightly reports as a loss (the config_builder unit test covers that default).
probe_send_only() {
  direction_probe "$1" --send-only --on-eof fin
  [ "$PEER_GOT" = hello ] || fail "--send-only: the peer received '$PEER_GOT'"
  [ -z "$SUT_GOT" ] || fail "--send-only: '$SUT_GOT' reached stdout"
}

# --recv-only: stdin is not sent; the peer's "hi" reaches stdout.
probe_recv_only() {
  direction_probe "$1" --recv-only
  [ "$SUT_GOT" = hi ] || fail "--recv-only: stdout got '$SUT_GOT'"
  [ -z "$PEER_GOT" ] || fail "--recv-only: the peer received '$PEER_GOT'"
}
