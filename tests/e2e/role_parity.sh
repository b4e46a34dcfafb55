#!/usr/bin/env bash
# Role parity: every cell of ARCHITECTURE.md's "Options by role" table (option x client, pipe
# listener, echo listener), run for real under the driver CTest gives (QUICC_DRIVER; CTest runs
# this test under both, and the table says the driver changes no cell).
#   refused   `quicc ROLE OPTION` exits 2 with exactly one stderr line naming the option:
#             "quicc: error: OPTION does not apply to ...";
#   honoured  the option's probe (lib_role_probes.sh) shows it took effect in that role;
#   honoured with `X`  refused alone ("OPTION on a listener is used only with X"), and the probe
#             (which gives X) shows it took effect.
# The table must cover every option of `quicc --help` (bar --listen and the service options, which choose the
# column) and every honoured option must have a probe. Cells run in parallel, each with its own
# peers and scratch directory (ROLE_PARITY_JOBS, default 6: most cells wait on timers and peers,
# not on the CPU; 2 in a sanitizer build, QUICC_TIME_SCALE > 1, whose cells do: with 6 at once
# they failed on time there); a matrix of the results is printed. ROLE_PARITY_ONLY=ERE runs only
# the rows whose option matches.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_peers.sh"
. "$(dirname "$0")/lib_trace.sh"
. "$(dirname "$0")/lib_write_spy.sh"
. "$(dirname "$0")/lib_stream_opener.sh"
. "$(dirname "$0")/lib_role_probes.sh"

ARCHITECTURE=$(dirname "$0")/../../ARCHITECTURE.md
if time_scaled; then JOBS=${ROLE_PARITY_JOBS:-2}; else JOBS=${ROLE_PARITY_JOBS:-6}; fi
ROLES=(client pipe echo)
T_START=$(now_ms)

# --- The table ------------------------------------------------------------------------------------

# One line per row: OPTION CLIENT PIPE ECHO, each cell "honoured", "refused" or "needs:--X".
awk '/^## /{ in_section = ($0 == "## Options by role"); next }
     in_section && /^\| *`--/' "$ARCHITECTURE" >"$TMP/rows.md"
[ -s "$TMP/rows.md" ] || fail "no rows under '## Options by role' in $ARCHITECTURE"
: >"$TMP/table"
while IFS= read -r line; do
  IFS='|' read -r _ first c1 c2 c3 _ <<<"$line"
  option=$(grep -oE -- '`--[a-z0-9-]+`' <<<"$first" | head -n1 | tr -d '`')
  cells=()
  for c in "$c1" "$c2" "$c3"; do
    c=$(sed -E 's/^ +| +$//g' <<<"$c")
    case $c in
      honoured|refused) cells+=("$c") ;;
      'honoured with `'*'`') c=${c#honoured with \`}; cells+=("needs:${c%\`}") ;;
      *) fail "ARCHITECTURE.md row '$line': cell '$c' is neither honoured nor refused" ;;
    esac
  done
  [ -n "$option" ] || fail "ARCHITECTURE.md row '$line' names no --option"
  echo "$option ${cells[*]}" >>"$TMP/table"
done <"$TMP/rows.md"

# Every option of --help has a row, and every row is an option.
HELP_TXT=$TMP/help.txt
"$QUICC" --help all >"$HELP_TXT" || fail "quicc --help all failed"
grep -oE '^(  -[a-zA-Z0-9], |      )--[a-z0-9-]+' "$HELP_TXT" | sed -E 's/^ +(-., )?//' |
  grep -vxE -- '--listen|--echo|--serve|--sink|--source|--perf' | sort >"$TMP/help.options"
cut -d' ' -f1 "$TMP/table" | sort >"$TMP/table.options"
missing=$(comm -23 "$TMP/help.options" "$TMP/table.options" | tr '\n' ' ')
[ -z "$missing" ] || fail "options of --help without a row in ARCHITECTURE.md: $missing"
extra=$(comm -13 "$TMP/help.options" "$TMP/table.options" | tr '\n' ' ')
[ -z "$extra" ] || fail "rows of ARCHITECTURE.md that --help does not list: $extra"

probe_name() { local n=${1#--}; echo "probe_${n//-/_}"; }
while read -r option cells; do
  case " $cells " in
    *' honoured '*|*' needs:'*)
      declare -F "$(probe_name "$option")" >/dev/null || fail "no $(probe_name "$option") for $option" ;;
  esac
done <"$TMP/table"

# The options that choose the column are refused where they do not belong.
rc=0
qt 10 --echo 127.0.0.1:9 </dev/null >/dev/null 2>"$TMP/echo-client.err" || rc=$?
[ "$rc" = 2 ] && grep -q '^quicc: error: --echo does not apply to a client' "$TMP/echo-client.err" ||
  fail "--echo on a client: exit $rc, $(cat "$TMP/echo-client.err")"
rc=0
qt 10 --listen 127.0.0.1:0 127.0.0.1:9 </dev/null >/dev/null 2>"$TMP/listen-target.err" || rc=$?
[ "$rc" = 2 ] || fail "--listen with HOST:PORT: exit $rc, expected 2"

# --- Shared inputs ------------------------------------------------------------------------------

SHARED=$TMP/shared
make_cert "$SHARED/pki" server
make_cert "$SHARED/other" other
cp "$SHARED/other/other.key" "$SHARED/pki/other.key"
{
  "$OPENSSL_BIN" req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$SHARED/pki/client.key" -out "$SHARED/pki/client.csr" -subj "/CN=quicc test client" &&
  "$OPENSSL_BIN" x509 -req -days 2 -in "$SHARED/pki/client.csr" -CA "$SHARED/pki/ca.pem" \
    -CAkey "$SHARED/pki/ca.key" -CAcreateserial -out "$SHARED/pki/client.crt" &&
  mkdir "$SHARED/capath" && cp "$SHARED/pki/ca.pem" "$SHARED/capath/" &&
  "$OPENSSL_BIN" rehash "$SHARED/capath"
} >"$SHARED/setup.log" 2>&1 || { diag_add "$SHARED/setup.log"; fail "client certificate or --capath setup"; }
head -c $((2 * 1024 * 1024)) /dev/urandom >"$SHARED/data"
export SHARED

# A valid argument for each option that takes one, for the refusal runs.
declare -A SAMPLE=(
  [--alpn]=h3 [--sni]=example.org [--connect-to]=127.0.0.1 [--idle-timeout]=5s
  [--session-out]=$TMP/session.pem [--session-in]=$SHARED/pki/ca.pem [--key-update]=1M
  [--connect-timeout]=3s [--timeout]=3s [--idle-exit]=3s [--on-eof]=close [--shutdown]=rapid
  [--close-code]=7 [--close-reason]=bye [--cafile]=$SHARED/pki/ca.pem [--capath]=$SHARED/capath
  [--ciphersuites]=TLS_AES_128_GCM_SHA256 [--groups]=X25519 [--pin-sha256]=$ZERO_PIN
  [--cert]=$SHARED/pki/server.crt [--key]=$SHARED/pki/server.key [--keylog]=$TMP/keys.txt
  [--qlog-dir]=$TMP [--json-file]=$TMP/summary.json [--log-format]=json [--log-file]=$TMP/log.txt
  [--get]=/x [--get-list]=$SHARED/data [--max-streams]=2 [--output]=$TMP/response
  [--upload]=1M [--download]=1M [--streams]=2 [--duration]=2s
  [--peer-streams]=accept [--output-dir]=$TMP [--write-out]='%{alpn}'
  [--count]=2 [--parallel]=2 [--interval]=1s [--warn-days]=30 [--retry]=1 [--retry-delay]=1s
  [--send]=hi [--send-file]=$SHARED/data [--expect]=hi [--max-conns]=5 [--help]=all
)
# Options that are invalid without another one in any role.
declare -A COMPANION=([--cert]=--key [--key]=--cert [--require-client-cert]=--cafile)

# option_words OPTION: OPTION, its sample argument, and its companion with its own.
option_words() {
  local words=("$1")
  if grep -qE -- "^(  -[a-zA-Z0-9], |      )$1 [^ ]" "$HELP_TXT"; then words+=("${SAMPLE[${1}]}"); fi
  if [ -n "${COMPANION[$1]:-}" ]; then
    words+=("${COMPANION[$1]}" "${SAMPLE[${COMPANION[$1]}]}")
  fi
  printf '%s\n' "${words[@]}"
}

# check_refusal OPTION ROLE EXPECTED: the run exits 2 with one stderr line starting EXPECTED.
check_refusal() {
  local option=$1 role=$2 expected=$3 words
  mapfile -t words < <(option_words "$option")
  sut_alone "$role" refused 10 "${words[@]}"
  want_rc "$option as $role" 2 refused
  [ ! -s "$TMP/refused.out" ] || fail "$option as $role: printed on stdout"
  check_one_error_line "$TMP/refused.err" "$option as $role"
  grep -qF -- "quicc: error: $expected" "$TMP/refused.err" ||
    fail "$option as $role: '$(cat "$TMP/refused.err")' does not start with 'quicc: error: $expected'"
}

# --- Cells ----------------------------------------------------------------------------------------

CELLS=$TMP/cells
mkdir "$CELLS"


# cell_cleanup: a cell's EXIT trap: stops what the cell started, records "STATUS MS".
cell_cleanup() {
  local rc=$? pid
  trap - EXIT
  for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "$rc $(( $(now_ms) - CELL_T0 ))" >"$CELL_RESULT"
  exit "$rc"
}

# run_cell OPTION ROLE CELL (in a subshell of its own): exits 0 (as the table says), 77
# (skipped) or 1, and leaves its status and duration in cells/OPTION.ROLE.result.
run_cell() {
  local option=$1 role=$2 cell=$3
  CELL_T0=$(now_ms)
  CELL_RESULT=$CELLS/$option.$role.result
  TMP=$CELLS/$option.$role
  mkdir -p "$TMP"
  BG_PIDS=()
  DIAG_FILES=()
  TEST_NAME="role_parity $option ($role)"
  trap cell_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  printf hello >"$TMP/hello"
  printf hi >"$TMP/hi"
  case $cell in
    refused) check_refusal "$option" "$role" "$option does not apply to " ;;
    needs:*)
      check_refusal "$option" "$role" "$option on a listener is used only with ${cell#needs:}"
      "$(probe_name "$option")" "$role" ;;
    honoured) "$(probe_name "$option")" "$role" ;;
  esac
}

# descendants PID: the pids of every process below PID (not this lookup's own).
descendants() {
  python3 - "$1" <<'PY'
import os, sys
children = {}
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        stat = open(f"/proc/{entry}/stat").read()
    except OSError:
        continue
    children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
found, todo = [], [int(sys.argv[1])]
while todo:
    for child in children.get(todo.pop(), []):
        if child not in (os.getpid(), os.getppid()):
            found.append(child)
            todo.append(child)
print(" ".join(map(str, found)))
PY
}

# If this script ends early (a failure above, or CTest's time limit), cells may still be
# running, with listeners of their own: stop everything below this shell, then clean up.
stop_descendants() {
  local pids
  pids=$(descendants $$)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill $pids 2>/dev/null || true
  sleep 0.5
  # shellcheck disable=SC2086
  kill -9 $(descendants $$) 2>/dev/null || true
}
trap 'rc=$?; stop_descendants; (exit $rc); cleanup' EXIT

# ROLE_PARITY_ONLY=ERE runs only the rows whose option matches (for working on a probe).
if [ -n "${ROLE_PARITY_ONLY:-}" ]; then
  grep -E -- "^(${ROLE_PARITY_ONLY}) " "$TMP/table" >"$TMP/table.only" || true
  mv "$TMP/table.only" "$TMP/table"
  note "only the rows matching ROLE_PARITY_ONLY='$ROLE_PARITY_ONLY'"
fi

# The slowest probes first (under gdb, or waiting on timers), so that no long cell starts last.
SLOW='--partial-write|--moving-buffer|--connect-timeout|--idle-timeout|--ipv6|--qlog-dir|--wait-peer'
{ grep -E -- "^($SLOW) " "$TMP/table" || true; grep -vE -- "^($SLOW) " "$TMP/table" || true; } \
  >"$TMP/run-order"

while read -r option c_client c_pipe c_echo; do
  cells=("$c_client" "$c_pipe" "$c_echo")
  for i in 0 1 2; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    (run_cell "$option" "${ROLES[$i]}" "${cells[$i]}") >"$CELLS/$option.${ROLES[$i]}.log" 2>&1 &
  done
done <"$TMP/run-order"
wait

# --- The matrix -------------------------------------------------------------------------------------

# CI once saw this script end right after the matrix's header, silently (TSan phase, not seen
# again in 1 rerun): whatever ends it from here on names itself.
trap 'printf "role_parity: line %s: \"%s\" failed (exit %s)\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR
trap 'echo "role_parity: SIGTERM in the matrix" >&2; exit 143' TERM
failures=()
skips=()
# seconds MS: MS as seconds with one decimal.
seconds() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }
printf '\nrole parity, %s driver: the table cell, and ok / FAIL / SKIP with the time taken\n' \
  "$QUICC_DRIVER"
printf '%-22s %-33s %-33s %-33s\n' option client 'pipe listener' 'echo listener'
: >"$TMP/timings"
while read -r option c_client c_pipe c_echo; do
  cells=("$c_client" "$c_pipe" "$c_echo")
  row=$(printf '%-22s' "$option")
  for i in 0 1 2; do
    key=$option.${ROLES[$i]}
    read -r rc ms <"$CELLS/$key.result" 2>/dev/null || { rc=lost; ms=0; }
    [[ "$ms" =~ ^[0-9]+$ ]] || ms=0
    case $rc in
      0) mark=ok ;;
      77) mark=SKIP
          why=$(grep -m1 '^SKIP: ' "$CELLS/$key.log" 2>/dev/null | sed 's/^SKIP: [^:]*: //' || true)
          skips+=("$key: ${why:-no reason given}") ;;
      *) mark=FAIL; failures+=("$key") ;;
    esac
    label=${cells[$i]/needs:/with }
    row+=$(printf ' %-33s' "$label $mark $(seconds "$ms")")
    echo "$ms $key" >>"$TMP/timings"
  done
  echo "$row"
done <"$TMP/table"
slowest=$(sort -rn "$TMP/timings" | head -n5 | while read -r ms key; do printf '%s %s; ' "$key" "$(seconds "$ms")"; done || true)
printf '\n%s cells in %s with %s jobs; slowest: %s\n' "$(wc -l <"$TMP/timings")" \
  "$(seconds $(( $(now_ms) - T_START )))" "$JOBS" "$slowest"
for s in "${skips[@]+"${skips[@]}"}"; do note "skipped $s"; done

if [ "${#failures[@]}" -gt 0 ]; then
  for key in "${failures[@]}"; do
    printf -- '--- %s ---\n' "$key" >&2
    tail -n 25 "$CELLS/$key.log" | cut -c1-300 >&2
  done
  fail "${#failures[@]} cell(s) failed: ${failures[*]}"
fi
pass "$(wc -l <"$TMP/timings") cells as ARCHITECTURE.md says"
