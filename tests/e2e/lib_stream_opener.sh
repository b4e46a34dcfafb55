# shellcheck shell=bash
# Runs quicc in pipe mode against tests/peers/stream_opener ($QUICC_STREAM_OPENER), a peer that
# opens, besides the pipe's stream, one bidirectional and one unidirectional stream of its own
# (with the bytes of EXTRA_BIDI and EXTRA_UNI below) and reports how quicc answered them. Source
# after lib.sh.

[ -n "${QUICC_STREAM_OPENER:-}" ] && [ -x "$QUICC_STREAM_OPENER" ] ||
  fail "QUICC_STREAM_OPENER='${QUICC_STREAM_OPENER:-}' is not the stream_opener test peer"

# opener_extra_files DIR: writes DIR/extra_bidi and DIR/extra_uni, the bytes stream_opener
# sends on its extra streams (hostile on purpose: ESC [ 2 J, a NUL).
opener_extra_files() {
  printf 'bidi extra \033[2J\000 end\n' >"$1/extra_bidi"
  printf 'uni extra \033[2J\000 end\n' >"$1/extra_uni"
}

# opener_session ROLE NAME ENDING ARGS...: one pipe session of quicc (ROLE client or pipe, the
# CTest driver, with ARGS) and stream_opener, whose extra streams end with a FIN (ENDING fin) or
# stay open (open). Both send NAME.in.* ($TMP/NAME.in.quicc, NAME.in.peer: made here, 64 KiB
# each) over the pipe. quicc's stdout: NAME.q.out, its stderr: $Q_ERR; the peer's: NAME.p.out,
# NAME.p.err. Fails unless both exit 0 and the pipe's bytes arrive intact both ways. Sets
# Q_ERR, BIDI_ID and UNI_ID (the extra streams' ids); a client uses the server certificate in
# $OPENER_PKI (default: made in $TMP/opener-pki).
opener_session() {
  local role=$1 name=$2 ending=$3 wait_ms port pid rc lrc
  shift 3
  head -c 65536 /dev/urandom >"$TMP/$name.in.quicc"
  head -c 65536 /dev/urandom >"$TMP/$name.in.peer"
  diag_add "$TMP/$name.p.err"
  # An ignored stream gets no answer: the peer waits this long before it ends the pipe.
  wait_ms=$(scaled 1500)
  case $role in
    pipe)
      BIDI_ID=4 UNI_ID=2
      LISTENER_STDIN=$TMP/$name.in.quicc start_listener "$TMP/$name.q.out" "$@"
      Q_ERR=$TMP/$name.q.out.err
      rc=0
      timeout -k 2 "$(scaled 30)" "$QUICC_STREAM_OPENER" connect 127.0.0.1 "$LISTENER_PORT" \
        "$wait_ms" "$ending" <"$TMP/$name.in.peer" >"$TMP/$name.p.out" 2>"$TMP/$name.p.err" || rc=$?
      wait_pid "$LISTENER_PID" 20
      lrc=$WAIT_RC
      ;;
    client)
      BIDI_ID=5 UNI_ID=3
      OPENER_PKI=${OPENER_PKI:-$TMP/opener-pki}
      [ -f "$OPENER_PKI/server.crt" ] || make_cert "$OPENER_PKI" server
      port=$(free_udp_port)
      timeout -k 2 "$(scaled 40)" "$QUICC_STREAM_OPENER" listen "$port" "$OPENER_PKI/server.crt" \
        "$OPENER_PKI/server.key" "$wait_ms" "$ending" \
        <"$TMP/$name.in.peer" >"$TMP/$name.p.out" 2>"$TMP/$name.p.err" &
      pid=$!
      bg_track "$pid"
      wait_log "$TMP/$name.p.err" 0 'stream_opener: listening' 10 ||
        fail "$name: stream_opener did not listen on port $port"
      Q_ERR=$TMP/$name.q.err
      diag_add "$Q_ERR"
      lrc=0
      qt 30 --cafile "$OPENER_PKI/ca.pem" "$@" "127.0.0.1:$port" <"$TMP/$name.in.quicc" \
        >"$TMP/$name.q.out" 2>"$Q_ERR" || lrc=$?
      wait_pid "$pid" 20
      rc=$WAIT_RC
      ;;
  esac
  [ "$rc" = 0 ] || fail "$name: stream_opener exited $rc (124: still running)"
  [ "$lrc" = 0 ] || fail "$name: quicc ($role) exited $lrc, expected 0 (124: still running)"
  cmp -s "$TMP/$name.q.out" "$TMP/$name.in.peer" || fail "$name: quicc's stdout is not the peer's pipe data"
  cmp -s "$TMP/$name.p.out" "$TMP/$name.in.quicc" || fail "$name: the peer did not get quicc's pipe data intact"
}

# opener_reported NAME ERE: the peer's report (NAME.p.err) has a line matching ERE.
opener_reported() {
  grep -Eq -- "^report: $2" "$TMP/$1.p.err" ||
    fail "$1: the peer reported no /$2/: $(grep '^report' "$TMP/$1.p.err" | tr '\n' '|')"
}
