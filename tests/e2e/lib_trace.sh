# shellcheck shell=bash
# Reading quicc's -vvv trace (OpenSSL's SSL_trace). Source after lib.sh.

# trace_sni FILE: for each ClientHello in the trace FILE, one line: the server name its
# server_name extension carries, or "(none)" without the extension. Fails (status 1, with a
# message) when FILE has no ClientHello at all.
trace_sni() {
  python3 - "$1" <<'PY'
import re, sys
hellos = []        # one entry per ClientHello: the name, or None
want = 0           # bytes of the server_name extension still to read
data = b""
message = None
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\s{4}(\w+), Length=\d+", line)
    if m:
        message = m.group(1)
        if message == "ClientHello":
            hellos.append(None)
        continue
    if message != "ClientHello":
        continue
    m = re.match(r"\s+extension_type=server_name\(0\), length=(\d+)", line)
    if m:
        want, data = int(m.group(1)), b""
        continue
    m = re.match(r"\s+[0-9a-f]{4} - (.*)", line)
    if want and m:
        hexpart = m.group(1).split("   ")[0].replace("-", " ")
        data += bytes.fromhex(hexpart)
        if len(data) >= want:
            # server_name_list length (2), name type (1, host_name = 0), name length (2), name
            n = int.from_bytes(data[3:5], "big")
            hellos[-1] = data[5:5 + n].decode("ascii", "replace")
            want = 0
if not hellos:
    sys.exit("no ClientHello in " + sys.argv[1])
for name in hellos:
    print(name if name is not None else "(none)")
PY
}
