#!/usr/bin/env bash
# Bad input of any kind gets one clear line (issue 13): every row of bad_input.table (addresses,
# ports, durations, sizes, ALPN lists, pins, codes, conflicting or misplaced flags, missing and
# wrong files) makes quicc exit 2 (usage) within 5 s (scaled), with nothing on stdout and exactly one line
# on stderr, "quicc: error: " and the row's text naming the problem; no crash, no network.
. "$(dirname "$0")/lib.sh"

# Every row is refused before a driver exists (the rows give none, or both): one run is enough.
[ "$QUICC_DRIVER" = nonblocking ] || skip "command lines are refused before any driver runs: the --nonblocking run checks them"

mkdir "$TMP/scratch" "$TMP/scratch/adir"
printf 'not a certificate, a request list or a session\n' >"$TMP/scratch/cases.txt"
: >"$TMP/scratch/empty"
python3 - "$QUICC" "$(dirname "$0")/bad_input.table" "$TMP/scratch" "$(scaled 5)" <<'PY' || fail "some bad command lines were not refused as they should be (above)"
import shlex, subprocess, sys
quicc, table, scratch, limit = sys.argv[1:5]
rows = [l.rstrip("\n").split("\t", 1) for l in open(table) if l.strip() and not l.startswith("#")]
assert len(rows) >= 100, len(rows)
bad = []
for args, want in rows:
    try:
        p = subprocess.run([quicc] + shlex.split(args), cwd=scratch, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=int(limit))
    except subprocess.TimeoutExpired:
        bad.append("%s: still running after %s s" % (args, limit))
        continue
    lines = p.stderr.splitlines()
    if (p.returncode != 2 or p.stdout or len(lines) != 1 or
            not lines[0].startswith("quicc: error: " + want)):
        bad.append("%s: exit %d, %d bytes on stdout, stderr %r" % (args[:80], p.returncode, len(p.stdout), p.stderr[:300]))
for b in bad:
    print(b, file=sys.stderr)
print("%d command lines, %d refused as expected" % (len(rows), len(rows) - len(bad)), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
pass "$(grep -vc '^#' "$(dirname "$0")/bad_input.table") malformed command lines: exit 2, one line naming the problem, nothing on stdout"
