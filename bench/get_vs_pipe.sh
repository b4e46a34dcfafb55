#!/usr/bin/env bash
# A file via --get against the raw pipe, side by side in one run (issue: "a 100 MB file via
# --get at the raw-pipe speed or better"). Each round, in turn:
#   pipe       quicc --listen > /dev/null   <-   quicc HOST:PORT < FILE
#   get-quicc  quicc --get /FILE -o OUT     <-   quicc --listen --serve DIR
#   get-ossl   quicc --get /FILE -o OUT     <-   OpenSSL's quic-hq-interop-server
# under the driver given (--nonblocking, the default, or --blocking), and prints the median
# wall time of each and its ratio to the pipe's (below 1: faster than the pipe).
#   bench/get_vs_pipe.sh [--blocking] [SIZE_MB (100)] [ROUNDS (5)]
set -euo pipefail
cd "$(dirname "$0")/.."
driver=--nonblocking
if [ "${1:-}" = --blocking ] || [ "${1:-}" = --nonblocking ]; then driver=$1; shift; fi
size_mb=${1:-100}
rounds=${2:-5}
scripts/build.sh >/dev/null
quicc=$PWD/build/app/quicc
prefix=$(scripts/bootstrap.sh 2>/dev/null | tail -n 1)
hq=${prefix:+$prefix/peers/quic-hq-interop-server}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www" "$work/pki"
head -c $((size_mb * 1024 * 1024)) /dev/urandom >"$work/www/file"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$work/pki/key.pem" -out "$work/pki/cert.pem" \
  >/dev/null 2>&1
tls=(--cafile "$work/pki/cert.pem")

free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

serve_port=$(free_port)
"$quicc" "$driver" --listen "127.0.0.1:$serve_port" --serve "$work/www" --keep-open \
  --cert "$work/pki/cert.pem" --key "$work/pki/key.pem" </dev/null >/dev/null 2>"$work/serve.log" &
pids+=($!)
hq_port=
if [ -x "${hq:-}" ]; then
  hq_port=$(free_port)
  FILEPREFIX=$work/www NO_ADDR_VALIDATE=1 "$hq" "$hq_port" "$work/pki/cert.pem" "$work/pki/key.pem" \
    </dev/null >/dev/null 2>&1 &
  pids+=($!)
fi
sleep 0.5

run_pipe() {
  local port
  port=$(free_port)
  "$quicc" "$driver" --listen "127.0.0.1:$port" --cert "$work/pki/cert.pem" --key "$work/pki/key.pem" \
    </dev/null >/dev/null 2>>"$work/pipe.log" &
  local listener=$!
  sleep 0.2
  "$quicc" "$driver" "${tls[@]}" "localhost:$port" <"$work/www/file" >/dev/null
  wait "$listener"
}
run_get() {
  "$quicc" "$driver" "${tls[@]}" --get /file -o "$work/out" "localhost:$1"
  cmp -s "$work/out" "$work/www/file" || { echo "get from port $1: the file differs" >&2; exit 1; }
}

declare -A times
for r in $(seq 1 "$rounds"); do
  t0=$(ms); run_pipe; t1=$(ms); times[pipe]+="$((t1 - t0 - 200)) "
  t0=$(ms); run_get "$serve_port"; t1=$(ms); times[get-quicc]+="$((t1 - t0)) "
  if [ -n "$hq_port" ]; then t0=$(ms); run_get "$hq_port"; t1=$(ms); times[get-ossl]+="$((t1 - t0)) "; fi
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
base=$(median <<<"${times[pipe]}")
echo "$size_mb MiB, $rounds rounds, $driver (median ms; ratio to the pipe)"
for k in pipe get-quicc get-ossl; do
  [ -n "${times[$k]:-}" ] || continue
  m=$(median <<<"${times[$k]}")
  printf '  %-10s %6d ms  %5.2f   (%s)\n' "$k" "$m" "$(echo "$m / $base" | bc -l)" "${times[$k]% }"
done
