#!/usr/bin/env python3
"""quicc's benchmarks: each case runs every tool alternately (A, B, C, A, B, C, ...) after a
warm-up round, over loopback, and prints per tool the median wall time, CPU time (user +
system), peak RSS, throughput where it means something, and the ratio of each median to the
case's reference tool. Tests assert behaviour; speed and memory are measured here.

Cases (tools in the order they run):
  small     handshake, one HTTP/0.9 request for a 20-byte file, close:
              quicc (--get, ALPN hq-interop) and OpenSSL's demo client quic-hq-interop, both
              from OpenSSL's quic-hq-interop-server; ngtcp2's gtlsclient from gtlsserver (h3)
  download  the same with a SIZE file, plus the demo client patched to read 256 KiB per call
              (the stack's own pace: the stock demo reads 160 bytes per call)
  pipe      SIZE bytes from quicc's stdin to a quicc pipe listener (stdout /dev/null), against
              gtlsclient's download of SIZE from gtlsserver
  sequential  N small requests one after the other (--sequential N, default 100) from a quicc
              --serve listener (quic-hq-interop-server serves one connection at a time and
              drains each for three PTOs before the next): quicc --count N (one process, N
              connections, each sending "GET /small"), a shell loop of N `quicc --get` runs;
              and a loop of N gtlsclient runs from gtlsserver
  lossy     SIZE each way through tests/fault_relay.py (5% of datagrams dropped and 5% held
              back 30 ms, each way, the same seeded choices every run), quicc's perf client
              against a quicc perf listener: --perf --upload SIZE against --perf --download
              SIZE (same client, server and path; only the direction differs)
  startup   `quicc --version` against `openssl version` (the bootstrap's) and /bin/true (what
              starting any process costs here); and the time from starting each client to its
              first Initial datagram reaching a UDP socket of ours (which never answers): quicc,
              the demo client, gtlsclient. Wall time only, measured from this process.

  bench/bench.py [--cases small,download,pipe,sequential,lossy,startup] [--sequential N] [--size-mb 100]
                 [--lossy-mb 20] [--reps 5] [--json FILE] [--chart FILE.png]
                 [--driver nonblocking|blocking] [--quicc PATH]

--chart draws the throughput of each tool (download, pipe, lossy) and the small request's wall
time with gnuplot (Debian's gnuplot-nox), one PNG.
  bench/bench.py --smoke      tiny sizes, one repetition, no warm-up: the harness works

Peers: quic-hq-interop-server comes from the bootstrap's OpenSSL build, the demo client's source
from the OpenSSL source tree (scripts/bootstrap.sh --source); the demo client is built here, patched to save into a directory of
ours (it writes to /downloads) and, for the 256 KiB variant, to read more per call.
gtlsclient and gtlsserver come from Debian (ngtcp2-client, ngtcp2-server); a missing tool is
reported and left out. Exit status: 0 when every run of every tool succeeded and delivered
every byte, 1 otherwise.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(text):
    print(text, file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TIME = "/usr/bin/time"  # GNU time (Debian package time)


def run_measured(argv, env=None, stdin=None, timeout=300, scratch="/tmp"):
    """Runs argv; returns (exit code, wall s, CPU s, peak RSS KiB, stderr tail). The peak RSS
    comes from GNU time, which forks the tool from its own small image: a child forked from
    this Python process would count Python's 16 MiB as its own peak."""
    rss_file = os.path.join(scratch, "rss")
    if os.path.exists(TIME):
        argv = [TIME, "-f", "%M", "-o", rss_file] + argv
    err_path = os.path.join(scratch, "stderr")
    stdin_f = open(stdin, "rb") if stdin else subprocess.DEVNULL
    with open(err_path, "wb") as err_f:
        start = time.monotonic()
        p = subprocess.Popen(argv, env=env, stdin=stdin_f, stdout=subprocess.DEVNULL, stderr=err_f)
    if stdin:
        stdin_f.close()
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    # wait4 reports the child's CPU time and that of the children it waited for (the tool).
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    err = open(err_path, "rb").read()
    rss = usage.ru_maxrss
    if argv[0] == TIME:
        try:
            rss = int(open(rss_file).read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    return (os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, rss,
            err.decode(errors="replace")[-400:])


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="quicc-bench.")
        self.servers = []
        self.failures = []
        self.results = {}
        self.quicc = args.quicc
        self.driver = ["--" + args.driver]
        # The tests give the peers' prefix; otherwise the bootstrap names it.
        prefix = os.environ.get("OPENSSL_PREFIX") or subprocess.run(
            [os.path.join(ROOT, "scripts", "bootstrap.sh")], check=True, capture_output=True,
            text=True).stdout.strip().splitlines()[-1]
        self.peers = os.path.join(prefix, "peers")
        self.include = os.path.join(prefix, "include")
        self.lib = os.path.join(prefix, "lib")
        self.gtlsclient = shutil.which("gtlsclient")
        self.gtlsserver = shutil.which("gtlsserver") or (
            "/usr/sbin/gtlsserver" if os.path.exists("/usr/sbin/gtlsserver") else None)
        self.www = os.path.join(self.work, "www")
        self.dl = os.path.join(self.work, "dl")
        os.makedirs(self.www)
        os.makedirs(self.dl)
        self.cert = os.path.join(self.work, "cert.pem")
        self.key = os.path.join(self.work, "key.pem")
        # The bootstrap's openssl: a fresh machine need not have Debian's.
        subprocess.run([os.path.join(prefix, "bin", "openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost", "-keyout", self.key, "-out",
                        self.cert], check=True, capture_output=True)
        with open(os.path.join(self.www, "small"), "wb") as f:
            f.write(b"hello, small world!\n")
        self.size = int(args.size_mb * 1024 * 1024)
        self.lossy_size = int(args.lossy_mb * 1024 * 1024)
        with open(os.path.join(self.www, "big"), "wb") as f:
            left = self.size
            while left > 0:
                chunk = os.urandom(min(left, 1 << 20))
                f.write(chunk)
                left -= len(chunk)
        self.demo = self.build_demo("quic-hq-interop", 160)
        self.demo256 = self.build_demo("quic-hq-interop-256k", 256 * 1024)

    def close(self):
        for p in self.servers:
            p.kill()
            p.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def build_demo(self, name, read_size):
        source = self.demo_source()
        if not source:
            return None
        text = open(source).read()
        # Saves into a directory of ours (the demo writes to /downloads/NAME).
        text = text.replace('"/downloads/%s"', '"%s/%s", getenv("BENCH_DOWNLOADS")')
        text = text.replace("char buf[160];", "static char buf[%d];" % read_size)
        if '"%s/%s", getenv("BENCH_DOWNLOADS")' not in text or "static char buf[" not in text:
            log("bench: the demo client's source changed; %s not built" % name)
            return None
        patched = os.path.join(self.work, name + ".c")
        with open(patched, "w") as f:
            f.write(text)
        out = os.path.join(self.work, name)
        r = subprocess.run(["cc", "-O2", "-I" + self.include, "-o", out, patched,
                            os.path.join(self.lib, "libssl.a"), os.path.join(self.lib, "libcrypto.a"),
                            "-lpthread", "-ldl"], capture_output=True, text=True)
        if r.returncode != 0:
            log("bench: building %s failed: %s" % (name, r.stderr[-300:]))
            return None
        return out

    def demo_source(self):
        r = subprocess.run([os.path.join(ROOT, "scripts", "bootstrap.sh"), "--source"],
                           capture_output=True, text=True)
        tree = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else ""
        path = os.path.join(tree, "test", "quic-openssl-docker", "hq-interop", "quic-hq-interop.c")
        if not os.path.exists(path):
            log("bench: no OpenSSL source (scripts/bootstrap.sh --source): the demo client is "
                "left out; %s" % r.stderr.strip()[-200:])
            return None
        return path

    def start(self, argv, env=None):
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.servers.append(p)
        time.sleep(0.3)
        if p.poll() is not None:
            raise SystemExit("bench: %s did not start" % argv[0])
        return p

    def hq_server(self):
        port = free_port()
        env = dict(os.environ, FILEPREFIX=self.www + "/", NO_ADDR_VALIDATE="1")
        self.start([os.path.join(self.peers, "quic-hq-interop-server"), str(port), self.cert,
                    self.key], env)
        return port

    def gtls_server(self):
        if not self.gtlsserver:
            return None
        port = free_port()
        self.start([self.gtlsserver, "-q", "-d", self.www, "127.0.0.1", str(port), self.key,
                    self.cert])
        return port

    def quicc_listener(self):
        port = free_port()
        self.start([self.quicc, *self.driver, "--listen", "127.0.0.1:%d" % port, "--keep-open", "--cert",
                    self.cert, "--key", self.key])
        return port

    # --- the tools: each returns (argv, env, stdin, the file it saves or None) ---------------

    def tool_quicc_get(self, port, name):
        out = os.path.join(self.dl, "quicc-" + name)
        return ([self.quicc, *self.driver, "--alpn", "hq-interop", "--cafile", self.cert, "--get", "/" + name,
                 "-o", out, "localhost:%d" % port], None, None, out)

    def tool_demo(self, binary, port, name):
        reqfile = os.path.join(self.work, "req-" + name)
        with open(reqfile, "w") as f:
            f.write(name)
        env = dict(os.environ, SSL_CERT_FILE=self.cert, BENCH_DOWNLOADS=self.dl)
        return ([binary, "localhost", str(port), reqfile], env, None, os.path.join(self.dl, name))

    def tool_gtls(self, port, name):
        return ([self.gtlsclient, "-q", "--exit-on-all-streams-close", "--download", self.dl,
                 "127.0.0.1", str(port), "https://localhost:%d/%s" % (port, name)], None, None,
                os.path.join(self.dl, name))

    def tool_quicc_pipe(self, port):
        return ([self.quicc, *self.driver, "--cafile", self.cert, "localhost:%d" % port], None,
                os.path.join(self.www, "big"), None)

    # --- sequential ------------------------------------------------------------------------------

    def loop_of(self, argv, n, env=None):
        """A shell loop running argv n times; it fails at the first failure."""
        script = 'for i in $(seq %d); do "$@" >/dev/null || exit 1; done' % n
        return (["sh", "-c", script, "loop"] + argv, env, None, None)

    def serve_listener(self):
        port = free_port()
        self.start([self.quicc, *self.driver, "--listen", "127.0.0.1:%d" % port, "--keep-open",
                    "--serve", self.www, "--cert", self.cert, "--key", self.key])
        return port

    def sequential_case(self, gt):
        n = self.args.sequential
        hq = self.serve_listener()
        tools = [
            ("quicc --count", lambda: ([self.quicc, *self.driver, "--count", str(n), "--alpn", "hq-interop",
                                        "--cafile", self.cert, "--send", "GET /small\\r\\n",
                                        "localhost:%d" % hq], None, None, None)),
            ("quicc --get, a loop", lambda: self.loop_of(self.tool_quicc_get(hq, "small")[0], n)),
            ("gtlsclient, a loop", gt and (lambda: self.loop_of(self.tool_gtls(gt, "small")[0], n))),
        ]
        self.case("sequential", tools, 0)

    # --- lossy -----------------------------------------------------------------------------------

    def perf_listener(self):
        port = free_port()
        self.start([self.quicc, *self.driver, "--listen", "127.0.0.1:%d" % port, "--keep-open",
                    "--perf", "--cert", self.cert, "--key", self.key])
        return port

    def lossy_relay(self, server_port):
        p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "fault_relay.py"), "0",
                              str(server_port), "--drop", "0.05", "--delay", "0.05", "--delay-ms", "30"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        self.servers.append(p)
        line = p.stdout.readline().split()
        if line[:2] != ["relay:", "ready"]:
            raise SystemExit("bench: tests/fault_relay.py did not start")
        return int(line[2])

    def lossy_case(self):
        relay = self.lossy_relay(self.perf_listener())
        size = "%d" % self.lossy_size

        def perf(direction):
            return ([self.quicc, *self.driver, "--perf", "--" + direction, size, "--cafile", self.cert,
                     "--connect-to", "127.0.0.1:%d" % relay, "localhost:%d" % relay], None, None, None)
        self.case("lossy", [
            ("quicc --perf --download", lambda: perf("download")),
            ("quicc --perf --upload", lambda: perf("upload")),
        ], self.lossy_size)

    # --- the chart -------------------------------------------------------------------------------

    def chart(self, path):
        gnuplot = shutil.which("gnuplot")
        if not gnuplot:
            log("bench: gnuplot not installed (gnuplot-nox): no chart")
            self.failures.append("chart: gnuplot not installed")
            return
        rows = []  # (case, tool, MB/s)
        for case in ("download", "pipe", "lossy"):
            for row in self.results.get(case, {}).get("tools", []):
                if row.get("mb_per_s"):
                    rows.append((case, row["tool"], row["mb_per_s"]))
        small = [(row["tool"], row["wall_s"] * 1000) for row in self.results.get("small", {}).get("tools", [])]
        data = os.path.join(self.work, "chart.dat")
        with open(data, "w") as f:
            f.write("# case tool MB/s\n")
            for case, tool, v in rows:
                f.write('"%s: %s" %.3f\n' % (case, tool, v))
            f.write("\n\n# tool ms\n")
            for tool, v in small:
                f.write('"%s" %.3f\n' % (tool, v))
        script = """
set terminal pngcairo size 1100,900 font ',10'
set output '%s'
set multiplot layout 2,1 title 'quicc benchmarks (loopback, medians of %d runs)'
set style data histogram
set style fill solid 0.8 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by -25 scale 0 font ',9'
set key off
set title 'throughput, MB/s, log scale (higher is better)'
set logscale y 10
plot '%s' index 0 using 2:xtic(1) linecolor rgb '#3b75af' , '' index 0 using 0:2:(sprintf('%%.1f', $2)) with labels offset 0,0.7 notitle
set title 'small request: handshake, 20 bytes, close; wall ms (lower is better)'
unset logscale y
set yrange [0:*]
plot '%s' index 1 using 2:xtic(1) linecolor rgb '#e1812c', '' index 1 using 0:2:(sprintf('%%.1f', $2)) with labels offset 0,0.7 notitle
unset multiplot
""" % (path, self.args.reps, data, data)
        if not small:
            script = script.replace("layout 2,1", "layout 1,1").split("set title 'small")[0] + "unset multiplot\n"
        if not rows:
            log("bench: nothing to chart")
            return
        r = subprocess.run([gnuplot], input=script, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(path):
            self.failures.append("chart: gnuplot failed: %s" % r.stderr.strip()[-300:])
            return
        log("bench: chart written to %s" % path)

    # --- startup ---------------------------------------------------------------------------------

    def time_to_exit(self, argv):
        start = time.monotonic()
        rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode
        return rc, time.monotonic() - start

    def time_to_first_datagram(self, make):
        """Starts the tool against a UDP socket of ours; the time until its first datagram."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(10)
            argv, env = make(sock.getsockname()[1])
            start = time.monotonic()
            p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            try:
                sock.recvfrom(65536)
                took = time.monotonic() - start
            except socket.timeout:
                took = None
            p.kill()
            p.wait()
        return (0 if took is not None else 1), took

    def startup_case(self):
        openssl = os.path.join(os.path.dirname(self.peers), "bin", "openssl")
        reqfile = os.path.join(self.work, "req-small")
        with open(reqfile, "w") as f:
            f.write("small")
        demo_env = dict(os.environ, SSL_CERT_FILE=self.cert, BENCH_DOWNLOADS=self.dl)
        groups = [
            ("exit", [
                ("quicc --version", lambda: self.time_to_exit([self.quicc, "--version"])),
                ("openssl version", lambda: self.time_to_exit([openssl, "version"])),
                ("/bin/true", lambda: self.time_to_exit(["/bin/true"])),
            ]),
            ("first Initial", [
                ("quicc", lambda: self.time_to_first_datagram(lambda port: (
                    [self.quicc, *self.driver, "--cafile", self.cert, "localhost:%d" % port], None))),
                ("quic-hq-interop (demo)", self.demo and (lambda: self.time_to_first_datagram(
                    lambda port: ([self.demo, "localhost", str(port), reqfile], demo_env)))),
                ("gtlsclient (ngtcp2)", self.gtlsclient and (lambda: self.time_to_first_datagram(
                    lambda port: ([self.gtlsclient, "-q", "127.0.0.1", str(port)], None)))),
            ]),
        ]
        reps = self.args.reps * 4  # these are short: more runs, steadier medians
        for group, tools in groups:
            tools = [(label, f) for label, f in tools if f]
            runs = {label: [] for label, _ in tools}
            for r in range(reps + (0 if self.args.smoke else 1)):
                for label, f in tools:
                    rc, took = f()
                    if rc != 0 or took is None:
                        self.failures.append("startup/%s: exit %s" % (label, rc))
                        continue
                    if r > 0 or self.args.smoke:
                        runs[label].append(took)
            rows = []
            for label, samples in runs.items():
                if samples:
                    rows.append({"tool": label, "runs": len(samples), "ms": statistics.median(samples) * 1000})
            ref = rows[0]["ms"] if rows else None
            for row in rows:
                row["ratio"] = row["ms"] / ref if ref else None
            self.results["startup: " + group] = {"tools": rows}
            print("\nstartup: %s (medians; ratios to %s)" % (group, rows[0]["tool"] if rows else "-"))
            print("%-24s %4s %10s %9s" % ("tool", "runs", "ms", "x"))
            for row in rows:
                print("%-24s %4d %10.2f %9.2f" % (row["tool"], row["runs"], row["ms"], row["ratio"]))
            sys.stdout.flush()

    # --- running ---------------------------------------------------------------------------------

    def case(self, name, tools, expect_bytes):
        """tools: [(label, make)], make() -> (argv, env, stdin, saved file)."""
        tools = [(label, make) for label, make in tools if make is not None]
        runs = {label: [] for label, _ in tools}
        rounds = self.args.reps + (0 if self.args.smoke else 1)
        for r in range(rounds):
            for label, make in tools:
                argv, env, stdin, saved = make()
                if saved and os.path.exists(saved):
                    os.unlink(saved)
                rc, wall, cpu, rss, err = run_measured(argv, env, stdin, scratch=self.work)
                ok = rc == 0 and (saved is None or (os.path.exists(saved) and
                                                    os.path.getsize(saved) == expect_bytes))
                if not ok:
                    got = os.path.getsize(saved) if saved and os.path.exists(saved) else None
                    self.failures.append("%s/%s: exit %d, %s bytes saved; stderr: %s"
                                         % (name, label, rc, got, err.strip()[-200:]))
                    continue
                if r > 0 or self.args.smoke:  # the first round warms up
                    runs[label].append((wall, cpu, rss))
        self.report(name, runs, expect_bytes)

    def report(self, name, runs, nbytes):
        rows = []
        ref = None
        for label, samples in runs.items():
            if not samples:
                continue
            wall = statistics.median(s[0] for s in samples)
            cpu = statistics.median(s[1] for s in samples)
            rss = max(s[2] for s in samples)
            if ref is None:
                ref = (wall, cpu)
            rows.append({"tool": label, "runs": len(samples), "wall_s": wall, "cpu_s": cpu,
                         "peak_rss_kib": rss, "mb_per_s": nbytes / wall / 1e6 if nbytes > 1000 else None,
                         "wall_ratio": wall / ref[0], "cpu_ratio": cpu / ref[1] if ref[1] else None})
        self.results[name] = {"bytes": nbytes, "tools": rows}
        print("\n%s (%d bytes; ratios to %s)" % (name, nbytes, rows[0]["tool"] if rows else "-"))
        print("%-24s %4s %10s %8s %8s %10s %9s %9s" % ("tool", "runs", "wall ms", "cpu ms",
                                                       "rss MiB", "MB/s", "wall x", "cpu x"))
        for row in rows:
            print("%-24s %4d %10.1f %8.1f %8.1f %10s %9.2f %9s" % (
                row["tool"], row["runs"], row["wall_s"] * 1000, row["cpu_s"] * 1000,
                row["peak_rss_kib"] / 1024,
                "%.1f" % row["mb_per_s"] if row["mb_per_s"] else "-", row["wall_ratio"],
                "%.2f" % row["cpu_ratio"] if row["cpu_ratio"] else "-"))
        sys.stdout.flush()

    def run(self):
        cases = self.args.cases.split(",")
        hq = self.hq_server() if {"small", "download"} & set(cases) else None
        gt = self.gtls_server() if self.gtlsclient else None
        if not gt:
            log("bench: gtlsclient/gtlsserver not installed (ngtcp2-client, ngtcp2-server): left out")
        small = 20
        for case in cases:
            if case == "small":
                self.case("small", [
                    ("quicc --get", lambda: self.tool_quicc_get(hq, "small")),
                    ("quic-hq-interop (demo)", self.demo and (lambda: self.tool_demo(self.demo, hq, "small"))),
                    ("gtlsclient (ngtcp2)", gt and (lambda: self.tool_gtls(gt, "small"))),
                ], small)
            elif case == "download":
                self.case("download", [
                    ("quicc --get", lambda: self.tool_quicc_get(hq, "big")),
                    ("demo, 256 KiB reads", self.demo256 and (lambda: self.tool_demo(self.demo256, hq, "big"))),
                    ("quic-hq-interop (demo)", self.demo and (lambda: self.tool_demo(self.demo, hq, "big"))),
                    ("gtlsclient (ngtcp2)", gt and (lambda: self.tool_gtls(gt, "big"))),
                ], self.size)
            elif case == "pipe":
                lp = self.quicc_listener()
                self.case("pipe", [
                    ("quicc -> quicc pipe", lambda: self.tool_quicc_pipe(lp)),
                    ("gtlsclient <- gtlsserver", gt and (lambda: self.tool_gtls(gt, "big"))),
                ], self.size)
            elif case == "sequential":
                self.sequential_case(gt)
            elif case == "lossy":
                self.lossy_case()
            elif case == "startup":
                self.startup_case()
            else:
                raise SystemExit("bench: no case %r (small, download, pipe, sequential, lossy, startup)" % case)
        if self.args.chart:
            self.chart(self.args.chart)
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump({"size_bytes": self.size, "reps": self.args.reps, "cases": self.results},
                          f, indent=1)
        for failure in self.failures:
            log("bench: FAILED " + failure)
        return 1 if self.failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="small,download,pipe,sequential,lossy,startup")
    ap.add_argument("--sequential", type=int, default=100, help="connections in the sequential case")
    ap.add_argument("--size-mb", type=float, default=100)
    ap.add_argument("--lossy-mb", type=float, default=20, help="bytes each way in the lossy case")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--chart", help="draw the results into this PNG (gnuplot)")
    ap.add_argument("--json", help="write the results to this file too")
    ap.add_argument("--quicc", default=os.environ.get("QUICC", os.path.join(ROOT, "build", "app", "quicc")),
                    help="the quicc binary (default: $QUICC, or build/app/quicc, built if missing)")
    ap.add_argument("--driver", choices=["nonblocking", "blocking"],
                    default=os.environ.get("QUICC_DRIVER", "nonblocking"))
    ap.add_argument("--smoke", action="store_true",
                    help="tiny sizes, one repetition, no warm-up: checks the harness, times nothing")
    args = ap.parse_args()
    if args.smoke:
        args.size_mb, args.reps, args.sequential, args.lossy_mb = 0.25, 1, 3, 0.25
    if not os.access(args.quicc, os.X_OK):
        subprocess.run([os.path.join(ROOT, "scripts", "build.sh")], check=True,
                       stdout=subprocess.DEVNULL)
    bench = Bench(args)
    try:
        return bench.run()
    finally:
        bench.close()


if __name__ == "__main__":
    sys.exit(main())
