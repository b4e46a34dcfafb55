#!/usr/bin/env bash
# The benchmark harness cannot rot: bench/bench.py --smoke (tiny sizes, one repetition, no
# timing asserted) runs every case with every tool, quicc under the driver CTest gives; every run
# must succeed with every byte saved, and each case prints a row per tool.
. "$(dirname "$0")/lib.sh"

rc=0
python3 "$(dirname "$0")/../../bench/bench.py" --smoke --quicc "$QUICC" --driver "$QUICC_DRIVER" \
  --json "$TMP/bench.json" --chart "$TMP/chart.png" >"$TMP/bench.out" 2>"$TMP/bench.err" || rc=$?
diag_add "$TMP/bench.out"
diag_add "$TMP/bench.err"
[ "$rc" = 0 ] || fail "bench.py --smoke exited $rc: $(grep -m1 FAILED "$TMP/bench.err" || tail -n1 "$TMP/bench.err")"
for row in 'quicc --get' 'quic-hq-interop \(demo\)' 'demo, 256 KiB reads' 'gtlsclient \(ngtcp2\)' \
           'quicc -> quicc pipe' 'gtlsclient <- gtlsserver' 'quicc --count' 'quicc --get, a loop' \
           'gtlsclient, a loop' 'quicc --perf --download' 'quicc --perf --upload'; do
  grep -Eq "^$row +1 " "$TMP/bench.out" || fail "bench.py --smoke printed no row for '$row'"
done
# startup: four runs each (the short cases run 4x the repetitions).
for row in 'quicc --version' 'openssl version' '/bin/true' 'quicc' 'quic-hq-interop \(demo\)' \
           'gtlsclient \(ngtcp2\)'; do
  [ "$(grep -Ec "^$row +4 " "$TMP/bench.out")" -ge 1 ] || fail "bench.py --smoke printed no startup row for '$row'"
done
python3 - "$TMP/bench.json" <<'PY' || fail "bench.json is not what bench.py printed"
import json, sys
r = json.load(open(sys.argv[1]))
assert set(r["cases"]) == {"small", "download", "pipe", "sequential", "lossy", "startup: exit",
                          "startup: first Initial"}, r["cases"].keys()
for name, case in r["cases"].items():
    for row in case["tools"]:
        if name.startswith("startup"):
            assert row["runs"] == 4 and row["ms"] > 0, row
        else:
            assert row["runs"] == 1 and row["wall_s"] > 0 and row["peak_rss_kib"] > 0, row
    assert len(case["tools"]) == 3 or name in ("download", "pipe", "lossy"), (name, case["tools"])
PY
# The chart: a PNG (gnuplot comes with the bootstrap's packages).
[ "$(head -c 8 "$TMP/chart.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "bench.py --chart wrote no PNG"
pass "bench.py --smoke: 6 cases, every tool, every byte, the chart"
