"""floor: what a worker start costs on this platform, whatever the supervisor does around it. (1) CPU seconds per
worker start: utime + stime of the new worker from its spawn to its READY line (/proc/PID/stat), and the master's
CPU meanwhile above its idle rate; (2) time to full speed after READY: after a HUP replaced both workers (no load),
wrk in 1 s buckets until the throughput is back to 90% of the warm server's."""
import os
import re
import signal
import time
from dataclasses import dataclass, field

from .. import stats, wrk
from ..logs import BenchError, READY_RE
from ..procs import CLK_TCK, alive, ticks

FULL_SPEED = 0.9        # of the warm throughput
STEADY_BUCKETS = 3      # consecutive buckets at full speed that end a round early
WORKERS = 2


@dataclass
class Start:
    worker_cpu_s: float       # the new worker's utime + stime at its READY
    master_cpu_s: float       # the master's CPU from the ctl command to that READY, above its idle rate
    ready_ms: int             # the master's "ready in N ms"


@dataclass
class FloorResult:
    starts: list = field(default_factory=list)
    master_idle_pct: float = 0.0
    warm_rps: list = field(default_factory=list)
    rounds: list = field(default_factory=list)      # per round: req/s of each 1 s bucket after the reload
    others: list = field(default_factory=list)      # per round: others' CPU % during its buckets


def seconds_to_full_speed(buckets, warm, fraction=FULL_SPEED):
    """The 1-based number of the first 1 s bucket at or above fraction × warm (the seconds of load it took), or
    None when none is."""
    return next((i for i, x in enumerate(buckets, 1) if warm > 0 and x >= fraction * warm), None)


def steady(buckets, warm):
    """The last STEADY_BUCKETS buckets are all at full speed."""
    tail = buckets[-STEADY_BUCKETS:]
    return len(tail) == STEADY_BUCKETS and all(x >= FULL_SPEED * warm for x in tail)


def ctl_start(b, m, *args):
    """`drover ctl` in the background (b.ctl waits for it; the bench must watch the spawn meanwhile)."""
    argv = [os.path.join(b.snap, "scripts", "drover"), "ctl", "-p", m.pidfile, *args]
    return b.processes.start(argv, os.path.join(b.dir("floor"), "ctl.log"), env=b.env)


def one_start(b, m, master_rate):
    """ctl recycle of the oldest worker; the replacement's CPU at its READY line, and the master's meanwhile."""
    ready = m.log.ready_lines()
    victim, old_pid = ready[0].group(1), int(ready[0].group(2))
    for match in ready:
        if alive(int(match.group(2))):
            victim, old_pid = match.group(1), int(match.group(2))
            break
    before = m.log.count()
    t0, m0 = time.time(), ticks(m.pid)
    ctl = ctl_start(b, m, "recycle", victim)
    deadline = t0 + 60
    while True:
        match = next(iter(m.log.ready_lines(before)), None)
        if match:
            pid = int(match.group(2))
            worker, m1, t1 = ticks(pid), ticks(m.pid), time.time()
            break
        if time.time() > deadline or m.proc.poll() is not None:
            raise BenchError(f"floor: no replacement ready 60 s after ctl recycle {victim} (see {m.log.path})")
        time.sleep(0.005)
    b.processes.wait(ctl)
    while alive(old_pid) and time.time() < deadline:
        time.sleep(0.02)
    b.note_workers(m.log)
    master = max(0.0, (m1 - m0) / CLK_TCK - master_rate * (t1 - t0))
    return Start(worker / CLK_TCK, master, int(match.group(3)))


def master_idle_rate(m, seconds=5.0):
    """The master's CPU seconds per second with its workers idle."""
    t0, m0 = time.time(), ticks(m.pid)
    time.sleep(seconds)
    return (ticks(m.pid) - m0) / CLK_TCK / (time.time() - t0)


def buckets_after_reload(b, m, warm, generation, r):
    before = m.log.count()
    b.processes.send(m.proc, signal.SIGHUP)
    rx = re.compile(f"reload to generation {generation} (complete|abandoned)")
    line = m.log.wait_for(lambda: next((l for _, l in m.log.master_lines(before) if rx.search(l)), None), 90,
                          f"reload to generation {generation} complete", alive=lambda: m.proc.poll() is None)
    if "abandoned" in line:
        raise BenchError(f"floor: reload to generation {generation} abandoned (see {m.log.path})")
    b.note_workers(m.log)
    buckets = []
    for i in range(1, b.knobs.floor_buckets + 1):
        buckets.append(b.wrk_run(m.url, 1, os.path.join(b.dir("floor"), f"bucket-{r}-{i}.txt")).rps)
        if steady(buckets, warm):
            break
    return buckets


def warm_buckets(b, m, when):
    """5 back-to-back 1 s wrk runs after floor_warm_s of wrk: the warm server's req/s."""
    d = b.dir("floor")
    b.wrk_run(m.url, b.knobs.floor_warm_s, os.path.join(d, f"warmup-{when}.txt"))
    return [b.wrk_run(m.url, 1, os.path.join(d, f"warm-{when}-{i}.txt")).rps for i in range(5)]


def run(b):
    k = b.knobs
    res = FloorResult()
    m = b.start_serving("floor", WORKERS)
    try:
        time.sleep(k.settle_s)
        rate = master_idle_rate(m)
        res.master_idle_pct = rate * 100
        b.say(f"floor: master idle {res.master_idle_pct:.1f}% of a core; {k.floor_starts} worker starts (ctl recycle)")
        for i in range(1, k.floor_starts + 1):
            time.sleep(k.settle_s)
            s = one_start(b, m, rate)
            res.starts.append(s)
            b.say(f"floor: start {i}: worker {s.worker_cpu_s:.2f} CPU s to READY ({s.ready_ms} ms), master "
                  f"{s.master_cpu_s:.2f} CPU s above idle")
        res.warm_rps = warm_buckets(b, m, "before")
        warm = float(stats.median(res.warm_rps))
        for r in range(1, k.floor_rounds + 1):
            time.sleep(k.settle_s)
            b.cpu.begin()
            res.rounds.append(buckets_after_reload(b, m, warm, r + 1, r))
            res.others.append(b.cpu.end().others)
            b.say(f"floor: round {r}: 1 s buckets after the reload, ÷ warm: "
                  f"{' '.join(stats.ratio(x, warm) for x in res.rounds[-1])}")
        # Warm again at the end: the reference is the median of both sets, so a machine that got busier or quieter
        # during the rounds weighs on it as on them.
        res.warm_rps += warm_buckets(b, m, "after")
    finally:
        b.stop_drover(m)
    render(b, res)


def render(b, res):
    k, r = b.knobs, b.report
    warm = float(stats.median(res.warm_rps)) if res.warm_rps else 0
    r.para("### The floor: CPU per worker start, time to full speed (`floor`)")
    r.para(f"Drover with {WORKERS} workers, no load. **CPU per start**: {k.floor_starts} times `drover ctl recycle` "
           "the oldest worker (in the background); when the",
           "replacement's `ready in` line appears (polled every 5 ms), the bench reads its utime + stime from "
           "`/proc/PID/stat` (a new process:",
           "all of it is its start) and the master's, minus the master's idle rate over the same time. **Full speed**: "
           f"warm req/s = median of 10 × `wrk -d1s`, 5 after a {k.floor_warm_s:g} s warm-up before the rounds and 5 after "
           "the same after them;",
           f"then {k.floor_rounds} times: HUP, wait for `reload to generation G complete` (both workers replaced and "
           "READY, no load), then",
           f"back-to-back `wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d1s` buckets until {STEADY_BUCKETS} in a row "
           f"reach {FULL_SPEED:.0%} of warm (at most {k.floor_buckets}).")
    r.table(["figure", "median", "min", "max", "n"],
            [stats.summary_row("worker CPU s, spawn → READY", [round(s.worker_cpu_s, 2) for s in res.starts]),
             stats.summary_row("master CPU s above idle, ctl → READY", [round(s.master_cpu_s, 2) for s in res.starts]),
             stats.summary_row("spawn → READY, ms (master's log)", [s.ready_ms for s in res.starts])])
    to_full = [seconds_to_full_speed(x, warm) for x in res.rounds]
    r.para(f"Master idle: {res.master_idle_pct:.1f}% of a core. Warm: {stats.median(res.warm_rps)} req/s (1 s "
           f"buckets: {' '.join(f'{x:.0f}' for x in res.warm_rps)}).")
    rows = [[n, " ".join(stats.ratio(x, warm) for x in buckets), "not reached" if t is None else f"{t} s", others]
            for n, (buckets, t, others) in enumerate(zip(res.rounds, to_full, res.others), 1)]
    r.table(["round", "1 s buckets after the reload ÷ warm", f"to {FULL_SPEED:.0%} of warm", "others' CPU %"], rows)
    reached = [t for t in to_full if t is not None]
    median = f"{stats.median(reached)} s" if reached else "not reached"
    r.para(f"**Time to full speed after READY, median: {median}** (rounds that reached it: "
           f"{len(reached)} of {len(to_full)}).")
