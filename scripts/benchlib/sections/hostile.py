"""hostile: slowloris and idle keep-alive connections against 2 workers, and the latency of normal requests.

Starts the sample app with 2 workers (with --env KEY=VALUE settings, e.g. DROVER_HTTP_HEADER_TIMEOUT=10s), or uses
the server on --port. Then: (1) baseline: sequential GET / on fresh connections, p50/p99; (2) opens the idle
keep-alive connections (one answered request each, then silence) and the slowloris ones (a request head, one more
byte every gap seconds, never finished); (3) while they are open, the same sequential requests again, and once a
second the count of hostile connections the server has closed, until all are closed or max-seconds pass."""
import http.client
import resource
import selectors
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field

from .. import stats
from ..logs import BenchError

HEAD = b"GET / HTTP/1.1\r\nHost: bench\r\nX-Slow: "


@dataclass
class Latencies:
    """Sequential requests: seconds taken by each answered one, and how many failed."""
    taken: list = field(default_factory=list)
    failed: int = 0

    def __str__(self):
        if not self.taken:
            return "no answer"
        ms = [t * 1000 for t in self.taken]
        return (f"{len(ms) + self.failed} requests, {self.failed} failed, p50 {stats.percentile(ms, 50):.1f} ms, "
                f"p99 {stats.percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms")


def latencies(port, count, stop=None):
    """count sequential GET / on fresh connections (as a new client sees the server)."""
    out = Latencies()
    for _ in range(count):
        if stop is not None and stop.is_set():
            break
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            conn.close()
        if ok:
            out.taken.append(time.perf_counter() - t0)
        else:
            out.failed += 1
    return out


class Hostile:
    """The hostile connections, all on one selector: which are open, and when each was opened and closed."""

    def __init__(self, port):
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.opened = {}  # socket -> [kind, time opened, still awaiting the idle one's answer]
        self.lived = {"idle": [], "slowloris": []}
        self.answers = {"idle": 0, "slowloris": 0}  # answers other than the idle ones' first (a 408 before a close)

    def open(self, kind, count):
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.setblocking(False)
            s.send(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n" if kind == "idle" else HEAD)
            self.opened[s] = [kind, time.time(), kind == "idle"]
            self.sel.register(s, selectors.EVENT_READ)

    def open_count(self, kind):
        return sum(1 for k, _, _ in self.opened.values() if k == kind)

    def poll(self, timeout):
        for key, _ in self.sel.select(timeout):
            s = key.fileobj
            entry = self.opened[s]
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if data and entry[2]:
                entry[2] = False
            elif data:
                self.answers[entry[0]] += 1
            else:
                self.sel.unregister(s)
                s.close()
                del self.opened[s]
                self.lived[entry[0]].append(time.time() - entry[1])

    def trickle(self):
        for s, (kind, _, _) in list(self.opened.items()):
            if kind == "slowloris":
                try:
                    s.send(b"x")
                except OSError:
                    pass

    def close_all(self):
        for s in list(self.opened):
            s.close()
        self.opened.clear()


@dataclass
class HostileResult:
    before: Latencies
    under: Latencies
    opened_in_s: float
    hostile: Hostile
    timeline: list          # (t, idle open, slowloris open)
    settings: str
    left: dict              # kind -> still open at the end


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if needed > hard:
        raise BenchError(f"hostile: {needed} connections need more than the open-file limit {hard} (raise the hard "
                         "limit: ulimit -Hn)")


def run(b):
    k, args = b.knobs, b.args
    raise_fd_limit(k.hostile_idle + k.hostile_slowloris + 100)
    master, port = None, args.port
    if port is None:
        env = dict(pair.partition("=")[::2] for pair in args.env)
        master = b.start_serving("hostile", 2, env=env, ready_s=90)
        port = master.port
    try:
        res = measure(b, port, " ".join(args.env) or "the defaults")
    finally:
        if master is not None:
            b.stop_drover(master)
    render(b, res)


def measure(b, port, settings):
    k = b.knobs
    latencies(port, 50)  # warms the JIT: the baseline should not measure a cold worker
    before = latencies(port, k.hostile_requests)
    hostile = Hostile(port)
    started = time.time()
    try:
        hostile.open("idle", k.hostile_idle)
        hostile.open("slowloris", k.hostile_slowloris)
        opened_in = time.time() - started
        b.say(f"hostile: {k.hostile_idle} idle and {k.hostile_slowloris} slowloris connections open in "
              f"{opened_in:.1f} s; watching for up to {k.hostile_max_s:g} s")
        stop, under = threading.Event(), []
        prober = threading.Thread(target=lambda: under.append(latencies(port, k.hostile_requests, stop)))
        prober.start()
        try:
            timeline = watch(hostile, started, k)
        finally:
            stop.set()
            prober.join()
        left = {kind: hostile.open_count(kind) for kind in ("idle", "slowloris")}
        return HostileResult(before, under[0], opened_in, hostile, timeline, settings, left)
    finally:
        hostile.close_all()


def watch(hostile, started, k):
    """Polls the connections until all are closed or hostile_max_s pass; open counts once a second."""
    timeline, next_trickle, next_sample = [], time.time() + k.hostile_gap_s, time.time()
    while hostile.opened and time.time() - started < k.hostile_max_s:
        hostile.poll(0.2)
        now = time.time()
        if now >= next_trickle:
            hostile.trickle()
            next_trickle = now + k.hostile_gap_s
        if now >= next_sample:
            timeline.append((now - started, hostile.open_count("idle"), hostile.open_count("slowloris")))
            next_sample = now + 1
    timeline.append((time.time() - started, hostile.open_count("idle"), hostile.open_count("slowloris")))
    return timeline


def render(b, res):
    k, r, h = b.knobs, b.report, res.hostile
    r.para(f"### Hostile connections against 2 workers ({k.hostile_idle} idle keep-alive, {k.hostile_slowloris} "
           f"slowloris, a byte every {k.hostile_gap_s:g} s) (`hostile`)")
    r.para(f"Settings: {res.settings}; all hostile connections opened in {res.opened_in_s:.1f} s.")
    r.table(["normal requests (sequential, fresh connections)", "result"],
            [["before", res.before], ["with the hostile connections open", res.under]])
    rows = []
    for kind, count in (("idle", k.hostile_idle), ("slowloris", k.hostile_slowloris)):
        lived = h.lived[kind]
        span = f"{min(lived):.1f} / {statistics.median(lived):.1f} / {max(lived):.1f}" if lived else "-"
        rows.append([kind, count, len(lived), h.answers[kind], span, res.left[kind]])
    r.table(["kind", "opened", "closed by the server", "of them answered first (408)", "lived: min / median / max (s)",
             "still open at the end"], rows)
    r.table(["t (s)", "idle open", "slowloris open"],
            [[f"{t:.0f}", idle, slow] for i, (t, idle, slow) in enumerate(res.timeline)
             if i % 5 == 0 or i == len(res.timeline) - 1])
