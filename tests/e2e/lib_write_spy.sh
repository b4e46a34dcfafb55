# shellcheck shell=bash
# Watching quicc's stream writes from outside: gdb stops at every SSL_write_ex and at every
# SSL_ctrl that sets or clears a mode, and logs its arguments. quicc links OpenSSL statically, so
# a debugger is the one way to see what OpenSSL was asked to do. Source after lib.sh.
#
# What the log shows (see spy_summary):
#   - the write modes the streams got: SSL_set_mode is SSL_ctrl(s, SSL_CTRL_MODE (33), bits),
#     SSL_clear_mode SSL_ctrl(s, SSL_CTRL_CLEAR_MODE (78), bits); bit 1 is
#     SSL_MODE_ENABLE_PARTIAL_WRITE, bit 2 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
#   - partial writes taking effect: a call that offers the rest of the previous call's buffer
#     (it starts where the part the previous call took ends), which an all-or-nothing write
#     never does;
#   - moved retries: a call repeating the previous call's length from another address (an
#     all-or-nothing retry without SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER must use the same one).

GDB=$(command -v gdb || true)

# have_write_spy: true when gdb is installed and can run a program here (ptrace allowed).
have_write_spy() {
  [ -n "$GDB" ] || return 1
  timeout "$(scaled 60)" "$GDB" -q -batch -nx --readnever -iex 'set auto-load off' -ex run --args /bin/true \
    >/dev/null 2>&1
}

# spy_script FILE: writes the gdb command file.
spy_script() {
  cat >"$1" <<'GDB'
set pagination off
set confirm off
set startup-with-shell on
handle SIGPIPE nostop noprint pass
handle SIGINT nostop noprint pass
handle SIGTERM nostop noprint pass
handle SIGHUP nostop noprint pass
# At the first instruction the arguments are still in their registers (System V x86-64 ABI:
# rdi, rsi, rdx).
break *SSL_write_ex
commands
silent
printf "SPY write %lu %lu\n", $rsi, $rdx
continue
end
break *SSL_ctrl
commands
silent
if $esi == 33 || $esi == 78
printf "SPY ctrl %d %ld\n", $esi, $rdx
end
continue
end
GDB
}

# spy_cmdline ARGS...: ARGS as one line for gdb's `run` (it goes through /bin/sh).
spy_cmdline() {
  local out='' a
  for a in "$@"; do
    out+="'${a//\'/\'\\\'\'}' "
  done
  printf '%s' "$out"
}

# spy_start LOG IN OUT ERR ARGS...: starts `quicc ARGS <IN >OUT 2>ERR` under gdb in the
# background; gdb's own output (the SPY lines) goes to LOG, and gdb exits with quicc's exit
# status. ARGS get no driver option of their own: pass --$QUICC_DRIVER (or another) yourself.
# Sets SPY_PID (gdb's pid; the quicc process is its child and dies with it).
spy_start() {
  local log=$1 in=$2 out=$3 err=$4
  shift 4
  [ -f "$TMP/spy.gdb" ] || spy_script "$TMP/spy.gdb"
  # --readnever and no auto-loading: only the ELF symbols are needed, and a loaded machine
  # would otherwise spend seconds on debug information and pretty-printers. LeakSanitizer cannot
  # run under ptrace (at exit it reports "LeakSanitizer has encountered a fatal error" and quicc
  # exits 1): the leak check is off for the spied run only (a later option overrides).
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
  timeout -k 5 "$(scaled 120)" "$GDB" -q -batch -nx --readnever -iex 'set auto-load off' \
    -iex 'set debuginfod enabled off' -x "$TMP/spy.gdb" \
    -ex "run $(spy_cmdline "$@")<$(spy_cmdline "$in")>$(spy_cmdline "$out")2>$(spy_cmdline "$err")" \
    -ex 'quit $_exitcode' --args "$QUICC" </dev/null >"$log" 2>&1 &
  SPY_PID=$!
  bg_track "$SPY_PID"
  diag_add "$log"
}

# spy_run LOG IN OUT ERR ARGS...: as spy_start, and waits (up to 120 s, scaled); sets SPY_RC to
# quicc's exit status (124: killed by the time limit).
spy_run() {
  spy_start "$@"
  wait_pid "$SPY_PID" 130
  SPY_RC=$WAIT_RC
}

# spy_summary LOG: one line, "writes=N continued=C moved=M set=BITS cleared=BITS", from the
# SPY lines of LOG (BITS: the OR of every mode set / cleared).
spy_summary() {
  python3 - "$1" <<'PY'
import sys
writes, set_bits, cleared = [], 0, 0
for line in open(sys.argv[1], errors="replace"):
    f = line.split()
    if len(f) != 4 or f[0] != "SPY":
        continue
    if f[1] == "write":
        writes.append((int(f[2]), int(f[3])))
    elif f[1] == "ctrl":
        if int(f[2]) == 33:
            set_bits |= int(f[3])
        else:
            cleared |= int(f[3])
pairs = list(zip(writes, writes[1:]))
continued = sum(1 for (b1, l1), (b2, l2) in pairs if l2 < l1 and b2 - b1 == l1 - l2)
moved = sum(1 for (b1, l1), (b2, l2) in pairs if l2 == l1 and b2 != b1)
print(f"writes={len(writes)} continued={continued} moved={moved} set={set_bits} cleared={cleared}")
PY
}

# spy_field SUMMARY NAME: the number NAME= in a spy_summary line.
spy_field() {
  local s=" $1 "
  s=${s##* "$2"=}
  printf '%s\n' "${s%% *}"
}

# spy_inferior SPY_PID: the pid of the quicc process running under the spy (timeout -> gdb ->
# quicc), or nothing while gdb has not started it yet.
spy_inferior() {
  python3 - "$1" "$(readlink -f "$QUICC")" <<'PY'
import os, sys
root, exe = int(sys.argv[1]), sys.argv[2]
children = {}
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
todo = [root]
while todo:
    for child in children.get(todo.pop(), []):
        try:
            if os.readlink(f"/proc/{child}/exe") == exe:
                print(child)
                sys.exit(0)
        except OSError:
            pass
        todo.append(child)
PY
}

# odd_feed FILE FIFO: a FIFO that delivers FILE in 77777-byte writes, so that reads from it
# (at most a pipe's 64 KiB) come in sizes unrelated to OpenSSL's flow-control windows: read
# from a regular file in 256 KiB chunks, the writes would end exactly where the peer's credit
# does, and a partial write would never happen. Sets FEED_PID.
odd_feed() {
  mkfifo "$2"
  dd if="$1" of="$2" bs=77777 status=none &
  FEED_PID=$!
  bg_track "$FEED_PID"
}
