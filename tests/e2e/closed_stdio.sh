#!/usr/bin/env bash
# quicc started with stdin, stdout or stderr closed (`<&-`, `>&-`, `2>&-`) ends in a bounded time
# with the documented exit. quicc reopens descriptors 0-2 on /dev/null at start, so:
#   stdin closed   an empty input: EOF at once (a client still opens its stream and sends FIN)
#   stdout closed  an output whose reader left: exit 13 ("output closed") if the peer sends
#                  data, exit 0 if it sends none; a listener resets its sending half with code 2
#   stderr closed  diagnostics are discarded; the transfer works as usual. The -v log must not
#                  land in a file quicc opened later (--keylog) on the free descriptor 2.
#
#   who                   closed  peer                       expected
#   client                <&-     echo listener              0, empty output
#   client                >&-     echo listener, "hello"     13, "output closed"
#   client                >&-     echo listener, no input    0 (the peer sends nothing)
#   client                2>&-    echo listener, -v --keylog 0, hello echoed, key log clean
#   client                <&-     pipe listener sending      0, receives the listener's data
#   client                >&-     pipe listener sending      13
#   client                2>&-    pipe listener sending      0, data both ways (both speak
#                                                            first: the streams may cross), key
#                                                            log clean, -v log in --log-file
#   pipe listener         <&-     client sending "hello"     0, writes hello; the client gets
#                                                            an empty stream and exits 0
#   pipe listener         >&-     client sending "hello"     13; the client sees the reset or
#                                                            the close with code 2 (10 or 9)
#   pipe listener         2>&-    client (fixed port, own    0, data both ways, key log clean
#                                 certificate)
#   echo listener         all 3   client                     echoes; SIGTERM: 143
# Every quicc run is bounded (timeout(1) or wait_pid); "no hang" is the first check of each.
. "$(dirname "$0")/lib.sh"

D=--$QUICC_DRIVER
printf hello >"$TMP/hello"
printf from-listener >"$TMP/from-listener"
make_cert "$TMP/pki" server
CERT_FP=$(cert_fingerprint "$TMP/pki/server.crt")

# key_log_clean FILE WHAT: FILE holds only NSS key log lines, and some.
key_log_clean() {
  [ -s "$1" ] || fail "$2: the key log $1 is empty"
  ! grep -Evq '^[A-Z_0-9]+ [0-9a-f]+ [0-9a-f]+$' "$1" ||
    fail "$2: the key log holds other lines (the log on a reused descriptor 2?):" \
         "$(grep -Ev '^[A-Z_0-9]+ [0-9a-f]+ [0-9a-f]+$' "$1" | head -n 2 | cut -c1-120 | tr '\n' '|')"
}

# client NAME CLOSE PORT FP ARGS...: `quicc $D ARGS... --pin-sha256 FP 127.0.0.1:PORT` with the
# descriptor CLOSE (in, out, err, or none) closed, stdin from $CLIENT_IN (default /dev/null),
# stdout to $TMP/NAME.out, stderr to $TMP/NAME.err; at most 20 s (scaled). Sets RC.
client() {
  local name=$1 close=$2 port=$3 fp=$4 in=${CLIENT_IN:-/dev/null}
  shift 4
  local cmd=(timeout -k 2 "$(scaled 20)" "$QUICC" "$D" "$@" --pin-sha256 "$fp" "127.0.0.1:$port")
  : >"$TMP/$name.out"; : >"$TMP/$name.err"
  diag_add "$TMP/$name.err"
  RC=0
  case $close in
    in) "${cmd[@]}" <&- >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$? ;;
    out) "${cmd[@]}" <"$in" >&- 2>"$TMP/$name.err" || RC=$? ;;
    err) "${cmd[@]}" <"$in" >"$TMP/$name.out" 2>&- || RC=$? ;;
    none) "${cmd[@]}" <"$in" >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$? ;;
  esac
  case $RC in 124|137) fail "$name: the client hung (killed after $(scaled 20) s)" ;; esac
}

# listener NAME CLOSE INPUT ARGS...: a pipe listener (`--listen` ARGS...) with the descriptor
# CLOSE (in, out, err or none) closed and stdin from INPUT otherwise; stdout to $TMP/NAME.lout, stderr to
# $TMP/NAME.lerr. Sets LPID, LPORT and LFP. With stderr closed it cannot tell its port and
# fingerprint: it listens on a port picked here, with the certificate of make_cert.
listener() {
  local name=$1 close=$2 input=$3
  shift 3
  local out=$TMP/$name.lout err=$TMP/$name.lerr
  : >"$out"; : >"$err"
  diag_add "$err"
  case $close in
    in) "$QUICC" "$D" --listen 127.0.0.1:0 "$@" <&- >"$out" 2>"$err" & ;;
    out) "$QUICC" "$D" --listen 127.0.0.1:0 "$@" <"$input" >&- 2>"$err" & ;;
    none) "$QUICC" "$D" --listen 127.0.0.1:0 "$@" <"$input" >"$out" 2>"$err" & ;;
    err)
      LPORT=$(free_udp_port)
      "$QUICC" "$D" --listen "127.0.0.1:$LPORT" --cert "$TMP/pki/server.crt" \
        --key "$TMP/pki/server.key" "$@" <"$input" >"$out" 2>&- & ;;
  esac
  LPID=$!
  bg_track "$LPID"
  if [ "$close" = err ]; then
    LFP=$CERT_FP
    wait_udp_bound "$LPORT" "$LPID" || fail "$name: the listener did not bind 127.0.0.1:$LPORT within $(scaled 10) s"
  else
    wait_log "$err" 0 '^quicc: certificate sha256 fingerprint ' 10 ||
      fail "$name: the listener printed no fingerprint line within $(scaled 10) s"
    LPORT=$(sed -n 's/^quicc: listening on .*:\([0-9]*\)$/\1/p' "$err")
    LFP=$(sed -n 's/^quicc: certificate sha256 fingerprint \([0-9A-F:]*\).*/\1/p' "$err")
  fi
}

# wait_udp_bound PORT PID: waits (10 s at most, scaled) until process PID has a UDP socket bound
# to PORT.
wait_udp_bound() {
  local _
  for _ in $(seq 1 "$(scaled 200)"); do
    kill -0 "$2" 2>/dev/null || return 1
    ss -Hunlp "sport = :$1" 2>/dev/null | grep -q "pid=$2," && return 0
    sleep 0.05
  done
  return 1
}

# listener_exit NAME WANT: the listener LPID exits WANT within 10 s.
listener_exit() {
  wait_pid "$LPID" 10
  [ "$WAIT_RC" != 124 ] || fail "$1: the listener is still running $(scaled 10) s after its client ended"
  [ "$WAIT_RC" = "$2" ] || fail "$1: the listener exited $WAIT_RC, expected $2"
}

# --- clients against an echo listener ------------------------------------------------------------
start_listener "$TMP/echo-listener.out" --echo --keep-open -v
EP=$LISTENER_PORT EFP=$LISTENER_FP

client echo.in in "$EP" "$EFP" -v
[ "$RC" = 0 ] || fail "echo.in: quicc <&- exited $RC, expected 0 (empty input)"
[ ! -s "$TMP/echo.in.out" ] || fail "echo.in: quicc <&- wrote '$(head -c 100 "$TMP/echo.in.out")'"
grep -q 'stream id=0 change=fin_sent' "$TMP/echo.in.err" ||
  fail "echo.in: quicc <&- did not send FIN on its stream (input_closed, then fin_sent)"

CLIENT_IN=$TMP/hello client echo.out out "$EP" "$EFP" -v --keylog "$TMP/echo.out.keys"
[ "$RC" = 13 ] || fail "echo.out: quicc >&- exited $RC with an echoing peer, expected 13 (output closed)"
grep -q '^quicc: error: .*output closed' "$TMP/echo.out.err" ||
  fail "echo.out: no 'quicc: error: ... output closed' line"
key_log_clean "$TMP/echo.out.keys" echo.out

client echo.out-silent out "$EP" "$EFP" -v
[ "$RC" = 0 ] || fail "echo.out-silent: quicc >&- </dev/null exited $RC, expected 0 (the peer sent no data)"

CLIENT_IN=$TMP/hello client echo.err err "$EP" "$EFP" -v --keylog "$TMP/echo.err.keys"
[ "$RC" = 0 ] || fail "echo.err: quicc 2>&- exited $RC, expected 0"
[ "$(cat "$TMP/echo.err.out")" = hello ] || fail "echo.err: quicc 2>&- wrote '$(head -c 100 "$TMP/echo.err.out")', expected hello"
key_log_clean "$TMP/echo.err.keys" echo.err
kill "$LISTENER_PID"

# --- clients against a pipe listener that sends ---------------------------------------------------
listener pipe.in none "$TMP/from-listener" -v
client pipe.in in "$LPORT" "$LFP" -v
[ "$RC" = 0 ] || fail "pipe.in: quicc <&- exited $RC, expected 0"
[ "$(cat "$TMP/pipe.in.out")" = from-listener ] || fail "pipe.in: quicc <&- wrote '$(head -c 100 "$TMP/pipe.in.out")'"
listener_exit pipe.in 0

listener pipe.out none "$TMP/from-listener" -v
CLIENT_IN=$TMP/hello client pipe.out out "$LPORT" "$LFP" -v
[ "$RC" = 13 ] || fail "pipe.out: quicc >&- exited $RC with a peer that sends, expected 13 (output closed)"
grep -q '^quicc: error: .*output closed' "$TMP/pipe.out.err" || fail "pipe.out: no 'quicc: error: ... output closed' line"
wait_pid "$LPID" 10
[ "$WAIT_RC" != 124 ] || fail "pipe.out: the listener is still running 10 s after its client ended"

listener pipe.err none "$TMP/from-listener" -v
CLIENT_IN=$TMP/hello client pipe.err err "$LPORT" "$LFP" -v --keylog "$TMP/pipe.err.keys" \
  --log-file "$TMP/pipe.err.log"
diag_add "$TMP/pipe.err.log"
[ "$RC" = 0 ] || fail "pipe.err: quicc 2>&- exited $RC, expected 0"
grep -q handshake_done "$TMP/pipe.err.log" || fail "pipe.err: quicc 2>&- --log-file FILE logged no handshake_done to FILE"
[ "$(cat "$TMP/pipe.err.out")" = from-listener ] || fail "pipe.err: quicc 2>&- wrote '$(head -c 100 "$TMP/pipe.err.out")'"
key_log_clean "$TMP/pipe.err.keys" pipe.err
listener_exit pipe.err 0
[ "$(cat "$TMP/pipe.err.lout")" = hello ] || fail "pipe.err: the listener wrote '$(head -c 100 "$TMP/pipe.err.lout")'"

# --- pipe listeners with a closed descriptor -------------------------------------------------------
listener listen.in in - -v
CLIENT_IN=$TMP/hello client listen.in.client none "$LPORT" "$LFP" -v
[ "$RC" = 0 ] || fail "listen.in: the client of quicc --listen <&- exited $RC, expected 0"
[ ! -s "$TMP/listen.in.client.out" ] || fail "listen.in: the client received '$(head -c 100 "$TMP/listen.in.client.out")'"
listener_exit listen.in 0
[ "$(cat "$TMP/listen.in.lout")" = hello ] || fail "listen.in: quicc --listen <&- wrote '$(head -c 100 "$TMP/listen.in.lout")'"

hold_fifo "$TMP/silent"
listener listen.out out "$TMP/silent" -v --keylog "$TMP/listen.out.keys"
CLIENT_IN=$TMP/hello client listen.out.client none "$LPORT" "$LFP" -v
listener_exit listen.out 13
grep -q '^quicc: error: .*output closed' "$TMP/listen.out.lerr" ||
  fail "listen.out: no 'quicc: error: ... output closed' line from quicc --listen >&-"
# The listener resets its half of the stream with code 2, then closes with code 2; whichever the
# client processes first decides its exit (both can come in one datagram).
case $RC in
  10) grep -q '^quicc: error: peer reset the stream (code 0x2)' "$TMP/listen.out.client.err" ||
        fail "listen.out: the client exited 10 without 'quicc: error: peer reset the stream (code 0x2)'" ;;
  9) grep -q '^quicc: error: peer closed the connection: application error 0x2 (output closed)' \
       "$TMP/listen.out.client.err" ||
       fail "listen.out: the client exited 9 without '... application error 0x2 (output closed)'" ;;
  *) fail "listen.out: the client exited $RC, expected 10 (stream reset with code 2) or 9 (closed with code 2)" ;;
esac
key_log_clean "$TMP/listen.out.keys" listen.out
kill_now "$HOLD_PID"

listener listen.err err "$TMP/from-listener" -v --keylog "$TMP/listen.err.keys"
CLIENT_IN=$TMP/hello client listen.err.client none "$LPORT" "$LFP" -v
[ "$RC" = 0 ] || fail "listen.err: the client of quicc --listen 2>&- exited $RC, expected 0"
[ "$(cat "$TMP/listen.err.client.out")" = from-listener ] ||
  fail "listen.err: the client received '$(head -c 100 "$TMP/listen.err.client.out")'"
listener_exit listen.err 0
[ "$(cat "$TMP/listen.err.lout")" = hello ] || fail "listen.err: quicc --listen 2>&- wrote '$(head -c 100 "$TMP/listen.err.lout")'"
key_log_clean "$TMP/listen.err.keys" listen.err

# --- an echo listener with all three closed --------------------------------------------------------
LPORT=$(free_udp_port)
"$QUICC" "$D" --listen "127.0.0.1:$LPORT" --echo --keep-open -v --cert "$TMP/pki/server.crt" \
  --key "$TMP/pki/server.key" <&- >&- 2>&- &
LPID=$!
bg_track "$LPID"
wait_udp_bound "$LPORT" "$LPID" || fail "echo.all: the listener did not bind 127.0.0.1:$LPORT within $(scaled 10) s"
CLIENT_IN=$TMP/hello client echo.all.client none "$LPORT" "$CERT_FP" -v
[ "$RC" = 0 ] || fail "echo.all: the client of quicc --listen --echo <&- >&- 2>&- exited $RC, expected 0"
[ "$(cat "$TMP/echo.all.client.out")" = hello ] || fail "echo.all: the client received '$(head -c 100 "$TMP/echo.all.client.out")'"
kill -TERM "$LPID"
listener_exit echo.all 143

pass "<&-, >&- and 2>&- on clients and listeners: bounded, exits 0 / 13 as documented"
