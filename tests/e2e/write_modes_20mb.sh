#!/usr/bin/env bash
# 20 MB of random bytes echoed byte-identical with every stream write mode: the default
# (all-or-nothing), --partial-write, --moving-buffer and both, through a quicc echo listener; the
# default and --partial-write also through OpenSSL's demo server (quic-server-block).
#
# With gdb the quicc-listener runs also show that each mode was used (lib_write_spy.sh): the
# client's streams get exactly the modes asked for, and under the non-blocking driver writes
# really are partial (a call offers the rest of the previous one's buffer) with --partial-write,
# and retries really come from a moved buffer with --moving-buffer; neither happens without.
# Under the blocking driver the modes are set all the same, but OpenSSL's blocking SSL_write_ex
# returns only once it has taken the whole buffer: no write is partial or retried, so there is
# nothing more to see (the run notes the counts).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_write_spy.sh"

SIZE=$((20 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$TMP/in"
IN_SHA=$(sha "$TMP/in")

SPY=0
if have_write_spy; then SPY=1; else note "gdb is not available: the write modes are not observed"; fi

# check_echo NAME RC T0: the run NAME exited RC and echoed the input.
check_echo() {
  local name=$1 rc=$2 t0=$3 got
  diag_add "$TMP/$name.err"
  [ "$rc" = 0 ] || fail "$name: client exited $rc (124 = killed by the time limit)"
  got=$(stat -c %s "$TMP/$name.out")
  [ "$got" = "$SIZE" ] || fail "$name: client got $got bytes back, expected $SIZE"
  [ "$(sha "$TMP/$name.out")" = "$IN_SHA" ] || fail "$name: echoed data differs from the input (sha256)"
  rm -f "$TMP/$name.out"
  note "$name: $(( $(now_ms) - t0 )) ms"
}

# echo_run NAME ARGS...: `quicc ARGS <in >NAME.out` must exit 0 with the input echoed back.
echo_run() {
  local name=$1 rc=0 t0
  shift
  t0=$(now_ms)
  q "$@" <"$TMP/in" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
  check_echo "$name" "$rc" "$t0"
}

# spied_run NAME PARTIAL MOVING ARGS...: echo_run under the write spy (when there is one), the
# input through an odd_feed; PARTIAL and MOVING (0/1) say which modes ARGS ask for, and the spy
# must agree.
spied_run() {
  local name=$1 partial=$2 moving=$3 t0 summary set cleared bit want
  shift 3
  if [ "$SPY" = 0 ]; then
    echo_run "$name" "$@"
    return
  fi
  t0=$(now_ms)
  odd_feed "$TMP/in" "$TMP/$name.fifo"
  spy_run "$TMP/$name.spy" "$TMP/$name.fifo" "$TMP/$name.out" "$TMP/$name.err" "--$QUICC_DRIVER" "$@"
  check_echo "$name" "$SPY_RC" "$t0"
  summary=$(spy_summary "$TMP/$name.spy")
  note "$name: $summary"
  set=$(spy_field "$summary" set)
  cleared=$(spy_field "$summary" cleared)
  for bit in 1 2; do
    want=$partial; [ "$bit" = 2 ] && want=$moving
    if [ "$want" = 1 ]; then
      [ $((set & bit)) != 0 ] || fail "$name: no stream got mode bit $bit ($summary)"
    else
      [ $((cleared & bit)) != 0 ] && [ $((set & bit)) = 0 ] ||
        fail "$name: mode bit $bit was not left off ($summary)"
    fi
  done
  [ "$QUICC_DRIVER" = nonblocking ] || return 0
  if [ "$partial" = 1 ]; then
    [ "$(spy_field "$summary" continued)" -gt 0 ] || fail "$name: no write was partial ($summary)"
  else
    [ "$(spy_field "$summary" continued)" = 0 ] ||
      fail "$name: a write was partial without --partial-write ($summary)"
  fi
  if [ "$moving" = 1 ]; then
    # A partial write leaves less to retry, but a full stream still makes retries.
    [ "$(spy_field "$summary" moved)" -gt 0 ] || fail "$name: no retry came from a moved buffer ($summary)"
  else
    [ "$(spy_field "$summary" moved)" = 0 ] ||
      fail "$name: a retry came from another buffer without --moving-buffer ($summary)"
  fi
}

start_listener "$TMP/echo.out" --echo --keep-open
quicc_peer=(--pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT")
spied_run quicc.default 0 0 "${quicc_peer[@]}"
spied_run quicc.partial 1 0 --partial-write "${quicc_peer[@]}"
spied_run quicc.moving 0 1 --moving-buffer "${quicc_peer[@]}"
spied_run quicc.partial+moving 1 1 --partial-write --moving-buffer "${quicc_peer[@]}"
kill -0 "$LISTENER_PID" 2>/dev/null || fail "the echo listener exited"

if [ -n "$DEMO_SERVER" ] && [ -x "$DEMO_SERVER" ]; then
  make_cert "$TMP/pki" server
  start_demo_server "$TMP/pki"
  demo_peer=(--alpn hq-interop --cafile "$TMP/pki/ca.pem" "localhost:$DEMO_PORT")
  echo_run demo.default "${demo_peer[@]}"
  echo_run demo.partial --partial-write "${demo_peer[@]}"
  pass "20 MiB echoed byte-identical in all write modes (quicc listener and quic-server-block)"
fi
note "no OpenSSL demo server (OPENSSL_PREFIX='$OPENSSL_PREFIX'): only the quicc listener was used"
pass "20 MiB echoed byte-identical in all write modes (quicc listener)"
