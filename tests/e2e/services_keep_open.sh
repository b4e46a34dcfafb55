#!/usr/bin/env bash
# `--sink --keep-open` and `--source SIZE --keep-open`, each serving 5 concurrent quicc clients:
#   sink:   each client sends 10 MiB of random bytes and exits 0; the listener reports each
#           stream (stream 0 of connections 1..5) with exactly 10485760 bytes;
#   source: each client receives exactly SIZE bytes and exits 0. SIZE is 100M here (5 x 1 GiB
#           takes about a minute of both cores on the 2-core machine this suite runs on).
# Both listeners name each client's address in connection_accepted, and still run afterwards.
. "$(dirname "$0")/lib.sh"

CLIENTS=5
head -c $((10 * 1024 * 1024)) /dev/urandom >"$TMP/10m"

# clients NAME INPUT [ARGS...]: CLIENTS clients at once; each one's exit status in NAME.i.rc.
clients() {
  local name=$1 input=$2 i
  shift 2
  local pids=()
  for i in $(seq "$CLIENTS"); do
    ( rc=0
      qt 120 "$@" --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" <"$input" \
        >"$TMP/$name.$i.out" 2>"$TMP/$name.$i.err" || rc=$?
      echo "$rc" >"$TMP/$name.$i.rc" ) &
    pids+=($!)
    diag_add "$TMP/$name.$i.err"
  done
  wait "${pids[@]}"
}

# --- sink
start_listener "$TMP/sink.l" --sink --keep-open -v
clients sink "$TMP/10m"
for i in $(seq "$CLIENTS"); do
  [ "$(cat "$TMP/sink.$i.rc")" = 0 ] || fail "sink: client $i exited $(cat "$TMP/sink.$i.rc")"
done
for i in $(seq "$CLIENTS"); do
  grep -Eq "^quicc: stream 0: 10485760 bytes in [0-9.]+ s \([0-9.]+ MB/s\) \(connection $i\)$" "$TMP/sink.l.err" ||
    fail "sink: no report of 10485760 bytes on stream 0 of connection $i: $(grep '^quicc: stream' "$TMP/sink.l.err" | tr '\n' '|')"
  grep -Eq "connection_accepted index=$i peer=127\.0\.0\.1:[0-9]+$" "$TMP/sink.l.err" ||
    fail "sink: connection_accepted of connection $i names no peer address"
done
kill -0 "$LISTENER_PID" 2>/dev/null || fail "sink: the listener with --keep-open exited"
kill -INT "$LISTENER_PID"
wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" = 130 ] || fail "sink: the listener exited $WAIT_RC after SIGINT, expected 130"

# --- source
SIZE=$((100 * 1024 * 1024))
start_listener "$TMP/source.l" --source 100M --keep-open -v --log-format json --log-file "$TMP/source.json"
clients source /dev/null
for i in $(seq "$CLIENTS"); do
  [ "$(cat "$TMP/source.$i.rc")" = 0 ] || fail "source: client $i exited $(cat "$TMP/source.$i.rc")"
  got=$(wc -c <"$TMP/source.$i.out")
  [ "$got" = "$SIZE" ] || fail "source: client $i received $got bytes, expected $SIZE"
  grep -Eq "\"event\":\"close\",.*\"connection\":$i}" "$TMP/source.json" ||
    fail "source: no JSON close event stamped with connection $i"
done
kill -0 "$LISTENER_PID" 2>/dev/null || fail "source: the listener with --keep-open exited"
kill -INT "$LISTENER_PID"
wait_pid "$LISTENER_PID" 10
[ "$WAIT_RC" = 130 ] || fail "source: the listener exited $WAIT_RC after SIGINT, expected 130"
pass
