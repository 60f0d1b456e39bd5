"""recycle: GET / with wrk: Drover with 2 workers, no recycling (A) vs --max-requests 2000 (B), rounds A/B/A/B;
recycles per B run and each recycle's "due" -> "recycled ... draining" time from the master's log."""
import os
import re
import time
from dataclasses import dataclass, field

from .. import stats, wrk
from ..logs import BenchError, READY_RE, timestamp_ms
from .throughput import Run, log_run

KEY_RE = re.compile(r"worker [0-9]+ \(pid [0-9]+, gen [0-9]+\)")
SERVED_RE = re.compile(r"([0-9]+) requests served")
DEATHS = r"died unexpectedly|is hung|killed \("


@dataclass
class RecycleTimes:
    """One max-requests recycle, from the master's log (None where a line is missing, e.g. it was in a warm-up)."""
    due_ms: int = None        # "is due for recycling" -> "recycled (max-requests) ... draining"
    spawn_ms: int = None      # "spawned to replace" -> the same line: the replacement's boot
    served: int = None        # requests the old worker had served

    @property
    def queue_ms(self):
        return None if self.due_ms is None or self.spawn_ms is None else self.due_ms - self.spawn_ms


@dataclass
class RecycleRun(Run):
    recycles: int = 0


@dataclass
class RecycleResult:
    runs: dict = field(default_factory=dict)     # (side, round) -> RecycleRun
    times: list = field(default_factory=list)    # RecycleTimes of B's measured runs
    quiet_ms: list = field(default_factory=list)
    b_total: int = 0
    b_spawned: int = 0
    a_recycles: int = 0
    a_deaths: int = 0
    b_deaths: int = 0

    def ratios(self, rounds):
        return [stats.ratio(self.runs["B", r].wrk.rps_text, self.runs["A", r].wrk.rps_text)
                for r in range(1, rounds + 1)]


def recycle_times(log, start, end):
    """RecycleTimes for each max-requests recycle whose "recycled ... draining" line is in lines start+1..end (the
    "due" and "spawned to replace" lines may come earlier)."""
    due, spawned, found = {}, {}, []
    for number, line in log.master_lines():
        m = KEY_RE.search(line)
        if not m:
            continue
        key, rest, t = m.group(0), line[m.end():], timestamp_ms(line)
        if rest.startswith(" is due for recycling (max-requests)"):
            due[key] = t
        elif rest.startswith(" spawned to replace "):
            old = KEY_RE.search(rest)
            if old:
                spawned[old.group(0)] = t
        elif rest.startswith(" recycled (max-requests)") and start < number <= end:
            served = SERVED_RE.search(rest)
            found.append(RecycleTimes(round(t - due[key]) if key in due else None,
                                      round(t - spawned[key]) if key in spawned else None,
                                      int(served.group(1)) if served else None))
    return found


def quiet(log):
    """Nothing in flight: every worker marked due was recycled, every drained worker has exited and every spawned
    worker is READY."""
    due, rec = log.count_in("is due for recycling"), log.count_in(r"\) recycled \(")
    gone = log.count_in(r"stopped after draining|is gone \(|died unexpectedly")
    return due == rec and gone >= rec and log.count_in(r"\) spawned$") == log.count_in(READY_RE.pattern)


def wait_quiet(b, master, timeout_s):
    """After a run against B, until B is idle again, so that a replacement still booting does not take CPU from the
    next measurement. Waits 1.5 s first: the master checks request counts on its 1 s tick, so a worker can be
    marked due just after wrk stopped. Returns how long it took, ms."""
    t0 = time.time()
    time.sleep(1.5)
    while not quiet(master.log):
        if master.proc.poll() is not None:
            raise_exited(master)
        if time.time() - t0 > timeout_s:
            b.say(f"recycle: WARNING: B still recycling {timeout_s} s after the run")
            break
        time.sleep(0.2)
    return round((time.time() - t0) * 1000)


def raise_exited(master):
    raise BenchError(f"the master (pid {master.pid}) exited (see {master.log.path})")


def run(b):
    k = b.knobs
    am = b.start_serving("recycle-a", 2)
    bm = b.start_serving("recycle-b", 2, ["--max-requests", str(k.recycle_max_requests), "--max-requests-jitter",
                                          str(k.recycle_jitter)])
    b.say(f"recycle: A = Drover without recycling :{am.port}, B = Drover --max-requests {k.recycle_max_requests} "
          f"--max-requests-jitter {k.recycle_jitter} :{bm.port}; {k.rounds} rounds of A then B, each "
          f"{k.recycle_warmup_s:g} s warm-up + {k.recycle_duration_s:g} s measured")
    res = RecycleResult()
    for r in range(1, k.rounds + 1):
        for side, m in (("A", am), ("B", bm)):
            out = os.path.join(b.dir("recycle"), f"wrk-{side}-{r}")
            # B's warm-up recycles too (its workers exhaust 2000 requests in a fraction of a second): it brings B
            # into its steady state of continuous recycling. The recycles counted are the measured run's only.
            b.wrk_run(m.url, k.recycle_warmup_s, out + ".warmup.txt")
            start = m.log.count()
            b.cpu.begin()
            result = b.wrk_run(m.url, k.recycle_duration_s, out + ".txt")
            cpu = b.cpu.end()
            end = m.log.count()
            one = RecycleRun(result, cpu, m.log.count_in(r"\) recycled \(max-requests\)", start, end))
            res.runs[side, r] = one
            log_run(b, f"recycle: round {r} {side}", one, f", {one.recycles} recycles ({result.errors})")
            if side == "B":
                res.times += recycle_times(m.log, start, end)
                if one.recycles == 0:
                    b.say(f"recycle: WARNING: no recycle during round {r} B")
                res.quiet_ms.append(wait_quiet(b, bm, 30))
                b.say(f"recycle: B idle again {res.quiet_ms[-1]} ms after the run")
            b.note_workers(m.log)
    res.a_recycles = am.log.count_in(r"\) recycled \(")
    res.b_total = bm.log.count_in(r"\) recycled \(max-requests\)")
    res.b_spawned = bm.log.count_in(r"\) spawned to replace ")
    res.a_deaths, res.b_deaths = am.log.count_in(DEATHS), bm.log.count_in(DEATHS)
    b.stop_drover(bm)
    b.stop_drover(am)
    render(b, res)
    # For the peers section: the last round (the warmest).
    b.shared["recycle"] = (res.runs["A", k.rounds], res.runs["B", k.rounds], res.ratios(k.rounds))


def render(b, res):
    k, r = b.knobs, b.report
    r.para("### Recycling under load, GET / (`recycle`)")
    r.para(f"`wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{k.recycle_duration_s:g}s --latency` on loopback, keep-alive. "
           "A = Drover with 2 workers, no recycling;",
           f"B = Drover with 2 workers and `--max-requests {k.recycle_max_requests} --max-requests-jitter "
           f"{k.recycle_jitter}`. Both stay up for all rounds;",
           f"each measurement follows its own {k.recycle_warmup_s:g} s wrk warm-up (not counted; B recycles during it "
           "too). Order: A1 B1 A2 B2 …;",
           "after each B run the bench waits until B has no recycle in flight. Ratio = B req/s ÷ A req/s. Recycles = "
           "the",
           "master's `recycled (max-requests)` lines during the measured run.")
    ratios = res.ratios(k.rounds)
    rows = []
    for n in range(1, k.rounds + 1):
        a, bb = res.runs["A", n], res.runs["B", n]
        per = str(bb.wrk.requests // bb.recycles) if bb.recycles > 0 else "n/a"
        rows.append([n, a.wrk.rps_text, a.wrk.p50_text, a.wrk.p99_text, bb.wrk.rps_text, bb.wrk.p50_text,
                     bb.wrk.p99_text, ratios[n - 1], bb.recycles, per, f"{a.wrk.non2xx} / {bb.wrk.non2xx}",
                     f"{a.wrk.errors.total} / {bb.wrk.errors.total}", f"{a.cpu.others} / {bb.cpu.others}"])
    r.table(["round", "A req/s", "A p50 ms", "A p99 ms", "B req/s", "B p50 ms", "B p99 ms", "B/A", "recycles in B",
             "B requests per recycle", "non-2xx (A / B)", "socket errors (A / B)", "others' CPU % (A / B)"], rows)
    r.para(f"**Median ratio B/A: {stats.median([x for x in ratios if x != 'n/a'])}** (per round: {' '.join(ratios)}; "
           "the goal is at least 0.9).")
    kinds = "".join(f"A{n}: {res.runs['A', n].wrk.errors}; B{n}: {res.runs['B', n].wrk.errors}. "
                    for n in range(1, k.rounds + 1))
    r.para(f"Socket errors by kind: {kinds}")
    r.para("**Replacement latency** (B's measured runs, from the master's log): for each recycle, from `… is due for "
           "recycling",
           "(max-requests)` to `… recycled (max-requests): … draining`, the moment its replacement is serving and it "
           "starts",
           "draining. It is the wait for a surge slot (`max-surge` 1: one replacement boots at a time) plus the "
           "replacement's",
           "boot (from `spawned to replace` to the same line).")
    due = [t.due_ms for t in res.times if t.due_ms is not None]
    rows = [stats.summary_row("due → recycled (replacement serving), ms", due),
            stats.summary_row("… of which waiting for a surge slot (due → spawned), ms",
                              [t.queue_ms for t in res.times if t.queue_ms is not None]),
            stats.summary_row("… of which the replacement's boot (spawned → recycled), ms",
                              [t.spawn_ms for t in res.times if t.spawn_ms is not None]),
            stats.summary_row("requests the old worker had served when it started draining",
                              [t.served for t in res.times if t.served is not None])]
    r.table(["figure", "median", "min", "max", "n"], rows)
    r.para(f"Due → recycled values, ms, in order: {' '.join(map(str, due))}.",
           f"Whole section: B recycled {res.b_total} workers for max-requests (warm-ups included; {res.b_spawned} "
           "replacements spawned); A recycled",
           f"{res.a_recycles}. Unplanned deaths, hangs or kills: A {res.a_deaths}, B {res.b_deaths}. After each B run, "
           f"B was idle again after {' '.join(map(str, res.quiet_ms))} ms.")
