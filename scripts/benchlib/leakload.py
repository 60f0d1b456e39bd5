"""Load and readings for memory-ceiling runs (scripts/memceiling.py and the bench's `ceiling` section): a paced HTTP
client that counts every failure and times every request (wrk cannot pace), and every worker's RSS read from
/proc/PID/statm at 10 Hz from outside."""
import collections
import http.client
import os
import threading
import time
from dataclasses import dataclass

from . import stats

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1 << 20
_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size(text):
    """"300M" (Drover's and the JVM's sizes: powers of 2) or a plain number of bytes, in bytes."""
    unit = text[-1].upper()
    return int(text[:-1]) * _UNITS[unit] if unit in _UNITS else int(text)


def children(pid):
    """Direct children of pid, from /proc/PID/task/*/children: cheaper than scanning /proc, ten times a second."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return out


def rss(pid):
    """RSS in bytes from /proc/PID/statm (~10 us), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return None


def least_squares_rate(points):
    """Slope in bytes/s of (t, bytes) points, or None for fewer than 3 points or no time between them."""
    n = len(points)
    if n < 3:
        return None
    mt = sum(t for t, _ in points) / n
    mb = sum(b for _, b in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (b - mb) for t, b in points) / var if var else None


def growth_rates(samples, pids=None, min_span_s=1.0):
    """Each worker's RSS growth in bytes/s ({pid: [(t, bytes)]}): the slope from its first reading to its highest
    (what it grew until it was stopped: a process freeing memory on its way out does not count), for workers that
    grew over at least min_span_s; pids limits it to those processes."""
    rates = []
    for pid, points in samples.items():
        if pids is not None and pid not in pids or not points:
            continue
        rising = points[:max(range(len(points)), key=lambda i: (points[i][1], i)) + 1]   # the last highest
        if rising[-1][0] - rising[0][0] >= min_span_s:
            rate = least_squares_rate(rising)
            if rate is not None:
                rates.append(rate)
    return sorted(rates)


def peak(samples, pids=None):
    """The highest reading of the samples, of the processes in pids if given; 0 for none."""
    return max((b for pid, points in samples.items() if pids is None or pid in pids for _, b in points), default=0)


class RssSampler:
    """Reads the RSS of every child of `parent` every `interval_s` on a thread of its own, from start() to stop();
    samples = {pid: [(seconds since start, bytes)]}."""

    def __init__(self, parent, interval_s=0.1):
        self.parent, self.interval_s = parent, interval_s
        self.samples = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.samples

    def _loop(self):
        t0 = time.monotonic()
        tick = 0
        while not self._stop.is_set():
            now = time.monotonic() - t0
            for pid in children(self.parent):
                r = rss(pid)
                if r is not None:
                    self.samples.setdefault(pid, []).append((now, r))
            tick += 1
            self._stop.wait(max(0.0, tick * self.interval_s - (time.monotonic() - t0)))


@dataclass(frozen=True)
class PacedResult:
    """A paced run: requests sent, how many failed (an exception, a timeout or a non-2xx), how long it ran, the
    latencies of the successful requests in seconds, and the failures by kind ((kind, count) pairs: an exception's
    class name, or "HTTP <status>")."""
    requests: int
    failed: int
    seconds: float
    latencies: tuple
    kinds: tuple = ()

    @property
    def failures(self):
        """The kinds as text for a table cell, e.g. "ConnectionResetError 2, timeout 1"; empty without failures."""
        return ", ".join(f"{kind} {n}" for kind, n in self.kinds)

    @property
    def ok_per_s(self):
        return (self.requests - self.failed) / self.seconds if self.seconds > 0 else 0.0

    @property
    def p99_ms(self):
        p = stats.percentile(self.latencies, 99)
        return None if p is None else p * 1000


class PacedLoad:
    """`rate` requests/s in total over `connections` keep-alive connections (a new one after a failure or when the
    server closes it) for `duration` s; every failure is counted. Requests that fall behind the schedule go out at
    once, so a slow server gets the same number of requests, later."""

    def __init__(self, port, path, rate, connections, duration, timeout_s=5):
        self.port, self.path, self.duration, self.timeout_s = port, path, duration, timeout_s
        self.ok = self.failed = 0
        self.latencies = []
        self.kinds = collections.Counter()
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self.loop, args=(rate / connections,), daemon=True)
                        for _ in range(connections)]
        for t in self.threads:
            t.start()

    def loop(self, rate):
        conn = None
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < self.duration:
            n += 1
            sent = time.monotonic()
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
                conn.request("GET", self.path)
                resp = conn.getresponse()
                resp.read()
                kind = None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
            except (OSError, http.client.HTTPException) as e:
                kind = "timeout" if isinstance(e, TimeoutError) else type(e).__name__
                if conn:
                    conn.close()
                conn = None
            took = time.monotonic() - sent
            with self.lock:
                if kind is None:
                    self.ok += 1
                    self.latencies.append(took)
                else:
                    self.failed += 1
                    self.kinds[kind] += 1
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
        if conn:
            conn.close()

    def poll(self):
        """None while running (like Popen.poll), 0 once every connection's loop has ended."""
        return None if any(t.is_alive() for t in self.threads) else 0

    def wait(self):
        for t in self.threads:
            t.join()
        return self.result()

    def result(self):
        with self.lock:
            return PacedResult(self.ok + self.failed, self.failed, time.monotonic() - self.started,
                               tuple(self.latencies), tuple(sorted(self.kinds.items())))

    def output(self, duration):
        """wrk-like lines, for scripts/memceiling.py's report."""
        return (f"{self.ok + self.failed} requests in {duration}s (paced)\n"
                f"Socket errors or Non-2xx: {self.failed} {dict(self.kinds) if self.kinds else ''}\nRequests/sec: {(self.ok + self.failed) / duration:.0f}\n")
