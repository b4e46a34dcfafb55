#!/usr/bin/env bash
# --keylog (and SSLKEYLOGFILE) records CLIENT_HANDSHAKE_TRAFFIC_SECRET and
# CLIENT_TRAFFIC_SECRET_0 for this connection's client random (read from the -vvv trace);
# --qlog-dir (and QLOGDIR) receives a .sqlog whose records all parse as JSON.
. "$(dirname "$0")/lib.sh"

start_listener "$TMP/l.out" --echo --keep-open
mkdir "$TMP/qlog" "$TMP/qlog-env"

rc=0
printf hello | q -vvv --keylog "$TMP/keys.txt" --qlog-dir "$TMP/qlog" \
  --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" >"$TMP/out" 2>"$TMP/trace" || rc=$?
diag_add "$TMP/trace"
[ "$rc" = 0 ] || fail "client exited $rc"

python3 - "$TMP/trace" "$TMP/keys.txt" <<'PY' || fail "key log check failed (see above)"
import re, sys
trace = open(sys.argv[1]).read()
# ClientHello's random, as SSL_trace prints it: gmt_unix_time and random_bytes.
m = re.search(r"ClientHello.*?gmt_unix_time=0x([0-9A-Fa-f]{8}).*?random_bytes \(len=28\): ([0-9A-Fa-f]{56})", trace, re.S)
if not m:
    sys.exit("no ClientHello random in the -vvv trace")
client_random = (m.group(1) + m.group(2)).lower()
labels = {}
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) == 3:
        labels.setdefault(parts[0], set()).add(parts[1].lower())
for label in ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0"):
    if client_random not in labels.get(label, set()):
        sys.exit(f"{label} missing for client random {client_random}")
print("key log has both secrets for", client_random)
PY

check_qlog() {
  python3 - "$1" <<'PY'
import glob, json, sys
files = glob.glob(sys.argv[1] + "/*.sqlog")
if not files:
    sys.exit("no .sqlog in " + sys.argv[1])
n = 0
for f in files:
    data = open(f, "rb").read().decode()
    for rec in data.split("\x1e"):
        if rec.strip():
            json.loads(rec)
            n += 1
if n < 3:
    sys.exit(f"only {n} qlog records")
print(f"{len(files)} qlog file(s), {n} JSON records")
PY
}
check_qlog "$TMP/qlog" || fail "--qlog-dir: qlog check failed"
ls "$TMP/qlog" | grep -q '_client\.sqlog$' || fail "no <odcid>_client.sqlog file"

# The environment conventions.
rc=0
printf hello | SSLKEYLOGFILE="$TMP/env-keys.txt" QLOGDIR="$TMP/qlog-env" \
  q --pin-sha256 "$LISTENER_FP" "127.0.0.1:$LISTENER_PORT" >/dev/null 2>"$TMP/env.err" || rc=$?
diag_add "$TMP/env.err"
[ "$rc" = 0 ] || fail "client with SSLKEYLOGFILE/QLOGDIR exited $rc"
grep -q '^CLIENT_TRAFFIC_SECRET_0 ' "$TMP/env-keys.txt" || fail "SSLKEYLOGFILE got no secrets"
check_qlog "$TMP/qlog-env" || fail "QLOGDIR: qlog check failed"
pass "key log and qlog"
