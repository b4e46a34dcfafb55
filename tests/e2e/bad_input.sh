#!/usr/bin/env bash
# Bad client targets: usage errors exit 2 and an unresolvable name exits 3, each with exactly
# one stderr line starting "quicc: error: ", nothing on stdout, within 5 s.
. "$(dirname "$0")/lib.sh"

n=0
# expect RC ARGS...
expect() {
  local want=$1; shift
  local rc=0 t0 t1 what="quicc $*"
  n=$((n + 1))
  t0=$(now_ms)
  qt 5 "$@" </dev/null >"$TMP/$n.out" 2>"$TMP/$n.err" || rc=$?
  t1=$(now_ms)
  [ "$rc" != 124 ] && [ "$rc" != 137 ] || fail "$what: did not finish within $(scaled 5) s"
  [ "$rc" = "$want" ] ||
    fail "$what: exit $rc, expected $want; stderr: $(head -c 300 "$TMP/$n.err" | tr '\n' '|')"
  [ ! -s "$TMP/$n.out" ] || fail "$what: printed on stdout: $(head -c 100 "$TMP/$n.out")"
  check_one_error_line "$TMP/$n.err" "$what"
  [ $((t1 - t0)) -le "$(scaled 5000)" ] || fail "$what: took $((t1 - t0)) ms, expected <= $(scaled 5000) ms"
}

expect 2 localhost
expect 2 localhost:0
expect 2 localhost:70000
expect 2 :443
expect 2 '[::1:443'
expect 2                       # no target at all
expect 2 --no-such-option localhost:443
expect 3 nosuchhost.invalid:443

pass "$n bad inputs rejected with the right exit codes"
