#!/usr/bin/env bash
# 20 MB of random bytes echoed byte-identical with every stream write mode: the default
# (all-or-nothing), --partial-write, --moving-buffer and both, through a quicc echo listener; the
# default and --partial-write also through OpenSSL's demo server (quic-server-block).
. "$(dirname "$0")/lib.sh"

SIZE=$((20 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$TMP/in"
IN_SHA=$(sha "$TMP/in")

# echo_run NAME ARGS...: `quicc ARGS <in >NAME.out` must exit 0 with the input echoed back.
echo_run() {
  local name=$1 rc=0 t0 t1 got
  shift
  t0=$(now_ms)
  q "$@" <"$TMP/in" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
  t1=$(now_ms)
  diag_add "$TMP/$name.err"
  [ "$rc" = 0 ] || fail "$name: client exited $rc (124 = killed by timeout after ${QUICC_TIMEOUT}s)"
  got=$(stat -c %s "$TMP/$name.out")
  [ "$got" = "$SIZE" ] || fail "$name: client got $got bytes back, expected $SIZE"
  [ "$(sha "$TMP/$name.out")" = "$IN_SHA" ] || fail "$name: echoed data differs from the input (sha256)"
  rm -f "$TMP/$name.out"
  note "$name: $((t1 - t0)) ms"
}

start_listener "$TMP/echo.out" --echo
quicc_peer=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")
echo_run quicc.default "${quicc_peer[@]}"
echo_run quicc.partial --partial-write "${quicc_peer[@]}"
echo_run quicc.moving --moving-buffer "${quicc_peer[@]}"
echo_run quicc.partial+moving --partial-write --moving-buffer "${quicc_peer[@]}"
kill -0 "$LISTENER_PID" 2>/dev/null || fail "the echo listener exited"

make_cert "$TMP/pki" server
start_demo_server "$TMP/pki"
demo_peer=(--alpn hq-interop --cafile "$TMP/pki/ca.pem" "localhost:$DEMO_PORT")
echo_run demo.default "${demo_peer[@]}"
echo_run demo.partial --partial-write "${demo_peer[@]}"

pass "20 MiB echoed byte-identical in all write modes (quicc listener and quic-server-block)"
