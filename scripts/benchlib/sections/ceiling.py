"""ceiling: memory limits under leaks of ~1, ~10 and ~100 MiB/s per worker, Drover against uWSGI's reload-on-rss and
evil-reload-on-rss set to the same limits, in one run (issue 13's figures; docs/memory-ceiling.md).

Per server and per load, a fresh server with 2 workers: a paced client (request rate x KiB leaked per request sets
the leak rate; the same pace on / is the no-leak baseline) or wrk all-out (on /leak and on /), every worker's RSS
read at 10 Hz from outside, every failed request counted, recycles by reason (Drover: `ctl status`; uWSGI: its
log). The servers: BENCH_CEILING_SERVERS (default "drover uwsgi-rss uwsgi-evil")."""
import json
import os
import re
import time
from dataclasses import dataclass, field

from .. import leakload, stats, wrk
from ..logs import BenchError
from ..leakload import MIB, PacedLoad, RssSampler
from . import peers

SERVERS = ("drover", "uwsgi-rss", "uwsgi-evil")
LABELS = {"drover": "Drover", "uwsgi-rss": "uWSGI reload-on-rss", "uwsgi-evil": "uWSGI evil-reload-on-rss"}
WORKERS = 2
BASELINE, WRK_BASELINE = "paced, no leak", "wrk, no leak"
# uWSGI's lines (2.0.21): a worker over reload-on-rss ends itself after its request; the master SIGKILLs one over
# evil-reload-on-rss, then logs its death like any other.
UWSGI_LINES = {"graceful (reload-on-rss)": re.compile(r"\.\.\.The work of process \d+ is done\. Seeya!"),
               "SIGKILL (evil-reload-on-rss)": re.compile(r"\*\*\* EVIL RELOAD ON WORKER \d+ RSS"),
               "died": re.compile(r"DAMN ! worker \d+ \(pid: \d+\) (died|MISTERIOUSLY)"),
               "respawn paused": re.compile(r"worker respawning too fast")}


@dataclass(frozen=True)
class Load:
    """One load of the matrix: `kb` KiB leaked per request (0: GET /, no leak), paced at `rate` requests/s in total
    or wrk all-out (rate 0), for `seconds`; its ratios are against the load named `baseline`."""
    name: str
    kb: int
    rate: int
    seconds: float
    baseline: str

    @property
    def path(self):
        return f"/leak?kb={self.kb}" if self.kb else "/"

    def per_worker_mib_s(self, workers=WORKERS):
        """The leak each worker gets when the requests are spread evenly, in MiB/s; None for wrk (its rate is what
        the server makes of it)."""
        return self.rate / workers * self.kb / 1024 if self.rate else None


def loads(k):
    """The matrix's loads: the paced baseline, the three paced leaks, wrk on / and wrk on the leak. The leak per
    request is chosen so that `ceiling_rate` requests/s spread over the workers leak ~1, ~10, ~100 MiB/s each."""
    per_worker = k.ceiling_rate / WORKERS
    out = [Load(BASELINE, 0, k.ceiling_rate, k.ceiling_run_s, BASELINE)]
    for mib_s, seconds in ((1, k.ceiling_slow_s), (10, k.ceiling_run_s), (100, k.ceiling_run_s)):
        kb = max(1, round(mib_s * 1024 / per_worker))
        out.append(Load(f"paced, ~{mib_s} MiB/s", kb, k.ceiling_rate, seconds, BASELINE))
    out.append(Load(WRK_BASELINE, 0, 0, k.ceiling_run_s, WRK_BASELINE))
    out.append(Load(f"wrk, kb={k.ceiling_wrk_kb}", k.ceiling_wrk_kb, 0, k.ceiling_run_s, WRK_BASELINE))
    return out


@dataclass
class Outcome:
    """What one load did to one server."""
    requests: int = 0
    failed: int = 0
    failures: str = ""          # what the failures were, where the client can tell
    ok_per_s: float = 0.0
    p99_ms: float = None
    peak_bytes: int = 0
    growth: list = field(default_factory=list)   # bytes/s per worker process, sorted
    recycles: dict = field(default_factory=dict)
    note: str = ""              # why there are no figures


def servers(environ=os.environ):
    """The servers to run, from BENCH_CEILING_SERVERS; ValueError for one this section does not know."""
    found = environ.get("BENCH_CEILING_SERVERS", " ".join(SERVERS)).split()
    for s in found:
        if s not in SERVERS:
            raise ValueError(f"BENCH_CEILING_SERVERS: unknown server '{s}' (known: {' '.join(SERVERS)})")
    return found


def drover_env(k, leaks_dir):
    return {"DROVER_WORKER_JVM_OPTIONS": f"-Xmx{k.ceiling_xmx_mb}m",
            "DROVER_MEMORY_SOFT_LIMIT": f"{k.ceiling_soft_mb}M", "DROVER_MEMORY_HARD_LIMIT": f"{k.ceiling_hard_mb}M",
            "DROVER_LEAK_REPORTS_DIR": leaks_dir}


def uwsgi_argv(port, app, mode, k):
    """uWSGI as the `peers` section runs it (2 workers on --http-socket), with the leaking app and one memory
    limit: reload-on-rss at Drover's soft limit, or evil-reload-on-rss at its hard limit (both in MiB, as uWSGI
    reads them) with the memory collector every ceiling_collector_s."""
    argv = [peers.UWSGI, "--plugin", "python3", "--master", "--processes", str(WORKERS), "--http-socket",
            f"127.0.0.1:{port}", "--add-header", "Connection: close", "--wsgi-file", app, "--need-app",
            "--die-on-term", "--disable-logging", "--worker-reload-mercy", str(peers.GRACE_S), "--reload-mercy",
            str(peers.GRACE_S), "--min-worker-lifetime", "0", "--env", f"LEAK_WSGI_BALLAST_MB={k.ceiling_ballast_mb}"]
    if mode == "uwsgi-rss":
        return argv + ["--reload-on-rss", str(k.ceiling_soft_mb)]
    return argv + ["--evil-reload-on-rss", str(k.ceiling_hard_mb), "--mem-collector-freq", str(k.ceiling_collector_s)]


def uwsgi_recycles(lines):
    """Recycles by reason from uWSGI's log lines, the reasons that happened only."""
    counts = {reason: sum(1 for l in lines if rx.search(l)) for reason, rx in UWSGI_LINES.items()}
    # Every SIGKILL of evil-reload-on-rss is also logged as a death: count the other deaths only.
    counts["died"] -= counts["SIGKILL (evil-reload-on-rss)"]
    return {reason: n for reason, n in counts.items() if n > 0}


def drover_recycles(status):
    """Recycles by reason from `drover ctl status --json`, the reasons that happened only."""
    return {reason: n for reason, n in sorted(status.get("recycles", {}).items()) if n}


def status_or_none(b, master):
    """`ctl status --json`, or {"recycles": {"(ctl status failed)": 1}}: one row without its recycles rather than a
    run without its table."""
    try:
        return b.status(master)
    except BenchError as e:
        b.say(f"ceiling: WARNING: {e}")
        return {"recycles": {"(ctl status failed)": 1}}


def recycles_text(recycles):
    return ", ".join(f"{reason} {n}" for reason, n in recycles.items()) or "none"


class UwsgiLeak(peers.Server):
    """A uWSGI of the `peers` section serving scripts/peers/leak_wsgi.py with one memory limit."""

    def __init__(self, b, name, mode):
        self.mode = mode
        super().__init__(b, "uwsgi", name, recycle=False)

    def command(self, _recycle):
        return uwsgi_argv(self.port, os.path.join(self.b.snap, "peers", "leak_wsgi.py"), self.mode, self.b.knobs)


def apply(b, load, port, parent, out):
    """Runs the load against the server on port while its workers' RSS is read; (Outcome, samples)."""
    k = b.knobs
    if k.ceiling_warmup_s > 0:
        PacedLoad(port, "/", k.ceiling_rate, k.ceiling_connections, k.ceiling_warmup_s).wait()
    sampler = RssSampler(parent).start()
    try:
        if load.rate:
            r = PacedLoad(port, load.path, load.rate, k.ceiling_connections, load.seconds).wait()
            o = Outcome(r.requests, r.failed, r.failures, r.ok_per_s, r.p99_ms)
        else:
            proc = b.processes.start(wrk.command(f"http://127.0.0.1:{port}{load.path}", load.seconds,
                                                 connections=k.ceiling_connections), out)
            w = b.wrk_finish(proc, out)
            failed = w.non2xx + w.errors.total
            o = Outcome(w.requests, failed, f"non-2xx {w.non2xx}, {w.errors}" if failed else "",
                        (w.requests - failed) / w.seconds if w.seconds else 0.0, w.p99_ms)
    finally:
        samples = sampler.stop()
    return o, samples


def measure(b, server, load, i):
    """A fresh server, the load, its figures; the server is stopped whatever happens."""
    name = f"ceiling/{server}-{i}"
    d = b.dir(name)
    if server == "drover":
        m = b.start_serving(name, WORKERS, env=drover_env(b.knobs, os.path.join(d, "leaks")))
        try:
            o, samples = apply(b, load, m.port, m.pid, os.path.join(d, "wrk.txt"))
            o.recycles = drover_recycles(status_or_none(b, m))
        finally:
            b.stop_drover(m)
        workers = m.log.worker_pids()   # not the master's other children (a training run of the AppCDS archive)
    else:
        s = UwsgiLeak(b, name, server)
        try:
            s.wait_ready()
            start = s.log.count()
            o, samples = apply(b, load, s.port, s.proc.pid, os.path.join(d, "wrk.txt"))
            o.recycles = uwsgi_recycles(s.log.lines()[start:])
        finally:
            s.stop()
        workers = None
    with open(os.path.join(d, "rss.json"), "w") as f:
        json.dump({str(pid): points for pid, points in samples.items()}, f)
    o.peak_bytes = leakload.peak(samples, workers)
    o.growth = leakload.growth_rates(samples, workers)
    return o


def run(b):
    t0 = time.time()
    results = {}
    for server in servers():
        skip = peers.need(b, "uwsgi") if server != "drover" else ""
        for i, load in enumerate(loads(b.knobs)):
            if skip:
                results[server, load.name] = Outcome(note=f"not run: {skip}")
                continue
            b.say(f"ceiling: {LABELS[server]}, {load.name} ({load.path}, "
                  f"{f'{load.rate}/s paced' if load.rate else 'wrk'}, {load.seconds:g} s)")
            o = measure(b, server, load, i)
            results[server, load.name] = o
            b.say(f"ceiling: {LABELS[server]}, {load.name}: failed {o.failed}/{o.requests}, peak RSS "
                  f"{o.peak_bytes / MIB:.0f} MiB, recycles {recycles_text(o.recycles)}, {o.ok_per_s:.0f} ok/s, "
                  f"p99 {o.p99_ms if o.p99_ms is None else round(o.p99_ms, 1)} ms")
    render(b, results, round(time.time() - t0))


def growth_text(rates):
    """Per-worker RSS growth: "median (min-max)" in MiB/s."""
    if not rates:
        return ""
    mib = [r / MIB + 0.0 if abs(r) >= MIB / 20 else 0.0 for r in rates]   # no "-0.0" for a flat worker
    return f"{stats.median([f'{x:.1f}' for x in mib])} ({mib[0]:.1f} to {mib[-1]:.1f})"


def row(server, load, o, base, hard_bytes):
    if o.note:
        return [LABELS[server], load.name, o.note] + [""] * 8
    nominal = load.per_worker_mib_s()
    failed = f"{o.failed} / {o.requests}" + (f" ({o.failures})" if o.failures else "")
    p99 = None if o.p99_ms is None else f"{o.p99_ms:.1f}"
    base_p99 = None if base is None or base.p99_ms is None else f"{base.p99_ms:.1f}"
    return [LABELS[server], load.name, "" if nominal is None else f"{nominal:.2f}".rstrip("0").rstrip("."),
            growth_text(o.growth), failed, stats.ratio(o.peak_bytes, hard_bytes), recycles_text(o.recycles),
            f"{o.ok_per_s:.0f}", stats.ratio(o.ok_per_s, base.ok_per_s if base else None), p99 or "n/a",
            stats.ratio(p99, base_p99)]


def rows(k, results):
    hard = k.ceiling_hard_mb * MIB
    out = []
    for server in servers():
        for load in loads(k):
            if (server, load.name) in results:
                o = results[server, load.name]
                out.append(row(server, load, o, results.get((server, load.baseline)), hard))
    return out


def render(b, results, wall_s):
    k, r = b.knobs, b.report
    r.para("### Memory ceiling: leaks against the limits, Drover and uWSGI (`ceiling`)")
    r.para(f"2 workers per server; limits soft {k.ceiling_soft_mb}M, hard {k.ceiling_hard_mb}M (MiB). Drover: the "
           f"sample app with `-Xmx{k.ceiling_xmx_mb}m`, `drover.memory.soft-limit`/`hard-limit`; uWSGI: "
           "`scripts/peers/leak_wsgi.py` (the",
           f"same /leak, plus a {k.ceiling_ballast_mb} MiB ballast per worker so that a Python worker starts about "
           "as large as a JVM one), once with",
           f"`--reload-on-rss {k.ceiling_soft_mb}` (checked by the worker after each request, graceful), once with "
           f"`--evil-reload-on-rss {k.ceiling_hard_mb} --mem-collector-freq {k.ceiling_collector_s}`",
           "(read by a worker thread, SIGKILL by the master). A fresh server per row, warmed up with "
           f"{k.ceiling_warmup_s:g} s of the paced load on / (not measured). Paced rows: "
           f"{k.ceiling_rate} requests/s in total over {k.ceiling_connections} connections",
           "(Python client, 5 s timeout; any exception, timeout or non-2xx counts as failed); wrk rows: "
           f"`wrk -t{wrk.THREADS} -c{k.ceiling_connections} --latency`. Leak per worker: the",
           "nominal MiB/s if the requests were spread evenly; RSS growth: least squares over each worker process's "
           "10 Hz readings up to its highest",
           "(median, range over the processes that grew for at least 1 s). Highest RSS ÷ hard: over every "
           "reading of every worker. Ratios:",
           "against the row without a leak under the same load (paced or wrk) of the same server in this run.")
    r.table(["server", "load", "leak MiB/s per worker (nominal)", "RSS growth MiB/s per worker", "failed / requests",
             "highest RSS ÷ hard", "recycles", "ok req/s", "÷ no leak", "p99 ms", "÷ no leak"], rows(k, results))
    r.para(f"Section wall time: {wall_s} s.")
