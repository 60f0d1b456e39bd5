#!/usr/bin/env python3
"""Runs one memory-ceiling scenario (docs/memory-ceiling.md): starts Drover with memory limits, loads /leak with
wrk, samples every worker's RSS from /proc/PID/statm at 10 Hz from outside, and prints the figures: failed
requests, recycles by reason, boot times, highest RSS against the hard limit, leak rate per worker.

  scripts/memceiling.py --kb 64 --connections 4 --soft 300M --hard 600M --duration 20
  scripts/memceiling.py --statm-cost      # cost of one statm read, in microseconds

The whole matrix (leak rates, Drover against uWSGI) is `scripts/bench ceiling`; this runs one scenario.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(HOME, "scripts"))
from benchlib.leakload import MIB, PacedLoad, RssSampler, least_squares_rate, rss, size  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def statm_cost(n=20000):
    pid = os.getpid()
    start = time.perf_counter()
    for _ in range(n):
        rss(pid)
    return (time.perf_counter() - start) / n * 1e6


def wait_ready(port, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def run(args):
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="memceiling-")
    env = dict(os.environ, DROVER_NO_BUILD="1", DROVER_WORKER_JVM_OPTIONS=args.jvm,
               DROVER_MEMORY_SOFT_LIMIT=args.soft, DROVER_MEMORY_HARD_LIMIT=args.hard,
               DROVER_LEAK_REPORTS_DIR=os.path.join(tmp, "leaks"), XDG_RUNTIME_DIR=tmp)
    log_path = os.path.join(tmp, "master.log")
    log = open(log_path, "w")
    master = subprocess.Popen([os.path.join(HOME, "scripts/drover"), "-w", str(args.workers), "-b",
                               f"127.0.0.1:{port}", "--classpath",
                               os.path.join(HOME, "sample-app/target/sample-app.jar"), "dev.drover.sample.SampleApp"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    samples = {}  # pid -> [(t, rss)]
    wrk_out = ""
    try:
        if not wait_ready(port, time.monotonic() + 60):
            raise SystemExit(f"Drover did not answer on port {port} within 60 s; log: {log_path}")
        time.sleep(1)
        url = f"http://127.0.0.1:{port}{args.path}"
        wrk = PacedLoad(port, args.path, args.rate, args.connections, args.duration) if args.rate else \
            subprocess.Popen(["wrk", f"-t{min(2, args.connections)}", f"-c{args.connections}",
                                f"-d{args.duration}s", url], stdout=subprocess.PIPE, text=True)
        sampler = RssSampler(master.pid).start()
        try:
            while wrk.poll() is None:
                time.sleep(0.1)
        finally:
            samples = sampler.stop()
        wrk_out = wrk.output(args.duration) if args.rate else wrk.stdout.read()
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()
        log.close()
    report(args, wrk_out, samples, open(log_path).read(), tmp)


def report(args, wrk_out, samples, log, tmp):
    hard = size(args.hard)
    soft = size(args.soft)
    print(f"== {args.path} c={args.connections} soft={args.soft} hard={args.hard} jvm={args.jvm} ({tmp})")
    for line in wrk_out.splitlines():
        if re.search(r"requests in|Socket errors|Non-2xx|Requests/sec", line):
            print("wrk:", line.strip())
    kills = len(re.findall(r"over drover\.memory\.hard-limit", log))
    softs = len(re.findall(r"over drover\.memory\.soft-limit", log))
    projected = len(re.findall(r"due for recycling \(memory-projected\)", log))
    drained = len(re.findall(r"recycled \(memory(-projected)?\): ", log))
    boots = [int(x) for x in re.findall(r"ready in (\d+) ms", log)]
    print(f"recycles: hard-limit kills {kills}, soft (graceful) {softs}, projected {projected}; "
          f"drained (graceful, completed) {drained}")
    print(f"boot spawn->READY ms: {boots}")
    peak = max((r for s in samples.values() for _, r in s), default=0)
    over = sum(1 for s in samples.values() for _, r in s if r > hard)
    total = sum(len(s) for s in samples.values())
    print(f"samples {total}, over hard {over}, peak RSS {peak / MIB:.0f} MiB = {peak / hard:.2f} x hard")
    rates, windows, first_over = [], [], []
    for pid, s in sorted(samples.items()):
        window = [(t, r) for t, r in s if soft * 0.5 <= r <= hard]
        rate = least_squares_rate(window)
        if rate:
            rates.append(rate)
        first_soft = next((t for t, r in s if r > soft), None)
        first_hard = next(((t, r) for t, r in s if r > hard), None)
        if first_soft is not None and first_hard is not None:
            windows.append(first_hard[0] - first_soft)
            first_over.append(first_hard[1])
        print(f"  pid {pid}: {len(s)} samples, max {max(r for _, r in s) / MIB:.0f} MiB, "
              f"rate {rate / MIB if rate else 0:.0f} MiB/s ({len(window)} pts {soft // 2 // MIB}M..{hard // MIB}M), "
              f"alive {s[0][0]:.1f}-{s[-1][0]:.1f} s")
    if rates:
        rates.sort()
        print(f"leak rate MiB/s per worker: median {rates[len(rates) // 2] / MIB:.0f}, "
              f"min {rates[0] / MIB:.0f}, max {rates[-1] / MIB:.0f}")
    if windows:
        # What a 10 Hz check would have seen: the soft-to-hard window a graceful recycle must fit in, and the
        # reading at which a kill on the first 10 Hz sample over the hard limit would have come.
        print("soft->hard window s: " + ", ".join(f"{w:.1f}" for w in sorted(windows))
              + "; first 10 Hz sample over hard, x hard: " + ", ".join(f"{r / hard:.2f}" for r in sorted(first_over)))
    gaps = [b[0] - a[0] for s in samples.values() for a, b in zip(s, s[1:])]
    if gaps:
        print(f"sampler interval: median {sorted(gaps)[len(gaps) // 2] * 1000:.0f} ms, max {max(gaps) * 1000:.0f} ms")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kb", type=int, default=64)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--soft", default="300M")
    p.add_argument("--hard", default="600M")
    p.add_argument("--jvm", default="-Xmx1g")
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--path", help="the URL path to load instead of /leak?kb=KB (e.g. / for no leak)")
    p.add_argument("--rate", type=int, default=0, help="paced requests/s in total (Python client instead of wrk)")
    p.add_argument("--statm-cost", action="store_true")
    args = p.parse_args()
    if args.statm_cost:
        print(f"statm read + parse: {statm_cost():.1f} us")
        return
    args.path = args.path or f"/leak?kb={args.kb}"
    run(args)


if __name__ == "__main__":
    sys.exit(main())
