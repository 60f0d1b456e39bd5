"""reload: GET / with wrk while HUPs are sent one after the other (each once the previous reload completed), vs a
run of the same length without HUPs; wrk's errors, p99, req/s, and the reload durations from the master's log."""
import os
import re
import signal
import time
from dataclasses import dataclass, field

from .. import stats, wrk
from ..logs import BenchError, timestamp_ms

STARTED_RE = re.compile(r"reload to generation ([0-9]+) started")
COMPLETE_RE = re.compile(r"reload to generation ([0-9]+) complete")
CANARY_RE = re.compile(r"is the canary of generation ([0-9]+) and it is ready")
CONFIG_RE = re.compile(r"reload to generation ([0-9]+) started: .*\(config read and checked in ([0-9,]+) ms\)")


@dataclass
class ReloadTimes:
    generation: int
    complete_ms: int = None   # "started" -> "complete" (None: abandoned)
    canary_ms: int = None     # "started" -> canary ready
    config_ms: int = None     # before "started": the config read and checked (from the line itself)


@dataclass
class ReloadResult:
    with_hups: wrk.WrkResult
    without: wrk.WrkResult
    hups: int
    others_with: int
    others_without: int
    times: list = field(default_factory=list)
    started: int = 0
    abandoned: int = 0
    deaths: int = 0

    @property
    def complete_ms(self):
        return [t.complete_ms for t in self.times if t.complete_ms is not None]

    @property
    def canary_ms(self):
        return [t.canary_ms for t in self.times if t.canary_ms is not None]


def reload_times(log, start, end):
    """Per reload started in lines start+1..end."""
    started, complete, canary, config = {}, {}, {}, {}
    for _, line in log.master_lines(start, end):
        t = timestamp_ms(line)
        for rx, into in ((STARTED_RE, started), (COMPLETE_RE, complete), (CANARY_RE, canary)):
            m = rx.search(line)
            if m:
                into[int(m.group(1))] = t
        m = CONFIG_RE.search(line)
        if m:
            config[int(m.group(1))] = int(m.group(2).replace(",", ""))
    return [ReloadTimes(g, _diff(complete, started, g), _diff(canary, started, g), config.get(g)) for g in started]


def _diff(later, started, g):
    return round(later[g] - started[g]) if g in later else None


def hup_loop(b, master, wrk_proc, start):
    """HUPs, each once the previous reload is complete or abandoned; returns (HUPs sent, abandoned)."""
    k, log = b.knobs, master.log
    hups = abandoned = 0
    g = 1
    for i in range(1, k.reload_hups + 1):
        g += 1
        if not b.wrk_alive(wrk_proc):
            b.say(f"reload: WARNING: wrk ended (after {k.reload_cap_s:g} s) before HUP {i}")
            break
        if not b.processes.send(master.proc, signal.SIGHUP):
            raise BenchError(f"could not send HUP to the master (pid {master.pid})")
        hups += 1
        rx = re.compile(f"reload to generation {g} (complete|abandoned)")
        line = log.wait_for(lambda: next((l for _, l in log.master_lines(start) if rx.search(l)), None), 90,
                            f"reload to generation {g} complete after HUP {i}",
                            alive=lambda: master.proc.poll() is None)
        if "abandoned" in line:
            abandoned += 1
            g -= 1
            b.say(f"reload: HUP {i}: reload ABANDONED (see {log.path})")
        else:
            b.say(f"reload: HUP {i}: generation {g} complete")
    return hups, abandoned


def run(b):
    k = b.knobs
    m = b.start_serving("reload", 2)
    d = b.dir("reload")
    b.say(f"reload: {k.warmup_s:g} s warm-up, then wrk while {k.reload_hups} HUPs are sent, each once the previous "
          "reload is complete")
    b.wrk_run(m.url, k.warmup_s, os.path.join(d, "wrk-hup.warmup.txt"))
    out = os.path.join(d, "wrk-hup.txt")
    start = m.log.count()
    b.cpu.begin()
    proc = b.wrk_start(m.url, int(k.reload_cap_s), out)
    time.sleep(1)
    hups, abandoned = hup_loop(b, m, proc, start)
    time.sleep(1)
    with_hups = b.wrk_interrupt(proc, out)
    others_with = b.cpu.end().others
    end = m.log.count()
    b.note_workers(m.log)
    w = with_hups
    b.say(f"reload: with {hups} HUPs: {w.seconds_text} s, {w.rps_text} req/s, p50 {w.p50_text} ms, p99 {w.p99_text} "
          f"ms, {w.requests} requests, non-2xx {w.non2xx}, socket errors {w.errors.total} ({w.errors})")
    if not w.clean:
        b.say(f"reload: WARNING: errors during the HUP run (lines {start}-{end} of {m.log.path})")
    res_times = reload_times(m.log, start, end)
    deaths = m.log.count_in(r"died unexpectedly|is hung|killed \(", start, end)
    started = m.log.count_in(r"reload to generation [0-9]+ started", start, end)

    b.say(f"reload: the same without HUPs: {k.warmup_s:g} s warm-up (the workers are fresh from the last reload), then "
          f"{w.whole_seconds} s")
    b.wrk_run(m.url, k.warmup_s, os.path.join(d, "wrk-quiet.warmup.txt"))
    b.cpu.begin()
    without = b.wrk_run(m.url, w.whole_seconds, os.path.join(d, "wrk-quiet.txt"))
    others_without = b.cpu.end().others
    q = without
    b.say(f"reload: without HUPs: {q.rps_text} req/s, p50 {q.p50_text} ms, p99 {q.p99_text} ms, {q.requests} "
          f"requests, non-2xx {q.non2xx}, socket errors {q.errors.total} ({q.errors})")
    b.stop_drover(m)
    res = ReloadResult(with_hups, without, hups, others_with, others_without, res_times, started, abandoned, deaths)
    render(b, res)
    b.shared["reload"] = res


def render(b, res):
    k, r = b.knobs, b.report
    w, q = res.with_hups, res.without
    r.para("### Reloads under load (`reload`)")
    r.para(f"Drover with 2 workers; `wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} --latency` on loopback, keep-alive. "
           f"Run 1: after a {k.warmup_s:g} s warm-up, wrk",
           "starts, and 1 s later the bench sends `kill -HUP` to the master, waits for `reload to generation G "
           "complete`, sends",
           f"the next HUP at once, {k.reload_hups} times; 1 s after the last reload completed it stops wrk with SIGINT "
           "(wrk reports the",
           f"time it ran). Run 2: another {k.warmup_s:g} s warm-up, then the same length without HUPs, same master.")
    r.table(["run", "seconds", "req/s", "p50 ms", "p99 ms", "requests", "non-2xx",
             "socket errors (connect, read, write, timeout)", "others' CPU %"],
            [[f"with {res.hups} HUPs", w.seconds_text, w.rps_text, w.p50_text, w.p99_text, w.requests, w.non2xx,
              w.errors, res.others_with],
             ["without HUPs", w.whole_seconds, q.rps_text, q.p50_text, q.p99_text, q.requests, q.non2xx, q.errors,
              res.others_without]])
    r.para(f"**Ratio with/without HUPs: req/s {stats.ratio(w.rps_text, q.rps_text)}, p99 "
           f"{stats.ratio(w.p99_text, q.p99_text)}.**")
    r.table(["reload (from the master's log)", "median", "min", "max", "n"],
            [stats.summary_row("`started` → `complete`, ms", res.complete_ms),
             stats.summary_row("… of which `started` → canary ready, ms", res.canary_ms)])
    r.para(f"Reload durations, ms, in order: {' '.join(map(str, res.complete_ms))}. HUPs sent: {res.hups}; reloads "
           f"started: {res.started}; abandoned: {res.abandoned};",
           f"unplanned worker deaths, hangs or kills during the run: {res.deaths}.")
