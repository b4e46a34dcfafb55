# shellcheck shell=bash
# Helpers for signal tests: lib_sigrun.py (run quicc as our own child, wait until it is ready,
# measure its CPU, signal it, time its end), a relay that keeps a server's handshake from
# reaching its client, a relay that delays every datagram, and a network namespace whose DNS
# server never answers. Source after lib.sh.

SIGRUN=$(dirname "${BASH_SOURCE[0]}")/lib_sigrun.py

# Python helpers run with -S (no site packages, stdlib only): a loaded machine takes seconds to
# start a full interpreter.
PY=(python3 -S)

declare -A SIGRUN_PIDS=()

# sigrun_start NAME ARGS...: starts `lib_sigrun.py ARGS...` in the background (see its header
# for ARGS); its result line goes to $TMP/NAME.sigrun, its complaints to $TMP/NAME.sigrun.err,
# the pid of the command it runs to $TMP/NAME.pid.
sigrun_start() {
  local name=$1; shift
  "${PY[@]}" "$SIGRUN" --pidfile "$TMP/$name.pid" "$@" >"$TMP/$name.sigrun" 2>"$TMP/$name.sigrun.err" &
  SIGRUN_PIDS[$name]=$!
  bg_track $!
}

# sigrun_finish NAME: waits for the sigrun_start'ed run NAME (it bounds itself: its own ready
# timeout, its settling and CPU window, and its exit timeout; at most 90 s, scaled) and sets
# R_STATUS (exit:N, signal:N or running), R_DELAY and R_FIRST (ms from the last / first signal to the end), R_CPU
# (ms in the CPU window, or -), R_CLOSING_CPU (ms from the first signal to the end), R_SENT
# (signals sent) and R_READY (ms until ready).
# shellcheck disable=SC2034  # the R_ variables are read by the scripts that source this
sigrun_finish() {
  local name=$1 line
  wait_pid "${SIGRUN_PIDS[$name]}" 90
  # By convention the run's quicc logs to $TMP/NAME.err: show it if the run went wrong.
  if [ "$WAIT_RC" != 0 ] || [ ! -s "$TMP/$name.sigrun" ]; then diag_add "$TMP/$name.err"; fi
  [ "$WAIT_RC" != 124 ] || fail "$name: lib_sigrun.py still running after $(scaled 90) s"
  [ "$WAIT_RC" = 0 ] || fail "$name: $(cat "$TMP/$name.sigrun.err")"
  line=$(cat "$TMP/$name.sigrun")
  R_STATUS=$(sigrun_field "$line" status)
  R_DELAY=$(sigrun_field "$line" delay_ms)
  R_FIRST=$(sigrun_field "$line" first_delay_ms)
  R_CPU=$(sigrun_field "$line" cpu_ms)
  R_CLOSING_CPU=$(sigrun_field "$line" closing_cpu_ms)
  R_SENT=$(sigrun_field "$line" sent)
  R_READY=$(sigrun_field "$line" ready_ms)
  [ -n "$R_STATUS" ] || fail "$name: no result from lib_sigrun.py: '$line'"
}

# sigrun NAME ARGS...: sigrun_start and sigrun_finish.
sigrun() {
  sigrun_start "$@"
  sigrun_finish "$1"
}

sigrun_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# signal_number NAME: INT -> 2, TERM -> 15, HUP -> 1.
signal_number() {
  case $1 in
    INT) echo 2 ;;
    TERM) echo 15 ;;
    HUP) echo 1 ;;
    *) fail "signal_number: unknown signal $1" ;;
  esac
}

# start_handshake_blackhole UPSTREAM_PORT NAME: a UDP relay on 127.0.0.1 in front of
# 127.0.0.1:UPSTREAM_PORT. It forwards every client datagram to the server and drops every
# server datagram except Retry packets: the client gets past address validation (so the server
# keeps state for it: a listener is really mid-handshake) but never sees the server's Initial,
# and both sides keep retransmitting. Its log ($TMP/NAME.relay.log) has one line per datagram:
# `forwarded N`, `passed retry N`, `dropped N`. Exports RELAY_PORT.
start_handshake_blackhole() {
  local upstream=$1 name=$2
  "${PY[@]}" -u - "$upstream" >"$TMP/$name.relay.port" 2>"$TMP/$name.relay.err" \
    3>"$TMP/$name.relay.log" <<'PY' &
import os, select, socket, sys
log = os.fdopen(3, "w", buffering=1)
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", 0))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.connect(("127.0.0.1", int(sys.argv[1])))
print(front.getsockname()[1], flush=True)
client = None
while True:
    readable, _, _ = select.select([front, up], [], [])
    if front in readable:
        data, client = front.recvfrom(65536)
        up.send(data)
        log.write(f"forwarded {len(data)}\n")
    if up in readable:
        try:
            data = up.recv(65536)
        except ConnectionRefusedError:
            continue
        # Long header, type 3: a QUIC v1 Retry.
        if data and data[0] & 0xf0 == 0xf0 and client:
            front.sendto(data, client)
            log.write(f"passed retry {len(data)}\n")
        else:
            log.write(f"dropped {len(data)}\n")
PY
  bg_track $!
  diag_add "$TMP/$name.relay.err"
  for _ in $(seq 1 "$(scaled 200)"); do
    [ -s "$TMP/$name.relay.port" ] && break
    sleep 0.05
  done
  RELAY_PORT=$(head -n1 "$TMP/$name.relay.port")
  [ -n "$RELAY_PORT" ] || fail "$name: the relay did not start"
  export RELAY_PORT
}

# start_delay_relay UPSTREAM_PORT NAME DELAY_MS: a UDP relay on 127.0.0.1 in front of
# 127.0.0.1:UPSTREAM_PORT (one client) that holds every datagram DELAY_MS in each direction, so
# the path's round trip is 2 * DELAY_MS. Exports RELAY_PORT.
start_delay_relay() {
  local upstream=$1 name=$2 delay=$3
  "${PY[@]}" -u - "$upstream" "$delay" >"$TMP/$name.relay.port" 2>"$TMP/$name.relay.err" <<'PY' &
import heapq, itertools, select, socket, sys, time
delay = float(sys.argv[2]) / 1000
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", 0))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.connect(("127.0.0.1", int(sys.argv[1])))
print(front.getsockname()[1], flush=True)
client = None
queue, order = [], itertools.count()  # (due, tie-break, to_server, datagram)
while True:
    now = time.monotonic()
    while queue and queue[0][0] <= now:
        _, _, to_server, data = heapq.heappop(queue)
        try:
            up.send(data) if to_server else front.sendto(data, client)
        except OSError:
            pass
    timeout = max(0.0, queue[0][0] - now) if queue else None
    readable, _, _ = select.select([front, up], [], [], timeout)
    now = time.monotonic()
    if front in readable:
        data, client = front.recvfrom(65536)
        heapq.heappush(queue, (now + delay, next(order), True, data))
    if up in readable:
        try:
            heapq.heappush(queue, (now + delay, next(order), False, up.recv(65536)))
        except ConnectionRefusedError:
            pass
PY
  bg_track $!
  diag_add "$TMP/$name.relay.err"
  for _ in $(seq 1 "$(scaled 200)"); do
    [ -s "$TMP/$name.relay.port" ] && break
    sleep 0.05
  done
  RELAY_PORT=$(head -n1 "$TMP/$name.relay.port")
  [ -n "$RELAY_PORT" ] || fail "$name: the relay did not start"
  export RELAY_PORT
}

# silent_dns_setup: prepares $TMP/silent_dns.sh, a command prefix that runs its arguments (with
# exec: same pid) in a new mount and network namespace where lo is up, /etc/resolv.conf names
# 127.0.0.1 (timeout 30 s, 2 attempts), and a DNS server on 127.0.0.1:53 reads every query,
# logs it to $TMP/dns.log and never answers; the server's pid goes to $TMP/dns.pid. Returns 1
# (with the reason in SILENT_DNS_WHY) when this machine cannot make such a namespace.
silent_dns_setup() {
  printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:2\n' >"$TMP/resolv.conf"
  cat >"$TMP/silent_dns.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
s.settimeout(1.0)
print("ready", flush=True)
end = time.monotonic() + 120  # never outlive the test by much, even if nobody kills us
while time.monotonic() < end:
    try:
        data, addr = s.recvfrom(4096)
    except socket.timeout:
        continue
    print(f"query {len(data)} bytes from {addr[0]}:{addr[1]}", flush=True)
PY
  cat >"$TMP/silent_dns.sh" <<SH
set -e
ip link set lo up
mount --bind "$TMP/resolv.conf" /etc/resolv.conf
python3 -S -u "$TMP/silent_dns.py" </dev/null >"$TMP/dns.log" 2>&1 &
echo \$! >"$TMP/dns.pid"
for _ in \$(seq 1 $(scaled 400)); do
  grep -q '^ready' "$TMP/dns.log" && exec "\$@"
  sleep 0.05
done
echo "silent_dns.sh: the DNS server did not start" >&2
exit 125
SH
  if ! SILENT_DNS_WHY=$(unshare -m -n sh -c \
         "ip link set lo up && mount --bind '$TMP/resolv.conf' /etc/resolv.conf" 2>&1); then
    SILENT_DNS_WHY="unshare -m -n with a bind-mounted /etc/resolv.conf failed: $SILENT_DNS_WHY"
    return 1
  fi
}

# silent_dns_stop: ends the DNS server of the last silent_dns.sh run.
silent_dns_stop() {
  [ -s "$TMP/dns.pid" ] && kill "$(cat "$TMP/dns.pid")" 2>/dev/null
  rm -f "$TMP/dns.pid"
  return 0
}

# ---------------------------------------------------------------------------------------------
# Checks that do not stop the test: every run is made, and every failure is listed at the end
# with the logs of the runs concerned (a test that stops at its first failure hides the rest).

RESULTS=()    # one line per run, printed at the end
PROBLEMS=()   # failed checks
PROBLEM_DIAGS=()

# problem NAME MESSAGE...: a failed check of run NAME (whose quicc logged to $TMP/NAME.err).
problem() {
  local name=$1 f
  shift
  PROBLEMS+=("$name: $*")
  for f in "${PROBLEM_DIAGS[@]+"${PROBLEM_DIAGS[@]}"}"; do
    [ "$f" != "$TMP/$name.err" ] || return 0
  done
  PROBLEM_DIAGS+=("$TMP/$name.err")
}

# report_results SUMMARY: prints RESULTS, then fails listing PROBLEMS (with only their runs'
# logs), or passes with SUMMARY.
report_results() {
  local r
  for r in "${RESULTS[@]+"${RESULTS[@]}"}"; do note "$r"; done
  if [ ${#PROBLEMS[@]} -gt 0 ]; then
    # shellcheck disable=SC2034  # lib.sh's fail() prints them
    DIAG_FILES=("${PROBLEM_DIAGS[@]}")
    fail "${#PROBLEMS[@]} check(s) failed: $(printf '%s | ' "${PROBLEMS[@]}")"
  fi
  pass "$1"
}

# expect_interrupted NAME SIG: the last sigrun (NAME) ended quicc with exit 128+SIG within 1 s
# of SIG, with the error line `quicc: error: interrupted (SIGxxx)`, and, when a CPU window was
# measured, under 50 ms of CPU in it (both bounds scaled). Adds NAME's line to RESULTS.
expect_interrupted() {
  local name=$1 sig=$2 want
  want=$((128 + $(signal_number "$sig")))
  RESULTS+=("$name: $R_STATUS after $R_DELAY ms")
  if [ "$R_STATUS" = running ]; then
    problem "$name" "quicc was still running $(scaled 5) s after SIG$sig (then killed)"
    return 0
  fi
  [ "$R_STATUS" = "exit:$want" ] || problem "$name" "quicc ended with $R_STATUS, expected exit:$want"
  [ "$R_DELAY" -le "$(scaled 1000)" ] ||
    problem "$name" "quicc exited $R_DELAY ms after SIG$sig, expected <= $(scaled 1000) ms"
  grep -Fxq "quicc: error: interrupted (SIG$sig)" "$TMP/$name.err" ||
    problem "$name" "no line 'quicc: error: interrupted (SIG$sig)' on stderr; its errors:" \
            "$(grep 'error' "$TMP/$name.err" | head -n 3 | tr '\n' '|')"
  if [ "$R_CPU" != - ]; then
    ! cpu_limits_apply || awk -v c="$R_CPU" -v limit="$(scaled 50)" 'BEGIN { exit !(c < limit) }' ||
      problem "$name" "quicc used $R_CPU ms of CPU in $CPU_WINDOW s of waiting, expected < $(scaled 50) ms"
    RESULTS[-1]+=", CPU $R_CPU ms in $CPU_WINDOW s of waiting"
  fi
}

# The CPU window of waiting phases, in seconds.
CPU_WINDOW=1.0

# yes_fifo NAME: the FIFO $TMP/NAME.in, fed by `yes` (which ends with SIGPIPE once its reader
# is gone).
yes_fifo() {
  mkfifo "$TMP/$1.in"
  yes >"$TMP/$1.in" 2>/dev/null &
  bg_track $!
}
