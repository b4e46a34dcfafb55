# shellcheck shell=bash
# Peers other than quicc's listener and OpenSSL's demo server: a UDP sink that answers nothing,
# and ngtcp2's HTTP/3 server (Debian package ngtcp2-server, ALPN h3 only). Source after lib.sh.

# start_udp_sink: a UDP socket on 127.0.0.1 that reads and drops every datagram. Exports
# SINK_PORT.
start_udp_sink() {
  python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    s.recvfrom(65536)
' >"$TMP/sink.port" 2>"$TMP/sink.err" &
  bg_track $!
  diag_add "$TMP/sink.err"
  for _ in $(seq 1 "$(scaled 100)"); do
    [ -s "$TMP/sink.port" ] && break
    sleep 0.05
  done
  SINK_PORT=$(head -n1 "$TMP/sink.port")
  [ -n "$SINK_PORT" ] || fail "UDP sink did not start"
  export SINK_PORT
}

GTLSSERVER=$(command -v gtlsserver || true)

# h3_get PATH AUTHORITY: the bytes of an HTTP/3 GET request (one HEADERS frame, QPACK static
# table only) for a raw bidirectional stream.
h3_get() {
  python3 - "$1" "$2" <<'PY'
import sys
path, authority = sys.argv[1].encode(), sys.argv[2].encode()
# Required insert count 0, base 0; :method GET (17), :scheme https (23) indexed; :path (1) and
# :authority (0) as literals with a static name reference.
fields = b"\x00\x00\xd1\xd7" + bytes([0x50 | 1, len(path)]) + path + bytes([0x50, len(authority)]) + authority
assert len(path) < 128 and len(authority) < 128 and len(fields) < 64
sys.stdout.buffer.write(bytes([0x01, len(fields)]) + fields)
PY
}

# start_gtlsserver DIR: serves DIR (its files are the documents) with DIR/server.crt and
# DIR/server.key (make_cert) on a free UDP port of 127.0.0.1, and waits until a quicc h3
# handshake succeeds (up to ~10 s). Exports GTLS_PID and GTLS_PORT. Skips when gtlsserver is
# not installed.
start_gtlsserver() {
  local dir=$1 attempt rc
  [ -n "$GTLSSERVER" ] || skip "gtlsserver (Debian package ngtcp2-server) is not installed"
  for attempt in 1 2 3; do
    GTLS_PORT=$(free_udp_port)
    "$GTLSSERVER" -q -d "$dir" 127.0.0.1 "$GTLS_PORT" "$dir/server.key" "$dir/server.crt" \
      </dev/null >"$dir/gtls.$attempt.log" 2>&1 &
    GTLS_PID=$!
    bg_track "$GTLS_PID"
    diag_add "$dir/gtls.$attempt.log"
    for _ in $(seq 1 20); do
      kill -0 "$GTLS_PID" 2>/dev/null || break
      rc=0
      qt 5 --alpn h3 --on-eof close --close-code 0x100 --cafile "$dir/ca.pem" \
        --connect-timeout "$(scaled 1)s" "localhost:$GTLS_PORT" </dev/null >/dev/null 2>"$dir/gtls-probe.err" || rc=$?
      if [ "$rc" = 0 ]; then
        export GTLS_PID GTLS_PORT
        return 0
      fi
      sleep 0.3
    done
    kill "$GTLS_PID" 2>/dev/null || true
  done
  diag_add "$dir/gtls-probe.err"
  fail "gtlsserver did not answer an h3 handshake on 3 different ports"
}

# start_hq_server PKI WWW: OpenSSL's HTTP/0.9 server (quic-hq-interop-server, ALPN
# hq-interop) on a free UDP port with PKI's server.crt / server.key (make_cert), serving the
# files of WWW by their base name (GET /m/5 is WWW/5; a missing file is an empty response; logs
# in $TMP), and
# waits until a quicc --get works (up to ~10 s, scaled). Exports HQ_PID and HQ_PORT. Skips
# without the bootstrap's peers.
start_hq_server() {
  local pki=$1 www=$2 attempt rc
  [ -n "$HQ_SERVER" ] && [ -x "$HQ_SERVER" ] ||
    skip "no quic-hq-interop-server: OPENSSL_PREFIX names no bootstrap build"
  printf ready >"$www/.ready"
  for attempt in 1 2 3; do
    HQ_PORT=$(free_udp_port)
    FILEPREFIX=$www NO_ADDR_VALIDATE=yes "$HQ_SERVER" "$HQ_PORT" "$pki/server.crt" \
      "$pki/server.key" </dev/null >"$TMP/hq.$attempt.log" 2>&1 &
    HQ_PID=$!
    bg_track "$HQ_PID"
    diag_add "$TMP/hq.$attempt.log"
    for _ in $(seq 1 20); do
      kill -0 "$HQ_PID" 2>/dev/null || break
      rc=0
      qt 5 --get /.ready --cafile "$pki/ca.pem" --connect-timeout "$(scaled 1)s" \
        "localhost:$HQ_PORT" >"$TMP/hq-probe.out" 2>"$TMP/hq-probe.err" || rc=$?
      if [ "$rc" = 0 ] && [ "$(cat "$TMP/hq-probe.out")" = ready ]; then
        export HQ_PID HQ_PORT
        return 0
      fi
      sleep 0.3
    done
    kill "$HQ_PID" 2>/dev/null || true
  done
  diag_add "$TMP/hq-probe.err"
  fail "quic-hq-interop-server did not answer --get /.ready on 3 different ports"
}

# small_files DIR COUNT SEED: files DIR/0 ... DIR/COUNT-1 of 0 to 3000 random bytes each (the
# same bytes for the same SEED).
small_files() {
  python3 - "$@" <<'PY'
import os, random, sys
directory, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
for i in range(count):
    with open(os.path.join(directory, str(i)), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(0, 3000)))
PY
}

# max_in_flight LOG: the most streams open at once in a -v text log of a --get run (opened,
# then fin_received or reset_received).
max_in_flight() {
  awk '/ stream id=[0-9]+ change=opened/ { n++; if (n > max) max = n }
       / stream id=[0-9]+ change=(fin_received|reset_received)/ { n-- }
       END { print max + 0 }' "$1"
}

# json_field FILE KEY: the value of KEY in the one-line JSON object in FILE.
json_field() {
  python3 -c 'import json,sys; v=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]]; print(str(v).lower() if isinstance(v,bool) else v)' "$1" "$2"
}
