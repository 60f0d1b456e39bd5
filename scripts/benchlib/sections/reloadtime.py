"""reloadtime: how long a HUP reload of 2 workers takes, measured from outside the same way for Drover, Gunicorn and
uWSGI: from the HUP until every worker of the new generation has answered a probe (fresh connections, the
X-Worker-Pid header); idle, then under wrk. Also each server's own "complete" (Drover: its log line; the peers: 2
new workers ready and both old ones gone) and Drover's breakdown from its log (started -> canary ready -> complete)."""
import os
import re
import signal
import time
from dataclasses import dataclass, field

from .. import stats, wrk
from ..logs import BenchError
from ..probe import Probe, answered
from ..procs import alive, children
from . import peers
from .reload import reload_times

WORKERS = 2
HUP_DEADLINE_S = 90


@dataclass
class Hup:
    first_ms: int = None      # HUP -> first new worker answering
    all_ms: int = None        # HUP -> both new workers answering
    own_ms: int = None        # HUP -> the server's own "complete", seen by the bench
    failures: int = 0         # probes that got no 200


@dataclass
class Series:
    """N HUPs of one server in one condition (idle or under wrk)."""
    hups: list = field(default_factory=list)
    wrk: object = None        # the wrk run under load (None when idle)
    breakdown: list = field(default_factory=list)   # Drover: reload.ReloadTimes

    def values(self, name):
        return [getattr(h, name) for h in self.hups if getattr(h, name) is not None]


@dataclass
class ServerResult:
    label: str
    skip: str = ""
    series: dict = field(default_factory=dict)      # "idle" | "load" -> Series
    adopted: list = field(default_factory=list)     # Drover with standby JVMs: adopted new workers per HUP


STANDBY_WAITING = "waiting for the master's ADOPT"
STANDBY_DEADLINE_S = 60


class DroverTarget:
    label = "Drover"

    def __init__(self, b, name, standbys=0):
        # max-surge = standby-jvms: the standbys wait in the surge's room, so the host holds workers + max-surge JVMs
        # outside a reload, as without them
        flags = ["--standby-jvms", str(standbys), "--max-surge", str(standbys)] if standbys else []
        self.b, self.m = b, b.start_serving(name, WORKERS, flags)
        self.pid, self.port, self.log, self.generation = self.m.pid, self.m.port, self.m.log, 1
        self.standbys, self.since = standbys, 0
        self.adopted = []     # per HUP: how many of its new workers were adopted standby JVMs

    def hup_begun(self):
        """With standby JVMs: the HUP waits until as many have booted since the last one (a deploy's steady state:
        an operator's next deploy comes minutes later, not seconds)."""
        if self.standbys:
            self.log.wait_for(lambda: sum(STANDBY_WAITING in l for l in self.log.lines()[self.since:])
                              >= self.standbys, STANDBY_DEADLINE_S, f"{self.standbys} standby JVM(s) waiting",
                              alive=lambda: self.m.proc.poll() is None)
        self.since = self.log.count()
        self.generation += 1
        self.rx = re.compile(f"reload to generation {self.generation} (complete|abandoned)")

    def serving_pids(self):
        """The master's children that serve (a standby JVM is a child too, but of no generation yet)."""
        standby = {w["pid"] for w in self.b.status(self.m)["workers"] if w.get("standby")}
        return set(children(self.pid)) - standby

    def hup_done(self, start):
        self.adopted.append(sum(" adopted (booted " in l for _, l in self.log.master_lines(start)))

    def complete(self, start, old):
        line = next((l for _, l in self.log.master_lines(start) if self.rx.search(l)), None)
        if line and "abandoned" in line:
            raise BenchError(f"reload to generation {self.generation} abandoned (see {self.log.path})")
        return line is not None

    def breakdown(self, start, end):
        return reload_times(self.log, start, end)

    def stop(self):
        self.b.note_workers(self.log)
        self.b.stop_drover(self.m)


class PeerTarget:
    adopted = []

    def __init__(self, b, kind, name):
        self.label = peers.LABELS[kind]
        self.server = peers.Server(b, kind, name, recycle=False)
        self.server.wait_ready()
        self.pid, self.port, self.log = self.server.proc.pid, self.server.port, self.server.log

    def hup_begun(self):
        pass

    def serving_pids(self):
        return set(children(self.pid))

    def hup_done(self, start):
        pass

    def complete(self, start, old):
        """2 workers logged ready since the HUP and both old ones gone: what peers calls a complete reload."""
        return self.server.ready_count(start) >= WORKERS and not any(alive(p) for p in old)

    def breakdown(self, start, end):
        return []

    def stop(self):
        self.server.note_workers()
        self.server.stop()


def one_hup(b, target, probe):
    target.hup_begun()
    old = target.serving_pids()
    start = target.log.count()
    t_hup = time.time()
    if not b.processes.send(_proc(target), signal.SIGHUP):
        raise BenchError(f"could not send HUP to {target.label} (pid {target.pid})")
    own_ms = None
    while True:
        if own_ms is None and target.complete(start, old):
            own_ms = round((time.time() - t_hup) * 1000)
        got = answered(probe.samples(), old, t_hup, WORKERS)
        if own_ms is not None and got.all_ms is not None:
            target.hup_done(start)
            return Hup(got.first_ms, got.all_ms, own_ms, got.failures)
        if _proc(target).poll() is not None:
            raise BenchError(f"{target.label} (pid {target.pid}) exited during a reload (see {target.log.path})")
        if time.time() - t_hup > HUP_DEADLINE_S:
            raise BenchError(f"{target.label}: reload not complete {HUP_DEADLINE_S} s after its HUP (own complete: "
                             f"{own_ms} ms; new workers answering: {got.new_pids}; see {target.log.path})")
        time.sleep(0.01)


def _proc(target):
    return target.m.proc if isinstance(target, DroverTarget) else target.server.proc


def series(b, target, under_load, out):
    k = b.knobs
    s = Series()
    probe = Probe(target.port).start()
    wrk_proc = b.wrk_start(f"http://127.0.0.1:{target.port}/", int(k.reload_cap_s), out) if under_load else None
    start = target.log.count()
    try:
        time.sleep(1)
        for i in range(1, k.reloadtime_hups + 1):
            if wrk_proc is not None and not b.wrk_alive(wrk_proc):
                b.say(f"reloadtime: WARNING: wrk ended before HUP {i}")
                break
            h = one_hup(b, target, probe)
            s.hups.append(h)
            b.say(f"reloadtime: {target.label} {'under load' if under_load else 'idle'} HUP {i}: first new worker "
                  f"answering {h.first_ms} ms, both {h.all_ms} ms, own complete {h.own_ms} ms, probe failures "
                  f"{h.failures}")
            time.sleep(k.reloadtime_settle_s)
    finally:
        probe.stop()
        if wrk_proc is not None:
            s.wrk = b.wrk_interrupt(wrk_proc, out)
    s.breakdown = target.breakdown(start, target.log.count())
    return s


def measure(b, make_target, label):
    res = ServerResult(label)
    d = b.dir("reloadtime")
    target = make_target()
    try:
        b.say(f"reloadtime: {label}: {b.knobs.reloadtime_hups} HUPs idle, then as many under wrk")
        res.series["idle"] = series(b, target, False, None)
        b.wrk_run(f"http://127.0.0.1:{target.port}/", b.knobs.warmup_s, os.path.join(d, f"{label}.warmup.txt"))
        res.series["load"] = series(b, target, True, os.path.join(d, f"{label.split()[0]}-load.txt"))
    finally:
        target.stop()
    res.adopted = list(target.adopted)
    return res


def run(b):
    d = b.dir("peers")
    with open(os.path.join(d, "gunicorn.conf.py"), "w") as f:
        f.write(peers.GUNICORN_CONF)
    results = [measure(b, lambda: DroverTarget(b, "reloadtime-drover"), "Drover")]
    if b.knobs.reloadtime_standbys:
        n = b.knobs.reloadtime_standbys
        results.append(measure(b, lambda: DroverTarget(b, "reloadtime-drover-standby", n),
                               f"Drover, standby-jvms = max-surge = {n}"))
    for kind in peers.kinds():
        skip = peers.need(b, kind)
        if skip:
            results.append(ServerResult(peers.LABELS[kind], skip))
            continue
        try:
            results.append(measure(b, lambda: PeerTarget(b, kind, f"reloadtime-{kind}"), peers.LABELS[kind]))
        except BenchError as e:
            # A peer that fails costs its own rows only, as in `peers`; Drover's figures stand.
            b.say(f"reloadtime: {peers.LABELS[kind]} skipped: {e}")
            results.append(ServerResult(peers.LABELS[kind], f"failed: {e}".replace("\n", " ")))
    render(b, results)


def ms_cell(values):
    """"median (min–max)" of a list of ms."""
    if not values:
        return "n/a"
    return f"{stats.median(values)} ({stats.minimum(values)}–{stats.maximum(values)})"


def render(b, results):
    k, r = b.knobs, b.report
    r.para("### Reload time from outside, Drover vs the peers (`reloadtime`)")
    r.para(f"Each server with {WORKERS} workers, {k.reloadtime_hups} HUPs idle, then {k.reloadtime_hups} under "
           f"`wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS}`; the next HUP once the previous reload is complete by both "
           f"measures below, plus {k.reloadtime_settle_s:g} s.",
           "A probe sends GET / on a fresh connection every 5 ms and records the X-Worker-Pid of each 200: a worker "
           "not among the server's children",
           "at the HUP is of the new generation. **HUP → all new answering** = until both new workers have answered "
           "a probe; **own complete** =",
           "Drover's `reload to generation G complete` line, the peers' 2 new workers ready and both old ones gone, "
           "as seen by the bench (polling every 10 ms).")
    rows = []
    for res in results:
        if res.skip:
            rows.append([res.label, "", f"not run: {res.skip}", "", "", "", ""])
            continue
        for cond in ("idle", "load"):
            s = res.series.get(cond)
            if s is None:
                continue
            w = s.wrk
            rows.append([res.label, "idle" if cond == "idle" else f"under wrk -c{wrk.CONNECTIONS}",
                         ms_cell(s.values("all_ms")), ms_cell(s.values("first_ms")), ms_cell(s.values("own_ms")),
                         sum(h.failures for h in s.hups),
                         "" if w is None else f"{w.rps_text} req/s, failed {w.non2xx + w.errors.total} of "
                                              f"{w.requests}"])
    r.table(["server", "condition", "HUP → all new answering, ms, median (min–max)", "HUP → first new answering, ms",
             "HUP → own complete, ms", "probe failures", "wrk during the HUPs"], rows)
    r.para(*ratio_lines(results))
    for drover in (x for x in results if x.label.startswith("Drover") and not x.skip):
        rows = []
        for cond in ("idle", "load"):
            times = drover.series[cond].breakdown
            rows.append(stats.summary_row(f"{cond}: config read and checked (before `started`), ms",
                                          [t.config_ms for t in times if t.config_ms is not None]))
            rows.append(stats.summary_row(f"{cond}: `started` → canary ready, ms",
                                          [t.canary_ms for t in times if t.canary_ms is not None]))
            rows.append(stats.summary_row(f"{cond}: `started` → `complete`, ms",
                                          [t.complete_ms for t in times if t.complete_ms is not None]))
        r.para(f"{drover.label}: its own breakdown (timestamps of its log lines):")
        r.table(["figure", "median", "min", "max", "n"], rows)


def ratio_lines(results):
    """Each Drover's median HUP → all new answering over each peer's, per condition; how many new workers of the
    standby run were adopted standby JVMs."""
    lines = []
    for drover in (x for x in results if x.label.startswith("Drover") and not x.skip):
        for res in results:
            if res.label.startswith("Drover") or res.skip:
                continue
            parts = [f"{cond} {all_new_ratio(drover, res, cond)}" for cond in ("idle", "load")
                     if cond in res.series and cond in drover.series]
            lines.append(f"**{drover.label} ÷ {res.label}, HUP → all new answering (medians): {', '.join(parts)}** "
                         "(the goal: at most 2 under load).")
        if any(drover.adopted):
            lines.append(f"{drover.label}: new workers that were adopted standby JVMs, per HUP: "
                         f"{' '.join(map(str, drover.adopted))} (of {WORKERS}).")
    return lines or ["(no peer ran: no ratio)"]


def all_new_ratio(x, y, cond):
    """x's median HUP -> all new answering over y's."""
    return stats.ratio(stats.median(x.series[cond].values("all_ms")), stats.median(y.series[cond].values("all_ms")))
