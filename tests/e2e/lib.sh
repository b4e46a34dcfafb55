# shellcheck shell=bash
# Shared helpers for quicc's end-to-end tests. Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#
# Environment (set by CTest):
#   QUICC           path to the quicc binary (required)
#   QUICC_DRIVER    nonblocking | blocking; every quicc run gets --$QUICC_DRIVER (required)
#   OPENSSL_PREFIX  OpenSSL 3.5 prefix built by scripts/bootstrap.sh: bin/openssl and
#                   peers/quic-server-block. Empty or "system" with a system OpenSSL: the
#                   openssl command on PATH makes certificates, and start_demo_server skips.
# Optional:
#   TEST_TMPDIR     parent directory for the test's scratch directory
#   QUICC_E2E_KEEP  set to 1 to keep the scratch directory for post-mortems
#   QUICC_TIME_SCALE  a positive integer (default 1) by which the upper bounds on elapsed time
#                   and CPU time, and the waits before giving up, are multiplied: CTest sets it
#                   in the sanitizer builds, whose binaries are several times slower (see
#                   tests/CMakeLists.txt). Lower bounds ("not sooner than") are never scaled.
#   QUICC_SANITIZER address | thread in a sanitizer build (set by CTest), for the few checks that
#                   a sanitizer's runtime changes (TSan's background thread in a thread count)
#
# Exit codes: 0 pass, 77 skip, anything else fail (with one "FAIL: ..." line).

set -euo pipefail

TEST_NAME=$(basename "$0" .sh)

# ---------------------------------------------------------------------------------------------
# Reporting

# Files whose tail is printed when a test fails (listener stderr, client stderr, ...).
DIAG_FILES=()

diag_add() { DIAG_FILES+=("$@"); }

fail() {
  local f
  for f in "${DIAG_FILES[@]+"${DIAG_FILES[@]}"}"; do
    if [ -s "$f" ]; then
      printf -- '--- %s (last 20 lines) ---\n' "${f#"$TMP"/}" >&2
      tail -n 20 "$f" | cut -c1-300 >&2
    fi
  done
  local pid st
  for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
    if kill -0 "$pid" 2>/dev/null; then
      st=running
    else
      st=0; wait "$pid" 2>/dev/null || st=$?
      st="exited with $st"
    fi
    printf -- '--- background pid %s (%s): %s\n' "$pid" \
      "$(cat "/proc/$pid/comm" 2>/dev/null || echo gone)" "$st" >&2
  done
  printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
  exit 1
}

skip() {
  printf 'SKIP: %s: %s\n' "$TEST_NAME" "$*" >&2
  exit 77
}

pass() {
  printf 'PASS: %s%s\n' "$TEST_NAME" "${1:+: $1}"
  exit 0
}

note() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# Environment checks

[ -n "${QUICC:-}" ] || { echo "FAIL: $TEST_NAME: QUICC is not set" >&2; exit 1; }
[ -x "$QUICC" ] || { echo "FAIL: $TEST_NAME: QUICC=$QUICC is not an executable" >&2; exit 1; }
case "${QUICC_DRIVER:-}" in
  nonblocking|blocking) ;;
  *) echo "FAIL: $TEST_NAME: QUICC_DRIVER must be nonblocking or blocking (got '${QUICC_DRIVER:-}')" >&2
     exit 1 ;;
esac
case "${OPENSSL_PREFIX:-}" in
  ''|system)
    OPENSSL_PREFIX=
    OPENSSL_BIN=$(command -v openssl || true)
    DEMO_SERVER=
    HQ_SERVER= ;;
  *)
    OPENSSL_BIN=$OPENSSL_PREFIX/bin/openssl
    DEMO_SERVER=$OPENSSL_PREFIX/peers/quic-server-block
    HQ_SERVER=$OPENSSL_PREFIX/peers/quic-hq-interop-server ;;
esac

# The system's python3 first: a version manager's shim (pyenv) costs a second of CPU per call
# on a loaded machine, and these tests call python3 often.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH

command -v timeout >/dev/null || { echo "FAIL: $TEST_NAME: timeout(1) not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: $TEST_NAME: python3 not found" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Time scale: a sanitizer build runs the same tests several times slower. Every upper bound on
# elapsed time or CPU time, and every wait before giving up, goes through `scaled` (or the
# helpers below, which scale their own limits); with QUICC_TIME_SCALE unset every bound is the
# one written in the test. Lower bounds stay as written.

QUICC_TIME_SCALE=${QUICC_TIME_SCALE:-1}
case $QUICC_TIME_SCALE in
  [1-9]|[1-9][0-9]) ;;
  *) echo "FAIL: $TEST_NAME: QUICC_TIME_SCALE must be an integer from 1 to 99 (got '$QUICC_TIME_SCALE')" >&2
     exit 1 ;;
esac
# lib_sigrun.py and other helpers read it from the environment.
export QUICC_TIME_SCALE
TIME_SCALE=$QUICC_TIME_SCALE

# scaled N: the integer N (milliseconds, seconds, ...) times QUICC_TIME_SCALE.
scaled() {
  case $1 in
    ''|*[!0-9]*) echo "FAIL: $TEST_NAME: scaled: '$1' is not a non-negative integer" >&2; exit 1 ;;
  esac
  echo $(( $1 * TIME_SCALE ))
}

# scaled_f X: the decimal number X (seconds, for sleep or timeout(1)) times QUICC_TIME_SCALE,
# printed without trailing zeros (scaled_f 0.8 -> 0.8 unscaled, 2.4 at scale 3).
scaled_f() {
  case $1 in
    ''|*[!0-9.]*|*.*.*) echo "FAIL: $TEST_NAME: scaled_f: '$1' is not a decimal number" >&2; exit 1 ;;
  esac
  awk -v x="$1" -v k="$TIME_SCALE" 'BEGIN {
    v = sprintf("%.3f", x * k)
    if (v ~ /\./) sub(/\.?0+$/, "", v)
    print v }'
}

# scaled_over BASE MS: an upper bound of MS ms made of a quicc timer of BASE ms, which does not
# scale, and MS - BASE ms of slack (start-up, exit, a loaded machine), which does.
scaled_over() {
  case $1$2 in
    ''|*[!0-9]*) echo "FAIL: $TEST_NAME: scaled_over: '$1' '$2' are not non-negative integers" >&2; exit 1 ;;
  esac
  echo $(( $1 + ($2 - $1) * TIME_SCALE ))
}

# time_scaled: true when QUICC_TIME_SCALE > 1 (a sanitizer build).
time_scaled() { [ "$TIME_SCALE" -gt 1 ]; }

# cpu_limits_apply: false under ThreadSanitizer, where a CPU figure is shown but not judged:
# its runtime (every memory access and lock instrumented, a thread of its own) costs tens of
# times the program's own CPU in OpenSSL's polling threads, far more than it slows the clock
# (a close waiting on a stopped peer: 643 ms of CPU where the normal build uses 12 ms). The
# normal and ASan builds judge every CPU limit.
cpu_limits_apply() { [ "${QUICC_SANITIZER:-}" != thread ]; }

if time_scaled; then
  note "QUICC_TIME_SCALE=$TIME_SCALE: upper bounds on time and CPU, and waits before giving up," \
       "are $TIME_SCALE times those written in the test (lower bounds are not)"
fi

# ---------------------------------------------------------------------------------------------
# Scratch directory and cleanup

TMP=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/quicc-e2e-$TEST_NAME.XXXXXX")

# PIDs of every background process this test started.
BG_PIDS=()

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
    # Give each a moment to go, then force it.
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${QUICC_E2E_KEEP:-0}" = 1 ]; then
    echo "$TEST_NAME: scratch directory kept: $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bg_track() { BG_PIDS+=("$@"); }

# bg_forget PID: PID was reaped; do not signal it (or whatever reuses its number) on exit.
bg_forget() {
  local keep=() p
  for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
    [ "$p" = "$1" ] || keep+=("$p")
  done
  BG_PIDS=("${keep[@]+"${keep[@]}"}")
}

# ---------------------------------------------------------------------------------------------
# Running quicc

# Seconds a quicc client run may take before timeout(1) kills it (exit 124); 50, scaled.
QUICC_TIMEOUT=${QUICC_TIMEOUT:-$(scaled 50)}

# q ARGS...: quicc with the driver option, bounded by $QUICC_TIMEOUT.
q() { timeout -k 5 "$QUICC_TIMEOUT" "$QUICC" "--$QUICC_DRIVER" "$@"; }

# qt SECONDS ARGS...: quicc with the driver option, bounded by SECONDS (scaled).
qt() {
  local secs=$1; shift
  timeout -k 2 "$(scaled_f "$secs")" "$QUICC" "--$QUICC_DRIVER" "$@"
}

# now_ms: monotonic-enough wall clock in milliseconds.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_pid PID SECONDS: waits for a background child to exit, at most SECONDS (scaled); sets
# WAIT_RC to its exit status, or to 124 (and leaves it running) if it did not exit in time.
wait_pid() {
  local pid=$1 secs=$2 deadline
  deadline=$(( $(now_ms) + $(scaled "$secs") * 1000 ))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      WAIT_RC=124
      return 0
    fi
    sleep 0.05
  done
  WAIT_RC=0
  wait "$pid" || WAIT_RC=$?
  bg_forget "$pid"
}

# ---------------------------------------------------------------------------------------------
# Listener

# start_listener OUTFILE ARGS...
#   Starts `quicc --$QUICC_DRIVER --listen 127.0.0.1:0 ARGS...` in the background with stdout to
#   OUTFILE, stderr to OUTFILE.err and stdin from $LISTENER_STDIN (default /dev/null). Waits up
#   to 10 s (scaled) for its "listening on" line (and, unless --cert is among ARGS, for its
#   fingerprint line). Exports LISTENER_PID, LISTENER_ADDR (as printed), LISTENER_PORT and
#   LISTENER_FP (empty when a certificate was given).
start_listener() {
  local out=$1; shift
  start_listener_at 127.0.0.1:0 "$out" "$@"
}

# start_listener_at LISTEN_ADDR OUTFILE ARGS...: as start_listener, on another address.
start_listener_at() {
  local where=$1 out=$2; shift 2
  local err=$out.err a want_fp=1 deadline line
  for a in "$@"; do
    [ "$a" = --cert ] && want_fp=0
  done
  : >"$err"
  diag_add "$err"
  "$QUICC" "--$QUICC_DRIVER" --listen "$where" "$@" \
    <"${LISTENER_STDIN:-/dev/null}" >"$out" 2>"$err" &
  LISTENER_PID=$!
  bg_track "$LISTENER_PID"
  LISTENER_ADDR=
  LISTENER_PORT=
  LISTENER_FP=
  deadline=$(( $(now_ms) + $(scaled 10000) ))
  while :; do
    if [ -z "$LISTENER_ADDR" ]; then
      line=$(grep -m1 '^quicc: listening on ' "$err" || true)
      if [ -n "$line" ]; then
        LISTENER_ADDR=${line#quicc: listening on }
        LISTENER_ADDR=${LISTENER_ADDR%%[[:space:]]*}
        LISTENER_PORT=${LISTENER_ADDR##*:}
      fi
    fi
    if [ "$want_fp" = 1 ] && [ -z "$LISTENER_FP" ]; then
      line=$(grep -m1 '^quicc: certificate sha256 fingerprint ' "$err" || true)
      if [ -n "$line" ]; then
        LISTENER_FP=${line#quicc: certificate sha256 fingerprint }
        LISTENER_FP=${LISTENER_FP%%[[:space:]]*}
      fi
    fi
    if [ -n "$LISTENER_ADDR" ] && { [ "$want_fp" = 0 ] || [ -n "$LISTENER_FP" ]; }; then
      break
    fi
    if ! kill -0 "$LISTENER_PID" 2>/dev/null; then
      local rc=0
      wait "$LISTENER_PID" || rc=$?
      fail "listener (quicc --listen $where $*) exited with $rc before printing its" \
           "listening/fingerprint lines"
    fi
    if [ "$(now_ms)" -ge "$deadline" ]; then
      fail "listener (quicc --listen $where $*) printed no '${LISTENER_ADDR:+certificate sha256 fingerprint}${LISTENER_ADDR:-listening on}' line within $(scaled 10) s"
    fi
    sleep 0.05
  done
  case "$LISTENER_PORT" in
    ''|*[!0-9]*) fail "cannot parse a port from listening line address '$LISTENER_ADDR'" ;;
  esac
  [ "$LISTENER_PORT" -gt 0 ] && [ "$LISTENER_PORT" -le 65535 ] ||
    fail "listening line reports port $LISTENER_PORT (from '$LISTENER_ADDR'); expected the real bound port"
  if [ "$want_fp" = 1 ]; then
    printf '%s\n' "$LISTENER_FP" | grep -Eq '^[0-9A-F]{2}(:[0-9A-F]{2}){31}$' ||
      fail "fingerprint '$LISTENER_FP' is not 32 colon-separated uppercase hex bytes"
  fi
  export LISTENER_PID LISTENER_ADDR LISTENER_PORT LISTENER_FP
}

# ---------------------------------------------------------------------------------------------
# Other peers

# free_udp_port: prints a UDP port that was free a moment ago (on 0.0.0.0).
free_udp_port() {
  python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 0))
print(s.getsockname()[1])
s.close()'
}

# closed_udp_port: prints a UDP port that nothing is bound to, for a test that needs nothing to
# listen there for a while (ICMP port unreachable, a server started late). It is taken below
# the kernel's ephemeral range: free_udp_port's port is an ephemeral one, which another test's
# socket bound to port 0 may be given meanwhile (role parity's --retry-delay cell, under a
# loaded suite: exit 4, its handshake timed out, where 18 was expected).
closed_udp_port() {
  python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(100):
    port = random.randrange(10000, max(low, 10001))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("0.0.0.0", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free UDP port below the ephemeral range")'
}

# have_ipv6_loopback: true when a UDP socket can be bound on [::1].
have_ipv6_loopback() {
  python3 -c '
import socket, sys
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", 0))
    s.close()
except OSError:
    sys.exit(1)' 2>/dev/null
}

# make_cert DIR NAME: creates in DIR a self-signed CA (ca.pem, ca.key) and a server certificate
# NAME.crt / NAME.key for CN localhost with SANs DNS:localhost, IP:127.0.0.1 and IP:::1 signed by
# it. EC P-256 keys.
make_cert() {
  local dir=$1 name=$2 log
  [ -n "$OPENSSL_BIN" ] && [ -x "$OPENSSL_BIN" ] ||
    fail "make_cert: no openssl command (OPENSSL_PREFIX='$OPENSSL_PREFIX')"
  mkdir -p "$dir"
  log=$dir/make_cert.log
  {
    if [ ! -f "$dir/ca.pem" ]; then
      "$OPENSSL_BIN" req -x509 -new -nodes -days 30 \
        -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" \
        -subj "/CN=quicc e2e test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
    fi
    "$OPENSSL_BIN" req -new -nodes \
      -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
      -keyout "$dir/$name.key" -out "$dir/$name.csr" \
      -subj "/CN=localhost"
    cat >"$dir/$name.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
    "$OPENSSL_BIN" x509 -req -days 30 -in "$dir/$name.csr" \
      -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
      -extfile "$dir/$name.ext" -out "$dir/$name.crt"
    "$OPENSSL_BIN" verify -CAfile "$dir/ca.pem" "$dir/$name.crt"
  } >"$log" 2>&1 || { diag_add "$log"; fail "make_cert $dir $name: openssl failed"; }
}

# cert_fingerprint FILE: SHA-256 fingerprint of a PEM certificate as AA:BB:... (uppercase).
cert_fingerprint() {
  "$OPENSSL_BIN" x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# start_demo_server DIR: starts OpenSSL's quic-server-block on a free UDP port with DIR's
# server.crt / server.key (see make_cert) and waits until a quicc client gets "hello" echoed
# through it (up to ~15 s; longer when time-scaled). Exports DEMO_PID and DEMO_PORT. The client
# uses the CA in DIR.
# Skips the test (exit 77) when there is no demo server: a system OpenSSL ships none.
start_demo_server() {
  local dir=$1 attempt rc out
  [ -n "$DEMO_SERVER" ] ||
    skip "no OpenSSL demo server (quic-server-block): OPENSSL_PREFIX names no bootstrap build"
  [ -x "$DEMO_SERVER" ] || skip "no OpenSSL demo server at $DEMO_SERVER"
  for attempt in 1 2 3; do
    DEMO_PORT=$(free_udp_port)
    "$DEMO_SERVER" "$DEMO_PORT" "$dir/server.crt" "$dir/server.key" \
      </dev/null >"$dir/demo.$attempt.out" 2>&1 &
    DEMO_PID=$!
    bg_track "$DEMO_PID"
    diag_add "$dir/demo.$attempt.out"
    for _ in $(seq 1 15); do
      if ! kill -0 "$DEMO_PID" 2>/dev/null; then
        break   # died (port taken after all?): try another port
      fi
      rc=0
      out=$(printf hello | qt 5 --alpn hq-interop --cafile "$dir/ca.pem" \
              --connect-timeout "$(scaled 1)s" "localhost:$DEMO_PORT" 2>"$dir/probe.err") || rc=$?
      if [ "$rc" = 0 ] && [ "$out" = hello ]; then
        export DEMO_PID DEMO_PORT
        return 0
      fi
      sleep 0.3
    done
    if kill -0 "$DEMO_PID" 2>/dev/null; then
      diag_add "$dir/probe.err"
      fail "quic-server-block on port $DEMO_PORT is running but 'printf hello | quicc" \
           "--alpn hq-interop --cafile ca.pem localhost:$DEMO_PORT' never echoed hello" \
           "(last exit $rc, stdout '$out')"
    fi
  done
  fail "quic-server-block did not stay up on 3 different ports"
}

# sha FILE: the hex SHA-256 of FILE.
sha() { sha256sum "$1" | cut -d' ' -f1; }

# start_relay NAME SERVER_PORT ARGS...: the fault relay (tests/fault_relay.py, ARGS its options)
# in front of SERVER_PORT; sets RELAY_PID and RELAY_PORT. Its counts go to $TMP/NAME.relay.err
# when it is stopped.
start_relay() {
  local name=$1 port=$2
  shift 2
  python3 "$(dirname "$0")/../fault_relay.py" 0 "$port" "$@" >"$TMP/$name.relay.out" 2>"$TMP/$name.relay.err" &
  RELAY_PID=$!
  bg_track "$RELAY_PID"
  diag_add "$TMP/$name.relay.err"
  wait_log "$TMP/$name.relay.out" 0 '^relay: ready [0-9]+$' 20 || fail "$name: the relay did not start"
  RELAY_PORT=$(awk '{print $3; exit}' "$TMP/$name.relay.out")
}

# stop_relay NAME PID: stops it; its counts are then in $TMP/NAME.relay.err.
stop_relay() {
  kill -TERM "$2" 2>/dev/null || true
  wait "$2" 2>/dev/null || true
  bg_forget "$2"
}

# one_line_error FILE WHAT: FILE must be exactly one line starting "quicc: error: ".
check_one_error_line() {
  local f=$1 what=$2 n
  n=$(wc -l <"$f")
  # A final line without newline still counts as one.
  [ -s "$f" ] && [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\n' ] && n=$((n + 1))
  [ "$n" = 1 ] || fail "$what: expected exactly one stderr line, got $n: $(head -c 400 "$f" | tr '\n' '|')"
  grep -q '^quicc: error: ' "$f" ||
    fail "$what: stderr line does not start with 'quicc: error: ': $(head -c 300 "$f")"
}

ZERO_PIN=0000000000000000000000000000000000000000000000000000000000000000

# ---------------------------------------------------------------------------------------------
# Logs of long-running peers (an echo listener serves many connections into one stderr file)

# log_mark FILE: how many complete lines FILE has now; pass it to log_since / wait_log to look
# only at what was logged afterwards.
log_mark() {
  if [ -e "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# log_since FILE MARK: FILE's lines after the first MARK lines.
log_since() { tail -n +"$(($2 + 1))" "$1"; }

# wait_log FILE MARK ERE SECONDS: waits until a line logged after MARK matches the extended
# regular expression ERE; returns 1 if none does within SECONDS (scaled).
wait_log() {
  local file=$1 mark=$2 ere=$3 deadline
  deadline=$(($(now_ms) + $(scaled "$4") * 1000))
  # (grep -q on a process substitution: under pipefail, `log_since | grep -q` could fail when
  # grep's early exit kills tail with SIGPIPE.)
  until grep -Eq -- "$ere" <(log_since "$file" "$mark"); do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# hold_fifo PATH [SECONDS]: creates the FIFO PATH and keeps it open for writing, silent, for
# SECONDS (default 60) from a tracked background process: a reader of PATH sees no data and no
# EOF. Sets HOLD_PID (kill it to deliver EOF).
hold_fifo() {
  mkfifo "$1"
  sleep "${2:-60}" >"$1" &
  HOLD_PID=$!
  bg_track "$HOLD_PID"
}

# kill_now PID: SIGKILL a tracked background process (stopped ones too) without bash's "Killed"
# job notice, waits (up to 2 s) until it is gone and forgets it.
kill_now() {
  local pid=$1 i
  disown "$pid" 2>/dev/null || true
  kill -9 "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  bg_forget "$pid"
}
