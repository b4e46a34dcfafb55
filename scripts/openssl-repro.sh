#!/usr/bin/env bash
# Reproduces the OpenSSL 3.5 bug that scripts/openssl-patches/0002 fixes with OpenSSL's own
# programs only: its HTTP/0.9 interop client (test/quic-openssl-docker/hq-interop/
# quic-hq-interop.c) downloads a 4 MiB file from its interop server (quic-hq-interop-server)
# through tests/fault_relay.py, which swallows everything the client sends for 2 s, starting
# 0.2, 0.3 or 0.4 s into the download (--blackhole-way up): the client's credit updates
# (MAX_STREAM_DATA) of that time are lost, and once the server has used up the credit it had,
# a client that never sends them again stalls for good (the relay then sees only keep-alive
# PINGs every 15 s). RUNS downloads, one at a time, 30 s each at most.
#
#   scripts/openssl-repro.sh PREFIX [RUNS]
#
# PREFIX: an OpenSSL build of scripts/bootstrap.sh (its peers/ has the server; the client is
# compiled here against PREFIX's static libraries, saving into a scratch directory instead of
# /downloads). Prints a line per run ("run N: complete|STALLED at BYTES|exit RC") and a count;
# exits 1 if a run stalled. With QLOG=1 the client writes a qlog per run (OpenSSL builds
# with qlog): the last MAX_STREAM_DATA it sent is in a packet declared lost, and none follows.
# Measured: 9 of 10 runs stalled without the fix (3.5.7 with patch 0001 only), 0 of 10 with it.
set -euo pipefail
prefix=${1:?usage: $0 PREFIX [RUNS]}
runs=${2:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$("$root/scripts/bootstrap.sh" --source | tail -n 1)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

sed 's|"/downloads/%s"|"%s/%s", getenv("REPRO_DOWNLOADS")|' \
  "$src/test/quic-openssl-docker/hq-interop/quic-hq-interop.c" >"$work/client.c"
grep -q REPRO_DOWNLOADS "$work/client.c" || { echo "the demo client's source changed" >&2; exit 2; }
cc -O2 -I"$prefix/include" -o "$work/client" "$work/client.c" \
  "$prefix/lib/libssl.a" "$prefix/lib/libcrypto.a" -lpthread -ldl
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost 2>/dev/null
mkdir -p "$work/www"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$work/www/big"

one() {  # one N: a download; prints its line
  local n=$1 d="$work/run$1" port rport rc=0 sp rp
  mkdir -p "$d/dl"
  port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  FILEPREFIX=$work/www NO_ADDR_VALIDATE=1 "$prefix/peers/quic-hq-interop-server" "$port" \
    "$work/cert.pem" "$work/key.pem" >"$d/server.log" 2>&1 &
  sp=$!
  python3 "$root/tests/fault_relay.py" 0 "$port" --blackhole-way up --blackhole-at "0.$((2 + n % 3))" \
    --blackhole-for 2 >"$d/relay.out" 2>/dev/null &
  rp=$!
  for _ in $(seq 100); do grep -q ready "$d/relay.out" 2>/dev/null && break; sleep 0.05; done
  rport=$(awk '{print $3; exit}' "$d/relay.out")
  printf big >"$d/req"
  (cd "$d" && env ${QLOG:+QLOGDIR=$d} REPRO_DOWNLOADS="$d/dl" SSL_CERT_FILE="$work/cert.pem" \
     timeout 30 "$work/client" localhost "$rport" "$d/req" >"$d/client.log" 2>&1) || rc=$?
  kill "$sp" "$rp" 2>/dev/null || true
  wait "$sp" "$rp" 2>/dev/null || true
  local got
  got=$(stat -c %s "$d/dl/big" 2>/dev/null || echo 0)
  if [ "$rc" = 0 ] && cmp -s "$d/dl/big" "$work/www/big"; then echo "run $n: complete"
  elif [ "$rc" = 124 ]; then echo "run $n: STALLED at $got bytes"
  else echo "run $n: exit $rc, $got bytes"; fi
}

export -f one
export work prefix root QLOG
seq 1 "$runs" | xargs -P 1 -I{} bash -c 'one {}' | tee "$work/results"
stalled=$(grep -c STALLED "$work/results" || true)
echo "$stalled of $runs downloads stalled ($prefix)"
[ "$stalled" = 0 ]
