"""mastercpu: the master's CPU time (/proc/PID/stat) while idle workers run (16; 4 with --quick), and its VmRSS."""
import os
import time
from dataclasses import dataclass, field

from .. import stats
from ..cpu import NCPU
from ..logs import BenchError, READY_RE, timestamp_ms
from ..procs import CLK_TCK, alive, proc_value, pss_kb, rss_kb, ticks


@dataclass
class MasterCpu:
    ready_ms: int             # start -> all READY, the bench's clock
    boot_log_ms: int          # the master's first log line -> the last READY line, the log's clock
    seconds: float = 0.0      # the sampling window
    ticks: int = 0
    per_second_ms: list = field(default_factory=list)
    rss_kb: int = 0
    pss_kb: int = 0
    threads: int = 0
    top_threads: str = ""
    lines_idle: int = 0
    spawned: int = 0
    ready_lines: int = 0
    deaths: int = 0
    cpu: object = None
    stop_ms: int = 0


def thread_ticks(pid):
    """{tid: (ticks, name)} for every thread of pid."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        rest = text.rsplit(")", 1)[1].split()
        found[tid] = (int(rest[11]) + int(rest[12]), name)
    return found


def top_threads(before, after):
    """The 5 threads that used the most CPU between the two readings: "name N ms, ..."."""
    used = sorted(((t - before.get(tid, (0, ""))[0], name) for tid, (t, name) in after.items()), reverse=True)
    return ", ".join(f"{name} {d * 1000 // CLK_TCK} ms" for d, name in used[:5] if d > 0)


def boot_log_ms(log):
    lines = log.lines()
    first = timestamp_ms(lines[0]) if lines else None
    ready = [timestamp_ms(l) for l in lines if READY_RE.search(l)]
    return round(ready[-1] - first) if ready and first else 0


def run(b):
    k = b.knobs
    t0 = time.time()
    m = b.start_drover("mastercpu", k.mastercpu_workers, b.free_port())
    b.say(f"mastercpu: waiting up to {k.mastercpu_boot_s:g} s for {k.mastercpu_workers} workers to be READY")
    b.wait_ready(m, k.mastercpu_workers, k.mastercpu_boot_s)
    res = MasterCpu(round((time.time() - t0) * 1000), boot_log_ms(m.log))
    b.say(f"mastercpu: {k.mastercpu_workers} workers ready {res.ready_ms} ms after the start (log: {res.boot_log_ms} "
          f"ms); idle {k.cpu_settle_s:g} s, then {k.cpu_sample_s} s of samples")
    time.sleep(k.cpu_settle_s)
    start = m.log.count()
    before = thread_ticks(m.pid)
    b.cpu.begin()
    n0 = prev = ticks(m.pid)
    t1 = time.time()
    for _ in range(k.cpu_sample_s):
        time.sleep(1)
        if not alive(m.pid):
            raise BenchError(f"the master (pid {m.pid}) is gone (see {m.log.path})")
        now = ticks(m.pid)
        res.per_second_ms.append((now - prev) * 1000 // CLK_TCK)
        prev = now
    res.seconds, res.ticks = time.time() - t1, prev - n0
    res.cpu = b.cpu.end()
    res.top_threads = top_threads(before, thread_ticks(m.pid))
    res.rss_kb, res.pss_kb, res.threads = rss_kb(m.pid), pss_kb(m.pid), proc_value(m.pid, "Threads")
    res.ready_lines = len(m.log.ready_lines())
    res.spawned = m.log.count_in(r"\) spawned$")
    res.deaths = m.log.count_in(r"died unexpectedly|is hung|killed \(|is due for recycling")
    res.lines_idle = len(m.log.master_lines(start))
    res.stop_ms = stop_all(b, m)
    render(b, res)


def stop_all(b, m):
    """SIGTERM, and the time until the master and every worker have exited, ms."""
    workers = m.log.worker_pids()
    t = time.time()
    b.stop_drover(m)
    deadline = t + 15
    left = workers
    while time.time() < deadline:
        left = [p for p in workers if alive(p) and b.processes.ours(p)]
        if not left:
            break
        time.sleep(0.1)
    if left:
        b.say(f"mastercpu: WARNING: {len(left)} worker(s) still running after the master stopped (the cleanup kills "
              "them)")
    return round((time.time() - t) * 1000)


def render(b, res):
    k, r = b.knobs, b.report
    n, secs = k.mastercpu_workers, f"{res.seconds:.2f}"
    per_s = res.ticks / CLK_TCK / float(secs)
    r.para(f"### The master's CPU with {n} idle workers (`mastercpu`)")
    r.para(f"Drover with `-w {n}`, no request served. All {n} workers were READY {res.ready_ms / 1000:.1f} s after the "
           "start (bench's",
           f"clock; by the log's clock, first line to the last READY: {res.boot_log_ms / 1000:.1f} s). After "
           f"{k.cpu_settle_s:g} s more, the master's utime + stime from",
           f"/proc/PID/stat was read every second for {k.cpu_sample_s} s (clock tick = 1/{CLK_TCK} s). The master "
           "ticks once per second, so CPU per",
           "second is CPU per tick; it includes everything the master did in that second (its tick, the workers' "
           "STATS messages,",
           "its GC and JIT).")
    v = res.per_second_ms
    r.table(["figure", "value"], [
        [f"master CPU over {secs} s", f"{res.ticks * 1000 // CLK_TCK} ms ({res.ticks} ticks)"],
        ["CPU % of one core", f"{per_s * 100:.2f}"],
        ["CPU ms per master tick (per second)", f"{per_s * 1000:.1f}"],
        ["CPU ms in each 1 s sample: median / min / max",
         f"{stats.median(v)} / {stats.minimum(v)} / {stats.maximum(v)}"],
        ["master VmRSS / PSS, MB", f"{stats.kb_mb(res.rss_kb)} / {stats.kb_mb(res.pss_kb)}"],
        ["master threads", res.threads]])
    r.para(f"Samples, CPU ms per second, in order: {' '.join(map(str, v))}. Threads that used CPU in the window: "
           f"{res.top_threads or 'none'}.",
           f"The master logged {res.lines_idle} line(s) in the window. Workers spawned: {res.spawned}, READY lines: "
           f"{res.ready_lines}; deaths, hangs, kills or",
           f"recycles: {res.deaths}. Processes this run did not start used {res.cpu.others}% of the {NCPU} CPUs in the "
           f"window (ours {res.cpu.ours}%).",
           f"Stop: SIGTERM to the last worker's exit: {res.stop_ms} ms.")
