#!/usr/bin/env bash
# The main job: a quicc listener on loopback, and quicc piping a file through it.
#   scripts/demo.sh [FILE]     (default: the quicc binary itself)
# The client trusts the listener's ephemeral certificate by its fingerprint (--pin-sha256), so
# no CA is needed; both ends' SHA-256 must match.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
quicc=build/app/quicc
file=${1:-$quicc}

work=$(mktemp -d)
listener_pid=
cleanup() {
  [ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting: quicc --listen 127.0.0.1:0 > received"
"$quicc" --listen 127.0.0.1:0 -v >"$work/received" 2>"$work/listener.log" </dev/null &
listener_pid=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$work/listener.log" && grep -q fingerprint "$work/listener.log" && break
  sleep 0.1
done
port=$(sed -n 's/^quicc: listening on .*:\([0-9]*\)$/\1/p' "$work/listener.log")
fingerprint=$(sed -n 's/^quicc: certificate sha256 fingerprint \([0-9A-F:]*\).*/\1/p' "$work/listener.log")
[ -n "$port" ] && [ -n "$fingerprint" ] || { cat "$work/listener.log"; echo "demo: listener did not start" >&2; exit 1; }
sed 's/^/   listener| /' "$work/listener.log"

echo "== piping $file ($(stat -c %s "$file") bytes): quicc -v --pin-sha256 <fp> 127.0.0.1:$port < file"
start=$(date +%s%N)
rc=0
"$quicc" -v --pin-sha256 "$fingerprint" "127.0.0.1:$port" <"$file" >"$work/reply" 2>"$work/client.log" || rc=$?
end=$(date +%s%N)
sed 's/^/   client  | /' "$work/client.log"
wait "$listener_pid" || { echo "demo: listener failed" >&2; exit 1; }
listener_pid=
sed -n '3,$p' "$work/listener.log" | sed 's/^/   listener| /'

sent=$(sha256sum <"$file" | cut -d' ' -f1)
got=$(sha256sum <"$work/received" | cut -d' ' -f1)
ms=$(( (end - start) / 1000000 ))
echo "== client exit code $rc, $(stat -c %s "$work/received") bytes received by the listener in ${ms} ms"
echo "   sha256 sent     $sent"
echo "   sha256 received $got"
if [ "$rc" = 0 ] && [ "$sent" = "$got" ]; then
  echo "== OK: the file crossed a QUIC stream intact"
else
  echo "== FAILED" >&2
  exit 1
fi
