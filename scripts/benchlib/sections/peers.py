"""peers: Gunicorn and uWSGI, from Debian's packages, serving a trivial WSGI app (scripts/peers/hello_wsgi.py) with
the same worker count (2), the same max-requests and the same HUP loop as Drover in `recycle` and `reload`, under
the same wrk command; one table side by side with Drover's figures from those two sections of the same run.

Per server: (1) plain: warm-up + measured, like throughput's runs; (2) right after, on the same (warm) server: wrk,
1 s, HUPs each once the previous reload is complete, 1 s, wrk stopped with SIGINT, like reload's run with HUPs;
(3) a second server with max-requests (+ jitter where the server has one): warm-up + measured, like recycle's B.
Which peers: BENCH_PEERS (default "gunicorn uwsgi"); "gunicorn-sync" is Gunicorn's default sync worker class."""
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field

from .. import prereq, wrk
from .. import stats
from ..harness import http_ok
from ..logs import BenchError, Log
from ..procs import alive, children

GUNICORN = "/usr/bin/gunicorn"          # Debian's entry point (#!/usr/bin/python3), not a pip or pyenv one
UWSGI = "/usr/bin/uwsgi"
UWSGI_PLUGIN = "/usr/lib/uwsgi/plugins/python3_plugin.so"
THREADS = 4       # Gunicorn gthread: threads per worker (keep-alive connections wait in its poller, not in a thread)
GRACE_S = 5       # the same grace as the bench gives Drover (--graceful-timeout=5s)
START_S = 30      # deadline for a server's 2 workers to be ready
RELOAD_S = 30     # deadline for one reload to complete
KNOWN = ("gunicorn", "gunicorn-sync", "uwsgi")
LABELS = {"gunicorn": "Gunicorn (gthread)", "gunicorn-sync": "Gunicorn (sync)", "uwsgi": "uWSGI"}
PACKAGES = {"gunicorn": ["gunicorn"], "gunicorn-sync": ["gunicorn"], "uwsgi": ["uwsgi", "uwsgi-plugin-python3"]}
GUNICORN_CONF = '''\
# Written by scripts/bench (section peers): one log line when a worker has loaded the app and is about to serve,
# so the bench can tell when a (re)started worker is ready. Nothing else is configured here.
def post_worker_init(worker):
    worker.log.info("Worker ready (pid: %s)", worker.pid)
'''
# Gunicorn: the line the post_worker_init hook above logs; uWSGI loads the app in the master before it forks (not
# lazy-apps), so a worker serves once spawned.
READY = {"gunicorn": re.compile(r"Worker ready \(pid: "), "uwsgi": re.compile(r"spawned uWSGI worker [0-9]+ \(pid: ")}


@dataclass
class PeerRun:
    """One wrk run against a server: how long it ran, wrk's figures, others' CPU %, and what happened."""
    seconds: object
    wrk: wrk.WrkResult
    others: object = ""
    events: str = ""


@dataclass
class Peer:
    kind: str
    skip: str = ""                                 # why the server was not run
    version: str = ""
    runs: dict = field(default_factory=dict)       # "plain" | "recycle" | "hups" -> PeerRun
    missing: dict = field(default_factory=dict)    # scenario -> why it has no figures
    commands: dict = field(default_factory=dict)   # "plain" | "recycle" -> the command line, for the notes

    @property
    def label(self):
        return LABELS[self.kind]


def available(kind):
    if kind == "uwsgi":
        return os.access(UWSGI, os.X_OK) and os.path.exists(UWSGI_PLUGIN)
    return os.access(GUNICORN, os.X_OK) and os.access("/usr/bin/python3", os.X_OK)


def need(b, kind):
    """Installs what kind needs (as root with apt-get); else returns exactly what is missing, so that the section
    skips that server instead of failing."""
    if available(kind):
        return ""
    for package in PACKAGES[kind]:
        prereq.try_install(package, b.say)
    if available(kind):
        return ""
    missing = f"{UWSGI} and/or {UWSGI_PLUGIN}" if kind == "uwsgi" else GUNICORN
    why = f"missing: {missing} (Debian: apt-get install -y {' '.join(PACKAGES[kind])})"
    b.say(f"peers: {kind} skipped, {why}")
    return why


def version(kind):
    binary = UWSGI if kind == "uwsgi" else GUNICORN
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    first = out[0] if out else "?"
    return f"uWSGI {first}" if kind == "uwsgi" else first


class Server:
    """One running peer: its master process, its log, and its workers."""

    def __init__(self, b, kind, name, recycle):
        self.b, self.kind, self.name = b, kind, name
        self.port = b.free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        d = b.dir("peers", name)
        self.log = Log(os.path.join(d, "server.log"))
        argv = self.command(recycle)
        self.proc = b.processes.start(argv, self.log.path, cwd=d)
        self.command_text = " ".join(f"'{a}'" if " " in a else a for a in argv).replace(b.run, "RUN") \
            .replace(f"127.0.0.1:{self.port}", "127.0.0.1:PORT")
        limit = f", max-requests {b.knobs.recycle_max_requests}" if recycle else ""
        b.say(f"peers: {name}: {LABELS[kind]} pid {self.proc.pid}, 2 workers{limit}, {self.url} (log {self.log.path})")

    def command(self, recycle):
        k, snap_peers = self.b.knobs, os.path.join(self.b.snap, "peers")
        if self.kind == "uwsgi":
            # --http-socket: the workers speak HTTP on the shared socket (no router process in front). It closes the
            # connection after each response without saying so, which wrk counts as a read error per request: the
            # Connection: close header says it. --die-on-term: TERM stops it (uWSGI 2.0's default is a brutal
            # reload). --disable-logging: no line per request (Gunicorn and Drover log none by default).
            argv = [UWSGI, "--plugin", "python3", "--master", "--processes", "2", "--http-socket",
                    f"127.0.0.1:{self.port}", "--add-header", "Connection: close", "--wsgi-file",
                    os.path.join(snap_peers, "hello_wsgi.py"), "--need-app", "--die-on-term", "--disable-logging",
                    "--worker-reload-mercy", str(GRACE_S), "--reload-mercy", str(GRACE_S)]
            # --min-worker-lifetime 0: uWSGI 2.0.21 ignores max-requests in a worker younger than 60 s by default,
            # which would mean no recycle at all in a run this short. It has no jitter (--max-requests-delta: 2.1).
            return argv + (["--max-requests", str(k.recycle_max_requests), "--min-worker-lifetime", "0"]
                           if recycle else [])
        argv = [GUNICORN, "-c", os.path.join(self.b.run, "peers", "gunicorn.conf.py"), "--workers", "2", "--bind",
                f"127.0.0.1:{self.port}", "--graceful-timeout", str(GRACE_S), "--chdir", snap_peers]
        if self.kind == "gunicorn":
            argv += ["--worker-class", "gthread", "--threads", str(THREADS)]
        if recycle:
            argv += ["--max-requests", str(k.recycle_max_requests), "--max-requests-jitter", str(k.recycle_jitter)]
        return argv + ["hello_wsgi:application"]

    def ready_count(self, start=0):
        rx = READY["uwsgi" if self.kind == "uwsgi" else "gunicorn"]
        return sum(1 for l in self.log.lines()[start:] if rx.search(l))

    def note_workers(self):
        for pid in children(self.proc.pid):
            self.b.processes.note_worker(pid)

    def wait_ready(self):
        """2 workers ready and GET / answers 200; else raises BenchError saying why."""
        deadline = time.time() + START_S
        while not (self.ready_count() >= 2 and http_ok(self.port)):
            if self.proc.poll() is not None:
                raise BenchError(f"it exited at start: {self.log.tail(3)}")
            if time.time() >= deadline:
                raise BenchError(f"not ready after {START_S} s: {self.log.tail(3)}")
            time.sleep(0.05)
        self.note_workers()

    def stop(self):
        """SIGINT, the quick shutdown of both servers (nothing is measured any more), and wait. uWSGI 2.0.21 can
        respawn a worker that hit max-requests after its master got the signal, and then waits for that worker for
        ever: a worker that appears after the signal gets a TERM of its own. After 2 s, a TERM to the master as
        well; then TERM, wait, KILL; any worker left behind is killed by pid (only processes of this run)."""
        b, proc = self.b, self.proc
        if proc.poll() is not None:
            b.processes.stop(proc, 1)
            return
        b.say(f"peers: stopping {self.name} (pid {proc.pid}, SIGINT)")
        seen = set(children(proc.pid))
        b.processes.send(proc, signal.SIGINT)
        t0, termed = time.time(), False
        while proc.poll() is None and time.time() - t0 < 5:
            if not termed and time.time() - t0 >= 2:
                b.say(f"peers: {self.name} still running 2 s after SIGINT: SIGTERM")
                b.processes.send(proc, signal.SIGTERM)
                termed = True
            for c in set(children(proc.pid)) - seen:
                seen.add(c)
                b.say(f"peers: {self.name} spawned worker {c} after the SIGINT: SIGTERM to it")
                _kill(c, signal.SIGTERM)
            time.sleep(0.05)
        b.processes.stop(proc, 10)
        for c in seen:
            if alive(c) and b.processes.ours(c):
                b.say(f"peers: worker {c} outlived {self.name}: SIGKILL")
                _kill(c, signal.SIGKILL)


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def measured(b, server, out, seconds):
    """A measured run (the caller warms up first); PeerRun."""
    server.note_workers()
    b.cpu.begin()
    result = b.wrk_run(server.url, seconds, out)
    server.note_workers()
    return PeerRun(f"{seconds:g}", result, b.cpu.end().others)


def hup_run(b, server, out):
    """wrk while HUPs are sent, each once the previous reload is complete (2 new workers ready, the old ones gone)."""
    k, label = b.knobs, LABELS[server.kind]
    server.note_workers()
    b.cpu.begin()
    proc = b.wrk_start(server.url, int(k.reload_cap_s), out)
    time.sleep(1)
    hups = missed = 0
    took = []
    for i in range(1, k.reload_hups + 1):
        if not b.wrk_alive(proc):
            b.say(f"peers: WARNING: wrk ended (after {k.reload_cap_s:g} s) before HUP {i}")
            break
        old, start, t_hup = children(server.proc.pid), server.log.count(), time.time()
        if not b.processes.send(server.proc, signal.SIGHUP):
            raise BenchError(f"could not send HUP to {label} (pid {server.proc.pid})")
        hups += 1
        while not (server.ready_count(start) >= 2 and not any(alive(p) for p in old)):
            if server.proc.poll() is not None:
                raise BenchError(f"{label} (pid {server.proc.pid}) exited during HUP {i} (see {server.log.path})")
            if time.time() - t_hup > RELOAD_S:
                break
            time.sleep(0.02)
        else:
            took.append(round((time.time() - t_hup) * 1000))
            server.note_workers()
            b.say(f"peers: {label}: HUP {i}: reload complete in {took[-1]} ms")
            continue
        missed += 1
        b.say(f"peers: WARNING: {label}: reload {i} not complete {RELOAD_S} s after its HUP (see {server.log.path}); "
              "no more HUPs")
        break
    time.sleep(1)
    result = b.wrk_interrupt(proc, out)
    server.note_workers()
    events = (f"{hups} HUPs, {hups - missed} reloads complete; HUP → complete median {stats.median(took)} ms "
              f"({' '.join(map(str, took)) or 'none'})")
    return PeerRun(result.seconds_text, result, b.cpu.end().others, events)


def log_run(b, what, run):
    w = run.wrk
    b.say(f"peers: {what}: {w.rps_text} req/s, p50 {w.p50_text} ms, p99 {w.p99_text} ms, {w.requests} requests, "
          f"non-2xx {w.non2xx}, socket errors {w.errors.total} ({w.errors}){'; ' + run.events if run.events else ''}")


def one(b, kind):
    """The three scenarios for one server."""
    k, peer = b.knobs, Peer(kind)
    peer.skip = need(b, kind)
    if peer.skip:
        return peer
    peer.version = version(kind)
    server = Server(b, kind, f"{kind}-plain", recycle=False)
    peer.commands["plain"] = server.command_text
    try:
        if not started(b, server, peer, "plain"):
            return peer
        b.say(f"peers: {peer.label} plain: {k.warmup_s:g} s warm-up + {k.duration_s:g} s measured")
        out = os.path.join(b.run, "peers", server.name, "wrk")
        b.wrk_run(server.url, k.warmup_s, out + ".warmup.txt")
        peer.runs["plain"] = measured(b, server, out + ".txt", k.duration_s)
        log_run(b, f"{peer.label} plain", peer.runs["plain"])
        b.say(f"peers: {peer.label}: wrk while {k.reload_hups} HUPs are sent, each once the previous reload is "
              "complete")
        peer.runs["hups"] = hup_run(b, server, out + "-hup.txt")
        log_run(b, f"{peer.label} with HUPs", peer.runs["hups"])
    finally:
        server.stop()
    server = Server(b, kind, f"{kind}-recycle", recycle=True)
    peer.commands["recycle"] = server.command_text
    try:
        if not started(b, server, peer, "recycle"):
            return peer
        b.say(f"peers: {peer.label} recycle: {k.recycle_warmup_s:g} s warm-up + {k.recycle_duration_s:g} s measured")
        out = os.path.join(b.run, "peers", server.name, "wrk")
        b.wrk_run(server.url, k.recycle_warmup_s, out + ".warmup.txt")
        start = server.log.count()
        run = measured(b, server, out + ".txt", k.recycle_duration_s)
        run.events = recycle_events(kind, server.log.lines()[start:])
        peer.runs["recycle"] = run
        log_run(b, f"{peer.label} recycle", run)
    finally:
        server.stop()
    return peer


def started(b, server, peer, scenario):
    """Waits for the server; on failure notes why (the plain server: the whole peer is skipped)."""
    try:
        server.wait_ready()
        return True
    except BenchError as e:
        if scenario == "plain":
            peer.skip = f"{peer.label} did not start: {e}"
            b.say(f"peers: {peer.skip}")
        else:
            peer.missing[scenario] = f"did not start: {e}"
            b.say(f"peers: {peer.label} recycle {peer.missing[scenario]}")
        return False


def recycle_events(kind, lines):
    def count(text):
        return sum(1 for l in lines if text in l)
    if kind == "uwsgi":
        return (f"{count('Respawned uWSGI worker')} recycles (\"Respawned uWSGI worker\"); the master paused respawns "
                f"{count('respawning too fast')} times (\"worker respawning too fast !!! i have to sleep a bit "
                "(2 seconds)\")")
    return f"{count('Autorestarting worker')} recycles (\"Autorestarting worker\")"


def drover_runs(b):
    """Drover's rows from the recycle and reload sections of this run ({} for a section not run), and where the
    plain row comes from."""
    k, runs, source = b.knobs, {}, ""
    if "recycle" in b.shared:
        a, bb, ratios = b.shared["recycle"]
        runs["plain"] = PeerRun(f"{k.recycle_duration_s:g}", a.wrk, a.cpu.others,
                                f"from the `recycle` section's A, round {k.rounds} of {k.rounds}")
        runs["recycle"] = PeerRun(f"{k.recycle_duration_s:g}", bb.wrk, bb.cpu.others,
                                  f"{bb.recycles} recycles (`recycled (max-requests)`); B/A per round of the `recycle` "
                                  f"section: {' '.join(ratios)}")
    reload = b.shared.get("reload")
    if reload is not None:
        w, q = reload.with_hups, reload.without
        if "plain" not in runs:
            runs["plain"] = PeerRun(w.whole_seconds, q, "", "from the `reload` section's run without HUPs (the "
                                                            "`recycle` section was not run)")
        runs["hups"] = PeerRun(w.seconds_text, w, "", f"{reload.hups} HUPs; `started` → `complete` median "
                               f"{stats.median(reload.complete_ms)} ms; vs the `reload` section's own run without "
                               f"HUPs: req/s {stats.ratio(w.rps_text, q.rps_text)}, p99 "
                               f"{stats.ratio(w.p99_text, q.p99_text)}")
    return runs


def line(scenario, server, run, plain, events):
    w = run.wrk
    return [scenario, server, run.seconds, w.rps_text, w.p50_text, w.p99_text, w.requests, w.non2xx, w.errors,
            w.failed_percent, stats.ratio(w.rps_text, plain.wrk.rps_text if plain else None),
            stats.ratio(w.p99_text, plain.wrk.p99_text if plain else None), events, run.others]


def not_run(scenario, server, why):
    return [scenario, server, why] + [""] * 11


def kinds():
    """The peers to run, from BENCH_PEERS; ValueError for one this section does not know."""
    found = os.environ.get("BENCH_PEERS", "gunicorn uwsgi").split()
    for kind in found:
        if kind not in KNOWN:
            raise ValueError(f"BENCH_PEERS: unknown peer '{kind}' (known: {' '.join(KNOWN)})")
    return found


def run(b):
    t0 = time.time()
    b.dir("peers")
    with open(os.path.join(b.run, "peers", "gunicorn.conf.py"), "w") as f:
        f.write(GUNICORN_CONF)
    peers = [one(b, kind) for kind in kinds()]
    render(b, drover_runs(b), peers, round(time.time() - t0))


def rows(b, drover, peers):
    k, out = b.knobs, []
    names = {"plain": "plain", "recycle": f"recycling every ~{k.recycle_max_requests} requests",
             "hups": f"{k.reload_hups} HUPs"}
    for scenario in ("plain", "recycle", "hups"):
        x = names[scenario]
        if scenario in drover:
            d = drover[scenario]
            out.append(line(x, "Drover", d, drover.get("plain"), d.events))
        else:
            section = "reload" if scenario == "hups" else "recycle"
            out.append(not_run(x, "Drover", f"not run (run the `{section}` section before `peers`)"))
        for p in peers:
            if p.skip:
                out.append(not_run(x, p.label, f"not run: {p.skip}"))
            elif scenario in p.runs:
                run = p.runs[scenario]
                out.append(line(x, p.label, run, p.runs.get("plain"), "" if scenario == "plain" else run.events))
            else:
                out.append(not_run(x, p.label, f"not run: {p.missing.get(scenario, 'no figures')}"))
    return out


def render(b, drover, peers, wall_s):
    k, r = b.knobs, b.report
    r.para("### Peers: Gunicorn and uWSGI under the same load (`peers`)")
    r.para(f"The same wrk command as the other sections, `wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} --latency`, against "
           "a trivial WSGI app",
           "(`scripts/peers/hello_wsgi.py`: GET / → 200, a ~42-byte text/plain body, like the sample app's GET /) "
           "served by",
           "Debian's Gunicorn and uWSGI with 2 workers, the same `max-requests` and the same HUP loop as Drover. Per "
           "server:",
           f"**plain** = {k.warmup_s:g} s warm-up + {k.duration_s:g} s measured; **{k.reload_hups} HUPs** = right "
           "after, on the same (warm) server: wrk starts,",
           f"1 s later a HUP, the next one once the reload is complete (2 new workers ready, both old ones gone), "
           f"{k.reload_hups} times,",
           f"1 s, wrk stopped with SIGINT; **recycling** = a second server with `--max-requests "
           f"{k.recycle_max_requests}`, {k.recycle_warmup_s:g} s warm-up + {k.recycle_duration_s:g} s",
           "measured. Drover's rows come from the `recycle` and `reload` sections of this run. Failed % = (non-2xx + "
           "socket",
           "errors) ÷ requests. Ratios are against the same server's plain row.")
    r.table(["scenario", "server", "seconds", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx",
             "socket errors (connect, read, write, timeout)", "failed %", "req/s ÷ plain", "p99 ÷ plain", "events",
             "others' CPU %"], rows(b, drover, peers))
    r.para("How each server ran (RUN = the bench's run directory; PORT = a free port per server):")
    notes = [f"- {p.label}, {p.version}: plain and HUPs `{p.commands.get('plain', '')}`; recycling "
             f"`{p.commands.get('recycle', '')}`" for p in peers if not p.skip]
    notes.append(f"- Drover: as in the `recycle` and `reload` sections (`-w 2 --graceful-timeout=5s`, recycling with "
                 f"`--max-requests {k.recycle_max_requests} --max-requests-jitter {k.recycle_jitter}`).")
    r.para(*notes)
    r.para(f"Connections: wrk keeps its {wrk.CONNECTIONS} connections alive where the server lets it. Drover and "
           "Gunicorn's gthread worker do",
           "(a worker that stops closes its idle keep-alive connections); Gunicorn's sync worker and uWSGI's "
           "`--http-socket` answer",
           "`Connection: close`, so wrk opens a new connection per request, and a stopping worker only has to finish "
           "the request",
           "it is serving. uWSGI 2.0.21 has no max-requests jitter (`--max-requests-delta` came in 2.1) and, by "
           "default, does",
           "not recycle a worker younger than 60 s (`--min-worker-lifetime`), hence `--min-worker-lifetime 0`. A HUP "
           "is a graceful",
           "reload for both: Gunicorn starts 2 new workers and stops the old ones; uWSGI stops its workers, "
           "re-executes the master",
           "(same pid, same listening socket) and forks 2 new ones.")
    r.para(f"Section wall time: {wall_s} s.")
