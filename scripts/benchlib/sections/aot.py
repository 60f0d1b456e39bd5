"""aot: workers on JDK 17 with the AppCDS archive vs JDK 25 with the AOT cache (and JDK 25 without either, as a
control), in one run: spawn -> READY, idle PSS per worker, and the time to full speed after a recycle (wrk in 1 s
buckets until a bucket reaches 90% of the warm rate). BENCH_AOT_JDK17 / BENCH_AOT_JDK25 name the JDKs."""
import os
import time
from dataclasses import dataclass, field

from .. import stats
from ..logs import BenchError
from ..procs import pss_kb
from .spawn import SpawnSeries, recycle_once

JDK17 = os.environ.get("BENCH_AOT_JDK17", "/usr/lib/jvm/java-17-openjdk-amd64")
JDK25 = os.environ.get("BENCH_AOT_JDK25", "/usr/lib/jvm/temurin-25-jdk-amd64")
READY_ARCHIVE = r"(is ready \(|workers use the |no (AppCDS archive|AOT cache) \()"
FULL_SPEED = 0.9


@dataclass
class AotSeries:
    label: str
    archive_line: str = ""
    spawn: SpawnSeries = None
    idle_pss_kb: list = field(default_factory=list)
    warm_rps: float = 0.0
    buckets: list = field(default_factory=list)   # req/s of each 1 s wrk run after both workers were recycled

    @property
    def to_full_speed(self):
        """Seconds until the first bucket at FULL_SPEED of the warm rate, as text."""
        for i, rps in enumerate(self.buckets):
            if rps >= FULL_SPEED * self.warm_rps:
                return str(i + 1)
        return f"> {len(self.buckets)}"


def run(b):
    configs = [("JDK 17 + AppCDS archive", "aot-j17", JDK17, {}),
               ("JDK 25 + AOT cache", "aot-j25", JDK25, {}),
               ("JDK 25, no cache (control)", "aot-j25-none", JDK25, {"DROVER_CDS_ENABLED": "false"})]
    missing = [home for _, _, home, _ in configs if not os.path.isfile(os.path.join(home, "bin", "java"))]
    if missing:
        b.report.para(f"### JDK 17 + AppCDS vs JDK 25 + AOT cache (`aot`)\n\nSkipped: no JDK at {', '.join(missing)} "
                      "(BENCH_AOT_JDK17, BENCH_AOT_JDK25).")
        return
    render(b, [measure(b, *config) for config in configs])


def measure(b, label, dirname, home, env):
    """A master of 2 workers on `home` with its own cache directory: its archive built first (as `cds` does for
    the other sections), then the spawns, the idle PSS, the warm rate and the buckets after a recycle of both."""
    k = b.knobs
    env = dict(env, DROVER_CDS_CACHE_DIR=os.path.join(b.run, dirname, "cache"))
    flags = ["--java-home", home]
    s = AotSeries(label, spawn=SpawnSeries(label))
    m = b.start_serving(dirname, 2, flags, env, ready_s=90)
    s.archive_line = m.log.wait_for(lambda: _first(m.log, READY_ARCHIVE), 150, "archive ready",
                                    alive=lambda: m.proc.poll() is None, poll_s=0.1).split("] ", 1)[-1]
    spawns(b, m, s.spawn, k.spawn_kills)
    time.sleep(k.idle_s)
    s.idle_pss_kb = [pss_kb(w["pid"]) for w in b.status(m)["workers"]]
    out = os.path.join(b.run, dirname)
    b.wrk_run(m.url, k.warmup_s, os.path.join(out, "wrk-warmup.txt"))
    s.warm_rps = b.wrk_run(m.url, k.duration_s, os.path.join(out, "wrk-warm.txt")).rps
    start = m.log.count()
    for wid in [str(w["id"]) for w in b.status(m)["workers"]]:
        b.ctl(m, "recycle", wid)
    m.log.wait_for(lambda: m.log.count_in("stopped after draining", start) >= 2, 90, "end of the 2 recycles",
                   alive=lambda: m.proc.poll() is None)
    b.note_workers(m.log)
    s.buckets = [b.wrk_run(m.url, 1, os.path.join(out, f"wrk-bucket-{i}.txt")).rps for i in range(k.aot_buckets)]
    b.say(f"aot: {label}: replacements ready in {' '.join(map(str, s.spawn.replacement))} ms; idle PSS "
          f"{' '.join(stats.kb_mb(p) for p in s.idle_pss_kb)} MB; warm {s.warm_rps:.0f} req/s; after the recycle "
          f"{' '.join(f'{r:.0f}' for r in s.buckets)}")
    b.stop_drover(m)
    return s


def spawns(b, m, s, count):
    """`ctl recycle` the oldest worker `count` times, one at a time, as the `spawn` section does."""
    status = b.status(m)["workers"]
    pid_of = {str(w["id"]): w["pid"] for w in status}
    order = sorted(pid_of, key=int)
    for _ in range(count):
        time.sleep(b.knobs.settle_s)
        victim = order.pop(0)
        wid, pid = recycle_once(b, m, s, victim, pid_of.pop(victim))
        order.append(wid)
        pid_of[wid] = pid


def _first(log, pattern):
    import re
    rx = re.compile(pattern)
    return next((line for line in log.lines() if rx.search(line)), None)


def render(b, series):
    k, r = b.knobs, b.report
    r.para("### JDK 17 + AppCDS vs JDK 25 + AOT cache (`aot`)")
    r.para("Drover with 2 workers of the sample app, the master on the bench's JDK, the workers on the JDK named by",
           f"`--java-home` ({JDK17}, {JDK25}), each with its own cache directory, built before the figures.",
           f"Spawn: {k.spawn_kills} × `drover ctl recycle` the oldest worker, no load, {k.settle_s:g} s apart "
           "(replacement spawn → READY, master's log).",
           f"Idle PSS: both workers, {k.idle_s:g} s after the last replacement was READY (/proc/PID/smaps_rollup).",
           f"Warm rate: `wrk -d{k.duration_s:g}s` after {k.warmup_s:g} s of wrk. Then `ctl recycle` both workers, "
           f"and once both old ones are gone {k.aot_buckets} back-to-back `wrk -d1s`:",
           f"time to full speed = the first 1 s bucket at {FULL_SPEED:.0%} of the warm rate or more.")
    base = series[0]
    rows = []
    for s in series:
        pss = sum(s.idle_pss_kb) / max(1, len(s.idle_pss_kb))
        rows.append([s.label, stats.median(s.spawn.replacement),
                     stats.ratio(stats.median(s.spawn.replacement), stats.median(base.spawn.replacement)),
                     f"{pss / 1024:.1f}", f"{s.warm_rps:.0f}", s.to_full_speed,
                     " ".join(f"{x / s.warm_rps:.2f}" if s.warm_rps else "n/a" for x in s.buckets)])
    r.table(["workers", "spawn → READY median, ms", "÷ JDK 17", "idle PSS per worker, MB", "warm req/s",
             "s to 90% after recycle", "1 s buckets ÷ warm"], rows)
    for s in series:
        r.add(f"{s.label}: spawns {' '.join(map(str, s.spawn.replacement))} ms; archive: {s.archive_line}")
    if any(not s.spawn.replacement for s in series):
        raise BenchError("aot: a series has no spawn figures")
